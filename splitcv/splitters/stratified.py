"""Stratified k-fold: every fold keeps each class's share of the rows."""

from __future__ import annotations

import warnings
from typing import Optional

from pyspark import keyword_only
from pyspark.sql import Column, DataFrame
from pyspark.sql import types as T

from splitcv.splitters.base import FoldSet, FoldSplitter, as_key
from splitcv.splitters.dealt import TooManyClasses, deal, with_ranks
from splitcv.splitters.kfold import DEFAULT_SEED
from splitcv.splitters.params import HasLabelCol, HasNumFolds, HasSeedFixed

__all__ = ["StratifiedKFoldSplitter", "SmallClassWarning", "MAX_CLASSES"]

#: More distinct labels than this is a continuous target, not classes: an error says what to do.
MAX_CLASSES = 1024

_CLASS_TYPES = (
    T.StringType, T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.BooleanType,
    T.FloatType, T.DoubleType, T.DecimalType, T.DateType,
)


class SmallClassWarning(UserWarning):
    """A class has fewer rows than ``numFolds``: it is in the validation set of only some folds.

    Stratified k-fold deals each class's rows to the folds in turn, so a class of 2 rows with 5
    folds is validated in 2 of them and missing from the other 3. scikit-learn's
    ``StratifiedKFold`` does the same and warns the same way; it is a warning, not an error,
    because real label sets often have a rare class and the other folds are still balanced. A
    classification evaluator then meets folds without that class: see ``singleClassFolds``.
    """


class StratifiedKFoldSplitter(FoldSplitter, HasLabelCol, HasNumFolds, HasSeedFixed):
    """K-fold in which every fold keeps each class's share of the rows.

    Per class, fold sizes differ by at most one row (scikit-learn's ``StratifiedKFold`` promise),
    and so do the folds' total sizes. Rows are dealt to folds in a seeded order of their content,
    class after class (:mod:`splitcv.splitters.dealt`), planned from one summary job (rows per
    class); the same seed gives the same folds in every process and on any partitioning of the
    same data. Classes are the distinct values of ``labelCol``: strings, integers, booleans,
    doubles (``-0.0`` is ``0.0``) or dates; a null or NaN label is an error. A class with fewer
    rows than ``numFolds`` warns (:class:`SmallClassWarning`) and is validated in only that many
    folds.

    Examples
    --------
    >>> df = spark.createDataFrame([(i, "rare" if i < 6 else "common") for i in range(30)], ["x", "label"])
    >>> [i.validation_classes for i in StratifiedKFoldSplitter(numFolds=3).describe(df)]
    [{'common': 8, 'rare': 2}, {'common': 8, 'rare': 2}, {'common': 8, 'rare': 2}]
    """

    partitionsRows = True

    @keyword_only
    def __init__(self, *, labelCol: str = "label", numFolds: int = 3, seed: int = DEFAULT_SEED) -> None:
        super().__init__()
        self._setDefault(labelCol="label", numFolds=3, seed=DEFAULT_SEED)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self, *, labelCol: str = "label", numFolds: int = 3, seed: int = DEFAULT_SEED
    ) -> "StratifiedKFoldSplitter":
        return self._set(**self._input_kwargs)

    def _check_schema(self, dataset: DataFrame) -> None:
        self._class_type(dataset)

    def _class_type(self, dataset: DataFrame) -> T.DataType:
        label = self.getLabelCol()
        fields = {f.name: f.dataType for f in dataset.schema.fields}
        if label not in fields:
            raise ValueError(
                f"labelCol={label!r} is not a column of the dataset; its columns are {sorted(fields)}. "
                "Set labelCol to the column holding the classes"
            )
        kind = fields[label]
        if not isinstance(kind, _CLASS_TYPES):
            raise TypeError(
                f"labelCol={label!r} has type {kind.simpleString()}; classes must be strings, integers, booleans, "
                "doubles or dates. For a vector or array label, stratify on a column derived from it"
            )
        return T.DoubleType() if isinstance(kind, (T.FloatType, T.DoubleType)) else kind

    def _key(self, dataset: DataFrame) -> Column:
        return as_key(dataset, self.getLabelCol())

    def _with_fold_columns(self, dataset: DataFrame) -> DataFrame:
        return with_ranks(dataset, self.getSeed(), self._key(dataset))

    def _fold_set(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        k, label = self.getOrDefault(self.numFolds), self.getLabelCol()
        key = self._key(dataset)
        # The label is the class the validator counts, unless it asks for another column.
        other = classes if classes not in (None, label) else None
        try:
            dealt = deal(dataset, k, type(self).__name__, key, "labelCol", label, other, MAX_CLASSES)
            found = f"{len(dealt.keys)}"
            many = len(dealt.keys) > MAX_CLASSES
        except TooManyClasses:
            found, many = f"more than {MAX_CLASSES}", True
        if many:
            raise ValueError(
                f"labelCol={label!r} has {found} distinct values, more than {MAX_CLASSES} classes: "
                "stratified k-fold is for class labels. For a continuous target use KFoldSplitter, or bin it "
                "into classes first (pyspark.ml.feature.QuantileDiscretizer)"
            )
        small = [(value, rows) for value, rows in sorted(dealt.class_rows().items()) if rows < k]
        if small:
            listed = ", ".join(f"{value!r} ({rows} rows)" for value, rows in small[:5])
            warnings.warn(
                f"labelCol={label!r}: {len(small)} classes have fewer rows than numFolds={k}: {listed}"
                f"{'...' if len(small) > 5 else ''}; each is in the validation set of only that many folds",
                SmallClassWarning,
                stacklevel=4,
            )
        fold = dealt.fold_expr(key, self._class_type(dataset))
        conditions = [(fold != f, fold == f) for f in range(k)]
        return FoldSet(conditions, dealt.infos(with_classes=True))

    def _fold_conditions(self, dataset: DataFrame):  # type: ignore[override]
        return self._fold_set(dataset).conditions
