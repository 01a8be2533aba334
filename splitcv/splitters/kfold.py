"""Random k-fold (seeded, stable across processes and partitionings) or folds from a column."""

from __future__ import annotations

from typing import Optional

from pyspark import keyword_only
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from splitcv.plan import CountScale, plan_blocked
from splitcv.plan.checks import check_fold_numbers
from splitcv.splitters.base import FoldSet, FoldSplitter, check_fold, check_not_empty, quote
from splitcv.splitters.dealt import deal, with_ranks
from splitcv.splitters.params import HasFoldCol, HasNumFolds, HasSeedFixed
from splitcv.splitters.render import plan_infos, render_folds, summarize

__all__ = ["KFoldSplitter", "DEFAULT_SEED"]

#: The default seed: a constant, so the same data gives the same folds in every process.
DEFAULT_SEED = 42

_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)


class KFoldSplitter(FoldSplitter, HasNumFolds, HasSeedFixed, HasFoldCol):
    """K-fold cross-validation: each fold is the validation set once, training is the rest.

    Rows are dealt to folds in a seeded pseudo-random order of their content (see
    :mod:`splitcv.splitters.dealt`), so fold sizes differ by at most one row, as scikit-learn's
    ``KFold`` makes them. The order depends only on the rows' content and the seed: the same seed
    gives the same folds in every process and on any partitioning of the same data, and training
    and validation are disjoint and cover the data exactly. Repeated rows are dealt like any others,
    so data with few distinct rows still gets full folds; to keep identical rows (or any group of
    rows) on one side, use :class:`~splitcv.GroupKFoldSplitter`. With ``foldCol``, the folds are
    that column's values ``0..numFolds-1`` instead.

    Examples
    --------
    >>> df = spark.createDataFrame([(i, i % 3) for i in range(30)], ["x", "f"])
    >>> [(i.train_rows, i.validation_rows) for i in KFoldSplitter(numFolds=3, foldCol="f").describe(df)]
    [(20, 10), (20, 10), (20, 10)]
    >>> [v.count() for _, v in KFoldSplitter(numFolds=4).split(df)]
    [8, 8, 7, 7]
    """

    partitionsRows = True

    @keyword_only
    def __init__(self, *, numFolds: int = 3, seed: int = DEFAULT_SEED, foldCol: Optional[str] = None) -> None:
        super().__init__()
        self._setDefault(numFolds=3, seed=DEFAULT_SEED)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self, *, numFolds: int = 3, seed: int = DEFAULT_SEED, foldCol: Optional[str] = None
    ) -> "KFoldSplitter":
        return self._set(**self._input_kwargs)

    def _check_schema(self, dataset: DataFrame) -> None:
        fields = {f.name: f.dataType for f in dataset.schema.fields}
        fold_col = self.getFoldCol()
        if fold_col is not None:
            if fold_col not in fields:
                raise ValueError(f"foldCol={fold_col!r} is not a column of the dataset; its columns are {sorted(fields)}")
            if not isinstance(fields[fold_col], _INTEGRAL):
                raise TypeError(
                    f"foldCol={fold_col!r} has type {fields[fold_col].simpleString()}; it must hold integer "
                    f"fold numbers 0..{self.getOrDefault(self.numFolds) - 1}"
                )

    def _with_fold_columns(self, dataset: DataFrame) -> DataFrame:
        return dataset if self.getFoldCol() is not None else with_ranks(dataset, self.getSeed())

    def _fold_set(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        k = self.getOrDefault(self.numFolds)
        fold_col = self.getFoldCol()
        if fold_col is None:
            dealt = deal(dataset, k, type(self).__name__, classes=classes)
            fold = dealt.fold_expr(None, None)
            return FoldSet([(fold != f, fold == f) for f in range(k)], dealt.infos(with_classes=classes is not None))
        expr = F.col(quote(fold_col))
        values, counts, per_class, _ = summarize(dataset, expr, "foldCol", fold_col, classes)
        check_fold_numbers(f"foldCol={fold_col!r}", values, k)
        by_fold = dict(zip(values, counts))
        total = sum(counts)
        check_not_empty(total, type(self).__name__)
        for fold in range(k):
            check_fold(fold, total - by_fold.get(fold, 0), by_fold.get(fold, 0))
        points = list(range(k))
        folds = plan_blocked(CountScale(k), k)
        conditions = render_folds(expr, points, folds, F.lit)
        by_class = dict(zip(values, per_class)) if per_class is not None else None
        return FoldSet(
            conditions,
            plan_infos(
                folds, points, [by_fold[f] for f in points], None, [by_class[f] for f in points] if by_class else None
            ),
        )

    def _fold_conditions(self, dataset: DataFrame):  # type: ignore[override]
        return self._fold_set(dataset).conditions
