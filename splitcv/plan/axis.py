"""Time axes ("scales") and the one rule that keeps training clear of validation.

A scale says where the distinct time points of a dataset sit and how far a size moves a position:

* :class:`CountScale`: sizes count time points, so positions are simply axis indexes.
* :class:`CalendarScale`: sizes are calendar durations, positions are the time points themselves
  (days or microseconds since the epoch), moved by a :class:`~splitcv.durations.Calendar`.

Planners work with positions and ask the scale for axis indexes, so one planner serves both.
"""

from __future__ import annotations

import calendar as _calendar
from bisect import bisect_left
from typing import Any, Protocol, Sequence, Union

from splitcv.durations import ZERO, Calendar, Duration

__all__ = [
    "Scale",
    "CountScale",
    "CalendarScale",
    "clears_gap",
    "count_clear_before",
    "first_clear_after",
    "sampling_interval",
    "sampling_step",
]

class Scale(Protocol):
    n: int
    #: the position of the first time point
    origin: int
    #: the position just past the data: where a window that ends with the data ends
    end: int

    def position(self, index: int) -> int: ...

    def shift(self, position: int, size: Union[int, Duration], times: int = 1) -> int: ...

    def first_at_or_after(self, position: int) -> int: ...

    def describe_size(self, size: Union[int, Duration]) -> str: ...

    def can_lower(self, size: Union[int, Duration], minimum: int) -> bool:
        """Whether a smaller ``size`` than this one (and at least ``minimum``) can be written."""
        ...

