"""Combinatorial purged cross-validation: every choice of test groups, purged and embargoed."""

from __future__ import annotations

from typing import Optional, Union

from pyspark import keyword_only
from pyspark.ml.param import Param, Params
from pyspark.sql import DataFrame

from splitcv.plan.checks import CONVERTERS
from splitcv.plan.combinatorial import backtest_paths
from splitcv.plan.recipes import CombinatorialRecipe
from splitcv.splitters.timeaxis import TimeAxisSplitter

__all__ = ["CombinatorialPurgedSplitter"]


class CombinatorialPurgedSplitter(TimeAxisSplitter):
    """Combinatorial purged cross-validation (CPCV, Lopez de Prado, *Advances in Financial Machine
    Learning*, ch. 12).

    The time axis is cut into ``numGroups`` contiguous groups of (nearly) equal numbers of time
    points; each of the ``C(numGroups, numTestGroups)`` choices of ``numTestGroups`` groups is one
    fold, validated on those groups and trained on the others, purged (``labelEndCol``) and
    embargoed (``embargo``) around every validation segment as the other time splitters are.
    :meth:`backtest_paths` says which fold's validation predictions make up each of the
    ``C(numGroups, numTestGroups) * numTestGroups / numGroups`` backtest paths.

    Examples
    --------
    >>> df = spark.createDataFrame([(d, d + 1, float(d)) for d in range(12)], ["day", "label_end", "y"])
    >>> splitter = CombinatorialPurgedSplitter(timeCol="day", numGroups=4, numTestGroups=2, labelEndCol="label_end")
    >>> [(i.train_rows, i.validation_rows, i.purged_rows) for i in splitter.describe(df)][:3]
    [(5, 6, 1), (3, 6, 3), (4, 6, 2)]
    >>> splitter.getNumFolds(), splitter.backtest_paths()
    (6, [[0, 0, 1, 2], [1, 3, 3, 4], [2, 4, 5, 5]])
    """

    numGroups: "Param[int]" = Param(
        Params._dummy(), "numGroups", "contiguous groups the time axis is cut into (>= 2)",
        typeConverter=CONVERTERS["numGroups"],
    )
    numTestGroups: "Param[int]" = Param(
        Params._dummy(), "numTestGroups", "groups each fold validates on (>= 1, < numGroups)",
        typeConverter=CONVERTERS["numTestGroups"],
    )

    @keyword_only
    def __init__(
        self,
        *,
        timeCol: Optional[str] = None,
        numGroups: int = 6,
        numTestGroups: int = 2,
        labelEndCol: Optional[str] = None,
        embargo: Union[int, str] = 0,
    ) -> None:
        super().__init__()
        self._setDefault(numGroups=6, numTestGroups=2)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        timeCol: Optional[str] = None,
        numGroups: int = 6,
        numTestGroups: int = 2,
        labelEndCol: Optional[str] = None,
        embargo: Union[int, str] = 0,
    ) -> "CombinatorialPurgedSplitter":
        return self._set(**self._input_kwargs)

    def getNumGroups(self) -> int:
        return self.getOrDefault(self.numGroups)

    def getNumTestGroups(self) -> int:
        return self.getOrDefault(self.numTestGroups)

    def _recipe(self) -> CombinatorialRecipe:
        return CombinatorialRecipe(
            type(self).__name__, numGroups=self.getNumGroups(), numTestGroups=self.getNumTestGroups(), embargo=self.getEmbargo()
        )

    def getNumFolds(self, dataset: Optional[DataFrame] = None) -> int:
        """``C(numGroups, numTestGroups)``, known from the Params."""
        if dataset is not None:
            return super().getNumFolds(dataset)
        self._check_params()
        count = self._recipe().count()
        assert count is not None
        return count

    def backtest_paths(self) -> list[list[int]]:
        """``paths[p][g]``: the fold whose validation predictions of group ``g`` (the ``g``-th block of
        time points, in time order) belong to backtest path ``p``."""
        self._check_params()
        return backtest_paths(self.getNumGroups(), self.getNumTestGroups())
