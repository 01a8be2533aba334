"""The leakage auditor: check the real folds of any splitter, a custom one included.

:func:`audit_splitter` builds a splitter's folds on a dataset (``splitter.prepare(dataset)``) and
measures them in one aggregate Spark job grouped by the time value, whatever the number of folds.
The checks then run in plain Python on the collected counts:

* every fold has training and validation rows;
* no row is in both training and validation of a fold;
* rows that share a time value are on one side of each fold (ties are never split);
* forward-chaining splitters: every training time clears ``gap`` before every validation time, by
  the same rule the planners use (:func:`splitcv.plan.clears_gap`);
* other splitters with a time column and a ``gap``: no training time lies within ``gap`` of the
  validation block, on either side;
* optionally (``partition=True``, the default for splitters that declare ``partitionsRows``: the
  k-fold family and blocked k-fold): every row is in exactly one fold's validation set;
* optionally (``groups="col"``, the default for splitters with a ``groupCol`` Param): no value of
  that column has rows on both sides of a fold (one more aggregate query);
* optionally (``label_end="col"``, the default for splitters with ``labelEndCol`` set): no training
  row's ``[time, labelEnd]`` overlaps its fold's validation span, from the first validation time to
  the latest label end of the validation rows (purge).

Sizes follow the splitters' convention: an integer ``gap`` counts distinct time points of the
dataset; a duration string (``"7 days"``) is calendar time on a DATE, TIMESTAMP or TIMESTAMP_NTZ column.

Examples
--------
A splitter that forgets the gap it promises:

>>> from pyspark.sql import functions as F
>>> from splitcv import FoldSplitter
>>> class NoGapSplitter(FoldSplitter):
...     forwardChaining = True
...     timeCol = "day"
...     gap = 1
...     def _fold_conditions(self, dataset):
...         for cut in (3, 4, 5):
...             yield F.col("day") < cut, F.col("day") == cut
>>> df = spark.createDataFrame([(d, float(d)) for d in range(6)], ["day", "y"])
>>> report = audit_splitter(NoGapSplitter(), df)
>>> report.ok
False
>>> print(report.violations[0])
fold 0: training time 2 is not clear of validation time 3 by gap=1 (time points)
>>> audit_splitter(NoGapSplitter(), df, gap=0).ok
True
>>> from splitcv import ExpandingWindowSplitter
>>> assert_no_leakage(ExpandingWindowSplitter(timeCol="day", horizon=2, gap=1), df)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from splitcv.plan import CalendarScale, CountScale, Scale, clears_gap
from splitcv.splitters.base import FoldSplitter, quote
from splitcv.splitters.timeaxis import resolve_sizes, time_kind

__all__ = ["AuditReport", "audit_splitter", "assert_no_leakage", "check_splitter"]

Gap = Union[int, str]


@dataclass
class AuditReport:
    """What :func:`audit_splitter` found: ``ok`` when no check failed, else ``violations`` in words.

    Each violation names the fold and the values that break the rule; a check reports its first
    offending value per fold (and how many more there are), so a report stays short.
    """

    splitter: str
    num_folds: int
    checks: list[str]
    violations: list[str] = field(default_factory=list)
    time_col: Optional[str] = None
    gap: Gap = 0
    rows: int = 0
    #: Per fold, the rows neither trained nor validated on (a gap, purge, embargo, or outside a window).
    left_out: list[int] = field(default_factory=list)
    #: Whether the purge rule was checked: the report then names the rows left out of each fold.
    purged: bool = False

    @property
    def ok(self) -> bool:
        return not self.violations

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = f"{self.splitter}: {self.num_folds} folds, {self.rows} rows"
        if self.ok:
            left = f"; rows left out of each fold: {self.left_out}" if self.purged else ""
            return f"{head}: no leakage found ({', '.join(self.checks)}){left}"
        lines = [f"{head}: {len(self.violations)} violation{'s' if len(self.violations) > 1 else ''}"]
        lines += [f"  - {v}" for v in self.violations]
        return "\n".join(lines)


def _default_gap(splitter: FoldSplitter) -> Gap:
    if splitter.hasParam("gap"):
        param = splitter.getParam("gap")
        return splitter.getOrDefault(param) if splitter.isDefined(param) else 0
    value = getattr(splitter, "gap", 0)
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else 0


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _describe_gap(gap: Gap) -> str:
    return f"gap={gap!r} (calendar)" if isinstance(gap, str) else f"gap={gap} (time points)"


def _time_axis(dataset: DataFrame, time_col: str, gap: Gap) -> tuple[Column, Callable[[Any], Any], Callable[[list], Scale], Any]:
    """The time expression to group by, its Python rendering, a scale factory and the resolved gap."""
    try:
        kind = time_kind(dataset, time_col, "time_col")
    except TypeError:
        # A custom splitter may order on any sortable column; only counted gaps make sense there.
        if isinstance(gap, str):
            raise
        return F.col(time_col), lambda v: v, lambda points: CountScale(len(points)), gap
    sizes, calendar = resolve_sizes(kind, {"gap": gap})
    resolved = sizes["gap"]
    if calendar:
        assert kind.calendar is not None
        return kind.as_points(F.col(time_col)), kind.to_python, lambda points: CalendarScale(points, kind.calendar), resolved
    return kind.as_points(F.col(time_col)), kind.to_python, lambda points: CountScale(len(points)), resolved


def audit_splitter(
    splitter: FoldSplitter,
    dataset: DataFrame,
    *,
    time_col: Optional[str] = None,
    forward: Optional[bool] = None,
    gap: Optional[Gap] = None,
    partition: Optional[bool] = None,
    groups: Optional[str] = None,
    label_end: Optional[str] = None,
) -> AuditReport:
    """Check the folds ``splitter`` makes on ``dataset`` for leakage; see the module docstring.

    Parameters default to what the splitter declares of itself: ``time_col`` from its ``timeCol``
    Param or attribute, ``forward`` from ``splitter.forwardChaining``, ``gap`` from its ``gap``
    Param (or attribute; 0 otherwise), ``partition`` from ``splitter.partitionsRows``, ``groups``
    from its ``groupCol`` Param and ``label_end`` from its ``labelEndCol`` Param. Runs the
    splitter's own preparation (a splitter that refuses the dataset raises here as it would in
    ``split``), then one aggregate query (two with ``groups``), whatever the number of folds; each
    invariant is one small function over that query's answer.
    """
    time_col = splitter._time_column() if time_col is None else time_col
    forward = bool(getattr(splitter, "forwardChaining", False)) if forward is None else forward
    gap = _default_gap(splitter) if gap is None else gap
    if partition is None:
        partition = bool(getattr(splitter, "partitionsRows", False))
    if groups is None and splitter.hasParam("groupCol") and splitter.isDefined("groupCol"):
        groups = splitter.getOrDefault("groupCol")
    if label_end is None and splitter.hasParam("labelEndCol") and splitter.isDefined("labelEndCol"):
        label_end = splitter.getOrDefault("labelEndCol")
    if label_end is not None and time_col is None:
        raise ValueError(f"label_end={label_end!r} needs a time column: give time_col")
    if isinstance(gap, bool) or not isinstance(gap, (int, str)):
        raise TypeError(f"gap={gap!r} is not a gap; give a whole number of time points or a duration such as '7 days'")
    if isinstance(gap, int) and gap < 0:
        raise ValueError(f"gap={gap} is negative; give a whole number >= 0 or a duration such as '7 days'")

    axis: Optional[tuple] = _time_axis(dataset, time_col, gap) if time_col is not None else None
    folds = splitter.prepare(dataset)
    conditions, frame = folds.conditions, folds.frame
    assert frame is not None
    k = len(conditions)

    aggregates: list[Column] = []
    validation_flags = []
    for train, validation in conditions:
        t = F.coalesce(train, F.lit(False))
        v = F.coalesce(validation, F.lit(False))
        aggregates += [F.count_if(t), F.count_if(v), F.count_if(t & v)]
        validation_flags.append(v.cast("int"))
    if partition:
        memberships = sum(validation_flags[1:], validation_flags[0]) if validation_flags else F.lit(0)
        aggregates += [F.count_if(memberships == 0), F.count_if(memberships > 1)]
    ends_at = 3 * k + (2 if partition else 0)  # per fold: latest label end on each side, at each time
    if label_end is not None:
        end = _time_axis(dataset, label_end, 0)[0]
        for train, validation in conditions:
            aggregates += [F.max(F.when(F.coalesce(train, F.lit(False)), end)), F.max(F.when(F.coalesce(validation, F.lit(False)), end))]
    aggregates.append(F.count(F.lit(1)))

    to_python: Callable[[Any], Any] = lambda v: v
    resolved_gap: Any = gap
    if axis is not None:
        expr, to_python, make_scale, resolved_gap = axis
        rows = [tuple(r) for r in frame.groupBy(expr.alias("__time")).agg(*aggregates).collect()]
        times = [r[0] for r in rows]
        counts = [r[1:] for r in rows]
    else:
        counts = [tuple(frame.agg(*aggregates).first())]
        times = [None]

    checks = ["non-empty folds", "disjoint training and validation"]
    if time_col is not None:
        checks.append("ties on one side")
        if forward:
            checks.append(f"training before validation by {_describe_gap(gap)}")
        elif gap not in (0, None):
            checks.append(f"training clear of the validation block by {_describe_gap(gap)}")
    if partition:
        checks.append("validation sets partition the rows")
    if groups is not None:
        checks.append(f"groups of {groups!r} kept whole")
    if label_end is not None:
        checks.append(f"training labels ({label_end!r}) end before each validation span (purge)")

    report = AuditReport(
        type(splitter).__name__, k, checks, time_col=time_col, gap=gap, rows=sum(c[-1] for c in counts)
    )
    violations = report.violations

    ordered = sorted(((t, c) for t, c in zip(times, counts) if t is not None), key=lambda tc: tc[0])
    nulls = [c for t, c in zip(times, counts) if t is None] if axis is not None else []
    scale = make_scale([t for t, _ in ordered]) if axis is not None and ordered else None
    m = _Measured(ordered, nulls, counts, scale, to_python, {t: i for i, (t, _) in enumerate(ordered)})
    report.left_out = [report.rows - m.total(3 * i) - m.total(3 * i + 1) + m.total(3 * i + 2) for i in range(k)]
    report.purged = label_end is not None
    for i in range(k):
        violations.extend(_non_empty(m, i) + _disjoint(m, i))
        if axis is None:
            continue
        violations.extend(_ties(m, i))
        if forward or gap not in (0, None):
            violations.extend(_null_times(m, i, time_col or ""))
        if forward:
            violations.extend(_forward(m, i, resolved_gap, gap))
        elif gap not in (0, None):
            violations.extend(_margin(m, i, resolved_gap, gap))
    if partition:
        violations.extend(_partition(m, 3 * k))
    if label_end is not None:
        for i in range(k):
            violations.extend(_purged(m, i, ends_at + 2 * i))
    if groups is not None:
        violations.extend(_split_groups(frame, conditions, groups))
    return report


# -- one function per invariant, each reading the one query's answer ------------------------------------
@dataclass
class _Measured:
    """The audit query's answer: per time value (sorted), fold by fold, training rows, validation rows
    and rows on both sides (columns ``3i``, ``3i + 1``, ``3i + 2``), then the optional aggregates."""

    ordered: list[tuple[Any, tuple]]
    nulls: list[tuple]
    counts: list[tuple]
    scale: Optional[Scale]
    to_python: Callable[[Any], Any]
    index_of: dict[Any, int]

    def show(self, t: Any) -> str:
        return str(self.to_python(t))

    def position(self, t: Any) -> Any:
        assert self.scale is not None
        return self.index_of[t] if isinstance(self.scale, CountScale) else t

    def total(self, column: int) -> int:
        return sum(c[column] for c in self.counts)

    def times(self, column: int) -> list[Any]:
        return [t for t, c in self.ordered if c[column]]


def _non_empty(m: _Measured, i: int) -> list[str]:
    train_rows, validation_rows = m.total(3 * i), m.total(3 * i + 1)
    if train_rows and validation_rows:
        return []
    side = "training" if train_rows == 0 else "validation"
    return [f"fold {i}: no {side} rows ({train_rows} training, {validation_rows} validation)"]


def _disjoint(m: _Measured, i: int) -> list[str]:
    both = m.total(3 * i + 2)
    if not both:
        return []
    where = m.times(3 * i + 2)
    at = f", for example at time {m.show(where[0])}" if where else ""
    return [f"fold {i}: {_rows(both)} in both training and validation{at}"]


def _ties(m: _Measured, i: int) -> list[str]:
    """No time value with rows on both sides (beyond rows that are on both at once)."""
    col = 3 * i
    tied = [(t, c) for t, c in m.ordered if c[col] and c[col + 1] and not (c[col] == c[col + 2] == c[col + 1])]
    if not tied:
        return []
    (t, first), more = tied[0], f" (and {len(tied) - 1} more tied times)" if len(tied) > 1 else ""
    return [f"fold {i}: time {m.show(t)} is split: {_rows(first[col])} in training and {first[col + 1]} in validation{more}"]


def _null_times(m: _Measured, i: int, time_col: str) -> list[str]:
    used = [(c[3 * i], c[3 * i + 1]) for c in m.nulls if c[3 * i] or c[3 * i + 1]]
    if not used:
        return []
    train, validation = used[0]
    return [f"fold {i}: {train} training and {validation} validation rows have a null {time_col}; their order in time cannot be checked"]


def _forward(m: _Measured, i: int, resolved: Any, gap: Gap) -> list[str]:
    """The latest training time clears the gap before the earliest validation time."""
    train_times, validation_times = m.times(3 * i), m.times(3 * i + 1)
    if not train_times or not validation_times or m.scale is None:
        return []
    last_train, first_validation = train_times[-1], validation_times[0]
    if clears_gap(m.scale, m.position(last_train), m.position(first_validation), resolved):
        return []
    return [
        f"fold {i}: training time {m.show(last_train)} is not clear of validation time "
        f"{m.show(first_validation)} by {_describe_gap(gap)}"
    ]


def _margin(m: _Measured, i: int, resolved: Any, gap: Gap) -> list[str]:
    """No training time within gap of the validation block, on either side."""
    train_times, validation_times = m.times(3 * i), m.times(3 * i + 1)
    if not train_times or not validation_times or m.scale is None:
        return []
    first, last = validation_times[0], validation_times[-1]
    scale, position = m.scale, m.position
    bad = [
        t
        for t in train_times
        if not (
            (t < first and clears_gap(scale, position(t), position(first), resolved))
            or (t > last and clears_gap(scale, position(last), position(t), resolved))
        )
    ]
    if not bad:
        return []
    more = f" (and {len(bad) - 1} more training times)" if len(bad) > 1 else ""
    return [
        f"fold {i}: training time {m.show(bad[0])} is within {_describe_gap(gap)} of the "
        f"validation block {m.show(first)}..{m.show(last)}{more}"
    ]


def _partition(m: _Measured, base: int) -> list[str]:
    """Every row in exactly one fold's validation set."""
    found = []
    for offset, what in ((0, "in no fold's validation set"), (1, "in the validation sets of several folds")):
        number = m.total(base + offset)
        if number:
            where = m.times(base + offset)
            at = f", for example at time {m.show(where[0])}" if where else ""
            found.append(f"partition: {_rows(number)} {what}{at}")
    return found


