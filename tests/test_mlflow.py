"""splitcv.mlflow.autolog against a real MLflow tracking store (SQLite in a temp directory), read
back through MlflowClient: what a fit logs, where, and that logging never changes a fit."""

from __future__ import annotations

import importlib.abc
import importlib.util
import io
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import LinearRegression

import splitcv.mlflow
from estimators import Watched
from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator

ROOT = Path(__file__).resolve().parent.parent
HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None
needs_mlflow = pytest.mark.skipif(not HAS_MLFLOW, reason="mlflow is not installed: pip install 'splitcv[mlflow]'")
PNG = b"\x89PNG\r\n\x1a\n"
GRID = (0.0, 1.0, 100.0)


# -- without mlflow, or before autolog() -------------------------------------------------------------
def test_importing_splitcv_never_imports_mlflow():
    # A fresh interpreter (this one imports mlflow for the tests below); no Spark is started.
    script = (
        "import sys, splitcv, splitcv.mlflow, splitcv.plot, splitcv.listeners\n"
        "print(sorted(m for m in sys.modules if m == 'mlflow' or m.startswith('mlflow.')))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


class _NoMlflow(importlib.abc.MetaPathFinder):
    """Records any import of mlflow (sys.modules is emptied of it first, so no import goes unseen)."""
    def __init__(self) -> None:
        self.asked: list[str] = []

    def find_spec(self, name, path=None, target=None):
        if name == "mlflow" or name.startswith("mlflow."):
            self.asked.append(name)
            raise ImportError(f"{name} is blocked by this test")
        return None


@pytest.fixture(scope="module")
def unlogged(days):
    """A fit with autologging never turned on, watched for imports of mlflow; (model, imports asked)."""
    splitcv.mlflow.autolog(disable=True)
    hidden = {name: sys.modules.pop(name) for name in list(sys.modules) if name == "mlflow" or name.startswith("mlflow.")}
    blocker = _NoMlflow()
    sys.meta_path.insert(0, blocker)
    try:
        model = _quick_validator().fit(days)
    finally:
        sys.meta_path.remove(blocker)
        sys.modules.update(hidden)
    return model, blocker.asked


def test_a_fit_never_imports_mlflow_until_autolog(unlogged):
    model, asked = unlogged
    assert asked == [] and len(model.avgMetrics) == 2


def test_autolog_without_mlflow_names_the_extra(monkeypatch):
    from splitcv.listeners import fit_listeners

    monkeypatch.setitem(sys.modules, "mlflow", None)  # what an absent package looks like to import
    with pytest.raises(ImportError, match=r"pip install 'splitcv\[mlflow\]'"):
        splitcv.mlflow.autolog()
    assert splitcv.mlflow._listener not in fit_listeners()
    splitcv.mlflow.autolog(disable=True)  # turning it off needs no mlflow


def test_autolog_refuses_non_boolean_options():
    with pytest.raises(TypeError, match=r"log_models='yes'"):
        splitcv.mlflow.autolog(log_models="yes")


# -- against a real store -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A SQLite tracking store and an experiment whose artifacts stay in the temp directory."""
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    experiment = mlflow.create_experiment("splitcv-tests", artifact_location=(folder / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    yield mlflow.MlflowClient(), experiment

    splitcv.mlflow.autolog(disable=True)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(before)
    if hasattr(mlflow.tracking.fluent, "_active_experiment_id"):  # the experiment was in the temp store
        mlflow.tracking.fluent._active_experiment_id = None


@pytest.fixture(scope="module")
def days(spark):
    rows = [(d, Vectors.dense([float(d), float(d % 7)]), 2.0 * d + (d % 5)) for d in range(40)]
    return spark.createDataFrame(rows, ["day", "features", "label"])


def _validator(estimator=None, grid=None, folds=3):
    lr = estimator or LinearRegression(maxIter=7)
    maps = grid if grid is not None else [{lr.regParam: r} for r in GRID]
    return ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=maps, evaluator=RegressionEvaluator(),
        splitter=ExpandingWindowSplitter(timeCol="day", horizon=5, numFolds=folds), parallelism=2,
    )


def _quick_validator():
    """Two maps on two folds: for the tests of where a fit logs, not what."""
    lr = LinearRegression(maxIter=7)
    return _validator(lr, [{lr.regParam: 0.0}, {lr.regParam: 100.0}], folds=2)


def _failing_validator():
    """Fails in its first fit, right after planning the folds (no model is fitted)."""
    watched = Watched()
    return _validator(watched, [{watched.failOn: True}], folds=2)


@pytest.fixture(scope="module")
def logged(store, days):
    """One fit with everything logged, in a run that autolog creates (none is active); (model, run,
    the runs the fit created)."""
    import mlflow

    client, experiment = store
    before = {r.info.run_id for r in _runs(client, experiment)}
    splitcv.mlflow.autolog()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", splitcv.mlflow.MlflowLoggingWarning)
            model = _validator().fit(days)
    finally:
        splitcv.mlflow.autolog(disable=True)
    assert mlflow.active_run() is None  # the run autolog opened has ended with the fit
    created = [r for r in _runs(client, experiment) if r.info.run_id not in before]
    parent = next(r for r in created if "mlflow.parentRunId" not in r.data.tags)
    return model, parent, created


def _runs(client, experiment):
    return client.search_runs([experiment], max_results=1000)


def _children(client, experiment, parent_id):
    runs = client.search_runs([experiment], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    return sorted(runs, key=lambda r: int(r.data.tags["param_map_index"]))




@needs_mlflow
def test_a_fit_without_a_run_logs_into_a_run_of_its_own(logged):
    model, run, created = logged
    assert len(created) == 1 + len(GRID)  # the parent and a child per map
    assert all(r.info.status == "FINISHED" for r in created)
    assert run.data.tags["mlflow.autologging"] == "splitcv"


@needs_mlflow
def test_parent_run_holds_the_validator_splitter_and_best(logged):
    model, run, _ = logged
    params, metrics = run.data.params, run.data.metrics
    assert run.info.status == "FINISHED" and run.data.tags["mlflow.autologging"] == "splitcv"
    assert run.data.tags["estimator_class"] == "splitcv.validator.ParallelCrossValidator"
    for name in ("parallelism", "refit", "racing", "racingConfidence", "racingRule", "racingKeep", "singleClassFolds",
                 "memoryBudget"):
        assert params[name] == str(model.getOrDefault(name))
    assert (params["estimator"], params["evaluator"], params["splitter"]) == (
        "LinearRegression", "RegressionEvaluator", "ExpandingWindowSplitter")
    assert params["ExpandingWindowSplitter.horizon"] == "5" and params["ExpandingWindowSplitter.timeCol"] == "day"
    assert params["RegressionEvaluator.metricName"] == "rmse"
    # The estimator's own settings are on the parent; what the grid tunes is per child run.
    assert params["LinearRegression.maxIter"] == "7" and "LinearRegression.regParam" not in params
    assert "estimatorParamMaps" not in params
    assert params["best_regParam"] == str(model.bestParams["regParam"])
    assert metrics["best_avg_rmse"] == model.avgMetrics[model.bestIndex]
    assert metrics["best_std_rmse"] == model.stdMetrics[model.bestIndex]
    assert run.data.tags["best_param_map_index"] == str(model.bestIndex)


@needs_mlflow
def test_one_child_run_per_map_with_its_fold_metrics(logged, store):
    client, experiment = store
    model, run, _ = logged
    children = _children(client, experiment, run.info.run_id)
    assert [c.data.tags["param_map_index"] for c in children] == ["0", "1", "2"]
    for j, child in enumerate(children):
        assert child.info.status == "FINISHED" and child.info.run_name == f"map-{j}"
        assert child.data.params == {"regParam": str(GRID[j])}
        assert child.data.tags["estimator_name"] == "LinearRegression"
        assert child.data.metrics["avg_rmse"] == model.avgMetrics[j]
        assert child.data.metrics["std_rmse"] == model.stdMetrics[j]
        assert child.data.metrics["mean_fit_time"] == model.cvResults["mean_fit_time"][j]
        history = sorted((m.step, m.value) for m in client.get_metric_history(child.info.run_id, "fold_rmse"))
        assert history == [(f, model.foldMetrics[f][j]) for f in range(3)]
        # Independent of how the model averaged: the logged folds' mean and (population) std.
        values = [v for _, v in history]
        mean = sum(values) / 3
        assert child.data.metrics["avg_rmse"] == pytest.approx(mean, rel=1e-12)
        assert child.data.metrics["std_rmse"] == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in values) / 3), rel=1e-9)


