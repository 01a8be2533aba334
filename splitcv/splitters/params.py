"""Splitter Params, declared once each with a type converter that validates as it converts.

A converter error names the value and what would work; pyspark prefixes it with the Param's name
('Invalid param value given for param "horizon"'), so every bad value is reported at ``set`` time,
long before a Spark job runs.
"""

from __future__ import annotations

from typing import Optional, Union

from pyspark.ml.param import Param, Params

# The value rules live in splitcv.plan.checks (no pyspark), shared with splitcv.sklearn.
from splitcv.plan.checks import CONVERTERS, OPTIONAL_NUM_FOLDS, to_size, to_whole_number, whole_number

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


class HasTimeCol(Params):
    timeCol: "Param[str]" = Param(
        Params._dummy(),
        "timeCol",
        "the time/order column: integers (time points), DATE, TIMESTAMP or TIMESTAMP_NTZ",
        typeConverter=CONVERTERS["timeCol"],
    )

    def getTimeCol(self) -> str:
        return self.getOrDefault(self.timeCol)

    def setTimeCol(self, value: str) -> "HasTimeCol":
        return self._set(timeCol=value)


class HasNumFolds(Params):
    numFolds: "Param[int]" = Param(
        Params._dummy(), "numFolds", "number of folds (>= 2)", typeConverter=CONVERTERS["numFolds"]
    )

    def setNumFolds(self, value: int) -> "HasNumFolds":
        return self._set(numFolds=value)


class HasOptionalNumFolds(Params):
    numFolds: "Param[int]" = Param(
        Params._dummy(),
        "numFolds",
        "keep only the last numFolds windows (>= 1); unset keeps every window the data allows, "
        "warning (TooManyFoldsWarning) when that is more than 100",
        typeConverter=OPTIONAL_NUM_FOLDS,
    )

    def setNumFolds(self, value: Optional[int]) -> "HasOptionalNumFolds":
        return self._set(numFolds=value)


class HasGap(Params):
    gap: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "gap",
        "time left out between training and validation: time points (>= 0) or a duration ('7 days')",
        typeConverter=CONVERTERS["gap"],
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
        typeConverter=CONVERTERS["horizon"],
    )
    step: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "step",
        "how far each next fold moves the cut-off (default: horizon)",
        typeConverter=CONVERTERS["step"],
    )
    initialWindow: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "initialWindow",
        "length of the first training window; unset lays the windows back from the end of the data",
        typeConverter=CONVERTERS["initialWindow"],
    )
    keepPartialWindow: "Param[bool]" = Param(
        Params._dummy(),
        "keepPartialWindow",
        "keep a last validation window that the data ends before it is horizon long",
        typeConverter=CONVERTERS["keepPartialWindow"],
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
        typeConverter=CONVERTERS["windowSize"],
    )

    def getWindowSize(self) -> Union[int, str]:
        return self.getOrDefault(self.windowSize)

    def setWindowSize(self, value: Union[int, str]) -> "HasWindowSize":
        return self._set(windowSize=value)


class HasSeedFixed(Params):
    """A seed whose default is the same in every process (pyspark's default hashes a class name)."""

    seed: "Param[int]" = Param(
        Params._dummy(), "seed", "seed for the random fold assignment", typeConverter=CONVERTERS["seed"]
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
        typeConverter=CONVERTERS["foldCol"],
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
        typeConverter=CONVERTERS["labelCol"],
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
        typeConverter=CONVERTERS["groupCol"],
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
        typeConverter=CONVERTERS["labelEndCol"],
    )
    embargo: "Param[Union[int, str]]" = Param(
        Params._dummy(),
        "embargo",
        "training time after each validation block dropped as well: time points (>= 0) or a duration ('5 days')",
        typeConverter=CONVERTERS["embargo"],
    )

    def getLabelEndCol(self) -> Optional[str]:
        return self.getOrDefault(self.labelEndCol) if self.isDefined(self.labelEndCol) else None

    def setLabelEndCol(self, value: Optional[str]) -> "HasPurge":
        return self._set(labelEndCol=value)

    def getEmbargo(self) -> Union[int, str]:
        return self.getOrDefault(self.embargo)

    def setEmbargo(self, value: Union[int, str]) -> "HasPurge":
        return self._set(embargo=value)