def _purged(m: _Measured, i: int, col: int) -> list[str]:
    """No training row's [time, labelEnd] overlaps a validation span: each run of consecutive
    validation times, from its first time to its latest label end (columns ``col``: the latest
    training label end at each time, ``col + 1``: the latest validation one)."""
    spans: list[list[Any]] = []
    previous = False
    for t, c in m.ordered:
        validated = bool(c[3 * i + 1])
        if validated and not previous:
            spans.append([t, t])
        if validated and c[col + 1] is not None:
            spans[-1][1] = max(spans[-1][1], c[col + 1])
        previous = validated
    bad = [
        (t, c[col], first, last)
        for t, c in m.ordered
        if c[3 * i] and c[col] is not None
        for first, last in spans
        if t <= last and c[col] >= first
    ]
    if not bad:
        return []
    t, latest, first, last = bad[0]
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    return [
        f"fold {i}: training rows at time {m.show(t)} have labels ending at {m.show(latest)}, inside the "
        f"validation span {m.show(first)}..{m.show(last)}{more}"
    ]


def _split_groups(frame: DataFrame, conditions: list[tuple[Column, Column]], group_col: str) -> list[str]:
    """Per fold, the groups with rows on both sides: one aggregate query over the groups."""
    group = F.col(quote(group_col))
    sides = []
    for i, (train, validation) in enumerate(conditions):
        sides += [
            F.max(F.coalesce(train, F.lit(False)).cast("int")).alias(f"t{i}"),
            F.max(F.coalesce(validation, F.lit(False)).cast("int")).alias(f"v{i}"),
        ]
    per_group = frame.groupBy(group.alias("group")).agg(*sides)
    found = []
    for i in range(len(conditions)):
        both = (F.col(f"t{i}") == 1) & (F.col(f"v{i}") == 1)
        found += [F.count_if(both), F.min(F.when(both, F.col("group")))]
    counts = per_group.agg(*found).first()
    violations = []
    for i in range(len(conditions)):
        number, example = counts[2 * i], counts[2 * i + 1]
        if number:
            more = f" (and {number - 1} more)" if number > 1 else ""
            violations.append(f"fold {i}: group {example!r} of {group_col!r} has rows in training and validation{more}")
    return violations


