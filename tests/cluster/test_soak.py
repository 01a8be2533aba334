"""Thirty fits in a row in one classic session, a third of them failing on purpose: nothing grows.

After every fit: no RDD or table left cached, no queue thread alive, no Spark job running. A leak
of one RDD or one thread per fit shows here as 10 or 30 of them.
"""

from __future__ import annotations

import threading
import time

import pytest
from pyspark.ml.evaluation import Evaluator, RegressionEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import LinearRegression

from estimators import Watched
from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator
from splitcv.queue import THREAD_PREFIX, TaskFailed

pytestmark = pytest.mark.cluster

FITS = 30


class FailsOnFirstScore(Evaluator):
    """RMSE, except that the first score of a fit raises, while the other tasks are still fitting."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = RegressionEvaluator(metricName="rmse")
        self.calls = 0
        self.lock = threading.Lock()

    def _evaluate(self, dataset) -> float:
        with self.lock:
            self.calls += 1
            call = self.calls
        if call == 1:
            raise RuntimeError("scoring fails on purpose")
        return self.inner.evaluate(dataset)

    def isLargerBetter(self) -> bool:
        return False


def _succeeds():
    est = Watched()
    return ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.hold: 0.0}, {est.hold: 0.01}], evaluator=RegressionEvaluator(),
        splitter=ExpandingWindowSplitter(timeCol="day", horizon=5, numFolds=2), parallelism=3,
    ), None


def _estimator_fails():
    est = Watched()
    return ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.failOn: False}, {est.failOn: True}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=3), parallelism=2,
    ), "failing on purpose"


def _evaluator_fails():
    lr = LinearRegression(maxIter=2)  # l-bfgs: caches its own training data, left cached if cancelled
    return ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 0.1}, {lr.regParam: 1.0}],
        evaluator=FailsOnFirstScore(), splitter=KFoldSplitter(numFolds=2), parallelism=4,
    ), "scoring fails on purpose"


SCENARIOS = [_succeeds, _estimator_fails, _evaluator_fails]


def _state(spark) -> dict:
    sc = spark.sparkContext
    return {
        "persistent_rdds": sc._jsc.getPersistentRDDs().size(),
        "rdds_in_storage": len(sc._jsc.sc().getRDDStorageInfo()),
        "cached_tables": not spark._jsparkSession.sharedState().cacheManager().isEmpty(),
        "queue_threads": sorted(t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)),
        "active_jobs": sorted(sc.statusTracker().getActiveJobsIds()),
    }


def _settled(spark, baseline: dict, seconds: float = 5.0) -> dict:
    """The state once the listener bus has caught up (job ends arrive asynchronously)."""
    deadline = time.time() + seconds
    state = _state(spark)
    while state != baseline and time.time() < deadline:
        time.sleep(0.05)
        state = _state(spark)
    return state


def test_thirty_fits_in_a_row_leave_nothing_behind(spark):
    rows = [(d, Vectors.dense([float(d), float(d % 3)]), 1.5 * d + (d % 4)) for d in range(40)]
    data = spark.createDataFrame(rows, ["day", "features", "label"])
    baseline = _state(spark)
    assert baseline["queue_threads"] == [] and baseline["active_jobs"] == []
    outcomes = []
    for index in range(FITS):
        cv, failure = SCENARIOS[index % len(SCENARIOS)]()
        if failure is None:
            model = cv.fit(data)
            assert len(model.foldMetrics) == 2 and model.bestModel is not None
            outcomes.append("ok")
        else:
            with pytest.raises(TaskFailed, match=failure):
                cv.fit(data)
            outcomes.append("failed")
        state = _settled(spark, baseline)
        assert state == baseline, f"after fit {index} ({outcomes[-1]}): {state} != {baseline}"
        assert not data.is_cached
    assert outcomes.count("failed") == 20 and outcomes.count("ok") == 10
