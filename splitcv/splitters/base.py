"""The FoldSplitter base: one small method to override, everything else supplied.

A subclass yields, per fold, a pair of boolean Column conditions (training, validation) from
``_fold_conditions``. The base turns them into ``split`` (filters over the input), ``describe``
(row counts and time ranges per fold, in one aggregate job) and checks that no fold is empty and
no row is on both sides, naming the fold that is not.
"""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from pyspark.ml.param import Params
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable, MLWriter
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from splitcv.plan.checks import check_fold, check_not_empty, invalid_param
from splitcv.plan.describe import FoldInfo, format_folds
from splitcv.writing import SplitterWriter

__all__ = [
    "FoldSplitter",
    "FoldInfo",
    "FoldSet",
    "HELPER_PREFIX",
    "measure_folds",
    "format_folds",
    "check_fold",
    "check_not_empty",
    "quote",
    "as_key",
]

#: Columns a splitter adds for its own planning start with this; the folds it returns never have them.
HELPER_PREFIX = "__splitcv_"


def quote(name: str) -> str:
    """A column name as ``F.col`` reads it literally: ``price.usd`` is that column, not a struct field."""
    return "`" + name.replace("`", "``") + "`"


def as_key(dataset: DataFrame, name: str) -> Column:
    """Column ``name`` as a grouping key: floating-point values plus 0.0, which turns -0.0 into 0.0,
    so the two are one class or group wherever the key is compared (Spark's grouping has them equal)."""
    from pyspark.sql import types as T

    column = F.col(quote(name))
    return column + F.lit(0.0) if isinstance(dataset.schema[name].dataType, (T.FloatType, T.DoubleType)) else column



@dataclass
class FoldSet:
    """What a splitter prepared for one dataset: conditions, and descriptions when they came free.

    The conditions read ``frame``: the dataset itself, or the dataset plus helper columns (named in
    ``helpers``) that some splitters compute to place rows (a seeded rank, a group's fold). The
    folds themselves (:meth:`splits`) never carry helper columns."""

    conditions: list[tuple[Column, Column]]
    infos: Optional[list[FoldInfo]] = None
    frame: Optional[DataFrame] = None
    helpers: tuple[str, ...] = ()

    def splits(self) -> list[tuple[DataFrame, DataFrame]]:
        """The folds as ``(train, validation)`` DataFrames: filters over ``frame``."""
        assert self.frame is not None, "FoldSplitter.prepare sets the frame"
        frame, helpers = self.frame, self.helpers
        return [(frame.filter(t).drop(*helpers), frame.filter(v).drop(*helpers)) for t, v in self.conditions]


