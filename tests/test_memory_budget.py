"""The memory budget (issue 11, part 4): fits in flight cache no more than the budget together."""

from __future__ import annotations

import threading

import pytest
from pyspark.ml.evaluation import RegressionEvaluator

from estimators import CachesTrainingSet
from splitcv import KFoldSplitter, ParallelCrossValidator
from splitcv.budget import to_budget


@pytest.fixture(scope="module")
def wide(spark):
    from pyspark.sql import functions as F

    # enough bytes per row that a fold's cache is measurable against the budget
    return spark.range(20_000).select(
        F.col("id").cast("double").alias("label"), *[F.rand(seed=i).alias(f"x{i}") for i in range(8)]
    )


def _input_bytes(spark, frame):
    sc = spark.sparkContext
    before = {info.id() for info in sc._jsc.sc().getRDDStorageInfo()}
    cached = frame.cache()
    cached.count()
    size = sum(i.memSize() for i in sc._jsc.sc().getRDDStorageInfo() if i.id() not in before)
    cached.unpersist(blocking=True)
    return size


def _fit_polling(spark, validator, frame, input_bytes):
    """Fit, polling the bytes cached beyond the input every few milliseconds; return the peak."""
    sc = spark.sparkContext
    stop, peak = threading.Event(), [0]

    def poll():
        while not stop.is_set():
            sizes = sorted((i.memSize() for i in sc._jsc.sc().getRDDStorageInfo()), reverse=True)
            # the largest cached RDD is the input (each fold caches a share of it)
            peak[0] = max(peak[0], sum(sizes[1:]))
            stop.wait(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        validator.fit(frame)
    finally:
        stop.set()
        poller.join()
    return peak[0]


@pytest.mark.parametrize("fits_in_budget", [1, 2])
def test_fits_in_flight_stay_within_the_budget(spark, wide, fits_in_budget):
    input_bytes = _input_bytes(spark, wide)
    share = input_bytes * 3 / 4  # a 4-fold training set
    budget = int(share * (fits_in_budget + 0.5))
    est = CachesTrainingSet()
    CachesTrainingSet.reset()
    validator = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.hold: 0.3}, {est.hold: 0.31}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=4, seed=1), parallelism=4, refit=False, memoryBudget=budget,
    )
    peak = _fit_polling(spark, validator, wide, input_bytes)
    assert CachesTrainingSet.most == fits_in_budget
    assert 0 < peak <= budget


def test_a_fit_too_large_for_the_budget_still_runs_alone(spark, wide):
    est = CachesTrainingSet()
    CachesTrainingSet.reset()
    model = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.hold: 0.0}, {est.hold: 0.01}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=4, refit=False, memoryBudget=1,
    ).fit(wide)
    assert CachesTrainingSet.most == 1 and len(model.foldMetrics) == 2


def test_the_default_budget_leaves_small_data_unthrottled(spark, wide):
    est = CachesTrainingSet()
    CachesTrainingSet.reset()
    ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.hold: 0.3}, {est.hold: 0.31}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=4, refit=False,
    ).fit(wide)
    assert CachesTrainingSet.most == 4


@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("OFF", "off"), ("2g", 2 << 30), ("1.5m", 3 << 19), (0, 0)])
def test_memory_budget_takes_sizes(value, expected):
    assert to_budget(value) == expected


@pytest.mark.parametrize("value", [-1, "lots", True, 1.5])
def test_memory_budget_refuses_what_is_not_a_size(value):
    with pytest.raises((TypeError, ValueError), match="memoryBudget="):
        ParallelCrossValidator(memoryBudget=value)


def test_a_users_cached_input_is_measured_alone_not_with_the_sessions_other_caches(spark, wide):
    from pyspark.sql import functions as F

    input_bytes = _input_bytes(spark, wide)
    budget = int(input_bytes / 2 * 2.5)  # two 2-fold training sets
    unrelated = spark.range(2_000_000).select(F.rand(seed=9).alias("r")).cache()
    unrelated.count()
    mine = wide.cache()
    mine.count()
    try:
        est = CachesTrainingSet()
        CachesTrainingSet.reset()
        ParallelCrossValidator(
            estimator=est, estimatorParamMaps=[{est.hold: 0.3}, {est.hold: 0.31}], evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=4, refit=False, memoryBudget=budget,
        ).fit(mine)
        assert CachesTrainingSet.most == 2
    finally:
        mine.unpersist(blocking=True)
        unrelated.unpersist(blocking=True)


def test_a_shared_pipeline_prefix_counts_against_the_budget(spark, wide, monkeypatch):
    """A fold's shared prefix is fitted by a task of its own, which may cache as much as a map's fit
    (a KMeans or an untouched LogisticRegression in the prefix): under a budget no task fits
    beside, prefix tasks run alone too."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StringIndexer, VectorAssembler
    from pyspark.ml.regression import LinearRegression
    from pyspark.sql import functions as F

    import splitcv.validator as validator_module

    lock, running, most = threading.Lock(), [0], [0]

    def counted(function):
        def run(*args, **kwargs):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    running[0] -= 1
        return run

    monkeypatch.setattr(validator_module, "fit_prefix", counted(validator_module.fit_prefix))
    monkeypatch.setattr(validator_module, "fit_with_prefix", counted(validator_module.fit_with_prefix))
    monkeypatch.setattr(validator_module, "fit_after_prefix", counted(validator_module.fit_after_prefix))
    frame = wide.limit(400).withColumn("kind", F.when(F.col("x0") > 0.5, "a").otherwise("b"))
    lr = LinearRegression(maxIter=5)
    pipeline = Pipeline(stages=[
        StringIndexer(inputCol="kind", outputCol="kind_i"),
        VectorAssembler(inputCols=["kind_i", "x1"], outputCol="features"),
        lr,
    ])
    model = ParallelCrossValidator(
        estimator=pipeline, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}],
        evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=3, seed=1), parallelism=4,
        refit=False, memoryBudget=1,
    ).fit(frame)
    assert len(model.foldMetrics) == 3
    assert most[0] == 1  # every task, prefixes included, ran alone
