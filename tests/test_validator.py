"""ParallelCrossValidator: results, concurrency, failures, configuration, persistence."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time

import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import functions as F

from custom_splitters import EveryOtherDay
from estimators import CountsFitMultiple, SlowJob, Watched, no_spark_job
from splitcv import (
    ExpandingWindowSplitter,
    KFoldSplitter,
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
)
from splitcv.queue import THREAD_PREFIX, TaskFailed


@pytest.fixture(scope="module")
def days(spark):
    rows = [(d, Vectors.dense([float(d), float(d % 7)]), 2.0 * d + (d % 5), d % 3) for d in range(120)]
    return spark.createDataFrame(rows, ["day", "features", "label", "fold"])


@pytest.fixture(scope="module")
def co2(spark):
    from splitcv.data import co2_features, load_co2

    frame = co2_features(load_co2(spark)).withColumn("fold", F.pmod(F.col("week_index"), F.lit(2)))
    # The same rows, collected once: co2_features' lag joins would otherwise run again in every job
    # of both validators (a broadcast each). One partition in week order, as co2_features gives it.
    return spark.createDataFrame(frame.collect(), frame.schema).coalesce(1)


def _left_behind(spark):
    sc = spark.sparkContext
    threads = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    return {
        "threads": threads,
        "active_jobs": list(sc.statusTracker().getActiveJobsIds()),
        "cached_rdds": sc._jsc.getPersistentRDDs().size(),
    }


def _wait_idle(spark, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline and spark.sparkContext.statusTracker().getActiveJobsIds():
        time.sleep(0.1)


# -- results ---------------------------------------------------------------------------------------


def test_metrics_equal_sparks_crossvalidator_on_identical_folds(spark, co2):
    lr = LinearRegression(maxIter=20)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.5]).addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
    evaluator = RegressionEvaluator(metricName="rmse")
    # two folds: the claim holds fold by fold, and Spark's CrossValidator fits one map at a time
    theirs = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator, foldCol="fold", numFolds=2).fit(co2)
    ours = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
        splitter=KFoldSplitter(numFolds=2, foldCol="fold"), parallelism=4,
    ).fit(co2)
    assert ours.avgMetrics == pytest.approx(list(theirs.avgMetrics), rel=1e-12)
    assert ours.stdMetrics == pytest.approx(list(theirs.stdMetrics), rel=1e-9)
    assert ours.bestIndex == int(max(range(4), key=lambda j: -theirs.avgMetrics[j]))


def test_model_fields(spark, days):
    lr = LinearRegression()
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 1.0, 100.0]).build()
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
        splitter=ExpandingWindowSplitter(timeCol="day", horizon=10, numFolds=4), parallelism=3, collectSubModels=True,
    ).fit(days)
    assert len(model.foldMetrics) == 4 and all(len(row) == 3 for row in model.foldMetrics)
    assert model.avgMetrics == pytest.approx([sum(r[j] for r in model.foldMetrics) / 4 for j in range(3)])
    assert model.bestIndex == min(range(3), key=lambda j: model.avgMetrics[j])  # rmse: smaller is better
    assert model.bestParams == {"regParam": 0.0}
    assert [f.validation_start for f in model.folds] == [80, 90, 100, 110]
    # sub-models really are per fold and per param map (Spark aliases every fold to the last one)
    coefficients = {(f, j): tuple(model.subModels[f][j].coefficients) for f in range(4) for j in range(3)}
    assert len(set(coefficients.values())) == 12
    table = model.summary()
    assert list(table["rank_test_score"]) == [1, 2, 3]
    assert {"params", "split0_test_score", "split3_test_score", "mean_test_score", "std_test_score",
            "mean_fit_time", "mean_score_time"} <= set(table.columns)
    assert (table["mean_fit_time"] > 0).all()
    assert model.transform(days).count() == days.count()


def test_results_do_not_depend_on_parallelism_order_or_partitioning(spark, days):
    lr = LinearRegression(solver="normal")
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.3, 3.0]).build()

    def fit(data, parallelism):  # the fold metrics are what is compared: no refit
        return ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=3, seed=7), parallelism=parallelism, refit=False,
        ).fit(data)

    one, many = fit(days, 1), fit(days, 8)
    assert one.foldMetrics == many.foldMetrics  # bit for bit
    reshuffled = fit(days.repartition(7), 5)
    assert [f.validation_rows for f in reshuffled.folds] == [f.validation_rows for f in one.folds]
    # Spark sums partitions in another order on another partitioning: equal to rounding.
    assert reshuffled.avgMetrics == pytest.approx(one.avgMetrics, rel=1e-9)


def test_folds_run_concurrently(spark, days):
    """With one param map, Spark's CrossValidator runs one fit at a time; we run several folds."""
    Watched.reset()
    est = Watched()
    ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.hold: 0.5}], evaluator=RegressionEvaluator(),
        splitter=ExpandingWindowSplitter(timeCol="day", horizon=10, numFolds=4), parallelism=4,
    ).fit(days)
    assert Watched.calls == 4 + 1  # four folds and the refit
    assert Watched.max_distinct > 1, "more than one fold's training set must be in flight at once"


