"""The seed article's time-series cross-validation loop (its recipe 3), implemented faithfully.

The article ("Boosting Parallelism for ML in Python using scikit-learn, joblib & PySpark", 2020)
overrides ``CrossValidator._fit`` with a loop over expanding-window folds:

* ``buildTimeSeriesFolds(dataset)``: the fold date ranges, from the dataset's distinct time values;
* folds run **in sequence**; per fold, the fold's rows are filtered (``start <= t <= end``), a
  **cut-off job** finds the date that divides training from validation (``_determine_cutoff_date``:
  the ``horizon`` latest time points of the fold), and training and validation are filtered by it
  and **each ``.cache()``-d**;
* a ``ThreadPool(processes=min(parallelism, len(epm)))`` runs Spark's own ``_parallelFitTasks`` over
  the **param maps only** (``pool.imap_unordered``), then the next fold starts;
* "the rest of the code remains the same" as Spark's ``CrossValidator._fit``: average the metrics,
  pick the best, refit it on the whole dataset.

Two details the article leaves implicit are filled in the way Spark's ``CrossValidator`` (pyspark
4.3) does them, so that only the structure differs between this loop and Spark's: each task is
wrapped with ``inheritable_thread_target`` (job groups and tags reach the pool threads), and each
fold's caches are released when the fold is done (Spark's ``_cache_spark_dataset`` does
``unpersist`` on leaving the fold). The article never closes its pool; this one is closed at the
end of the fit so that repeated benchmark rounds do not pile up threads.

The folds are the ones ``ExpandingWindowSplitter(timeCol, horizon=h, numFolds=k)`` makes (the last
``k`` validation windows of ``h`` time points, each training window everything before it); the
benchmark checks that both give the same metrics.
"""

from __future__ import annotations

from multiprocessing.pool import ThreadPool
from typing import Any, Sequence

import numpy as np
from pyspark import inheritable_thread_target
from pyspark.ml.tuning import _parallelFitTasks
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

__all__ = ["ArticleTimeSeriesCV", "build_time_series_folds"]


def build_time_series_folds(dataset: DataFrame, time_col: str, horizon: int, num_folds: int) -> list[dict[str, Any]]:
    """The article's ``buildTimeSeriesFolds``: per fold a ``(start_date, end_date)`` range whose last
    ``horizon`` time points are its validation window. One Spark job (the distinct time values)."""
    times = sorted(r[0] for r in dataset.select(time_col).distinct().collect())
    n = len(times)
    if n - num_folds * horizon < 1:
        raise ValueError(f"{n} time points are too few for {num_folds} folds of horizon {horizon}")
    folds = []
    for i in range(num_folds):
        end = n - (num_folds - 1 - i) * horizon  # exclusive index of the fold's last time point
        folds.append({"start_date": times[0], "end_date": times[end - 1]})
    return folds


class ArticleTimeSeriesCV:
    """``fit(dataset)`` runs the article's loop and returns ``self`` with ``avgMetrics``,
    ``foldMetrics``, ``bestIndex`` and ``bestModel`` set."""

    def __init__(
        self,
        estimator: Any,
        estimatorParamMaps: Sequence[dict],
        evaluator: Any,
        timeCol: str,
        horizon: int,
        numFolds: int,
        parallelism: int = 1,
    ) -> None:
        self.estimator = estimator
        self.estimatorParamMaps = list(estimatorParamMaps)
        self.evaluator = evaluator
        self.timeCol = timeCol
        self.horizon = horizon
        self.numFolds = numFolds
        self.parallelism = parallelism

    def _determine_cutoff_date(self, fold_data: DataFrame) -> Any:
        """The article's cut-off job: the earliest of the fold's ``horizon`` latest time points."""
        latest = (
            fold_data.select(self.timeCol).distinct().orderBy(F.col(self.timeCol).desc()).limit(self.horizon).collect()
        )
        return min(r[0] for r in latest)

    def _timeseries_split(self, fold_data: DataFrame, cutoff: Any) -> tuple[DataFrame, DataFrame]:
        column = F.col(self.timeCol)
        return fold_data.filter(column < cutoff), fold_data.filter(column >= cutoff)

    def fit(self, dataset: DataFrame) -> "ArticleTimeSeriesCV":
        est, eva, epm = self.estimator, self.evaluator, self.estimatorParamMaps
        numModels = len(epm)
        timeSeriesFolds = build_time_series_folds(dataset, self.timeCol, self.horizon, self.numFolds)
        nFolds = len(timeSeriesFolds)
        metrics_all = [[0.0] * numModels for _ in range(nFolds)]
        pool = ThreadPool(processes=min(self.parallelism, numModels))
        try:
            for i in range(nFolds):
                currentFold = timeSeriesFolds[i]
                column = F.col(self.timeCol)
                fold_data = dataset.filter((column >= currentFold["start_date"]) & (column <= currentFold["end_date"]))
                cutoff_date = self._determine_cutoff_date(fold_data)
                training_data, validation_data = self._timeseries_split(fold_data, cutoff_date)
                training_data = training_data.cache()
                validation_data = validation_data.cache()
                try:
                    tasks = map(
                        inheritable_thread_target(dataset.sparkSession),
                        _parallelFitTasks(est, training_data, eva, validation_data, epm, False),
                    )
                    for j, metric, _ in pool.imap_unordered(lambda f: f(), tasks):
                        metrics_all[i][j] = metric
                finally:
                    training_data.unpersist()
                    validation_data.unpersist()
        finally:
            pool.close()
            pool.join()
        self.foldMetrics = metrics_all
        self.avgMetrics = [float(v) for v in np.mean(metrics_all, axis=0)]
        self.bestIndex = int(np.argmax(self.avgMetrics) if eva.isLargerBetter() else np.argmin(self.avgMetrics))
        self.bestModel = est.fit(dataset, epm[self.bestIndex])
        return self
