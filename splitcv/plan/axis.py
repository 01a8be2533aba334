"""Time axes ("scales") and the one rule that keeps training clear of validation.

A scale says where the distinct time points of a dataset sit and how far a size moves a position:

* :class:`CountScale`: sizes count time points, so positions are simply axis indexes.
* :class:`CalendarScale`: sizes are calendar durations, positions are the time points themselves
  (days or microseconds since the epoch), moved by a :class:`~splitcv.durations.Calendar`.

Planners work with positions and ask the scale for axis indexes, so one planner serves both.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Protocol, Sequence, Union

from splitcv.durations import ZERO, Calendar, Duration

__all__ = ["Scale", "CountScale", "CalendarScale", "clears_gap", "count_clear_before", "first_clear_after", "sampling_interval"]

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

    def __repr__(self) -> str:
        return f"CountScale({self.n})"

class CalendarScale:
    """Sorted distinct time points moved by calendar durations.

    ``end`` is the last time point plus the sampling interval (see :func:`sampling_interval`):
    weekly data that ends on Dec 25 covers the week up to Jan 1, monthly data that ends on Dec 1
    covers December.
    """

    def __init__(self, points: Sequence[int], calendar: Calendar) -> None:
        if not points:
            raise ValueError("a calendar axis needs at least one time point")
        self.points = list(points)
        self.n = len(self.points)
        self.calendar = calendar
        self.origin = self.points[0]
        self.end = self.points[-1] + sampling_interval(self.points, calendar.resolution)

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