def test_fit_multiple_is_called_once_per_fold(spark, days):
    CountsFitMultiple.calls = 0
    est = CountsFitMultiple()
    model = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{}, {}, {}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=3), parallelism=4, refit=False,
    ).fit(days)
    assert CountsFitMultiple.calls == 3
    assert all(len(row) == 3 and all(m == m for m in row) for row in model.foldMetrics)
    assert model.bestModel is None
    with pytest.raises(ValueError, match="refit=False"):
        model.transform(days)


def test_each_task_fits_on_a_plan_of_its_own(spark, days):
    """Two maps of one fold get the same rows under different plans: Spark's cache manager shares a
    persisted DataFrame among equal plans, so an estimator that persists its training set (pyspark's
    OneVsRest does) would share it between concurrent fits, and one fit's unpersist would leave the
    others caching it again outside any cache entry, an RDD left behind (seen: 3 of 6 fits)."""
    seen = []

    class Recording(Watched):
        def _fit(self, dataset):
            seen.append(dataset)
            return super()._fit(dataset)

    est = Recording()
    ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.hold: 0.0}, {est.hold: 0.01}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=4, refit=False,
    ).fit(days)
    days_of = [tuple(sorted(r.day for r in frame.select("day").collect())) for frame in seen]
    assert len(seen) == 4 and len(set(days_of)) == 2  # two maps of each of two folds
    for i in range(4):
        for j in range(i + 1, 4):
            assert seen[i].sameSemantics(seen[j]) is False, (i, j)


# -- failing clean -----------------------------------------------------------------------------------


def test_failure_names_fold_and_param_map_and_leaves_nothing(spark, days):
    Watched.reset()
    est = Watched()
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.failOn: False}, {est.failOn: True}],
        evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=3), parallelism=2,
    )
    before = _left_behind(spark)
    with pytest.raises(TaskFailed, match=r"fold \d of folds 0-2 with param map 1 \{failOn: True\} failed: RuntimeError") as info:
        cv.fit(days)
    assert isinstance(info.value.__cause__, RuntimeError)
    _wait_idle(spark)
    assert before["threads"] == [] and before["active_jobs"] == []
    assert _left_behind(spark) == before  # other tests' caches may exist; the fit adds none
    assert not days.is_cached


def test_failure_cancels_running_jobs(spark, days):
    SlowJob.started.clear()
    est = SlowJob()
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.failOn: False, est.seconds: 0.2}, {est.failOn: True}],
        evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=2), parallelism=4,
    )
    before = _left_behind(spark)
    start = time.time()
    with pytest.raises(TaskFailed, match="failing on purpose"):
        cv.fit(days)
    elapsed = time.time() - start
    # A slow job would need 120 rows x 0.2 s / 2 partitions = 12 s; it was cancelled instead.
    assert elapsed < 10, f"the fit took {elapsed:.1f}s: running jobs were not cancelled"
    _wait_idle(spark)
    assert before["threads"] == [] and before["active_jobs"] == []
    assert _left_behind(spark) == before  # other tests' caches may exist; the fit adds none


def test_ctrl_c_cancels_and_cleans_up(spark, days):
    SlowJob.started.clear()
    est = SlowJob()
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.seconds: 0.2}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=3), parallelism=3,
    )

    def interrupt():
        SlowJob.started.wait(30)
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGINT)

    before = _left_behind(spark)
    threading.Thread(target=interrupt, daemon=True).start()
    start = time.time()
    with pytest.raises(KeyboardInterrupt):
        cv.fit(days)
    assert time.time() - start < 10
    _wait_idle(spark)
    assert before["threads"] == [] and before["active_jobs"] == []
    assert _left_behind(spark) == before  # other tests' caches may exist; the fit adds none
    assert not days.is_cached


