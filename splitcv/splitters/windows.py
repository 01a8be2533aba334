"""Forward-chaining splitters: expanding and sliding training windows."""

from __future__ import annotations

from typing import Optional, Union

from pyspark import keyword_only

from splitcv.plan.recipes import WindowRecipe
from splitcv.splitters.params import HasOptionalNumFolds, HasWindowParams, HasWindowSize
from splitcv.splitters.timeaxis import TimeAxisSplitter

__all__ = ["ExpandingWindowSplitter", "SlidingWindowSplitter"]

Size = Union[int, str]


class _WindowSplitter(TimeAxisSplitter, HasWindowParams, HasOptionalNumFolds):
    forwardChaining = True
    _sliding = False

    def _recipe(self) -> WindowRecipe:
        return WindowRecipe(
            type(self).__name__,
            horizon=self.getHorizon(),
            step=self.getStep(),
            gap=self.getGap(),
            initialWindow=self.getInitialWindow(),
            windowSize=self.getOrDefault(self.windowSize) if self._sliding and self.isDefined("windowSize") else None,
            numFolds=self.getOrDefault(self.numFolds) if self.isDefined(self.numFolds) else None,
            keepPartialWindow=self.getKeepPartialWindow(),
            embargo=self.getEmbargo(),
            sliding=self._sliding,
        )


class ExpandingWindowSplitter(_WindowSplitter):
    """Forward chaining with a growing training window.

    Validation windows are ``horizon`` long; each next fold moves the cut-off on by ``step``
    (default ``horizon``); training runs from the first time point up to ``gap`` before the
    validation window. Sizes are counts of distinct time points, or on DATE/TIMESTAMP(_NTZ) columns
    calendar durations such as ``"7 days"`` or ``"1 month"``.

    Examples
    --------
    >>> df = spark.createDataFrame([(d, float(d)) for d in range(8)], ["day", "y"])
    >>> splitter = ExpandingWindowSplitter(timeCol="day", horizon=2, numFolds=3)
    >>> for info in splitter.describe(df):
    ...     print(info.fold, info.train_start, info.train_end, info.validation_start, info.validation_end)
    0 0 1 2 3
    1 0 3 4 5
    2 0 5 6 7
    """

    @keyword_only
    def __init__(
        self,
        *,
        timeCol: Optional[str] = None,
        horizon: Size = 1,
        step: Optional[Size] = None,
        gap: Size = 0,
        initialWindow: Optional[Size] = None,
        numFolds: Optional[int] = None,
        keepPartialWindow: bool = False,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> None:
        super().__init__()
        self._setDefault(horizon=1, gap=0, keepPartialWindow=False)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        timeCol: Optional[str] = None,
        horizon: Size = 1,
        step: Optional[Size] = None,
        gap: Size = 0,
        initialWindow: Optional[Size] = None,
        numFolds: Optional[int] = None,
        keepPartialWindow: bool = False,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> "ExpandingWindowSplitter":
        return self._set(**self._input_kwargs)


class SlidingWindowSplitter(_WindowSplitter, HasWindowSize):
    """Forward chaining with a training window of at most ``windowSize`` before the gap.

    Examples
    --------
    >>> df = spark.createDataFrame([(d, float(d)) for d in range(8)], ["day", "y"])
    >>> splitter = SlidingWindowSplitter(timeCol="day", windowSize=3, horizon=2, gap=1)
    >>> [(i.train_start, i.train_end, i.validation_start) for i in splitter.describe(df)]
    [(0, 0, 2), (0, 2, 4), (2, 4, 6)]
    """

    _sliding = True

    @keyword_only
    def __init__(
        self,
        *,
        timeCol: Optional[str] = None,
        windowSize: Optional[Size] = None,
        horizon: Size = 1,
        step: Optional[Size] = None,
        gap: Size = 0,
        initialWindow: Optional[Size] = None,
        numFolds: Optional[int] = None,
        keepPartialWindow: bool = False,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> None:
        super().__init__()
        self._setDefault(horizon=1, gap=0, keepPartialWindow=False)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        timeCol: Optional[str] = None,
        windowSize: Optional[Size] = None,
        horizon: Size = 1,
        step: Optional[Size] = None,
        gap: Size = 0,
        initialWindow: Optional[Size] = None,
        numFolds: Optional[int] = None,
        keepPartialWindow: bool = False,
        labelEndCol: Optional[str] = None,
        embargo: Size = 0,
    ) -> "SlidingWindowSplitter":
        return self._set(**self._input_kwargs)