class CountScale:
    """``n`` distinct time points; a size of ``k`` means ``k`` time points."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.origin = 0
        self.end = n

    def position(self, index: int) -> int:
        return index

    def shift(self, position: int, size: Union[int, Duration], times: int = 1) -> int:
        return position + int(size) * times

    def first_at_or_after(self, position: int) -> int:
        return min(max(position, 0), self.n)

    def describe_size(self, size: Union[int, Duration]) -> str:
        return str(size)

    def can_lower(self, size: Union[int, Duration], minimum: int) -> bool:
        return int(size) > minimum

    def __repr__(self) -> str:
        return f"CountScale({self.n})"

class CalendarScale:
    """Sorted distinct time points moved by calendar durations.

    ``end`` is the last time point moved on by the data's own step (see :func:`sampling_step`):
    each time point stands for one step of the data, so weekly data that ends on Dec 25 covers the
    week up to Jan 1, monthly data that ends on Dec 1 covers December (the data ends on Jan 1, one
    calendar month on), and yearly data dated Jan 1 covers its whole year.
    """

    def __init__(self, points: Sequence[int], calendar: Calendar) -> None:
        if not points:
            raise ValueError("a calendar axis needs at least one time point")
        self.points = list(points)
        self.n = len(self.points)
        self.calendar = calendar
        self.origin = self.points[0]
        self.step, self.end = _step_and_end(self.points, calendar)

    def position(self, index: int) -> int:
        return self.points[index] if index < self.n else self.end

    def shift(self, position: int, size: Union[int, Duration], times: int = 1) -> int:
        duration = ZERO if isinstance(size, int) and size == 0 else size
        if not isinstance(duration, Duration):
            raise TypeError(f"a calendar axis moves by durations, not by the count {size!r}")
        return self.calendar.add(position, duration, times)

    def first_at_or_after(self, position: int) -> int:
        return bisect_left(self.points, position)

    def describe_size(self, size: Union[int, Duration]) -> str:
        return repr(str(size))

    def can_lower(self, size: Union[int, Duration], minimum: int) -> bool:
        """A duration can be lowered while it is longer than the shortest one a user can write for
        this axis: one day on DATE points, one second on timestamps."""
        if not isinstance(size, Duration) or size.is_zero:
            return False
        finest = Duration(micros=1_000_000) if _has_clock(self.calendar) else Duration(days=1)
        return self.calendar.add(self.origin, size) > self.calendar.add(self.origin, finest)

    def __repr__(self) -> str:
        return f"CalendarScale({self.n} points, {self.calendar!r})"

#: Distances within this factor of the shortest count as the data's regular step: calendar months
#: (28 to 31 days), quarters and years vary by less, a skipped period (twice the step) by more.
REGULAR_STEP_TOLERANCE = 1.15


def sampling_interval(points: Sequence[int], resolution: int = 1) -> int:
    """The data's regular step: the longest distance between consecutive time points that is
    within 15% of the shortest one. Monthly data gets 31 days, not February's 28; a missing week in
    weekly data does not stretch the step to two weeks.

    >>> sampling_interval([0, 31, 59, 90])  # Jan 1, Feb 1, Mar 1, Apr 1 (days)
    31
    >>> sampling_interval([0, 7, 21, 28])  # weekly, one week missing
    7
    """
    distances = [b - a for a, b in zip(points, points[1:])]
    if not distances:
        return resolution
    shortest = min(distances)
    return max(d for d in distances if d <= shortest * REGULAR_STEP_TOLERANCE)


def sampling_step(points: Sequence[int], calendar: Calendar) -> Duration:
    """The data's regular step as a calendar duration: what one time point stands for.

    Measured in the largest calendar unit the data keeps to, so that the end of the data, and
    windows laid back from it, fall where a person would put them:

    * **months**, when every point sits at the same time of day on the same day of its month (the
      1st, the 15th, or each month's last day: the day is ``min(anchor, days in the month)``). The
      step is the smallest number of months between neighbours: 1 for monthly, 3 for quarterly,
      12 for yearly data, holes or not. Measured in days instead, a month-start series ending on
      Nov 1 would end 31 days later, on Dec 2, and a "3 months" window laid back from there
      would start on Sep 2 and hold two months.
    * **days**, when every point sits at the same time of day (always, for DATE columns): the
      regular distance in days (:func:`sampling_interval`), so weekly data steps 7 days and daily
      timestamps step one wall-clock day across daylight-saving changes.
    * **exact time** otherwise (hourly or irregular readings): the regular distance in
      microseconds.

    >>> from splitcv.durations import DateCalendar
    >>> import datetime as dt
    >>> days = lambda *dates: [(dt.date(*d) - dt.date(1970, 1, 1)).days for d in dates]
    >>> str(sampling_step(days((2001, 5, 31), (2001, 8, 31), (2001, 11, 30)), DateCalendar()))
    '3 months'
    >>> str(sampling_step(days((2024, 1, 1), (2024, 1, 8), (2024, 1, 22)), DateCalendar()))
    '7 days'
    """
    return _step_and_end(points, calendar)[0]


def _step_and_end(points: Sequence[int], calendar: Calendar) -> tuple[Duration, int]:
    """The sampling step, and the end of the data: the last point moved on by one step.

    A month step keeps the series' day of the month, so a month-end series that ends on Nov 30
    ends on Dec 31, not on Nov 30 + 1 month = Dec 30.
    """
    step, anchor = _measure_step(points, calendar)
    end = calendar.add(points[-1], step)
    if anchor is not None:
        moved = calendar.to_python(end)
        wanted = min(anchor, _calendar.monthrange(moved.year, moved.month)[1])
        end = calendar.add(end, Duration(days=wanted - moved.day))
    return step, end


def _measure_step(points: Sequence[int], calendar: Calendar) -> tuple[Duration, Union[int, None]]:
    """The step, and the day of the month a monthly series keeps (``None`` if it is not monthly)."""
    if len(points) < 2:  # nothing to measure: the finest step the column holds
        if _has_clock(calendar):
            return Duration(micros=calendar.resolution, text=f"{calendar.resolution} us"), None
        return Duration(days=calendar.resolution, text=_plural(calendar.resolution, "day")), None
    shortest = min(b - a for a, b in zip(points, points[1:]))
    # Only axes whose neighbours are a day or more apart (23 h across a clock change) can keep to
    # days or months; the check converts every point, so hourly data and finer skip it. DATE
    # points are whole days, so they always take it.
    if not _has_clock(calendar) or shortest >= _DAY_MICROS - _HOUR_MICROS:
        fields = [_civil_fields(calendar.to_python(p)) for p in points]
        if len({f[3] for f in fields}) == 1:
            months = _month_step(fields)
            if months is not None:
                return Duration(months=months, text=_plural(months, "month")), max(f[2] for f in fields)
            days = sampling_interval([f[4] for f in fields])
            return Duration(days=days, text=_plural(days, "day")), None
    micros = sampling_interval(points, calendar.resolution)
    return Duration(micros=micros, text=f"{micros} us"), None


_HOUR_MICROS = 3_600_000_000
_DAY_MICROS = 24 * _HOUR_MICROS


def _has_clock(calendar: Calendar) -> bool:
    """Whether points carry a time of day (TIMESTAMP kinds), rather than being whole days."""
    return hasattr(calendar.to_python(0), "hour")


def _civil_fields(value: Any) -> tuple[int, int, int, tuple[int, ...], int]:
    """(year, month, day, time of day, day number) of a date or a wall-clock datetime."""
    time_of_day = (value.hour, value.minute, value.second, value.microsecond) if hasattr(value, "hour") else ()
    day = value.date() if hasattr(value, "hour") else value
    return value.year, value.month, value.day, time_of_day, day.toordinal()


def _month_step(fields: Sequence[tuple[int, int, int, tuple[int, ...], int]]) -> Union[int, None]:
    """The smallest month distance when every point keeps one day of the month, else ``None``.

    The anchor is the largest day seen; a month too short for it holds the point on its last day
    (a month-end series has anchor 31 and keeps Feb 28 and Apr 30).
    """
    anchor = max(f[2] for f in fields)
    if any(day != min(anchor, _calendar.monthrange(year, month)[1]) for year, month, day, _, _ in fields):
        return None
    index = [year * 12 + month for year, month, _, _, _ in fields]
    return min(b - a for a, b in zip(index, index[1:]))


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def clears_gap(scale: Scale, earlier: int, later: int, gap: Union[int, Duration]) -> bool:
    """The leakage rule, in one place: ``earlier`` moved on by ``gap`` is still before ``later``.

    Every planner builds training sets with it and the auditor checks real folds with it. With a
    count, ``gap`` time points lie strictly between the two (scikit-learn's ``gap``); with a
    duration, ``earlier + gap < later`` in calendar arithmetic.
    """
    return scale.shift(earlier, gap) < later

def count_clear_before(scale: Scale, cut: int, gap: Union[int, Duration]) -> int:
    """How many leading time points clear ``gap`` before the position ``cut``.

    The rule is monotone along the axis (true, then false), so a binary search finds its edge.
    """
    return bisect_left(range(scale.n), True, key=lambda i: not clears_gap(scale, scale.position(i), cut, gap))

def first_clear_after(scale: Scale, last: int, gap: Union[int, Duration]) -> int:
    """The first time point that ``last`` clears by ``gap`` (the mirror of :func:`count_clear_before`)."""
    return bisect_left(range(scale.n), True, key=lambda i: clears_gap(scale, last, scale.position(i), gap))