def test_users_own_cache_is_left_alone(spark, days):
    cached = days.cache()
    cached.count()
    try:
        lr = LinearRegression()
        ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2),
        ).fit(cached)
        assert cached.is_cached
    finally:
        cached.unpersist()


# -- configuration errors, before any Spark job -------------------------------------------------------


def _bad_configs(days):
    lr, other = LinearRegression(), LogisticRegression()
    ok = dict(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(),
              splitter=KFoldSplitter(numFolds=3))
    yield dict(ok, estimatorParamMaps=[]), ValueError, "estimatorParamMaps=.* holds no param map"
    yield {k: v for k, v in ok.items() if k != "evaluator"}, ValueError, "needs evaluator"
    yield {k: v for k, v in ok.items() if k != "splitter"}, ValueError, "needs splitter"
    yield {k: v for k, v in ok.items() if k != "estimator"}, ValueError, "needs estimator"
    yield dict(ok, estimatorParamMaps=[{other.regParam: 0.1}]), ValueError, "belongs to no stage of the estimator"
    yield dict(ok, splitter=ExpandingWindowSplitter(timeCol="nope")), ValueError, "timeCol='nope' is not a column"


@pytest.mark.parametrize("case", range(6))
def test_bad_configuration_is_refused_before_any_job(spark, days, case):
    kwargs, error, message = list(_bad_configs(days))[case]
    cv = ParallelCrossValidator(**kwargs)
    with no_spark_job(spark), pytest.raises(error, match=message):
        cv.fit(days)


@pytest.mark.parametrize("value", [0, -2, True, "four"])
def test_parallelism_below_one_is_refused(value):
    with pytest.raises((ValueError, TypeError), match="parallelism"):
        ParallelCrossValidator(parallelism=value)


# -- Pipeline, copy, persistence ------------------------------------------------------------------------


def test_works_as_a_pipeline_stage_and_saves_with_it(spark, tmp_path):
    rows = [(d, float(d), float(d % 4), float(d % 2)) for d in range(80)]
    df = spark.createDataFrame(rows, ["day", "a", "b", "label"])
    lr = LogisticRegression(maxIter=3)  # each iteration is a Spark job
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, [0.01, 1.0]).build(),
        evaluator=BinaryClassificationEvaluator(), splitter=ExpandingWindowSplitter(timeCol="day", horizon=10, numFolds=2),
        parallelism=3,
    )
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=["a", "b"], outputCol="features"), cv])
    fitted = pipeline.fit(df)
    before = [r.prediction for r in fitted.transform(df).orderBy("day").collect()]
    fitted.write().overwrite().save(str(tmp_path / "pipeline"))
    loaded = PipelineModel.load(str(tmp_path / "pipeline"))
    assert isinstance(loaded.stages[-1], ParallelCrossValidatorModel)
    assert [r.prediction for r in loaded.transform(df).orderBy("day").collect()] == before
    pipeline.write().overwrite().save(str(tmp_path / "unfitted"))
    assert isinstance(Pipeline.load(str(tmp_path / "unfitted")).getStages()[-1], ParallelCrossValidator)