@needs_mlflow
def test_results_table_and_best_params_are_artifacts(logged, store):
    import mlflow
    import pandas as pd

    model, run, _ = logged
    run_id = run.info.run_id
    assert {"cv_results.csv", "best_parameters.json"} <= {a.path for a in store[0].list_artifacts(run_id)}
    table = pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/cv_results.csv")), index_col="map")
    expected = model.summary(wide=True)
    assert list(table.index) == list(expected.index) and list(table.columns) == list(expected.columns)
    for column in ("mean_test_score", "std_test_score", "split0_test_score", "split2_test_score", "mean_fit_time"):
        assert table[column].tolist() == pytest.approx(expected[column].tolist(), rel=1e-12)
    assert table["rank_test_score"].tolist() == expected["rank_test_score"].tolist()
    assert table["params"].tolist() == [str(p) for p in expected["params"]]
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/best_parameters.json") == model.bestParams


@needs_mlflow
def test_folds_picture_is_a_png(logged, tmp_path):
    pytest.importorskip("matplotlib")
    import mlflow

    _, run, _ = logged
    path = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/folds.png", dst_path=str(tmp_path))
    assert Path(path).read_bytes()[:8] == PNG


@needs_mlflow
def test_logged_best_model_loads_and_predicts_like_best_model(logged, days):
    import mlflow.spark

    model, run, _ = logged
    loaded = mlflow.spark.load_model(f"runs:/{run.info.run_id}/best_model")
    ours = model.bestModel.transform(days).select("day", "prediction").orderBy("day").collect()
    theirs = loaded.transform(days).select("day", "prediction").orderBy("day").collect()
    assert [r.prediction for r in theirs] == [r.prediction for r in ours]


