"""What the time-based splitters share: the time column's kind, size units, summary and rendering."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Optional, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from splitcv.durations import ZERO, Calendar, DateCalendar, TimestampCalendar, WallClockCalendar, parse_duration
from splitcv.plan import CalendarScale, CountScale, Fold, Scale
from splitcv.plan.purge import embargo_training, validation_spans
from splitcv.splitters.base import FoldSet, FoldSplitter, check_not_empty, quote
from splitcv.splitters.params import HasPurge, HasTimeCol
from splitcv.splitters.render import (
    ClassCounts,
    EndCounts,
    plan_infos,
    purged_infos,
    render_folds,
    render_ranges,
    summarize,
)

__all__ = ["TimeKind", "time_kind", "resolve_sizes", "TimeAxisSplitter"]

_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)


@dataclass(frozen=True)
class TimeKind:
    """How a time column becomes integer time points and back."""

    name: str
    column: str
    as_points: Callable[[Column], Column]
    literal: Callable[[int], Column]
    calendar: Optional[Calendar] = field(default=None)

    def to_python(self, point: int) -> Any:
        return point if self.calendar is None else self.calendar.to_python(point)


def time_kind(dataset: DataFrame, column: str, param: str = "timeCol") -> TimeKind:
    """Classify ``column`` from the schema alone (no Spark job)."""
    fields = {f.name: f for f in dataset.schema.fields}
    if column not in fields:
        raise ValueError(
            f"{param}={column!r} is not a column of the dataset; its columns are {sorted(fields)}"
        )
    data_type = fields[column].dataType
    if isinstance(data_type, _INTEGRAL):
        return TimeKind("integer", column, lambda c: c.cast("long"), lambda p: F.lit(p))
    if isinstance(data_type, T.DateType):
        calendar = DateCalendar()
        return TimeKind("date", column, F.unix_date, lambda p: F.lit(calendar.to_python(p)), calendar)
    if isinstance(data_type, T.TimestampType):
        zone = dataset.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
        return TimeKind(
            "timestamp", column, F.unix_micros, lambda p: F.timestamp_micros(F.lit(p)), TimestampCalendar(zone)
        )
    if isinstance(data_type, T.TimestampNTZType):
        wall = WallClockCalendar()
        return TimeKind("timestamp_ntz", column, _wall_clock_micros, lambda p: _wall_clock_literal(wall, p), wall)
    raise TypeError(
        f"{param}={column!r} has type {data_type.simpleString()}, which is not a time/order column; "
        f"use an integer, DATE, TIMESTAMP or TIMESTAMP_NTZ column{_cast_advice(column, data_type)}"
    )


def _cast_advice(column: str, data_type: T.DataType) -> str:
    """The cast that makes a column a time column, for the types data usually arrives in: years as
    doubles (statsmodels, pandas), dates and times as strings (CSV files)."""
    c = f"F.col({column!r})"
    if isinstance(data_type, (T.FloatType, T.DoubleType, T.DecimalType)):
        return (
            f". Whole numbers such as years can be cast: df.withColumn({column!r}, {c}.cast('int')), or made "
            f"dates: df.withColumn({column!r}, F.make_date({c}.cast('int'), F.lit(1), F.lit(1)))"
        )
    if isinstance(data_type, (T.StringType, T.VarcharType, T.CharType)):
        return (
            f". Parse the strings: df.withColumn({column!r}, F.to_date({c}, 'yyyy-MM-dd')) for dates, or "
            f"F.to_timestamp({c}, 'yyyy-MM-dd HH:mm:ss') for times (with the pattern your data is written in)"
        )
    return ""


_MICROS_PER_DAY = 86_400_000_000


def _wall_clock_micros(column: Column) -> Column:
    """A TIMESTAMP_NTZ as microseconds since 1970-01-01 00:00 of its own wall clock.

    Built from the wall-clock fields, which no time zone touches: Spark's ``unix_micros`` and
    ``timestamp_diff`` go through the session time zone, which moves a wall-clock time that a
    daylight-saving change skips (02:30 on a spring-forward day would read as 03:30).
    """
    return (
        F.unix_date(column.cast("date")).cast("long") * _MICROS_PER_DAY
        + F.hour(column).cast("long") * 3_600_000_000
        + F.minute(column).cast("long") * 60_000_000
        + (F.date_part(F.lit("SECOND"), column) * 1_000_000).cast("long")
    )


def _wall_clock_literal(calendar: WallClockCalendar, point: int) -> Column:
    # A string cast to TIMESTAMP_NTZ is read as a wall-clock time, with no time zone.
    return F.lit(calendar.to_python(point).isoformat(sep=" ")).cast("timestamp_ntz")


def resolve_sizes(kind: TimeKind, sizes: dict[str, Union[int, str, None]]) -> tuple[dict[str, Any], bool]:
    """Turn the size Params into ints (counts of time points) or Durations, all of one kind.

    Returns the resolved sizes and whether they are calendar durations. A zero gap fits either.
    """
    given = {k: v for k, v in sizes.items() if v is not None}
    durations = {k: v for k, v in given.items() if isinstance(v, str)}
    counts = {k: v for k, v in given.items() if not isinstance(v, str) and v != 0}
    if durations and kind.calendar is None:
        name, value = next(iter(durations.items()))
        raise ValueError(
            f"{name}={value!r} is a calendar duration, but timeCol={kind.column!r} holds integers; give "
            f"a whole number of time points instead, or split on a DATE, TIMESTAMP or TIMESTAMP_NTZ column"
        )
    if durations and counts:
        (dname, dvalue), (cname, cvalue) = next(iter(durations.items())), next(iter(counts.items()))
        raise ValueError(
            f"{cname}={cvalue!r} counts time points but {dname}={dvalue!r} is a calendar duration; "
            "give every size the same way (all counts, or all durations such as '7 days')"
        )
    if not durations:
        return {k: v for k, v in sizes.items()}, False
    resolved: dict[str, Any] = {}
    for name, value in sizes.items():
        if value is None:
            resolved[name] = None
        elif isinstance(value, str):
            duration = parse_duration(value, name)
            if kind.name == "date" and duration.micros:
                raise ValueError(
                    f"{name}={value!r} is finer than a day, but timeCol={kind.column!r} is a DATE column; "
                    "use days, weeks, months or years"
                )
            resolved[name] = duration
        else:  # a zero gap
            resolved[name] = ZERO
    return resolved, True


class AxisPlan(NamedTuple):
    """A time splitter's plan of one dataset, from its one summary job."""

    kind: TimeKind
    points: list[int]
    counts: list[int]
    folds: list[Fold]
    per_class: Optional[list[ClassCounts]]
    by_end: Optional[list[EndCounts]]
    scale: Scale
    sizes: dict[str, Any]