def test_save_and_load_keep_every_field(spark, days, tmp_path):
    lr = LinearRegression()
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 2.0]).build()
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(metricName="mae"),
        splitter=EveryOtherDay(period=3), parallelism=2, collectSubModels=True,
    )
    cv.write().save(str(tmp_path / "cv"))
    cv_loaded = ParallelCrossValidator.load(str(tmp_path / "cv"))
    assert cv_loaded.uid == cv.uid and cv_loaded.getParallelism() == 2 and cv_loaded.getCollectSubModels()
    assert isinstance(cv_loaded.getSplitter(), EveryOtherDay)
    assert cv_loaded.getSplitter().getOrDefault("period") == 3
    assert [{p.name: v for p, v in m.items()} for m in cv_loaded.getEstimatorParamMaps()] == [
        {"regParam": 0.0}, {"regParam": 2.0}]
    assert cv_loaded.getEvaluator().getMetricName() == "mae"

    model = cv.fit(days)
    model.write().overwrite().save(str(tmp_path / "model"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    for name in ("avgMetrics", "stdMetrics", "foldMetrics", "bestIndex", "folds", "cvResults"):
        assert getattr(loaded, name) == getattr(model, name), name
    for f in range(3):
        for j in range(2):
            assert loaded.subModels[f][j].coefficients == model.subModels[f][j].coefficients
    assert loaded.transform(days).collect() == model.transform(days).collect()
    assert isinstance(loaded.getSplitter(), EveryOtherDay)
    again = loaded.copy()  # Spark's CrossValidatorModel.copy() asserts without sub-models
    assert again.avgMetrics == model.avgMetrics and again.uid == loaded.uid
    assert again.getEstimatorParamMaps() == loaded.getEstimatorParamMaps() and again.getParallelism() == 2


def test_loading_a_foreign_or_damaged_path_says_so(spark, days, tmp_path):
    lr_model = LinearRegression().fit(days)
    lr_model.write().save(str(tmp_path / "lr"))
    with pytest.raises(ValueError, match="not a splitcv.validator.ParallelCrossValidatorModel"):
        ParallelCrossValidatorModel.load(str(tmp_path / "lr"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no saved ParallelCrossValidator"):
        ParallelCrossValidator.load(str(tmp_path / "empty"))


def test_copy_applies_extra_to_the_nested_estimator(days):
    lr = LinearRegression()
    cv = ParallelCrossValidator(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}],
                                evaluator=RegressionEvaluator(), splitter=KFoldSplitter())
    copied = cv.copy({lr.maxIter: 7, cv.parallelism: 3})
    assert copied.getEstimator().getMaxIter() == 7 and lr.getMaxIter() == 100
    assert copied.getParallelism() == 3 and cv.getParallelism() == 1


@pytest.mark.parametrize("time_type", ["timestamp", "timestamp_ntz"])
def test_time_stamped_folds_survive_save_and_load(spark, days, tmp_path, time_type):
    """FoldInfo keeps its time values' kind through a save: aware datetimes for TIMESTAMP, naive
    wall-clock ones for TIMESTAMP_NTZ."""
    stamped = days.withColumn("at", F.timestamp_seconds(F.col("day") * 3600).cast(time_type))
    lr = LinearRegression(solver="normal")
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}], evaluator=RegressionEvaluator(),
        splitter=ExpandingWindowSplitter(timeCol="at", horizon="6 hours", numFolds=2), parallelism=2,
    )
    model = cv.fit(stamped)
    model.write().save(str(tmp_path / "model"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    assert loaded.folds == model.folds and loaded.avgMetrics == model.avgMetrics
    last = model.folds[-1]
    assert last.validation_rows == 6 and last.validation_end.replace(tzinfo=None) == dt.datetime(1970, 1, 5, 23)
    assert all((info.validation_start.tzinfo is None) == (time_type == "timestamp_ntz") for info in loaded.folds)


def test_an_overwrite_that_cannot_be_saved_keeps_the_earlier_save(spark, days, tmp_path):
    """What cannot be saved is refused before the overwrite deletes the directory it would replace."""
    lr = LinearRegression()
    path = str(tmp_path / "cv")
    good = ParallelCrossValidator(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.5}], evaluator=RegressionEvaluator(),
                                  splitter=KFoldSplitter(numFolds=2))
    good.write().save(path)
    unsaveable = good.copy().setEstimatorParamMaps([{lr.regParam: 0.5, lr.weightCol: "w"}, {lr.regParam: LinearRegression()}])
    with pytest.raises(TypeError, match=r"estimatorParamMaps\[1\] sets LinearRegression_\w+\.regParam to LinearRegression_\w+, which that Param does not take"):
        unsaveable.write().overwrite().save(path)
    unconfigured = ParallelCrossValidator(estimator=lr, evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=2))
    with pytest.raises(ValueError, match="holds no param map"):
        unconfigured.write().overwrite().save(path)
    assert ParallelCrossValidator.load(path).uid == good.uid


def test_a_scheduler_that_stops_early_is_an_error_not_fewer_folds(spark, days, monkeypatch):
    import splitcv.validator as validator_module
    from splitcv.queue import LongestFirst

    class Forgetful(LongestFirst):
        """Loses the first task it is asked for: the queue then sees nothing to run and stops."""

        asked = False

        def next_task(self):
            task = super().next_task()
            if not self.asked:
                self.asked = True
                return None
            return task

    monkeypatch.setattr(validator_module, "LongestFirst", Forgetful)
    lr = LinearRegression()
    grid = [{lr.regParam: 0.0}, {lr.regParam: 1.0}]
    with pytest.raises(RuntimeError, match=r"4 \(fold, map\) tasks never run, e.g. \[\(0, 0\), \(0, 1\), \(1, 0\)\]"):
        ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2, seed=1), refit=False,
        ).fit(days)