@pytest.fixture
def quick(store):
    """autolog without the model and the picture (the fixture fit checks those), off afterwards."""
    splitcv.mlflow.autolog(log_models=False, log_plot=False)
    yield store
    splitcv.mlflow.autolog(disable=True)


@needs_mlflow
def test_a_fit_inside_a_run_logs_into_it_and_leaves_it_open(quick, days):
    import mlflow

    client, experiment = quick
    with mlflow.start_run() as outer:
        model = _quick_validator().fit(days)
        assert mlflow.active_run().info.run_id == outer.info.run_id
        assert client.get_run(outer.info.run_id).info.status == "RUNNING"
    run = client.get_run(outer.info.run_id)
    assert run.info.status == "FINISHED" and "mlflow.autologging" not in run.data.tags  # the user's run
    assert run.data.params["best_regParam"] == str(model.bestParams["regParam"])
    assert len(_children(client, experiment, outer.info.run_id)) == 2
    assert {a.path for a in client.list_artifacts(outer.info.run_id)} == {"cv_results.csv", "best_parameters.json"}


@needs_mlflow
def test_a_failed_fit_ends_the_run_it_opened_as_failed(quick, days):
    client, experiment = quick
    before = {r.info.run_id for r in _runs(client, experiment)}
    with pytest.raises(Exception, match="failing on purpose"):
        _failing_validator().fit(days)
    new = [r for r in _runs(client, experiment) if r.info.run_id not in before]
    assert [r.info.status for r in new] == ["FAILED"]
    assert new[0].data.params["estimator"] == "Watched"  # logged before the fit: the failure's context


