"""The scikit-learn splitters: each gives the folds of one Spark splitter, with the same parameters.

The time splitters summarise their time values as the Spark splitter's one summary job does
(distinct time points and their rows), check them and plan with the same code
(:mod:`splitcv.plan.timeplan`, :mod:`splitcv.plan.recipes`), and return positions in ``X`` where the
Spark splitter returns filters. Group k-fold packs groups as Spark does, keyed by the same hash; k-fold
takes each row's fold from ``folds``/``foldCol``.
"""

from __future__ import annotations

import inspect
from typing import Any, Optional, Union

import numpy as np

from splitcv.plan.assign import pack_groups
from splitcv.plan.axis import CountScale
from splitcv.plan.blocked import plan_blocked
from splitcv.plan.checks import (
    OPTIONAL_NUM_FOLDS,
    check_fold,
    check_fold_numbers,
    check_group_count,
    check_not_empty,
    convert_params,
)
from splitcv.plan.describe import EndCounts, group_infos, plan_infos
from splitcv.plan.purge import is_purged
from splitcv.plan.recipes import AxisWords, BlockedRecipe, CombinatorialRecipe, TimeRecipe, WindowRecipe, resolve_sizes
from splitcv.plan.timeplan import (
    TimePlan,
    check_label_ends,
    label_end_type_error,
    plan_folds,
    plan_time_axis,
    purges,
)
from splitcv.sklearn.base import Plan, SplitterCV, rows_in
from splitcv.sklearn.values import TimeValues, fold_numbers, group_keys, row_values, time_values

__all__ = [
    "ExpandingWindowCV",
    "SlidingWindowCV",
    "BlockedKFoldCV",
    "CombinatorialPurgedCV",
    "GroupKFoldCV",
    "KFoldCV",
]

Size = Union[int, str]

#: What the time values can be instead of integers, in messages about calendar durations.
_CALENDAR_TYPES = "dates or timestamps (numpy datetime64, pandas Timestamps, datetime.date)"