class FoldSplitter(Params, DefaultParamsReadable, DefaultParamsWritable, metaclass=ABCMeta):
    """Base class of every splitter: override :meth:`_fold_conditions`.

    Examples
    --------
    A splitter that validates on each year after the first and trains on the years before it:

    >>> from pyspark.sql import functions as F
    >>> class YearSplitter(FoldSplitter):
    ...     forwardChaining = True
    ...     timeCol = "year"
    ...     def _fold_conditions(self, dataset):
    ...         years = sorted(r[0] for r in dataset.select("year").distinct().collect())
    ...         for year in years[1:]:
    ...             yield F.col("year") < year, F.col("year") == year
    >>> df = spark.createDataFrame([(y, float(y)) for y in (2020, 2020, 2021, 2022)], ["year", "x"])
    >>> [(t.count(), v.count()) for t, v in YearSplitter().split(df)]
    [(2, 1), (3, 1)]
    """

    #: True when every training row of a fold precedes its validation rows in time. The auditor
    #: (:func:`splitcv.testing.audit_splitter`) then checks that on the real folds.
    forwardChaining: bool = False
    #: True when every row is in exactly one fold's validation set (the k-fold family). The
    #: auditor then checks that the validation sets partition the rows.
    partitionsRows: bool = False

    def __init__(self) -> None:
        super().__init__()

    def _set(self, **kwargs: Any) -> "FoldSplitter":
        """Set Params, reporting a bad value with the Param's name; ``None`` unsets a Param."""
        for name, value in kwargs.items():
            if value is None:
                self.clear(self.getParam(name))
                continue
            try:
                super()._set(**{name: value})
            except TypeError as error:
                # pyspark wraps the converter's TypeError in its own: report the converter's
                raise invalid_param(type(self).__name__, name, value, error.__context__ or error) from None
            except ValueError as error:
                raise invalid_param(type(self).__name__, name, value, error) from None
        return self

    # -- the extension point -------------------------------------------------------------------
    @abstractmethod
    def _fold_conditions(self, dataset: DataFrame) -> Iterable[tuple[Column, Column]]:
        """Yield ``(training, validation)`` boolean Columns, one pair per fold, in time order."""

    # -- hooks built-in splitters use; a custom splitter may ignore them ------------------------
    def _check_params(self) -> None:
        """Raise on parameter values that are wrong whatever the data."""

    def _check_schema(self, dataset: DataFrame) -> None:
        """Raise on parameters that do not fit this dataset's schema (no Spark job may run)."""

    def _fold_set(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        """Conditions, and descriptions where planning gives them free (with per-class row counts
        of the column ``classes`` when it is given). ``dataset`` is what :meth:`_with_fold_columns`
        returned; the FoldSet may name another ``frame`` (that one plus lookups) and its helpers."""
        return FoldSet(list(self._fold_conditions(dataset)))

    def _with_fold_columns(self, dataset: DataFrame) -> DataFrame:
        """The dataset plus helper columns (named ``__splitcv_*``) that planning reads, computed
        row by row with no Spark job; the validator caches this frame rather than the dataset."""
        return dataset

    def _time_column(self) -> Optional[str]:
        """The column ``describe`` reports time ranges of: a ``timeCol`` Param or attribute."""
        if self.hasParam("timeCol"):
            return self.getOrDefault("timeCol") if self.isDefined("timeCol") else None
        value = getattr(self, "timeCol", None)
        return value if isinstance(value, str) else None

    # -- public API ----------------------------------------------------------------------------
    def check(self, dataset: Optional[DataFrame] = None) -> None:
        """Validate the parameters (and, given a dataset, that they fit its schema) without
        running a Spark job. ``split`` and the validator call this first."""
        self._check_params()
        if dataset is not None:
            taken = [name for name in dataset.columns if name.startswith(HELPER_PREFIX)]
            if taken:
                raise ValueError(
                    f"the dataset has columns {taken}; names starting with {HELPER_PREFIX!r} are splitcv's own "
                    "helper columns: rename them"
                )
            self._check_schema(dataset)

    def prepare(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        """Check, then build the folds' conditions (and their descriptions where they come free).

        ``classes`` names a label column whose rows per class the descriptions should count, in the
        same summary job as planning, where the splitter plans from one."""
        self.check(dataset)
        return self._prepare_frame(self._with_fold_columns(dataset), classes)

    def _prepare_frame(self, frame: DataFrame, classes: Optional[str] = None) -> FoldSet:
        """:meth:`prepare` on a frame that already has the helper columns (the validator's cache)."""
        taken = [name for name in frame.columns if name.startswith(HELPER_PREFIX)]
        folds = self._fold_set(frame, classes)
        if not folds.conditions:
            raise ValueError(f"{type(self).__name__} made no fold on this dataset; check its parameters")
        if folds.frame is None:
            folds.frame = frame
        folds.helpers = tuple(dict.fromkeys([*folds.helpers, *taken]))
        return folds

    def split(self, dataset: DataFrame) -> list[tuple[DataFrame, DataFrame]]:
        """The folds as ``(train, validation)`` DataFrames, filters over ``dataset``."""
        return self.prepare(dataset).splits()

    def describe(self, dataset: DataFrame) -> list[FoldInfo]:
        """One :class:`FoldInfo` per fold; raises if a fold is empty on one side or overlaps."""
        folds = self.prepare(dataset)
        if folds.infos is not None:
            return folds.infos
        assert folds.frame is not None
        return measure_folds(folds.frame, folds.conditions, self._time_column())

    def getNumFolds(self, dataset: Optional[DataFrame] = None) -> int:
        """The ``numFolds`` Param, as pyspark's getters return their Param; the number of folds a
        dataset yields is :meth:`countFolds`. (``getNumFolds(dataset)`` still counts, with a
        ``DeprecationWarning``.)"""
        if dataset is not None:
            warnings.warn(
                f"{type(self).__name__}.getNumFolds(dataset) is deprecated: the number of folds a dataset yields "
                "is countFolds(dataset); getNumFolds() returns the numFolds Param",
                DeprecationWarning,
                stacklevel=2,
            )
            return self.countFolds(dataset)
        if self.hasParam("numFolds") and self.isDefined(self.getParam("numFolds")):
            return self.getOrDefault(self.getParam("numFolds"))
        raise ValueError(
            f"{type(self).__name__} has no numFolds set: its number of folds depends on the data. Call "
            "countFolds(dataset)" + (" or set numFolds" if self.hasParam("numFolds") else "")
        )

    def countFolds(self, dataset: DataFrame) -> int:
        """The number of folds ``dataset`` yields: the length of the plan (the splitter's one summary
        job), so it cannot disagree with :meth:`split`."""
        return len(self.prepare(dataset).conditions)

    def write(self) -> MLWriter:
        """pyspark's Params writer, which refuses to save over an earlier save without ``overwrite()``."""
        return SplitterWriter(self)

    def __repr__(self) -> str:
        params = ", ".join(f"{p.name}={v!r}" for p, v in self.extractParamMap().items())
        return f"{type(self).__name__}({params})"


def measure_folds(
    dataset: DataFrame,
    conditions: Sequence[tuple[Column, Column]],
    time_col: Optional[str] = None,
    classes: Optional[str] = None,
) -> list[FoldInfo]:
    """Count each fold's rows (and time ranges, and rows per class of ``classes``) in a single
    aggregate job, then check them."""
    aggregates = []
    for train, validation in conditions:
        aggregates += [F.count_if(train), F.count_if(validation), F.count_if(train & validation)]
        if time_col is not None:
            t = F.col(time_col)
            aggregates += [
                F.min(F.when(train, t)),
                F.max(F.when(train, t)),
                F.min(F.when(validation, t)),
                F.max(F.when(validation, t)),
            ]
    width = 7 if time_col is not None else 3
    if classes is None:
        groups = [(None, list(dataset.agg(*aggregates).first()))]
    else:  # the same aggregates per class, in one job: totals are their sums
        rows = dataset.groupBy(F.col(classes).alias("__class")).agg(*aggregates).collect()
        groups = [(r[0], list(r[1:])) for r in rows]
    infos = []
    for index in range(len(conditions)):
        parts = [(label, values[index * width : (index + 1) * width]) for label, values in groups]
        train_rows, validation_rows, both = (sum(p[k] for _, p in parts) for k in range(3))
        check_fold(index, train_rows, validation_rows, both)
        bounds = [_combine(min if k % 2 == 0 else max, [p[3 + k] for _, p in parts]) for k in range(width - 3)]
        per_class: list[Optional[dict]] = [None, None]
        if classes is not None:
            per_class = [{label: p[k] for label, p in parts if p[k]} for k in (0, 1)]
        infos.append(FoldInfo(index, train_rows, validation_rows, *bounds, *([None] * (4 - len(bounds))), *per_class))
    return infos


def _combine(pick: Any, values: Sequence[Any]) -> Any:
    present = [v for v in values if v is not None]
    return pick(present) if present else None