@needs_mlflow
def test_a_failed_fit_inside_a_run_leaves_it_to_its_owner(quick, days):
    import mlflow

    client, _ = quick
    with pytest.raises(Exception, match="failing on purpose"):
        with mlflow.start_run() as outer:
            try:
                _failing_validator().fit(days)
            finally:
                assert mlflow.active_run().info.run_id == outer.info.run_id  # still open for its owner
    assert client.get_run(outer.info.run_id).info.status == "FAILED"  # ended by the with block


@needs_mlflow
def test_disable_stops_logging(store, days):
    from splitcv.listeners import fit_listeners

    client, experiment = store
    splitcv.mlflow.autolog(log_models=False, log_plot=False)
    splitcv.mlflow.autolog(disable=True)
    assert fit_listeners() == ()
    before = len(_runs(client, experiment))
    with pytest.raises(Exception, match="failing on purpose"):
        _failing_validator().fit(days)  # a run would be opened before the fit, and end FAILED
    assert len(_runs(client, experiment)) == before


@needs_mlflow
def test_logging_that_fails_warns_once_and_leaves_the_fit_alone(quick, days, unlogged, monkeypatch):
    client, experiment = quick

    def broken(*args, **kwargs):
        raise RuntimeError("the store is full")

    monkeypatch.setattr(splitcv.mlflow, "_log_children", broken)
    monkeypatch.setattr(splitcv.mlflow, "_log_table", broken)
    with pytest.warns(splitcv.mlflow.MlflowLoggingWarning) as caught:
        model = _quick_validator().fit(days)
    assert len(caught) == 1
    assert "the child runs (RuntimeError: the store is full)" in str(caught[0].message)
    assert "cv_results.csv" in str(caught[0].message)
    expected = unlogged[0]
    assert (model.avgMetrics, model.foldMetrics, model.bestIndex) == (expected.avgMetrics, expected.foldMetrics, expected.bestIndex)
    run = client.search_runs([experiment], "tags.`mlflow.autologging` = 'splitcv'", order_by=["attributes.start_time DESC"])[0]
    assert run.info.status == "FINISHED" and "best_avg_rmse" in run.data.metrics