def assert_no_leakage(
    splitter: FoldSplitter,
    dataset: DataFrame,
    *,
    time_col: Optional[str] = None,
    forward: Optional[bool] = None,
    gap: Optional[Gap] = None,
    partition: Optional[bool] = None,
    groups: Optional[str] = None,
    label_end: Optional[str] = None,
) -> None:
    """Raise ``AssertionError`` naming the first violation :func:`audit_splitter` finds (and the
    whole report), or return ``None`` when the folds keep every invariant."""
    report = audit_splitter(
        splitter, dataset, time_col=time_col, forward=forward, gap=gap, partition=partition, groups=groups,
        label_end=label_end,
    )
    if not report.ok:
        raise AssertionError(f"{report.violations[0]}\n{report}")


def check_splitter(splitter: FoldSplitter, dataset: DataFrame, *, save_path: Optional[str] = None) -> list[str]:
    """Run the contract every built-in splitter passes on ``splitter`` and ``dataset``; raise
    ``AssertionError`` naming the first broken promise, or return the checks that passed.

    * ``split`` makes non-empty folds with no row on both sides, whose DataFrames have exactly the
      dataset's columns (no helper column leaks out);
    * ``describe`` counts every fold exactly as the split DataFrames count (one union query);
    * the same splitter on the same data makes the same folds again;
    * ``countFolds(dataset)`` is the number of folds ``split`` makes, and ``getNumFolds()`` too when
      the splitter's Params fix it;
    * the leakage auditor finds nothing (:func:`assert_no_leakage`, with what the splitter declares);
    * a save and load (to ``save_path``, default a temporary directory on the driver, removed
      afterwards) keeps its Params.
    """
    import tempfile
    from functools import reduce

    name = type(splitter).__name__
    folds = splitter.split(dataset)
    checks = []
    for index, (train, validation) in enumerate(folds):
        for side, frame in (("training", train), ("validation", validation)):
            if frame.columns != dataset.columns:
                raise AssertionError(f"{name}: fold {index}'s {side} has columns {frame.columns}, not the dataset's {dataset.columns}")
    checks.append("folds keep the dataset's columns")

    def measured() -> dict[tuple[int, str], int]:
        parts = [
            frame.select(F.lit(i).alias("fold"), F.lit(side).alias("side"))
            for i, (train, validation) in enumerate(splitter.split(dataset))
            for side, frame in (("train", train), ("validation", validation))
        ]
        rows = reduce(DataFrame.unionAll, parts).groupBy("fold", "side").count().collect()
        return {(r["fold"], r["side"]): r["count"] for r in rows}

    counted = measured()
    infos = splitter.describe(dataset)
    if len(infos) != len(folds):
        raise AssertionError(f"{name}: describe reports {len(infos)} folds, split makes {len(folds)}")
    for info in infos:
        pair = (counted.get((info.fold, "train"), 0), counted.get((info.fold, "validation"), 0))
        if pair != (info.train_rows, info.validation_rows):
            raise AssertionError(
                f"{name}: fold {info.fold} has {pair[0]} training and {pair[1]} validation rows, but describe "
                f"says {info.train_rows} and {info.validation_rows}"
            )
    checks.append("describe counts the folds exactly")
    if measured() != counted:
        raise AssertionError(f"{name}: splitting the same data again made other folds")
    checks.append("the same folds again")
    number = splitter.countFolds(dataset)
    if number != len(folds):
        raise AssertionError(f"{name}: countFolds(dataset) is {number}, split makes {len(folds)} folds")
    try:
        promised: Optional[int] = splitter.getNumFolds()
    except ValueError:
        promised = None
    if promised is not None and promised != len(folds):
        raise AssertionError(f"{name}: getNumFolds() is {promised}, split makes {len(folds)} folds")
    checks.append("countFolds and getNumFolds agree with split")
    assert_no_leakage(splitter, dataset)
    checks.append("no leakage found by the auditor")
    if save_path is None:
        # A directory of our own, removed afterwards: one left per call would pile up in every test run.
        with tempfile.TemporaryDirectory(prefix="splitcv-check-") as directory:
            splitter.write().save(directory + "/splitter")
            loaded = type(splitter).load(directory + "/splitter")
    else:
        splitter.write().overwrite().save(save_path)
        loaded = type(splitter).load(save_path)
    ours = {p.name: v for p, v in splitter.extractParamMap().items()}
    theirs = {p.name: v for p, v in loaded.extractParamMap().items()}
    if ours != theirs:
        raise AssertionError(f"{name}: saved with Params {ours}, loaded with {theirs}")
    checks.append("save and load keep the Params")
    return checks
