"""splitcv on Spark Connect: a real Connect server, the same results as the classic session.

The server (``connect_server``) runs local[2] with the classic fixture's partitioning settings; each
result is computed once on the classic ``spark`` session (inside ``classic_mode()``, since the open
Connect session switches pyspark's functions and ML wrappers to Connect) and once over Connect.
"""

from __future__ import annotations

import ast
import contextlib
import threading
import time
from functools import reduce
from pathlib import Path

import pytest
from pyspark.ml.base import Estimator
from pyspark.ml.linalg import Vectors
from pyspark.ml.param import Param, Params, TypeConverters

import splitcv
from estimators import CachesTrainingSet, ConstantModel
from splitcv import (
    BlockedKFoldSplitter,
    CombinatorialPurgedSplitter,
    ExpandingWindowSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
    SlidingWindowSplitter,
    StratifiedKFoldSplitter,
)
from splitcv.queue import THREAD_PREFIX, TaskFailed

from . import classic_mode

pytestmark = pytest.mark.cluster

ROWS = [(d, Vectors.dense([float(d), float(d % 7)]), 2.0 * d + (d % 5), d % 3) for d in range(120)]
COLUMNS = ["day", "features", "label", "fold"]


def _with_wall_clock(frame):
    """Adds ``at``: a TIMESTAMP_NTZ ``day`` hours after 1970-01-01 00:00."""
    from pyspark.sql import functions as F

    return frame.withColumn("at", F.timestamp_seconds(F.col("day") * 3600).cast("timestamp_ntz"))


@pytest.fixture(scope="module")
def frames(spark, connect):
    """The same rows as a classic and as a Connect DataFrame."""
    with classic_mode():
        classic = _with_wall_clock(spark.createDataFrame(ROWS, COLUMNS))
    return classic, _with_wall_clock(connect.createDataFrame(ROWS, COLUMNS))


# -- splitters -------------------------------------------------------------------------------------

SPLITTERS = {
    "kfold-random": lambda: KFoldSplitter(numFolds=3, seed=11),
    "kfold-column": lambda: KFoldSplitter(numFolds=3, foldCol="fold"),
    "expanding": lambda: ExpandingWindowSplitter(timeCol="day", horizon=10, gap=2, numFolds=3),
    "expanding-ntz": lambda: ExpandingWindowSplitter(timeCol="at", horizon="5 hours", gap="2 hours", numFolds=3),
    "sliding": lambda: SlidingWindowSplitter(timeCol="day", windowSize=30, horizon=10, numFolds=3),
    "blocked": lambda: BlockedKFoldSplitter(timeCol="day", numFolds=4, gap=2),
    "stratified": lambda: StratifiedKFoldSplitter(labelCol="fold", numFolds=3, seed=2),
    "group": lambda: GroupKFoldSplitter(groupCol="label", numFolds=4),
    "combinatorial": lambda: CombinatorialPurgedSplitter(timeCol="day", numGroups=5, numTestGroups=2, embargo=2),
}


def _folds(splitter, data):
    """``describe``, and every fold's days on each side from ``split``'s DataFrames (one job)."""
    from pyspark.sql import functions as F

    pairs = splitter.split(data)
    parts = [
        frame.select(F.lit(index).alias("f"), F.lit(side).alias("side"), "day")
        for index, (train, validation) in enumerate(pairs)
        for side, frame in (("train", train), ("validation", validation))
    ]
    members: dict = {}
    for row in reduce(lambda a, b: a.unionAll(b), parts).collect():
        members.setdefault((row["f"], row["side"]), []).append(row["day"])
    return splitter.describe(data), {key: sorted(days) for key, days in members.items()}, len(pairs)


@pytest.mark.parametrize("name", sorted(SPLITTERS))
def test_splitters_make_the_same_folds_over_connect(frames, name):
    classic, remote = frames
    with classic_mode():
        expected = _folds(SPLITTERS[name](), classic)
    got = _folds(SPLITTERS[name](), remote)
    assert got == expected
    infos, members, k = got
    assert len(infos) == k and len(members) == 2 * k


# -- the validator ----------------------------------------------------------------------------------


