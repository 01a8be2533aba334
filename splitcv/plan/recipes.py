"""What each time splitter plans from its parameters: the checks, the sizes and the planner call.

One recipe per time splitter (expanding and sliding windows, blocked k-fold, combinatorial purged),
built from the parameter values alone. The Spark splitters build theirs from their Params and the
scikit-learn adapters (:mod:`splitcv.sklearn`) from their arguments, so both check the same rules
with the same messages and call the same planner with the same sizes. No pyspark here.

Examples
--------
>>> from splitcv.plan import CountScale
>>> recipe = WindowRecipe("ExpandingWindowSplitter", horizon=2, numFolds=2)
>>> sizes, calendar = resolve_sizes(recipe.sizes(), None, AxisWords("timeCol='day'"))
>>> [f.validation for f in recipe.plan(CountScale(8), sizes)]
[(4, 6), (6, 8)]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Optional, Union

from splitcv.durations import ZERO, Calendar, parse_duration
from splitcv.plan.advice import MANY_FOLDS, TooManyFoldsWarning, _caller_level
from splitcv.plan.axis import Scale
from splitcv.plan.blocked import plan_blocked
from splitcv.plan.combinatorial import count_combinatorial_folds, plan_combinatorial
from splitcv.plan.folds import Fold
from splitcv.plan.windows import plan_windows

__all__ = [
    "AxisWords",
    "WindowRecipe",
    "BlockedRecipe",
    "CombinatorialRecipe",
    "TimeRecipe",
    "resolve_sizes",
    "is_zero_size",
]

#: A size as the user gives it: a count of time points or a duration string; ``None`` when unset.
Size = Union[int, str]


@dataclass(frozen=True)
class AxisWords:
    """How messages name a time axis and what they suggest, on each path.

    The defaults are the Spark splitters' words (``timeCol='day'`` holds integers ... split on a
    DATE, TIMESTAMP or TIMESTAMP_NTZ column); the scikit-learn adapters name numpy values instead."""

    #: the time values as the user named them: ``"timeCol='day'"``
    subject: str
    #: what to split on instead of integers to use durations
    calendar_types: str = "a DATE, TIMESTAMP or TIMESTAMP_NTZ column"
    #: how a date-only axis is named: ``timeCol='d' is a DATE column``
    date_axis: str = "is a DATE column"


def is_zero_size(size: Optional[Size]) -> bool:
    """Whether a size Param is zero: ``0``, or a duration of nothing (``'0 days'``)."""
    return size == 0 or (isinstance(size, str) and parse_duration(size, "").is_zero)


def resolve_sizes(
    sizes: dict[str, Optional[Size]], calendar: Optional[Calendar], words: AxisWords, is_date: bool = False
) -> tuple[dict[str, Any], bool]:
    """Turn the size Params into ints (counts of time points) or Durations, all of one kind.

    ``calendar`` is ``None`` on an integer axis; ``is_date`` says the axis holds whole days.
    Returns the resolved sizes and whether they are calendar durations. A zero gap fits either.
    """
    given = {k: v for k, v in sizes.items() if v is not None}
    durations = {k: v for k, v in given.items() if isinstance(v, str)}
    counts = {k: v for k, v in given.items() if not isinstance(v, str) and v != 0}
    if durations and calendar is None:
        name, value = next(iter(durations.items()))
        raise ValueError(
            f"{name}={value!r} is a calendar duration, but {words.subject} holds integers; give "
            f"a whole number of time points instead, or split on {words.calendar_types}"
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
            if is_date and duration.micros:
                raise ValueError(
                    f"{name}={value!r} is finer than a day, but {words.subject} {words.date_axis}; "
                    "use days, weeks, months or years"
                )
            resolved[name] = duration
        else:  # a zero gap
            resolved[name] = ZERO
    return resolved, True


class TimeRecipe:
    """The interface of a recipe: checks, sizes, a plan, and the number of folds when the
    parameters alone decide it."""

    owner: str
    embargo: Size

    def check(self) -> None:
        """Raise on parameter values that are wrong whatever the data."""

    def sizes(self) -> dict[str, Optional[Size]]:
        """Every size by its Param name (``embargo`` included), as given."""
        raise NotImplementedError

    def plan(self, scale: Scale, sizes: dict[str, Any]) -> list[Fold]:
        """The folds on ``scale``, with the sizes :func:`resolve_sizes` made of :meth:`sizes`."""
        raise NotImplementedError

    def count(self) -> Optional[int]:
        """The number of folds if the parameters fix it, else ``None`` (it depends on the data)."""
        return None


@dataclass(frozen=True)
class WindowRecipe(TimeRecipe):
    """Expanding windows, or sliding ones when ``sliding`` (then ``windowSize`` is needed)."""

    owner: str
    horizon: Size = 1
    step: Optional[Size] = None
    gap: Size = 0
    initialWindow: Optional[Size] = None
    windowSize: Optional[Size] = None
    numFolds: Optional[int] = None
    keepPartialWindow: bool = False
    embargo: Size = 0
    sliding: bool = False

    def check(self) -> None:
        if self.sliding and self.windowSize is None:
            raise ValueError(
                f"{self.owner} needs windowSize, the length of the training window: "
                f"{self.owner}(timeCol='date', windowSize=52, ...)"
            )

    def sizes(self) -> dict[str, Optional[Size]]:
        return {
            "horizon": self.horizon,
            "step": self.horizon if self.step is None else self.step,
            "gap": self.gap,
            "initialWindow": self.initialWindow,
            "windowSize": self.windowSize if self.sliding else None,
            "embargo": self.embargo,
        }

    def plan(self, scale: Scale, sizes: dict[str, Any]) -> list[Fold]:
        return plan_windows(
            scale,
            horizon=sizes["horizon"],
            step=sizes["step"],
            gap=sizes["gap"],
            initial_window=sizes["initialWindow"],
            window_size=sizes["windowSize"],
            num_folds=self.numFolds,
            keep_partial=self.keepPartialWindow,
            owner=self.owner,
        )


@dataclass(frozen=True)
class BlockedRecipe(TimeRecipe):
    """``numFolds`` contiguous blocks, ``gap`` left out on either side of the validation block."""

    owner: str
    numFolds: int = 5
    gap: Size = 0
    embargo: Size = 0

    def sizes(self) -> dict[str, Optional[Size]]:
        return {"gap": self.gap, "embargo": self.embargo}

    def plan(self, scale: Scale, sizes: dict[str, Any]) -> list[Fold]:
        return plan_blocked(scale, self.numFolds, sizes["gap"])

    def count(self) -> Optional[int]:
        return self.numFolds


@dataclass(frozen=True)
class CombinatorialRecipe(TimeRecipe):
    """Every choice of ``numTestGroups`` of ``numGroups`` contiguous groups."""

    owner: str
    numGroups: int = 6
    numTestGroups: int = 2
    embargo: Size = 0

    def check(self) -> None:
        if self.numTestGroups >= self.numGroups:
            raise ValueError(
                f"{self.owner}: numTestGroups={self.numTestGroups} must be less than numGroups={self.numGroups}, "
                "or no group is left to train on"
            )

    def sizes(self) -> dict[str, Optional[Size]]:
        return {"embargo": self.embargo}

    def plan(self, scale: Scale, sizes: dict[str, Any]) -> list[Fold]:
        folds = plan_combinatorial(scale.n, self.numGroups, self.numTestGroups)
        if len(folds) > MANY_FOLDS:
            warnings.warn(
                f"numGroups={self.numGroups}, numTestGroups={self.numTestGroups} make {len(folds)} folds, "
                "each fitted with every param map; fewer groups, or test groups further from half of them, make fewer",
                TooManyFoldsWarning,
                stacklevel=_caller_level(),
            )
        return folds

    def count(self) -> Optional[int]:
        self.check()
        return count_combinatorial_folds(self.numGroups, self.numTestGroups)
