"""Splitter Params, declared once each with a type converter that validates as it converts.

A converter error names the value and what would work; pyspark prefixes it with the Param's name
('Invalid param value given for param "horizon"'), so every bad value is reported at ``set`` time,
long before a Spark job runs.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional, Union

import numpy as np

from pyspark.ml.param import Param, Params, TypeConverters

from splitcv.durations import parse_duration

__all__ = [
    "HasTimeCol",
    "HasNumFolds",
    "HasOptionalNumFolds",
    "HasGap",
    "HasWindowParams",
    "HasWindowSize",
    "HasSeedFixed",
    "HasFoldCol",
    "HasLabelCol",
    "HasGroupCol",
    "HasPurge",
    "to_size",
    "to_whole_number",
    "whole_number",
]


def to_whole_number(value: Any, name: str, minimum: Optional[int] = None, alternative: str = "") -> int:
    """The one rule for every count and size Param (``numFolds``, ``seed``, ``horizon``, ``gap``,
    ``parallelism``...): a whole number, given as one (an ``int`` or a numpy integer).

    Floats are refused, whole or not (``horizon=7.0`` is a mistake that would pass silently for
    one Param and fail for another), and so are bools (``True`` is an ``int`` to Python). The
    message names the value, the Param and the fix; ``alternative`` adds what else the Param
    takes ("or a duration such as '7 days'").

    >>> to_whole_number(7, "horizon")
    7
    >>> to_whole_number(7.0, "horizon")
    Traceback (most recent call last):
    ...
    TypeError: 7.0 is a float, not a whole number: write horizon=7
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        number = int(value)
    else:
        raise TypeError(_not_whole(value, name, minimum) + alternative)
    if minimum is not None and number < minimum:
        raise ValueError(f"{number} is too small; give a whole number >= {minimum}{alternative}")
    return number


def _not_whole(value: Any, name: str, minimum: Optional[int]) -> str:
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        if float(value).is_integer():
            return f"{value!r} is a float, not a whole number: write {name}={int(value)}"
        low, high = math.floor(value), math.ceil(value)
        fixes = [f"{name}={n}" for n in (low, high) if minimum is None or n >= minimum]
        return f"{value!r} is not a whole number: write {' or '.join(fixes)}"
    example = max(minimum, 1) if minimum is not None else 42
    return f"{value!r} is a {type(value).__name__}, not a whole number: write a whole number such as {name}={example}"


def whole_number(name: str, minimum: Optional[int] = None) -> Callable[[Any], int]:
    """A Param type converter applying :func:`to_whole_number`."""
    return lambda value: to_whole_number(value, name, minimum)


#: What a size Param takes besides a count, in every message about one.
_OR_DURATION = ", or a duration such as '7 days'"


def to_size(name: str, minimum: int) -> Callable[[Any], Union[int, str]]:
    """A converter for window sizes: a whole number of time points >= ``minimum``, or a duration."""

    def convert(value: Any) -> Union[int, str]:
        if isinstance(value, str):
            duration = parse_duration(value, "")
            if duration.is_zero and minimum > 0:
                raise ValueError(f"{value!r} is an empty duration; give a positive one such as '7 days'")
            return value.strip()
        return to_whole_number(value, name, minimum, _OR_DURATION)

    return convert


def _to_column_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{value!r} is not a column name; give the name of a column as a string")
    return value


class HasTimeCol(Params):
    timeCol: "Param[str]" = Param(
        Params._dummy(),
        "timeCol",
        "the time/order column: integers (time points), DATE, TIMESTAMP or TIMESTAMP_NTZ",
        typeConverter=_to_column_name,
    )

    def getTimeCol(self) -> str:
        return self.getOrDefault(self.timeCol)

    def setTimeCol(self, value: str) -> "HasTimeCol":
        return self._set(timeCol=value)


class HasNumFolds(Params):
    numFolds: "Param[int]" = Param(
        Params._dummy(), "numFolds", "number of folds (>= 2)", typeConverter=whole_number("numFolds", 2)
    )

    def setNumFolds(self, value: int) -> "HasNumFolds":
        return self._set(numFolds=value)


class HasOptionalNumFolds(Params):
    numFolds: "Param[int]" = Param(
        Params._dummy(),
        "numFolds",
        "keep only the last numFolds windows (>= 1); unset keeps every window the data allows, "
        "warning (TooManyFoldsWarning) when that is more than 100",
        typeConverter=whole_number("numFolds", 1),
    )

    def setNumFolds(self, value: Optional[int]) -> "HasOptionalNumFolds":
        return self._set(numFolds=value)


class HasGap(Params):
    gap: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "gap",
        "time left out between training and validation: time points (>= 0) or a duration ('7 days')",
        typeConverter=to_size("gap", 0),
    )

    def getGap(self) -> Union[int, str]:
        return self.getOrDefault(self.gap)

    def setGap(self, value: Union[int, str]) -> "HasGap":
        return self._set(gap=value)