def _validator(splitter=None, **kwargs):
    """Built inside the mode it runs in: a JavaEstimator made in classic mode holds a JVM object."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression

    lr = LinearRegression(solver="normal")
    return ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 3.0}],
        evaluator=RegressionEvaluator(metricName="rmse"),
        splitter=splitter or KFoldSplitter(numFolds=2, seed=5), parallelism=4, **kwargs,
    )


class _Tripwire:
    def __init__(self, name: str, touched: list) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_touched", touched)

    def __getattr__(self, attr):
        self._touched.append(f"{self._name}.{attr}")
        raise AssertionError(f"splitcv touched {self._name}.{attr} on a Connect session")


@contextlib.contextmanager
def _jvm_tripwires():
    """Record every use of the classic SparkContext, the JVM gateway, ``session.sparkContext``,
    ``DataFrame.rdd`` or a ``_j*`` handle while a Connect fit runs. In a full test run the classic
    session of this same process is alive: without the tripwires, code that reached for
    ``SparkContext._active_spark_context`` would silently use it instead of failing."""
    from pyspark.core.context import SparkContext
    from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    touched: list[str] = []
    patches = [(SparkContext, name, _Tripwire(f"SparkContext.{name}", touched))
               for name in ("_active_spark_context", "_gateway", "_jvm")]
    jvm_names = {"sparkContext", "_jsc", "_jvm", "_jconf", "_jsparkSession", "_jdf", "_jseq", "_jmap", "_jcols", "rdd"}

    def spy(cls):
        original = cls.__getattr__

        def __getattr__(self, name):
            if name in jvm_names:
                touched.append(f"{cls.__name__}.{name}")
            return original(self, name)

        return __getattr__

    patches += [(ConnectSession, "__getattr__", spy(ConnectSession)), (ConnectDataFrame, "__getattr__", spy(ConnectDataFrame))]
    if "rdd" in vars(ConnectDataFrame):
        patches.append((ConnectDataFrame, "rdd", property(lambda self: touched.append("DataFrame.rdd"))))
    saved = [(owner, name, vars(owner).get(name)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield touched
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


@pytest.fixture(scope="module")
def fitted(frames):
    """The same cross-validation, fitted on both sessions; the Connect one under JVM tripwires."""
    classic, remote = frames
    with classic_mode():
        expected = _validator(collectSubModels=True).fit(classic)
        expected_predictions = [r.prediction for r in expected.transform(classic).orderBy("day").collect()]
    cv = _validator(collectSubModels=True)
    with _jvm_tripwires() as touched:
        model = cv.fit(remote)
        predictions = [r.prediction for r in model.transform(remote).orderBy("day").collect()]
    return {"cv": cv, "model": model, "predictions": predictions, "touched": list(touched),
            "expected": expected, "expected_predictions": expected_predictions}


def test_fit_and_transform_over_connect_equal_classic(fitted):
    model, expected = fitted["model"], fitted["expected"]
    assert isinstance(model, ParallelCrossValidatorModel)
    assert model.folds == expected.folds
    for row, expected_row in zip(model.foldMetrics, expected.foldMetrics):
        assert row == pytest.approx(expected_row, rel=1e-9)
    assert model.avgMetrics == pytest.approx(expected.avgMetrics, rel=1e-9)
    assert model.stdMetrics == pytest.approx(expected.stdMetrics, rel=1e-9, abs=1e-12)
    assert model.bestIndex == expected.bestIndex
    assert len(model.subModels) == 2 and all(len(row) == 2 for row in model.subModels)
    assert fitted["predictions"] == pytest.approx(fitted["expected_predictions"], rel=1e-9)


def test_connect_fit_never_touches_the_jvm_gateway(fitted):
    assert fitted["touched"] == []


def test_lean_fits_fall_back_to_fit_over_connect(frames):
    """Sub-models not collected: classic fits LinearRegression without its summary (splitcv.lean_fit),
    Connect has no such path and fits as usual, without touching the JVM; the metrics agree."""
    classic, remote = frames
    with classic_mode():
        expected = _validator(refit=False).fit(classic)
    with _jvm_tripwires() as touched:
        model = _validator(refit=False).fit(remote)
    assert touched == [] and model.getLeanFits()
    for row, expected_row in zip(model.foldMetrics, expected.foldMetrics):
        assert row == pytest.approx(expected_row, rel=1e-9)


def _classifier_pipeline():
    """A Pipeline whose grid touches its last stage only (a shared prefix), under a classification
    evaluator (class counts per fold): built inside the mode it runs in."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    # two iterations (each a job per fit): enough for the two maps to score differently
    lr = LogisticRegression(maxIter=2, labelCol="above")
    pipeline = Pipeline(stages=[
        StringIndexer(inputCol="weekday", outputCol="weekday_i"),
        VectorAssembler(inputCols=["features", "weekday_i"], outputCol="all"),
        lr.setFeaturesCol("all"),
    ])
    return ParallelCrossValidator(
        estimator=pipeline, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}],
        evaluator=BinaryClassificationEvaluator(labelCol="above"), splitter=KFoldSplitter(numFolds=2, seed=5),
        parallelism=4, refit=False, collectSubModels=True,
    )


