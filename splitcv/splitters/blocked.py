"""Blocked k-fold: contiguous time blocks with a margin around validation."""

from __future__ import annotations

from typing import Optional, Union

from pyspark import keyword_only

from splitcv.plan.recipes import BlockedRecipe
from splitcv.splitters.params import HasGap, HasNumFolds
from splitcv.splitters.timeaxis import TimeAxisSplitter

__all__ = ["BlockedKFoldSplitter"]


class BlockedKFoldSplitter(TimeAxisSplitter, HasNumFolds, HasGap):
    """The time axis cut into ``numFolds`` contiguous blocks of (nearly) equal numbers of time
    points; each block is the validation set once, and training is every other block less ``gap``
    on either side of it. Training comes from the future by design: the margin is the guarantee.

    Examples
    --------
    >>> df = spark.createDataFrame([(d, float(d)) for d in range(9)], ["day", "y"])
    >>> [(i.train_rows, i.validation_start, i.validation_end) for i in
    ...  BlockedKFoldSplitter(timeCol="day", numFolds=3, gap=1).describe(df)]
    [(5, 0, 2), (4, 3, 5), (5, 6, 8)]
    """

    forwardChaining = False
    partitionsRows = True

    @keyword_only
    def __init__(
        self,
        *,
        timeCol: Optional[str] = None,
        numFolds: int = 5,
        gap: Union[int, str] = 0,
        labelEndCol: Optional[str] = None,
        embargo: Union[int, str] = 0,
    ) -> None:
        super().__init__()
        self._setDefault(numFolds=5, gap=0)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        timeCol: Optional[str] = None,
        numFolds: int = 5,
        gap: Union[int, str] = 0,
        labelEndCol: Optional[str] = None,
        embargo: Union[int, str] = 0,
    ) -> "BlockedKFoldSplitter":
        return self._set(**self._input_kwargs)

    def _recipe(self) -> BlockedRecipe:
        return BlockedRecipe(
            type(self).__name__, numFolds=self.getOrDefault(self.numFolds), gap=self.getGap(), embargo=self.getEmbargo()
        )