class _TimeAxisCV(SplitterCV):
    """A splitter on the distinct time values of its rows, with purge and embargo."""

    _time: Optional[TimeValues]
    _label_end: Optional[TimeValues]

    def _setup(self, given: dict[str, Any], converters: Optional[dict] = None) -> None:
        """Check and keep the arguments: the per-row values apart, every parameter converted by its
        Spark Param's converter, then the recipe's own checks."""
        owner = type(self).__name__
        time, label_end = given.pop("time"), given.pop("labelEnd")
        given.pop("self", None)
        given.pop("__class__", None)
        params = convert_params(owner, given, converters)
        for name, value in params.items():
            setattr(self, name, value)
        if (time is None) == (self.timeCol is None):
            raise ValueError(
                f"{owner} needs the time of every row of X, once: {owner}(time=df['date'], ...) with the values, "
                f"or {owner}(timeCol='date', ...) to read a column of X"
                + (", not both" if time is not None else "")
            )
        if label_end is not None and self.labelEndCol is not None:
            raise ValueError(f"{owner}: give labelEnd (the values) or labelEndCol (a column of X), not both")
        self._time = time_values(time, "time") if time is not None else None
        self._label_end = time_values(label_end, "labelEnd") if label_end is not None else None
        self._recipe().check()

    def _recipe(self) -> TimeRecipe:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        shown = {}
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name == "time":
                value = None if self._time is None else self._time.points
            elif name == "labelEnd":
                value = None if self._label_end is None else self._label_end.points
            else:
                value = getattr(self, name, None)
            if value is not None and not (isinstance(value, type(parameter.default)) and value == parameter.default):
                shown[name] = value
        return shown

    # -- from X to the plan -----------------------------------------------------------------------
    def _values(self, X: Any, bound: Optional[TimeValues], column: Optional[str], param: str, column_param: str) -> tuple[TimeValues, str]:
        owner = type(self).__name__
        if bound is not None:
            row_values(owner, X, bound.points, None, param, column_param)  # one value per row of X
            return bound, param
        values, subject = row_values(owner, X, None, column, param, column_param)
        return time_values(values, subject), subject

    def _time_plan(self, X: Any) -> tuple[TimeValues, Optional[TimeValues], np.ndarray, TimePlan]:
        """The time values (and label ends) of X's rows, each row's index on the axis, and the plan."""
        time, subject = self._values(X, self._time, self.timeCol, "time", "timeCol")
        words = AxisWords(subject, calendar_types=_CALENDAR_TYPES, date_axis="holds dates")
        recipe = self._recipe()
        resolve_sizes(recipe.sizes(), time.calendar, words, time.kind == "date")  # wrong sizes before the data
        ends, end_subject = None, ""
        if self._label_end is not None or self.labelEndCol is not None:
            ends, end_subject = self._values(X, self._label_end, self.labelEndCol, "labelEnd", "labelEndCol")
            if ends.kind != time.kind:
                raise label_end_type_error(end_subject, ends.type_name, subject, time.type_name)
        nulls = int(time.null.sum())
        if nulls:
            raise ValueError(
                f"{subject} has {nulls} null values; every row needs one. Drop those rows of X (and y), or fill them, "
                "before splitting"
            )
        points, inverse, counts = np.unique(time.points, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(-1)
        by_end = None
        if ends is not None:
            by_end = _ends_by_point(inverse, ends, len(points))
            if len(inverse):
                check_label_ends(
                    points.tolist(), by_end, time.to_python, end_subject, subject,
                    "each row's own time where the label is known at once (labelEnd.fillna(time), with pandas)",
                )
        plan = plan_time_axis(
            recipe, points.tolist(), counts.tolist(), time.calendar, words, is_date=time.kind == "date", by_end=by_end
        )
        return time, ends, inverse, plan

    def _plan(self, X: Any, y: Any, groups: Any) -> Plan:
        time, ends, inverse, plan = self._time_plan(X)
        size = len(plan.points)
        planned = plan_folds(plan, purges(ends, self.embargo), ends is not None, time.to_python)

        def masks():
            for fold, spans in zip(planned.folds, planned.spans):
                train = rows_in(inverse, fold.train, size)
                if spans:  # the purge rule itself, on every row at once
                    assert ends is not None
                    train &= ~np.asarray(is_purged(time.points, ends.points, spans), dtype=bool)
                yield train, rows_in(inverse, fold.segments, size)

        return Plan(len(planned.folds), masks, planned.infos)

    def _count(self, X: Any, y: Any, groups: Any) -> int:
        known = self._recipe().count()
        return known if known is not None else len(self._time_plan(X)[3].folds)


def _ends_by_point(inverse: np.ndarray, ends: TimeValues, size: int) -> list[EndCounts]:
    """Rows per label end at every time point: ``{(label end or None, None): rows}``, as the Spark
    summary job counts them."""
    keys = np.stack([inverse, ends.null.astype(np.int64), np.where(ends.null, 0, ends.points)], axis=1)
    by_end: list[EndCounts] = [{} for _ in range(size)]
    if len(keys):
        distinct, rows = np.unique(keys, axis=0, return_counts=True)
        for (index, null, end), count in zip(distinct.tolist(), rows.tolist()):
            by_end[index][(None if null else end, None)] = count
    return by_end


class ExpandingWindowCV(_TimeAxisCV):
    """The folds of :class:`~splitcv.ExpandingWindowSplitter` for scikit-learn: forward chaining with
    a growing training window, on integer, date or timestamp values.

    ``time`` holds each row's time (one value per row of ``X``, in its order: a pandas Series, a
    numpy array); ``timeCol`` names a column of ``X`` (a pandas DataFrame) instead. Every other
    parameter is the Spark splitter's, with its meaning and checks: sizes count distinct time points,
    or are calendar durations (``"1 month"``) on dates and timestamps. ``labelEnd``/``labelEndCol``
    (each row's label end) and ``embargo`` purge and embargo as on Spark.

    Examples
    --------
    >>> import numpy as np
    >>> cv = ExpandingWindowCV(time=np.array([3, 0, 1, 2, 3, 4, 5, 4]), horizon=1, numFolds=2)
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(np.zeros((8, 1)))]
    [([0, 1, 2, 3, 4], [5, 7]), ([0, 1, 2, 3, 4, 5, 7], [6])]
    >>> cv.get_n_splits()
    2
    """

    spark_splitter = "ExpandingWindowSplitter"

    def __init__(
        self,
        *,
        time: Any = None,
        timeCol: Optional[str] = None,
        horizon: Size = 1,
        step: Optional[Size] = None,
        gap: Size = 0,
        initialWindow: Optional[Size] = None,
        numFolds: Optional[int] = None,
        keepPartialWindow: bool = False,
        labelEnd: Any = None,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> None:
        self._setup(dict(locals()), {"numFolds": OPTIONAL_NUM_FOLDS})

    def _recipe(self) -> TimeRecipe:
        return WindowRecipe(
            type(self).__name__, horizon=self.horizon, step=self.step, gap=self.gap, initialWindow=self.initialWindow,
            numFolds=self.numFolds, keepPartialWindow=self.keepPartialWindow, embargo=self.embargo,
        )


class SlidingWindowCV(_TimeAxisCV):
    """The folds of :class:`~splitcv.SlidingWindowSplitter` for scikit-learn: forward chaining with a
    training window of at most ``windowSize`` before the gap. Arguments as :class:`ExpandingWindowCV`.

    Examples
    --------
    >>> cv = SlidingWindowCV(time=list(range(8)), windowSize=3, horizon=2, gap=1)
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(list(range(8)))]
    [([0], [2, 3]), ([0, 1, 2], [4, 5]), ([2, 3, 4], [6, 7])]
    """

    spark_splitter = "SlidingWindowSplitter"

    def __init__(
        self,
        *,
        time: Any = None,
        timeCol: Optional[str] = None,
        windowSize: Optional[Size] = None,
        horizon: Size = 1,
        step: Optional[Size] = None,
        gap: Size = 0,
        initialWindow: Optional[Size] = None,
        numFolds: Optional[int] = None,
        keepPartialWindow: bool = False,
        labelEnd: Any = None,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> None:
        self._setup(dict(locals()), {"numFolds": OPTIONAL_NUM_FOLDS})

    def _recipe(self) -> TimeRecipe:
        return WindowRecipe(
            type(self).__name__, horizon=self.horizon, step=self.step, gap=self.gap, initialWindow=self.initialWindow,
            windowSize=self.windowSize, numFolds=self.numFolds, keepPartialWindow=self.keepPartialWindow,
            embargo=self.embargo, sliding=True,
        )


class BlockedKFoldCV(_TimeAxisCV):
    """The folds of :class:`~splitcv.BlockedKFoldSplitter` for scikit-learn: ``numFolds`` contiguous
    blocks of time points, each validated once, trained on the others less ``gap`` around it.

    Examples
    --------
    >>> cv = BlockedKFoldCV(time=list(range(9)), numFolds=3, gap=1)
    >>> [test.tolist() for _, test in cv.split(list(range(9)))], cv.get_n_splits()
    ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], 3)
    """

    spark_splitter = "BlockedKFoldSplitter"

    def __init__(
        self,
        *,
        time: Any = None,
        timeCol: Optional[str] = None,
        numFolds: int = 5,
        gap: Size = 0,
        labelEnd: Any = None,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> None:
        self._setup(dict(locals()))

    def _recipe(self) -> TimeRecipe:
        return BlockedRecipe(type(self).__name__, numFolds=self.numFolds, gap=self.gap, embargo=self.embargo)


class CombinatorialPurgedCV(_TimeAxisCV):
    """The folds of :class:`~splitcv.CombinatorialPurgedSplitter` for scikit-learn: every choice of
    ``numTestGroups`` of ``numGroups`` contiguous groups of time points, purged and embargoed.

    Examples
    --------
    >>> cv = CombinatorialPurgedCV(time=list(range(12)), labelEnd=[t + 1 for t in range(12)],
    ...                            numGroups=4, numTestGroups=2)
    >>> [(len(train), len(test)) for train, test in cv.split(list(range(12)))][:3], cv.get_n_splits()
    ([(5, 6), (3, 6), (4, 6)], 6)
    """

    spark_splitter = "CombinatorialPurgedSplitter"

    def __init__(
        self,
        *,
        time: Any = None,
        timeCol: Optional[str] = None,
        numGroups: int = 6,
        numTestGroups: int = 2,
        labelEnd: Any = None,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> None:
        self._setup(dict(locals()))

    def _recipe(self) -> TimeRecipe:
        return CombinatorialRecipe(
            type(self).__name__, numGroups=self.numGroups, numTestGroups=self.numTestGroups, embargo=self.embargo
        )


class KFoldCV(SplitterCV):
    """The folds of :class:`~splitcv.KFoldSplitter` with ``foldCol`` for scikit-learn: each row's fold,
    ``0..numFolds-1``, given as ``folds`` (one per row of ``X``) or read from the column ``foldCol``.

    Random k-fold is not here: Spark deals rows to folds by a seeded hash of every column of the
    DataFrame, which ``X`` does not determine. Use scikit-learn's ``KFold(shuffle=True,
    random_state=...)``: the same promise (fold sizes within one row), other folds.

    Examples
    --------
    >>> cv = KFoldCV(numFolds=2, folds=[0, 1, 1, 0, 1])
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(list(range(5)))]
    [([1, 2, 4], [0, 3]), ([0, 3], [1, 2, 4])]
    """

    spark_splitter = "KFoldSplitter"

    def __init__(self, *, numFolds: int = 3, folds: Any = None, foldCol: Optional[str] = None) -> None:
        converted = convert_params(type(self).__name__, {"numFolds": numFolds, "foldCol": foldCol})
        self.numFolds, self.foldCol = converted["numFolds"], converted["foldCol"]
        if (folds is None) == (foldCol is None):
            k = self.numFolds
            raise ValueError(
                f"KFoldCV takes each row's fold, once: folds=<one of 0..{k - 1} per row of X> or foldCol=<a column of X "
                f"holding them>{', not both' if folds is not None else ''}. For random k-fold use scikit-learn's "
                f"KFold(n_splits={k}, shuffle=True, random_state=42): it makes KFoldSplitter's promise (fold sizes "
                "within one row), though not its folds, which Spark deals by a seeded hash of every column of the "
                "DataFrame"
            )
        self.folds = None if folds is None else np.asarray(folds)

    def _params(self) -> dict[str, Any]:
        return {"numFolds": self.numFolds, **({"folds": self.folds} if self.foldCol is None else {"foldCol": self.foldCol})}

    def _plan(self, X: Any, y: Any, groups: Any) -> Plan:
        k, owner = self.numFolds, type(self).__name__
        values, subject = row_values(owner, X, self.folds, self.foldCol, "folds", "foldCol")
        numbers = fold_numbers(values, subject, k)
        distinct, counts = np.unique(numbers, return_counts=True)
        check_fold_numbers(subject, distinct.tolist(), k)
        by_fold = dict(zip(distinct.tolist(), counts.tolist()))
        check_not_empty(len(numbers), owner)
        for fold in range(k):
            check_fold(fold, len(numbers) - by_fold.get(fold, 0), by_fold.get(fold, 0))
        # As the Spark splitter plans it: blocked k-fold on the axis of fold numbers.
        folds = plan_blocked(CountScale(k), k)
        infos = plan_infos(folds, list(range(k)), [by_fold[f] for f in range(k)], None)

        def masks():
            for fold in folds:
                yield rows_in(numbers, fold.train, k), rows_in(numbers, fold.segments, k)

        return Plan(k, masks, infos)

    def _count(self, X: Any, y: Any, groups: Any) -> int:
        return self.numFolds


class GroupKFoldCV(SplitterCV):
    """The folds of :class:`~splitcv.GroupKFoldSplitter` for scikit-learn: every row of a group on
    one side of every fold, groups packed largest first into the fold with the fewest rows.

    Groups come as scikit-learn passes them (``split(X, y, groups)``, ``GridSearchCV.fit(X, y,
    groups=...)``) or from the column ``groupCol`` of ``X``. Ties between groups of equal size are
    broken as on Spark, by Spark's hash of the group (integers, floats, booleans or strings), so the
    folds are the Spark splitter's.

    Examples
    --------
    >>> groups = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"]
    >>> [(len(train), len(test)) for train, test in GroupKFoldCV(numFolds=2).split(groups, groups=groups)]
    [(6, 6), (6, 6)]
    """

    spark_splitter = "GroupKFoldSplitter"

    def __init__(self, *, numFolds: int = 3, groupCol: Optional[str] = None) -> None:
        converted = convert_params(type(self).__name__, {"numFolds": numFolds, "groupCol": groupCol})
        self.numFolds, self.groupCol = converted["numFolds"], converted["groupCol"]

    def _params(self) -> dict[str, Any]:
        return {"numFolds": self.numFolds, **({"groupCol": self.groupCol} if self.groupCol is not None else {})}

    def _plan(self, X: Any, y: Any, groups: Any) -> Plan:
        k, owner = self.numFolds, type(self).__name__
        if (groups is None) == (self.groupCol is None):
            raise ValueError(
                f"{owner} needs each row's group, once: split(X, y, groups) (GridSearchCV(...).fit(X, y, groups=...)) "
                f"or {owner}(groupCol=<a column of X>){', not both' if groups is not None else ''}"
            )
        values, subject = row_values(owner, X, groups, self.groupCol, "groups", "groupCol")
        keys = group_keys(values, subject)
        check_not_empty(len(keys), owner)
        distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        sizes = dict(zip(distinct.tolist(), counts.tolist()))
        check_group_count(subject, len(sizes), k)
        assigned = pack_groups(list(sizes.items()), k)
        infos = group_infos(assigned, sizes, None, k)
        fold_of_row = np.array([assigned[key] for key in distinct.tolist()])[inverse.reshape(-1)]

        def masks():
            for fold in range(k):
                yield fold_of_row != fold, fold_of_row == fold

        return Plan(k, masks, infos)

    def _count(self, X: Any, y: Any, groups: Any) -> int:
        return self.numFolds

    def get_metadata_routing(self) -> Any:
        """For scikit-learn's metadata routing (``sklearn.set_config(enable_metadata_routing=True)``):
        ``split`` takes ``groups``, as scikit-learn's ``GroupKFold`` does."""
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=type(self).__name__)
        request.split.add_request(param="groups", alias=True)
        return request
