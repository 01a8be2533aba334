"""The validator's choice and its results table: NaN and infinite metrics, Params named by stage,
and what the times measure (issue 10, parts 2 and 4)."""

from __future__ import annotations

import time
import warnings

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.tuning import ParamGridBuilder

from estimators import Constant, MeanPrediction, Watched
from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator
from splitcv.selection import MetricWarning


@pytest.fixture(scope="module")
def series(spark):
    return spark.createDataFrame([(t, float(t % 7)) for t in range(60)], ["t", "label"])


def _fit(validator, dataset):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = validator.fit(dataset)
    return model, [w for w in caught if issubclass(w.category, MetricWarning)]


def test_a_map_whose_metric_is_nan_on_a_fold_is_not_chosen(spark, series):
    est = Constant()
    # Map 0 scores 100 where it is defined (fold 0) and NaN on folds 1 and 2; map 1 scores 50.
    grid = [{est.value: 100.0, est.nanFrom: 35.0}, {est.value: 50.0}]
    validator = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=grid, evaluator=MeanPrediction(),
        splitter=ExpandingWindowSplitter(timeCol="t", horizon=10, numFolds=3), parallelism=2,
    )
    model, warned = _fit(validator, series)
    assert [row[0] for row in model.foldMetrics] == [100.0] + [pytest.approx(float("nan"), nan_ok=True)] * 2
    assert model.bestIndex == 1
    assert model.bestModel.value == 50.0
    table = model.summary()
    assert table["rank_test_score"].tolist() == [1, 2]  # best first; the NaN map ranks last
    assert table["nan_folds"].tolist() == [[], [1, 2]]
    assert len(warned) == 1 and "0 (NaN on folds [1, 2])" in str(warned[0].message)


def test_no_map_defined_on_every_fold_is_an_error_naming_the_folds(spark, series):
    est = Constant()
    validator = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.nanFrom: 0.0}, {est.nanFrom: 45.0}], evaluator=MeanPrediction(),
        splitter=ExpandingWindowSplitter(timeCol="t", horizon=10, numFolds=3),
    )
    with pytest.raises(ValueError) as error:
        validator.fit(series)
    assert "map 0: NaN on folds [0, 1, 2]" in str(error.value)
    assert "map 1: NaN on folds [2]" in str(error.value)
    # nothing left cached: checked after every test (conftest.py)


def test_r2_on_one_row_folds_is_minus_infinity_and_says_the_choice_is_arbitrary(spark, series):
    w = Watched()
    validator = ParallelCrossValidator(
        estimator=w, estimatorParamMaps=[{w.hold: 0.0}, {w.hold: 0.001}],
        evaluator=RegressionEvaluator(metricName="r2"),
        splitter=ExpandingWindowSplitter(timeCol="t", horizon=1, numFolds=3),
    )
    model, warned = _fit(validator, series)
    assert model.avgMetrics == [float("-inf")] * 2
    assert model.summary()["rank_test_score"].tolist() == [1, 1]
    assert len(warned) == 1 and "too small" in str(warned[0].message)


def test_params_of_two_stages_with_one_name_are_told_apart(spark, series):
    first, second = Watched(), Watched()
    grid = ParamGridBuilder().addGrid(first.hold, [0.0]).addGrid(second.hold, [0.0, 0.001]).build()
    model = ParallelCrossValidator(
        estimator=Pipeline(stages=[first, second]), estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1),
    ).fit(series)
    keys = {f"{first.uid}.hold", f"{second.uid}.hold"}
    assert [set(p) for p in model.cvResults["params"]] == [keys, keys]
    assert [p[f"{second.uid}.hold"] for p in model.cvResults["params"]] == [0.0, 0.001]
    assert set(model.bestParams) == keys
    assert set(model.summary()["params"].iloc[0]) == keys


def test_fit_time_is_each_tasks_own_fit_not_its_wait(spark, series):
    hold = 0.3
    w = Watched()
    validator = ParallelCrossValidator(
        estimator=w, estimatorParamMaps=[{w.hold: hold}, {w.hold: hold + 0.01}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=3, seed=2), parallelism=2,
    )
    start = time.perf_counter()
    model = validator.fit(series)
    elapsed = time.perf_counter() - start
    results = model.cvResults
    # Each fit sleeps ``hold``: the fit time holds it ...
    assert min(results["mean_fit_time"]) >= hold
    # ... and the tasks' own times, summed, fit in the two threads' time: no task counted a wait.
    busy = sum((fit + score) * 3 for fit, score in zip(results["mean_fit_time"], results["mean_score_time"]))
    assert busy <= 2 * elapsed
