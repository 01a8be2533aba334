"""A user-defined splitter, importable by module path so persistence can reload it."""

from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.sql import functions as F

from splitcv import FoldSplitter


class EveryOtherDay(FoldSplitter):
    """Validate on days with ``day % period == phase``, train on the rest: one fold per phase."""

    period = Param(Params._dummy(), "period", "number of folds", typeConverter=TypeConverters.toInt)

    def __init__(self, period: int = 2) -> None:
        super().__init__()
        self._set(period=period)

    def _fold_conditions(self, dataset):
        p = self.getOrDefault(self.period)
        for phase in range(p):
            yield F.col("day") % p != phase, F.col("day") % p == phase