def test_shared_pipeline_prefix_and_class_counts_over_connect_equal_classic(frames):
    from pyspark.sql import functions as F

    def prepared(frame):
        return frame.withColumn("weekday", (F.col("day") % 7).cast("string")).withColumn(
            "above", (F.col("day") % 5 >= 2).cast("double"))

    classic, remote = frames
    with classic_mode():
        expected = _classifier_pipeline().fit(prepared(classic))
    with _jvm_tripwires() as touched:
        model = _classifier_pipeline().fit(prepared(remote))
    assert touched == []
    assert model.folds == expected.folds and all(len(f.validation_classes) == 2 for f in model.folds)
    for row, expected_row in zip(model.foldMetrics, expected.foldMetrics):
        assert row == pytest.approx(expected_row, rel=1e-9)
    # one StringIndexer fit per fold (one model on the server), a copy of it in each map's pipeline
    assert all(m[0].stages[0] is not m[1].stages[0] for m in model.subModels)
    assert all(m[0].stages[0]._java_obj is m[1].stages[0]._java_obj for m in model.subModels)


def test_one_pass_scoring_over_connect_equals_classic_map_by_map(frames, monkeypatch):
    """Three maps: a fold's models are scored in one aggregation over Connect (models copied and
    redirected to columns of their own there too), with the classic evaluator's numbers."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression

    import splitcv.validator as validator_module

    def validator(together):
        lr = LinearRegression(solver="normal")
        return ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=[{lr.regParam: r} for r in (0.0, 1.0, 3.0)],
            evaluator=RegressionEvaluator(metricName="r2"), splitter=KFoldSplitter(numFolds=2, seed=5),
            parallelism=4, refit=False, scoreInOnePass=together,
        )

    classic, remote = frames
    with classic_mode():
        expected = validator(False).fit(classic)
    passes = []
    real = validator_module.score_in_one_pass
    monkeypatch.setattr(validator_module, "score_in_one_pass",
                        lambda *args: passes.append(real(*args)) or passes[-1])
    with _jvm_tripwires() as touched:
        model = validator(True).fit(remote)
    assert touched == []
    assert len(passes) == 2 and all(p is not None for p in passes)  # one pass per fold, none fell back
    for row, expected_row in zip(model.foldMetrics, expected.foldMetrics):
        assert row == pytest.approx(expected_row, rel=1e-9)


@pytest.mark.parametrize("budget, most", [(1, 1), ("auto", 4)])
def test_memory_budget_over_connect(frames, budget, most):
    """A size holds over Connect (the input's size from the optimizer's statistics); 'auto' cannot
    read storage memory there and sets no budget."""
    from pyspark.ml.evaluation import RegressionEvaluator

    _, remote = frames
    est = CachesTrainingSet()
    CachesTrainingSet.reset()
    with _jvm_tripwires() as touched:
        ParallelCrossValidator(
            estimator=est, estimatorParamMaps=[{est.hold: 0.3}, {est.hold: 0.31}], evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=4, refit=False, memoryBudget=budget,
        ).fit(remote.select("day", "label"))
    assert touched == []
    assert CachesTrainingSet.most == most


#: Where the library may touch SparkContext or the JVM: SessionControl's classic branches, and the
#: demo's own local session.
ALLOWED_JVM_USE = {
    ("queue.py", "SessionControl.wrap.tagged"),
    ("queue.py", "SessionControl.cancel"),
    ("queue.py", "SessionControl.persistent_rdds"),
    ("queue.py", "SessionControl.unpersist_rdds"),
    ("queue.py", "SessionControl.storage_memory"),  # the memory budget: each behind `if self.is_connect`
    ("queue.py", "SessionControl.storage_fraction"),
    ("queue.py", "SessionControl.cached_bytes"),
    ("queue.py", "SessionControl.dataset_bytes"),
    ("demo.py", "start_spark"),
    ("inference.py", "predict_spark"),  # broadcast the model only when not on Connect (_is_connect first)
    # reached only through summary_free_path, which refuses Connect (is_remote first)
    ("lean_fit.py", "_fit_linear_regression_without_summary"),
}
JVM_ATTRIBUTES = {"sparkContext", "_jsc", "_jvm", "_jconf", "_jsparkSession", "_jdf", "rdd", "_gateway",
                  "_active_spark_context", "SparkContext"}


def _jvm_uses(path: Path) -> set[tuple[str, str]]:
    uses: set[tuple[str, str]] = set()

    def visit(node, scope):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = scope + [node.name]
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.alias):
            name = node.name.rsplit(".", 1)[-1]
        if name in JVM_ATTRIBUTES:
            uses.add((path.name, ".".join(scope) or "<module>"))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(ast.parse(path.read_text()), [])
    return uses


def test_library_reaches_the_jvm_only_behind_the_classic_checks():
    root = Path(splitcv.__file__).parent
    uses = set().union(*(_jvm_uses(p) for p in root.rglob("*.py")))
    assert uses <= ALLOWED_JVM_USE, f"new JVM access outside SessionControl's classic branches: {uses - ALLOWED_JVM_USE}"
    # each SessionControl method that touches the JVM decides on is_connect first
    source = (root / "queue.py").read_text()
    tree = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == "SessionControl")
    for method in tree.body:
        if isinstance(method, ast.FunctionDef) and any(q.startswith(f"SessionControl.{method.name}") for _, q in uses):
            assert "self.is_connect" in ast.get_source_segment(source, method), method.name


# -- persistence ------------------------------------------------------------------------------------


def test_save_with_overwrite_and_load_over_connect(fitted, frames, tmp_path):
    from custom_splitters import EveryOtherDay

    _, remote = frames
    model, cv = fitted["model"], fitted["cv"]
    path = str(tmp_path / "saved")
    # another validator, with a custom (Python) splitter, is there first
    _validator(splitter=EveryOtherDay(period=3)).write().save(path)
    with pytest.raises(Exception, match="already exists"):
        cv.write().save(path)
    cv.write().overwrite().save(path)
    cv_loaded = ParallelCrossValidator.load(path)
    assert cv_loaded.uid == cv.uid and isinstance(cv_loaded.getSplitter(), KFoldSplitter)
    assert cv_loaded.getSplitter().getSeed() == 5 and cv_loaded.getParallelism() == 4
    assert [{p.name: v for p, v in m.items()} for m in cv_loaded.getEstimatorParamMaps()] == [
        {"regParam": 0.0}, {"regParam": 3.0}]

    model.write().overwrite().save(path)  # now the fitted model replaces the validator
    loaded = ParallelCrossValidatorModel.load(path)
    for name in ("avgMetrics", "stdMetrics", "foldMetrics", "bestIndex", "folds", "cvResults"):
        assert getattr(loaded, name) == getattr(model, name), name
    for f in range(2):
        for j in range(2):
            assert loaded.subModels[f][j].coefficients == model.subModels[f][j].coefficients, (f, j)
    assert [r.prediction for r in loaded.transform(remote).orderBy("day").collect()] == fitted["predictions"]

    cv.write().overwrite().save(path)  # and back: nothing of the model's save is left behind
    assert sorted(p.name for p in Path(path).iterdir()) == ["estimator", "evaluator", "metadata", "splitter"]
    assert ParallelCrossValidator.load(path).uid == cv.uid


def test_param_maps_holding_estimators_and_one_of_fit_save_and_load_over_connect(frames, tmp_path):
    """Param maps whose values are Params objects (a Pipeline's stages) and a OneOf choosing among
    estimator types: each map fits its own estimator, as on classic, and the validator and its model
    save and load with every such value."""
    from pyspark.ml import Pipeline
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import DecisionTreeRegressor, LinearRegression

    from splitcv import OneOf

    def validators():
        lr, tree = LinearRegression(maxIter=5), DecisionTreeRegressor(maxDepth=2, seed=1)
        pipeline = Pipeline(stages=[lr])
        by_stages = ParallelCrossValidator(
            estimator=pipeline, estimatorParamMaps=[{pipeline.stages: [lr]}, {pipeline.stages: [tree]}],
            evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=2, seed=3), parallelism=4, refit=False,
        )
        choice = OneOf(candidates=[LinearRegression(maxIter=5), DecisionTreeRegressor(maxDepth=2, seed=1)])
        one_of = ParallelCrossValidator(
            estimator=choice, estimatorParamMaps=choice.grid({}), evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2, seed=3), parallelism=4, refit=False,
        )
        return by_stages, one_of

    classic, remote = frames
    with classic_mode():
        expected = [v.fit(classic) for v in validators()]
    fitted = []
    with _jvm_tripwires() as touched:
        for index, validator in enumerate(validators()):
            model = validator.fit(remote)
            validator.write().save(str(tmp_path / f"cv{index}"))
            model.write().save(str(tmp_path / f"model{index}"))
            fitted.append((validator, model, ParallelCrossValidator.load(str(tmp_path / f"cv{index}")),
                           ParallelCrossValidatorModel.load(str(tmp_path / f"model{index}"))))
    assert touched == []
    for (validator, model, loaded_cv, loaded), classic_model in zip(fitted, expected):
        assert model.avgMetrics == pytest.approx(classic_model.avgMetrics, rel=1e-9)
        assert model.avgMetrics[0] != model.avgMetrics[1]  # each map fitted its own estimator
        assert loaded.avgMetrics == model.avgMetrics and loaded.cvResults == model.cvResults
    (stages_cv, _, stages_back, _), (_, one_of_model, _, one_of_back) = fitted
    for saved, back in zip(stages_cv.getEstimatorParamMaps(), stages_back.getEstimatorParamMaps()):
        (value,), (value_back,) = saved.values(), back.values()
        assert [(type(s), s.uid) for s in value_back] == [(type(s), s.uid) for s in value]
    assert [row["estimator"] for row in one_of_model.cvResults["params"]] == ["LinearRegression", "DecisionTreeRegressor"]
    assert [type(c).__name__ for c in one_of_back.getEstimator().getCandidates()] == ["LinearRegression", "DecisionTreeRegressor"]


# -- failing clean ------------------------------------------------------------------------------------


class Heartbeat(Estimator):
    """Each fit runs one long Spark job whose Python UDF sleeps per row and appends a byte to a file
    (written by the server's Python workers: the job's progress, seen from outside). ``failOn`` raises
    as soon as that job is running."""

    failOn = Param(Params._dummy(), "failOn", "raise once a slow job runs", typeConverter=TypeConverters.toBoolean)
    seconds = Param(Params._dummy(), "seconds", "sleep per row", typeConverter=TypeConverters.toFloat)

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.path = path
        self._setDefault(failOn=False, seconds=0.2)

    def _fit(self, dataset):
        from pyspark.sql import functions as F

        path = self.path
        if self.getOrDefault(self.failOn):
            deadline = time.time() + 120
            while time.time() < deadline and beats(path) == 0:
                time.sleep(0.05)
            raise RuntimeError("failing on purpose")
        seconds = self.getOrDefault(self.seconds)

        @F.udf("double")
        def slow(x):
            import time as _time

            _time.sleep(seconds)
            with open(path, "a") as out:
                out.write("x")
            return float(x)

        dataset.repartition(2).select(slow(F.col("label")).alias("v")).agg(F.sum("v")).collect()
        return ConstantModel(0.0)


def beats(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except FileNotFoundError:
        return 0


def test_failure_over_connect_cancels_the_running_jobs(frames, connect, tmp_path):
    from pyspark.ml.evaluation import RegressionEvaluator

    _, remote = frames
    path = str(tmp_path / "heartbeat")
    est = Heartbeat(path)
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.failOn: False}, {est.failOn: True}],
        evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=2), parallelism=4,
    )
    with pytest.raises(TaskFailed, match=r"param map 1 \{failOn: True\} failed: RuntimeError: failing on purpose"):
        cv.fit(remote)
    failed_at, at_failure = time.time(), beats(path)
    assert at_failure > 0
    # Two slow jobs of ~60 rows each (0.2 s a row, 2 cores) would beat ~120 times in ~12 s.
    # Cancelled, the server's Python workers stop within Spark's kill timeout (2 s): the heartbeat
    # goes still, well before the jobs could have finished.
    last, still_since = beats(path), time.time()
    while time.time() - still_since < 2.0:
        assert time.time() - failed_at < 10, f"jobs still running {time.time() - failed_at:.1f}s after the failure"
        time.sleep(0.2)
        now = beats(path)
        if now != last:
            last, still_since = now, time.time()
    assert last < 100, f"{last} rows were processed: the slow jobs ran (nearly) to the end"
    assert [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)] == []
    start = time.time()
    assert remote.count() == 120  # the server is free again: a new job is not queued behind old ones
    assert time.time() - start < 10


def test_predict_spark_over_connect(connect):
    """Connect has no SparkContext to broadcast with: the pickled model travels inside the UDF, and
    the predictions are still the model's own; the checks still run before any job."""
    pytest.importorskip("sklearn")
    import numpy as np
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from splitcv.inference import predict_spark

    X, y = load_wine(return_X_y=True, as_frame=True)  # one column is "od280/od315_of_diluted_wines": quoted
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    df = connect.createDataFrame(X.assign(id=range(len(X))))
    scored = predict_spark(model, df, method="predict_proba")
    rows = scored.toPandas().sort_values("id")
    np.testing.assert_allclose(np.stack(rows["probability"]), model.predict_proba(rows[list(X.columns)]), rtol=1e-12)
    with pytest.raises(ValueError, match=r"featureCols 'alcohol' is not in the DataFrame"):
        predict_spark(model, df.drop("alcohol"))


def test_grid_search_through_spark_backend_over_connect(connect):
    """joblibspark runs each batch through mapInPandas on Connect: the scores are the sequential
    search's, every fit ran in a Python worker of the server, and n_jobs=-1 is joblibspark's 64."""
    pytest.importorskip("joblibspark")
    import os

    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, cross_validate

    from splitcv.sklearn import ExpandingWindowCV, spark_backend

    class PidRidge(Ridge):
        def fit(self, X, y, sample_weight=None):
            self.pid_ = os.getpid()
            return super().fit(X, y, sample_weight=sample_weight)

    X, y = load_diabetes(return_X_y=True)
    cv = ExpandingWindowCV(time=np.arange(len(X)), horizon=40, numFolds=3)
    grid = {"alpha": [0.01, 1.0, 100.0]}
    here = GridSearchCV(PidRidge(), grid, cv=cv).fit(X, y)
    with spark_backend(n_jobs=2) as in_flight:
        there = GridSearchCV(PidRidge(), grid, cv=cv).fit(X, y)
        fitted = cross_validate(PidRidge(), X, y, cv=cv, return_estimator=True)
    assert in_flight == 2
    np.testing.assert_array_equal(there.cv_results_["mean_test_score"], here.cv_results_["mean_test_score"])
    assert os.getpid() not in {e.pid_ for e in fitted["estimator"]}


def test_a_prefix_output_persisted_over_connect_is_found_again_and_let_go(frames):
    """What cachePrefixOutput relies on: a DataFrame made by a fitted ML model's transform, persisted
    over Connect, is the cached plan when the client sends it again (the server rebuilds the plan
    from the model each time), and unpersist finds it."""
    from pyspark import StorageLevel
    from pyspark.ml.feature import StringIndexer
    from pyspark.sql import functions as F

    _, remote = frames
    data = remote.withColumn("weekday", (F.col("day") % 7).cast("string"))
    model = StringIndexer(inputCol="weekday", outputCol="weekday_i").fit(data)
    output = model.transform(data).persist(StorageLevel.DISK_ONLY)
    try:
        assert output.storageLevel == StorageLevel.DISK_ONLY
        assert output.where("1 >= 0").count() == len(ROWS)
        assert "InMemoryRelation" in output.where("1 >= 0")._explain_string(extended=True)
    finally:
        output.unpersist()
    assert output.storageLevel == StorageLevel.NONE