class TimeAxisSplitter(FoldSplitter, HasTimeCol, HasPurge):
    """A splitter that plans on the distinct values of ``timeCol`` (one summary job), with optional
    purge (``labelEndCol``) and ``embargo`` around every validation block (:mod:`splitcv.plan.purge`)."""

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(embargo=0)

    @abstractmethod
    def _sizes(self) -> dict[str, Union[int, str, None]]:
        """The size Params by name: counts, duration strings or None."""

    @abstractmethod
    def _plan(self, scale: Scale, sizes: dict[str, Any]) -> list[Fold]:
        """Plan folds on ``scale`` with resolved ``sizes``."""

    def _all_sizes(self) -> dict[str, Union[int, str, None]]:
        return {**self._sizes(), "embargo": self.getEmbargo()}

    def _purges(self) -> bool:
        """Whether folds lose rows to purge or embargo (a zero embargo, written as a duration too, is none)."""
        embargo = self.getEmbargo()
        zero = embargo == 0 or (isinstance(embargo, str) and parse_duration(embargo, "embargo").is_zero)
        return self.getLabelEndCol() is not None or not zero

    def _check_params(self) -> None:
        if not self.isDefined(self.timeCol) or self.getOrDefault(self.timeCol) is None:
            raise ValueError(
                f"{type(self).__name__} needs timeCol, the name of the time/order column: "
                f"{type(self).__name__}(timeCol='date', ...)"
            )

    def _check_schema(self, dataset: DataFrame) -> None:
        kind = time_kind(dataset, self.getTimeCol())
        resolve_sizes(kind, self._all_sizes())
        label_end = self.getLabelEndCol()
        if label_end is not None:
            end_kind = time_kind(dataset, label_end, "labelEndCol")
            if end_kind.name != kind.name:
                raise TypeError(
                    f"labelEndCol={label_end!r} has type {dataset.schema[label_end].dataType.simpleString()} but "
                    f"timeCol={kind.column!r} has type {dataset.schema[kind.column].dataType.simpleString()}; "
                    "a label's end is a time on the same axis: give both columns the same type"
                )

    def plan(self, dataset: DataFrame) -> tuple[list[Any], list[int], list[Fold]]:
        """The plan behind the folds: the distinct time values (as Python values), their row counts,
        and each fold's index ranges into them (before purge and embargo). One Spark job."""
        self.check(dataset)
        plan = self._plan_dataset(dataset)
        return [plan.kind.to_python(p) for p in plan.points], plan.counts, plan.folds

    def _plan_dataset(self, dataset: DataFrame, classes: Optional[str] = None) -> AxisPlan:
        kind = time_kind(dataset, self.getTimeCol())
        sizes, calendar = resolve_sizes(kind, self._all_sizes())
        label_end = self.getLabelEndCol()
        ends = kind.as_points(F.col(quote(label_end))) if label_end is not None else None
        points, counts, per_class, by_end = summarize(
            dataset, kind.as_points(F.col(kind.column)), "timeCol", kind.column, classes, ends
        )
        check_not_empty(sum(counts), type(self).__name__)
        if by_end is not None:
            _check_label_ends(points, by_end, kind, label_end or "")
        scale: Scale = CalendarScale(points, kind.calendar) if calendar else CountScale(len(points))
        return AxisPlan(kind, points, counts, self._plan(scale, sizes), per_class, by_end, scale, sizes)

    def _fold_set(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        plan = self._plan_dataset(dataset, classes)
        kind, points = plan.kind, plan.points
        time = F.col(kind.column)
        if not self._purges():
            conditions = render_folds(time, points, plan.folds, kind.literal)
            return FoldSet(conditions, plan_infos(plan.folds, points, plan.counts, kind.to_python, plan.per_class))
        by_end = plan.by_end
        if by_end is None:  # embargo alone: every row's label ends at its own time
            by_end = [
                {(None, label): rows for label, rows in (plan.per_class[i] if plan.per_class else {None: c}).items()}
                for i, c in enumerate(plan.counts)
            ]
        latest = [max((end for end, _ in ends if end is not None), default=p) for p, ends in zip(points, by_end)]
        label_end = self.getLabelEndCol()
        end_points = kind.as_points(F.col(quote(label_end))) if label_end is not None else None
        prefix = [0]
        for c in plan.counts:
            prefix.append(prefix[-1] + c)
        folds, spans, embargoed, conditions = [], [], [], []
        for fold in plan.folds:
            fold_spans = validation_spans(points, latest, fold.segments)
            train, _ = embargo_training(plan.scale, points, fold.train, [end for _, end in fold_spans], plan.sizes["embargo"])
            before = sum(prefix[b] - prefix[a] for a, b in fold.train)
            embargoed.append(before - sum(prefix[b] - prefix[a] for a, b in train))
            if end_points is None:
                fold_spans = []  # no label ends: nothing to purge
            folds.append(Fold(train, fold.validation, fold.more_validation))
            spans.append(fold_spans)
            training = render_ranges(time, points, train, kind.literal) if train else F.lit(False)
            for start, end in fold_spans:  # the purge rule, as a filter (splitcv.plan.purge.is_purged)
                training = training & ~((kind.as_points(time) <= F.lit(end)) & (end_points >= F.lit(start)))
            conditions.append((training, render_ranges(time, points, fold.segments, kind.literal)))
        infos = purged_infos(folds, spans, embargoed, points, by_end, kind.to_python, plan.per_class is not None)
        return FoldSet(conditions, infos)

    def _fold_conditions(self, dataset: DataFrame):  # type: ignore[override]
        return self._fold_set(dataset).conditions


def _check_label_ends(points: list[int], by_end: list[EndCounts], kind: TimeKind, column: str) -> None:
    """Every row has a label end, and none ends before its row's time: both are errors naming the column."""
    nulls = sum(rows for ends in by_end for (end, _), rows in ends.items() if end is None)
    if nulls:
        raise ValueError(
            f"labelEndCol={column!r} has {nulls} null values; every row needs the last time its label depends "
            f"on (its own time when the label is known at once). Fill them, e.g. "
            f"F.coalesce(F.col({column!r}), F.col({kind.column!r}))"
        )
    early = [(p, end, rows) for p, ends in zip(points, by_end) for (end, _), rows in ends.items() if end < p]
    if early:
        p, end, _ = early[0]
        raise ValueError(
            f"labelEndCol={column!r} is before timeCol={kind.column!r} in {sum(r for _, _, r in early)} rows, e.g. "
            f"labelEnd {kind.to_python(end)} for time {kind.to_python(p)}; a label cannot end before its row's time"
        )
