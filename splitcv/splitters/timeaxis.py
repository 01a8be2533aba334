"""What the time-based splitters share: the time column's kind, size units, summary and rendering."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from splitcv.durations import Calendar, DateCalendar, TimestampCalendar, WallClockCalendar
from splitcv.plan import Fold
from splitcv.plan import recipes
from splitcv.plan.recipes import AxisWords, TimeRecipe
from splitcv.plan.timeplan import (
    TimePlan,
    check_label_ends,
    label_end_type_error,
    plan_folds,
    plan_time_axis,
    purges,
)
from splitcv.splitters.base import FoldSet, FoldSplitter, quote
from splitcv.splitters.params import HasPurge, HasTimeCol
from splitcv.splitters.render import render_ranges, summarize

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
    """Turn the size Params into ints (counts of time points) or Durations, all of one kind
    (:func:`splitcv.plan.recipes.resolve_sizes`, with this column's words in its messages).

    Returns the resolved sizes and whether they are calendar durations. A zero gap fits either.
    """
    return recipes.resolve_sizes(sizes, kind.calendar, AxisWords(f"timeCol={kind.column!r}"), kind.name == "date")


class TimeAxisSplitter(FoldSplitter, HasTimeCol, HasPurge):
    """A splitter that plans on the distinct values of ``timeCol`` (one summary job), with optional
    purge (``labelEndCol``) and ``embargo`` around every validation block (:mod:`splitcv.plan.purge`).

    A subclass says what it plans with :meth:`_recipe` (:mod:`splitcv.plan.recipes`): the checks,
    the sizes and the planner, which the scikit-learn adapters (:mod:`splitcv.sklearn`) share."""

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(embargo=0)

    @abstractmethod
    def _recipe(self) -> TimeRecipe:
        """The recipe of this splitter's Params."""

    def _sizes(self) -> dict[str, Union[int, str, None]]:
        """The size Params by name (``embargo`` included): counts, duration strings or None."""
        return self._recipe().sizes()

    def _plan(self, scale: Any, sizes: dict[str, Any]) -> list[Fold]:
        """Plan folds on ``scale`` with resolved ``sizes``."""
        return self._recipe().plan(scale, sizes)

    def _purges(self) -> bool:
        """Whether folds lose rows to purge or embargo (a zero embargo, written as a duration too, is none)."""
        return purges(self.getLabelEndCol(), self.getEmbargo())

    def _check_params(self) -> None:
        if not self.isDefined(self.timeCol) or self.getOrDefault(self.timeCol) is None:
            raise ValueError(
                f"{type(self).__name__} needs timeCol, the name of the time/order column: "
                f"{type(self).__name__}(timeCol='date', ...)"
            )
        self._recipe().check()

    def _check_schema(self, dataset: DataFrame) -> None:
        kind = time_kind(dataset, self.getTimeCol())
        resolve_sizes(kind, self._sizes())
        label_end = self.getLabelEndCol()
        if label_end is not None:
            end_kind = time_kind(dataset, label_end, "labelEndCol")
            if end_kind.name != kind.name:
                raise label_end_type_error(
                    f"labelEndCol={label_end!r}",
                    dataset.schema[label_end].dataType.simpleString(),
                    f"timeCol={kind.column!r}",
                    dataset.schema[kind.column].dataType.simpleString(),
                )

    def plan(self, dataset: DataFrame) -> tuple[list[Any], list[int], list[Fold]]:
        """The plan behind the folds: the distinct time values (as Python values), their row counts,
        and each fold's index ranges into them (before purge and embargo). One Spark job."""
        self.check(dataset)
        kind, plan = self._plan_dataset(dataset)
        return [kind.to_python(p) for p in plan.points], plan.counts, plan.folds

    def _plan_dataset(self, dataset: DataFrame, classes: Optional[str] = None) -> tuple[TimeKind, TimePlan]:
        kind = time_kind(dataset, self.getTimeCol())
        resolve_sizes(kind, self._sizes())  # a size of the wrong kind is an error before the summary job
        label_end = self.getLabelEndCol()
        ends = kind.as_points(F.col(quote(label_end))) if label_end is not None else None
        points, counts, per_class, by_end = summarize(
            dataset, kind.as_points(F.col(kind.column)), "timeCol", kind.column, classes, ends
        )
        if by_end is not None and sum(counts):
            check_label_ends(
                points,
                by_end,
                kind.to_python,
                f"labelEndCol={label_end!r}",
                f"timeCol={kind.column!r}",
                f"F.coalesce(F.col({label_end!r}), F.col({kind.column!r}))",
            )
        words = AxisWords(f"timeCol={kind.column!r}")
        plan = plan_time_axis(
            self._recipe(), points, counts, kind.calendar, words,
            is_date=kind.name == "date", per_class=per_class, by_end=by_end,
        )
        return kind, plan

    def _fold_set(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        kind, plan = self._plan_dataset(dataset, classes)
        points = plan.points
        time = F.col(kind.column)
        label_end = self.getLabelEndCol()
        planned = plan_folds(plan, self._purges(), label_end is not None, kind.to_python)
        end_points = kind.as_points(F.col(quote(label_end))) if label_end is not None else None
        conditions = []
        for fold, fold_spans in zip(planned.folds, planned.spans):
            training = render_ranges(time, points, fold.train, kind.literal) if fold.train else F.lit(False)
            for start, end in fold_spans:  # the purge rule, as a filter (splitcv.plan.purge.is_purged)
                assert end_points is not None
                training = training & ~((kind.as_points(time) <= F.lit(end)) & (end_points >= F.lit(start)))
            conditions.append((training, render_ranges(time, points, fold.segments, kind.literal)))
        return FoldSet(conditions, planned.infos)

    def _fold_conditions(self, dataset: DataFrame):  # type: ignore[override]
        return self._fold_set(dataset).conditions