@needs_mlflow
def test_silent_keeps_the_warning_back(quick, days, monkeypatch):
    splitcv.mlflow.autolog(log_models=False, log_plot=False, silent=True)
    monkeypatch.setattr(splitcv.mlflow, "_log_validator", lambda *a: 1 / 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", splitcv.mlflow.MlflowLoggingWarning)
        with pytest.raises(Exception, match="failing on purpose"):
            _failing_validator().fit(days)


@needs_mlflow
def test_a_validator_tuned_by_a_validator_logs_once(quick, days):
    client, experiment = quick
    watched = Watched()
    inner = _validator(watched, [{watched.hold: 0.0}], folds=2)
    outer = ParallelCrossValidator(
        estimator=inner, estimatorParamMaps=[{inner.parallelism: 1}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=2,
    )
    before = {r.info.run_id for r in _runs(client, experiment)}
    outer.fit(days)  # the inner fits run in task threads, and the refit in the outer fit's thread
    new = [r for r in _runs(client, experiment) if r.info.run_id not in before]
    parents = [r for r in new if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and len(new) == 2  # the outer fit and its one map's child: no inner fit
    # Two validators in one tree: named as MLflow names repeated classes, depth first.
    assert parents[0].data.params["estimator"] == "ParallelCrossValidator_2"
    assert parents[0].data.params["ParallelCrossValidator_2.estimator"] == "Watched"


@needs_mlflow
def test_with_mlflows_own_pyspark_autolog_too_there_is_one_run(quick, days):
    import mlflow.pyspark.ml

    client, experiment = quick
    before = {r.info.run_id for r in _runs(client, experiment)}
    mlflow.pyspark.ml.autolog(log_models=False, log_datasets=False, log_post_training_metrics=False, silent=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", splitcv.mlflow.MlflowLoggingWarning)
            _quick_validator().fit(days)
    finally:
        mlflow.pyspark.ml.autolog(disable=True)
    new = [r for r in _runs(client, experiment) if r.info.run_id not in before]
    parents = [r for r in new if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and len(new) == 1 + 2  # MLflow's run, splitcv's children; no inner fit
    parent = parents[0]
    assert parent.data.tags["mlflow.autologging"] == "pyspark.ml"  # MLflow opened it
    assert "best_avg_rmse" in parent.data.metrics and "best_regParam" in parent.data.params
    assert "cv_results.csv" in {a.path for a in client.list_artifacts(parent.info.run_id)}


@needs_mlflow
def test_drops_skips_and_nan_folds_reach_the_children(store):
    """A model as racing and singleClassFolds='skip' leave it (made by hand: no fit needed): a
    dropped map's folds it never ran and a skipped fold are not logged, a NaN the evaluator
    returned is; the drop is a metric and its reason a tag."""
    import mlflow

    from splitcv import ParallelCrossValidatorModel

    client, experiment = store
    nan = float("nan")
    lr = LinearRegression()
    validator = _validator(lr, [{lr.regParam: 0.0}, {lr.regParam: 1000.0}], folds=4)
    folds = [[1.0, 5.0], [nan, nan], [2.0, nan], [nan, nan]]  # fold 1 skipped; map 1 dropped after fold 0
    results = {
        "params": [{"regParam": 0.0}, {"regParam": 1000.0}], "mean_fit_time": [0.1, 0.2], "mean_score_time": [0.0, 0.0],
        "dropped_after_fold": [None, 0], "dropped_reason": [None, "worse than map 0"],
    }
    model = validator._copyValues(ParallelCrossValidatorModel(
        avgMetrics=[1.5, 5.0], stdMetrics=[0.5, 0.0], foldMetrics=folds, bestIndex=0, cvResults=results, skippedFolds=[1]))
    with mlflow.start_run() as parent:
        splitcv.mlflow._log_children(client, parent.info.run_id, validator, model, "rmse")
    kept, out = _children(client, experiment, parent.info.run_id)

    def history(run):
        return [(m.step, m.value) for m in sorted(client.get_metric_history(run.info.run_id, "fold_rmse"), key=lambda m: m.step)]

    assert history(kept)[:2] == [(0, 1.0), (2, 2.0)] and history(kept)[2][0] == 3 and math.isnan(history(kept)[2][1])
    assert "dropped_after_fold" not in kept.data.metrics and "dropped_reason" not in kept.data.tags
    assert history(out) == [(0, 5.0)]
    assert out.data.metrics["dropped_after_fold"] == 0 and out.data.tags["dropped_reason"] == "worse than map 0"
    assert out.data.params == {"regParam": "1000.0"} and out.data.metrics["avg_rmse"] == 5.0


def test_nested_params_are_named_as_mlflow_names_pipeline_stages(spark):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler

    from splitcv import OneOf

    first, second = LinearRegression(maxIter=3), LinearRegression(maxIter=9)
    choice = OneOf(candidates=[first, second])
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=["day"], outputCol="features"), choice])
    validator = _validator(pipeline, [{choice.candidate: 0, first.regParam: 0.5}, {choice.candidate: 1}])
    names = splitcv.mlflow._indexed_names(validator)
    tuned = {(p.parent, p.name) for m in validator.getEstimatorParamMaps() for p in m}
    flat = splitcv.mlflow._flat_params(validator, names, "", tuned, skip={"estimatorParamMaps"})
    assert flat["estimator"] == "Pipeline" and flat["Pipeline.stages"] == ["VectorAssembler", "OneOf"]
    assert flat["VectorAssembler.inputCols"] == ["day"] and flat["OneOf.candidates"] == ["LinearRegression_1", "LinearRegression_2"]
    assert (flat["LinearRegression_1.maxIter"], flat["LinearRegression_2.maxIter"]) == (3, 9)
    assert "LinearRegression_1.regParam" not in flat and "OneOf.candidate" not in flat  # tuned: per child run
    assert flat["LinearRegression_2.regParam"] == 0.0
    assert splitcv.mlflow._param_text(flat["Pipeline.stages"]) == "['VectorAssembler', 'OneOf']"
