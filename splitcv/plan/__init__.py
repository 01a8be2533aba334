"""Fold planning as plain data: a time axis and parameters in, index ranges out.

Nothing in this package imports pyspark, so every rule here is tested on thousands of generated
axes in milliseconds. Splitters summarise a DataFrame into an axis, call a planner, and render the
resulting :class:`Fold` ranges as Spark filters.
"""

from splitcv.plan.advice import MANY_FOLDS, TooManyFoldsWarning
from splitcv.plan.axis import CalendarScale, CountScale, Scale, clears_gap, count_clear_before
from splitcv.plan.blocked import plan_blocked
from splitcv.plan.folds import Fold
from splitcv.plan.windows import plan_windows

__all__ = [
    "CalendarScale",
    "CountScale",
    "Fold",
    "MANY_FOLDS",
    "TooManyFoldsWarning",
    "Scale",
    "clears_gap",
    "count_clear_before",
    "plan_blocked",
    "plan_windows",
]
