"""Calendar durations ("7 days", "1 month") and the arithmetic that moves a time point by one.

Time points reach the planner as integers: days since 1970-01-01 for DATE columns and microseconds
since the epoch for TIMESTAMP columns (since 1970-01-01 00:00 of their own wall clock for
TIMESTAMP_NTZ columns). A calendar converts such an integer to a civil date or time,
adds a duration the way a person reads it ("1 month" after Jan 31 is the last day of February), and
converts back. Nothing here imports pyspark.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
import re
from dataclasses import dataclass
from typing import Protocol, Union
from zoneinfo import ZoneInfo

__all__ = [
    "Duration",
    "parse_duration",
    "Calendar",
    "DateCalendar",
    "TimestampCalendar",
    "WallClockCalendar",
    "Size",
    "ZERO",
]

_UNITS = {
    "second": ("micros", 1_000_000),
    "minute": ("micros", 60_000_000),
    "hour": ("micros", 3_600_000_000),
    "day": ("days", 1),
    "week": ("days", 7),
    "month": ("months", 1),
    "quarter": ("months", 3),
    "year": ("months", 12),
}

_PATTERN = re.compile(r"^\s*(\d+)\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True, order=False)
class Duration:
    """A calendar duration: whole months, then whole days, then exact microseconds.

    Months and days are civil (wall-clock) quantities; microseconds are elapsed time. The text a
    user wrote is kept for messages and persistence.
    """

    months: int = 0
    days: int = 0
    micros: int = 0
    text: str = ""

    def __add__(self, other: "Duration") -> "Duration":
        text = f"{self.text} + {other.text}" if self.text and other.text else self.text or other.text
        return Duration(self.months + other.months, self.days + other.days, self.micros + other.micros, text)

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.days == 0 and self.micros == 0

    def __str__(self) -> str:
        return self.text or f"{self.months} months {self.days} days {self.micros} us"


ZERO = Duration(text="0")

# A window size is either a count of distinct time points (int) or a calendar Duration.
Size = Union[int, Duration]


def parse_duration(text: str, param: str = "duration") -> Duration:
    """Parse "7 days", "2 weeks", "1 month", "3 quarters", "1 year", "12 hours", "30 minutes".

    >>> parse_duration("2 weeks")
    Duration(months=0, days=14, micros=0, text='2 weeks')
    >>> parse_duration("1 fortnight", "horizon")
    Traceback (most recent call last):
    ...
    ValueError: horizon='1 fortnight' is not a duration splitcv understands; write a positive whole number and one of: second, minute, hour, day, week, month, quarter, year (for example '7 days' or '1 month')
    """
    match = _PATTERN.match(text.lower()) if isinstance(text, str) else None
    unit = match.group(2) if match else None
    if match is None or unit not in _UNITS:
        subject = f"{param}={text!r}" if param else repr(text)
        raise ValueError(
            f"{subject} is not a duration splitcv understands; write a positive whole number "
            f"and one of: {', '.join(_UNITS)} (for example '7 days' or '1 month')"
        )
    amount = int(match.group(1))
    field, factor = _UNITS[unit]
    return Duration(**{field: amount * factor}, text=text.strip())


class Calendar(Protocol):
    """Moves an integer time point by a multiple of a Duration."""

    #: the smallest step between two time points the column type can hold
    resolution: int

    def add(self, point: int, duration: Duration, times: int = 1) -> int: ...

    def to_python(self, point: int) -> object: ...


def _add_months(year: int, month: int, day: int, months: int) -> tuple[int, int, int]:
    """Civil month arithmetic; a day that the target month lacks becomes its last day."""
    index = year * 12 + (month - 1) + months
    new_year, new_month = divmod(index, 12)
    new_month += 1
    last_day = _calendar.monthrange(new_year, new_month)[1]
    return new_year, new_month, min(day, last_day)


_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_ONE_MICRO = _dt.timedelta(microseconds=1)


class DateCalendar:
    """Time points are days since 1970-01-01 (Spark's ``unix_date``)."""

    resolution = 1

    def add(self, point: int, duration: Duration, times: int = 1) -> int:
        day = _EPOCH_DATE + _dt.timedelta(days=point)
        if duration.months:
            day = _dt.date(*_add_months(day.year, day.month, day.day, duration.months * times))
        return (day - _EPOCH_DATE).days + duration.days * times

    def to_python(self, point: int) -> _dt.date:
        return _EPOCH_DATE + _dt.timedelta(days=point)

    def __repr__(self) -> str:
        return "DateCalendar()"


class TimestampCalendar:
    """Time points are microseconds since the epoch (Spark's ``unix_micros``).

    Months and days move the wall clock of ``time_zone`` (Spark's session time zone), so that
    "1 day" after local midnight is the next local midnight across a daylight-saving change;
    hours, minutes and seconds are elapsed time.
    """

    resolution = 1

    def __init__(self, time_zone: str = "UTC") -> None:
        self.time_zone = time_zone
        self._tz = ZoneInfo(time_zone) if time_zone not in ("UTC", "Z") else _dt.timezone.utc

    def add(self, point: int, duration: Duration, times: int = 1) -> int:
        """Move ``point``; never takes a later point to an earlier result, across clock changes too.

        A wall-clock time that a change skips becomes the change itself (Mar 9 02:30 New York +
        1 day is 03:00 EDT, as are 02:00 and 02:59); a repeated one is read the first time it
        happens; a point in the second pass of a repeated hour moves as the end of that hour.
        """
        if duration.months or duration.days:
            local = self.to_python(point)
            if local.fold:  # the second pass of a repeated hour: its wall clock went back
                local = self.to_python(self._change(point - self._jump(local), point) + self._jump(local))
            if duration.months:
                y, m, d = _add_months(local.year, local.month, local.day, duration.months * times)
                local = local.replace(year=y, month=m, day=d)
            # Same-tzinfo arithmetic on aware datetimes is wall-clock arithmetic.
            local = local + _dt.timedelta(days=duration.days * times)
            point = (local - _EPOCH_UTC) // _ONE_MICRO
            jump = self._jump(local)
            if jump < 0:  # a skipped wall-clock time: fold=0 read it jump too late; the change is earlier
                point = self._change(point + jump, point)
        return point + duration.micros * times

    @staticmethod
    def _jump(local: _dt.datetime) -> int:
        """How far the clocks went back (> 0) or forward (< 0) at a change around ``local``'s wall time."""
        this, other = local.utcoffset(), local.replace(fold=1 - local.fold).utcoffset()
        return ((other - this) if local.fold else (this - other)) // _ONE_MICRO

    def _change(self, before: int, after: int) -> int:
        """The first instant in ``(before, after]`` whose UTC offset differs from ``before``'s."""
        offset = self.to_python(before).utcoffset()
        while after - before > 1:
            middle = (before + after) // 2
            if self.to_python(middle).utcoffset() == offset:
                before = middle
            else:
                after = middle
        return after

    def to_python(self, point: int) -> _dt.datetime:
        return (_EPOCH_UTC + _dt.timedelta(microseconds=point)).astimezone(self._tz)

    def __repr__(self) -> str:
        return f"TimestampCalendar({self.time_zone!r})"


_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)


class WallClockCalendar:
    """Time points are microseconds since 1970-01-01 00:00 on a clock with no time zone (Spark's
    TIMESTAMP_NTZ): every day has 24 hours, and no session time zone moves a point.
    """

    resolution = 1

    def __init__(self) -> None:
        # Without daylight-saving changes, wall-clock arithmetic is UTC arithmetic.
        self._utc = TimestampCalendar("UTC")

    def add(self, point: int, duration: Duration, times: int = 1) -> int:
        return self._utc.add(point, duration, times)

    def to_python(self, point: int) -> _dt.datetime:
        return _EPOCH_NAIVE + _dt.timedelta(microseconds=point)

    def __repr__(self) -> str:
        return "WallClockCalendar()"