class HasWindowParams(HasGap):
    horizon: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "horizon",
        "length of each validation window: time points (>= 1) or a duration ('1 month')",
        typeConverter=to_size("horizon", 1),
    )
    step: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "step",
        "how far each next fold moves the cut-off (default: horizon)",
        typeConverter=to_size("step", 1),
    )
    initialWindow: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "initialWindow",
        "length of the first training window; unset lays the windows back from the end of the data",
        typeConverter=to_size("initialWindow", 1),
    )
    keepPartialWindow: "Param[bool]" = Param(
        Params._dummy(),
        "keepPartialWindow",
        "keep a last validation window that the data ends before it is horizon long",
        typeConverter=TypeConverters.toBoolean,
    )

    def getHorizon(self) -> Union[int, str]:
        return self.getOrDefault(self.horizon)

    def setHorizon(self, value: Union[int, str]) -> "HasWindowParams":
        return self._set(horizon=value)

    def getStep(self) -> Union[int, str]:
        """The step; defaults to the horizon."""
        return self.getOrDefault(self.step) if self.isDefined(self.step) else self.getHorizon()

    def setStep(self, value: Union[int, str]) -> "HasWindowParams":
        return self._set(step=value)

    def getInitialWindow(self) -> Optional[Union[int, str]]:
        return self.getOrDefault(self.initialWindow) if self.isDefined(self.initialWindow) else None

    def setInitialWindow(self, value: Union[int, str]) -> "HasWindowParams":
        return self._set(initialWindow=value)

    def getKeepPartialWindow(self) -> bool:
        return self.getOrDefault(self.keepPartialWindow)

    def setKeepPartialWindow(self, value: bool) -> "HasWindowParams":
        return self._set(keepPartialWindow=value)


class HasWindowSize(Params):
    windowSize: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "windowSize",
        "length of the sliding training window: time points (>= 1) or a duration ('52 weeks')",
        typeConverter=to_size("windowSize", 1),
    )

    def getWindowSize(self) -> Union[int, str]:
        return self.getOrDefault(self.windowSize)

    def setWindowSize(self, value: Union[int, str]) -> "HasWindowSize":
        return self._set(windowSize=value)


class HasSeedFixed(Params):
    """A seed whose default is the same in every process (pyspark's default hashes a class name)."""

    seed: "Param[int]" = Param(
        Params._dummy(), "seed", "seed for the random fold assignment", typeConverter=whole_number("seed")
    )

    def getSeed(self) -> int:
        return self.getOrDefault(self.seed)

    def setSeed(self, value: int) -> "HasSeedFixed":
        return self._set(seed=value)


class HasFoldCol(Params):
    foldCol: "Param[str]" = Param(
        Params._dummy(),
        "foldCol",
        "optional integer column holding each row's fold, 0..numFolds-1; unset draws folds at random",
        typeConverter=_to_column_name,
    )

    def getFoldCol(self) -> Optional[str]:
        return self.getOrDefault(self.foldCol) if self.isDefined(self.foldCol) else None

    def setFoldCol(self, value: str) -> "HasFoldCol":
        return self._set(foldCol=value)


class HasLabelCol(Params):
    labelCol: "Param[str]" = Param(
        Params._dummy(),
        "labelCol",
        "the class column each fold keeps the shares of: string, integer, boolean or double classes",
        typeConverter=_to_column_name,
    )

    def getLabelCol(self) -> str:
        return self.getOrDefault(self.labelCol)

    def setLabelCol(self, value: str) -> "HasLabelCol":
        return self._set(labelCol=value)


class HasGroupCol(Params):
    groupCol: "Param[str]" = Param(
        Params._dummy(),
        "groupCol",
        "the column naming each row's group; all rows of a group are on one side of every fold",
        typeConverter=_to_column_name,
    )

    def getGroupCol(self) -> str:
        return self.getOrDefault(self.groupCol)

    def setGroupCol(self, value: str) -> "HasGroupCol":
        return self._set(groupCol=value)


class HasPurge(Params):
    """Purge and embargo (Lopez de Prado, ch. 7), for labels that depend on a span of future time."""

    labelEndCol: "Param[str]" = Param(
        Params._dummy(),
        "labelEndCol",
        "the last time each row's label depends on (same type as timeCol); training rows whose "
        "[time, labelEnd] overlaps a validation span are purged. Unset: no purge",
        typeConverter=_to_column_name,
    )
    embargo: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "embargo",
        "training time after each validation block dropped as well: time points (>= 0) or a duration ('5 days')",
        typeConverter=to_size("embargo", 0),
    )

    def getLabelEndCol(self) -> Optional[str]:
        return self.getOrDefault(self.labelEndCol) if self.isDefined(self.labelEndCol) else None

    def setLabelEndCol(self, value: Optional[str]) -> "HasPurge":
        return self._set(labelEndCol=value)

    def getEmbargo(self) -> Union[int, str]:
        return self.getOrDefault(self.embargo)

    def setEmbargo(self, value: Union[int, str]) -> "HasPurge":
        return self._set(embargo=value)
