"""splitcv.lean_fit: a LinearRegression fitted without its training summary is the model
``LinearRegression.fit`` gives, to the bit, and the validator fits that way only where nothing can
read the summary. The oracle is Spark's own ``fit`` on the same estimator and rows."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml import PipelineModel
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import ParamGridBuilder
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, LongType, StructField, StructType

import splitcv.lean_fit as lean_module
from conftest import spark_settings
from splitcv import ExpandingWindowSplitter, KFoldSplitter, OneOf, ParallelCrossValidator, nested_cross_validate
from splitcv.lean_fit import lean_fit, summary_free_path
from tests.estimators import jobs_of, macro_investment


def outcome(fit):
    """What a fit gives, in a form to compare: the error's type and message, or everything of the
    model that a prediction, a save or a reader of its Params could see (``hasSummary`` aside)."""
    try:
        model = fit()
    except Exception as error:  # both paths must fail alike, e.g. on a NaN label
        java = getattr(error, "java_exception", None)  # py4j's own message names the object it called
        return ("error", type(error).__name__, java.toString() if java is not None else str(error).split("\n")[0])
    coefficients = model.coefficients
    java = model._java_obj
    return (
        type(coefficients).__name__, coefficients.toArray().tobytes(), math.copysign(1.0, model.intercept),
        model.intercept, model.numFeatures, model.uid, java.parent().uid(),
        sorted((p.name, repr(v)) for p, v in model.extractParamMap().items()),
        str(java.extractParamMap()),
    )


def same_model(spark, estimator, frame):
    usual = outcome(lambda: estimator.fit(frame))
    lean = outcome(lambda: lean_fit(estimator, frame))
    assert lean == usual
    return usual


settings_grid = st.fixed_dictionaries({
    "regParam": st.sampled_from([0.0, 0.05, 3.0]),
    "elasticNetParam": st.sampled_from([0.0, 0.5, 1.0]),
    "fitIntercept": st.booleans(),
    "standardization": st.booleans(),
    "solver": st.sampled_from(["auto", "normal"]),
})


@st.composite
def regression_rows(draw):
    """Small data that reaches the corners of the normal solver: few rows, collinear or constant
    features, a constant label, integer columns (cast to double by fit), zero weights, sparse vectors,
    a features column with or without its size in the metadata, and now and then a NaN label."""
    n = draw(st.integers(0, 12))
    d = draw(st.integers(1, 4))
    value = st.sampled_from([0.0, 0.0, 1.0, -2.0, 3.5, 1e3, 0.25])
    features = [[draw(value) for _ in range(d)] for _ in range(n)]
    constant = draw(st.booleans())
    label = [7.0] * n if constant else [float(draw(st.integers(-20, 20))) for _ in range(n)]
    if n and draw(st.integers(0, 9)) == 0:
        label[draw(st.integers(0, n - 1))] = float("nan")
    weights = [draw(st.sampled_from([0, 1, 2, 5])) for _ in range(n)] if draw(st.booleans()) else None
    return features, label, weights, draw(st.sampled_from(["assembled", "dense", "sparse"])), draw(st.booleans())


def frame_of(spark, rows):
    features, label, weights, layout, integer_label = rows
    d = len(features[0]) if features else 1
    integer_label = integer_label and not any(map(math.isnan, label))  # fit casts the label to double
    labels = [int(y) for y in label] if integer_label else label
    w = weights or [1] * len(label)
    label_type = "bigint" if integer_label else "double"
    if layout == "assembled":  # VectorAssembler writes the vector's size into the column's metadata
        names = [f"x{j}" for j in range(d)]
        frame = spark.createDataFrame([[*x, y, v] for x, y, v in zip(features, labels, w)],
                                      ", ".join(f"{name} double" for name in names) + f", label {label_type}, w int")
        return VectorAssembler(inputCols=names, outputCol="features").transform(frame)
    vector = Vectors.dense if layout == "dense" else (lambda x: Vectors.sparse(d, {j: v for j, v in enumerate(x) if v}))
    schema = StructType([StructField("features", VectorUDT()), StructField("label", LongType() if integer_label else DoubleType()),
                         StructField("w", IntegerType())])
    return spark.createDataFrame([(vector(x), y, v) for x, y, v in zip(features, labels, w)], schema)


@spark_settings
@given(rows=regression_rows(), params=settings_grid, weighted=st.booleans())
# a constant label: zero coefficients, which Spark's model keeps compressed (sparse)
@example(rows=([[1.0, 0.0, 2.0], [3.5, 1.0, 0.0]], [7.0, 7.0], None, "dense", True),
         params=dict(regParam=0.0, elasticNetParam=0.0, fitIntercept=True, standardization=True, solver="auto"),
         weighted=False)
# a NaN label, sparse vectors without a size in the metadata, zero weights
@example(rows=([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]], [1.0, float("nan"), 3.0], [0, 1, 2], "sparse", False),
         params=dict(regParam=0.05, elasticNetParam=0.5, fitIntercept=True, standardization=False, solver="normal"),
         weighted=True)
# no rows at all
@example(rows=([], [], None, "dense", False),
         params=dict(regParam=0.0, elasticNetParam=0.0, fitIntercept=True, standardization=True, solver="normal"),
         weighted=False)
def test_a_lean_fit_is_the_fit_to_the_bit_on_any_rows_and_settings(spark, rows, params, weighted):
    estimator = LinearRegression(**params, **({"weightCol": "w"} if weighted else {}))
    same_model(spark, estimator, frame_of(spark, rows))


@pytest.mark.parametrize("weighted", [False, True])
def test_a_lean_fit_is_the_fit_to_the_bit_on_real_data(spark, weighted):
    """statsmodels' quarterly macro series: every setting of the normal path, weights of 0-3; in 16
    partitions, where the solver's tree aggregation has levels. Spark's normal path keeps the
    solver's default tree depth whatever aggregationDepth says; a fit that passed aggregationDepth=4
    on sums in another order and failed here (checked by that change, 2026-12-05)."""
    frame = macro_investment(spark, weighted=weighted).repartition(16, "t")
    models = set()
    for reg, net in [(0.0, 0.0), (0.5, 0.0), (0.5, 0.7), (5e4, 1.0)]:
        for intercept in (True, False):
            for standardize in (True, False):
                estimator = LinearRegression(regParam=reg, elasticNetParam=net, fitIntercept=intercept,
                                             standardization=standardize, aggregationDepth=4,
                                             **({"weightCol": "w"} if weighted else {}))
                models.add(same_model(spark, estimator, frame)[:2])
    assert len(models) > 8  # the settings gave different models: the comparison saw them all
    assert ("SparseVector", bytes(32)) in models  # an L1 penalty that zeroes every coefficient: compressed as Spark does
    # and a lean model has no summary, as it says
    assert not lean_fit(LinearRegression(), frame).hasSummary


@pytest.mark.parametrize("change, estimator", [
    (lambda frame: frame.withColumn("features", F.lit(1.0)), {}),  # not a vector
    (lambda frame: frame.withColumn("label", F.lit("high")), {}),  # not a number
    (lambda frame: frame.withColumn("prediction", F.lit(0.0)), {}),  # the output column exists
    (lambda frame: frame, {"weightCol": "nowhere"}),
    (lambda frame: frame.withColumn("w", F.lit(-1.0)), {"weightCol": "w"}),
    (lambda frame: frame.where("label < 0"), {"solver": "normal"}),  # no rows
], ids=["features", "label", "prediction", "weight-column", "negative-weight", "empty"])
def test_bad_input_fails_as_fit_fails(spark, change, estimator):
    frame = change(macro_investment(spark, weighted=True))
    assert same_model(spark, LinearRegression(**estimator), frame)[0] == "error"


def test_the_lean_fit_skips_one_pass_over_the_rows(spark):
    frame = macro_investment(spark)
    model, usual = jobs_of(spark, lambda: LinearRegression().fit(frame))
    _, lean = jobs_of(spark, lambda: lean_fit(LinearRegression(), frame))
    assert model.hasSummary and lean == usual - 1
    # fit also runs an input's shuffle for the partition count it logs (adaptive execution): a lean
    # fit does not
    shuffled = frame.repartition(4)
    _, usual = jobs_of(spark, lambda: LinearRegression().fit(shuffled))
    _, lean = jobs_of(spark, lambda: lean_fit(LinearRegression(), shuffled))
    assert (usual, lean) == (5, 2)


class Mine(LinearRegression):
    """A subclass may fit its own way: it is never fitted through Spark's internals."""


@pytest.mark.parametrize("make", [
    lambda: LinearRegression(solver="l-bfgs", maxIter=5),
    lambda: LinearRegression(loss="huber", maxIter=5),
    Mine,
], ids=["l-bfgs", "huber", "subclass"])
def test_other_paths_are_fitted_by_fit(spark, make):
    frame, estimator = macro_investment(spark), make()
    model = lean_fit(estimator, frame)
    assert model.hasSummary
    assert model.coefficients == estimator.fit(frame).coefficients


def test_auto_with_more_than_4096_features_is_spark_s_l_bfgs_path(spark):
    size = 4097
    rows = [(Vectors.sparse(size, {i % size: 1.0, (3 * i) % size: 2.0}), float(i % 5)) for i in range(12)]
    frame = spark.createDataFrame(rows, ["features", "label"])
    estimator = LinearRegression(maxIter=3)
    model = lean_fit(estimator, frame)
    assert model.hasSummary  # fitted by fit: l-bfgs keeps its objective history in the summary
    assert model.coefficients == estimator.fit(frame).coefficients


def test_another_spark_release_is_fitted_by_fit(spark, monkeypatch):
    frame = macro_investment(spark)
    assert summary_free_path(LinearRegression(), frame) == "auto"
    monkeypatch.setattr(lean_module, "CHECKED_SPARK", ("4.2.0", "4.3.0-SNAPSHOT"))
    assert summary_free_path(LinearRegression(), frame) is None
    assert lean_fit(LinearRegression(), frame).hasSummary


@pytest.mark.parametrize("where", ["class", "instance"])
def test_a_patched_fit_is_the_one_that_runs(spark, monkeypatch, where):
    """A tracer that wraps fit (on the class or on one estimator) sees every fit: the lean path
    steps aside."""
    traced = []
    estimator = LinearRegression()
    real = LinearRegression._fit

    def tracing(self, dataset):
        traced.append(self.uid)
        return real(self, dataset)

    if where == "class":
        monkeypatch.setattr(LinearRegression, "_fit", tracing)
    else:
        estimator._fit = tracing.__get__(estimator)
    model = lean_fit(estimator, macro_investment(spark))
    assert traced == [estimator.uid] and model.hasSummary


def test_fit_without_summary_refuses_what_has_no_such_path(spark):
    with pytest.raises(ValueError, match=r"loss='huber'.*squaredError with solver 'normal' or 'auto'.*call fit, or lean_fit"):
        lean_module.fit_without_summary(LinearRegression(loss="huber"), macro_investment(spark))


def test_a_one_of_is_fitted_as_its_chosen_candidate(spark):
    frame = macro_investment(spark)
    choice = OneOf(candidates=[LinearRegression(regParam=0.3), LinearRegression(solver="l-bfgs", maxIter=4)])
    same_model(spark, choice, frame)
    assert not lean_fit(choice, frame).hasSummary
    assert lean_fit(choice.copy({choice.candidate: 1}), frame).hasSummary


# -- in the validator ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tuned(spark):
    """The same cross-validation three ways: lean fits (the default), leanFits=False, and lean fits
    with the sub-models kept; with the Spark jobs each ran."""
    frame = macro_investment(spark)
    lr = LinearRegression()
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 1.0]).build()

    def run(**kwargs):
        cv = ParallelCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
                                    splitter=KFoldSplitter(numFolds=3, seed=5), parallelism=2,
                                    scoreInOnePass=False, **kwargs)
        return jobs_of(spark, lambda: cv.fit(frame))

    return {"lean": run(), "usual": run(leanFits=False), "collected": run(collectSubModels=True)}


def test_the_validator_fits_lean_by_default_with_the_same_metrics_and_one_job_less_per_fit(tuned):
    (lean, lean_jobs), (usual, usual_jobs) = tuned["lean"], tuned["usual"]
    assert lean.getLeanFits() and not usual.getLeanFits()
    assert lean.foldMetrics == usual.foldMetrics  # to the bit
    assert lean.avgMetrics == usual.avgMetrics
    assert usual_jobs - lean_jobs == 3 * 2  # one summary pass per (fold, map) fit
    assert lean.bestModel.hasSummary  # bestModel is refit as usual: the user reads its summary


def test_kept_sub_models_keep_their_summaries(tuned):
    model, jobs = tuned["collected"]
    assert jobs == tuned["usual"][1]
    assert all(sub.hasSummary for fold in model.subModels for sub in fold)


def test_lean_fits_takes_booleans_only():
    with pytest.raises(TypeError, match="leanFits"):
        ParallelCrossValidator(leanFits="yes")


@pytest.mark.parametrize("lean", [True, False])
def test_nested_cross_validation_fits_lean_inside_and_in_the_outer_refits(spark, monkeypatch, lean):
    lean_fits = []
    real = lean_module._fit_linear_regression_without_summary
    monkeypatch.setattr(lean_module, "_fit_linear_regression_without_summary",
                        lambda estimator, frame: lean_fits.append(estimator) or real(estimator, frame))
    lr = LinearRegression()
    validator = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=2, leanFits=lean,
    )
    outer = ExpandingWindowSplitter(timeCol="t", horizon=40, numFolds=2)
    result = nested_cross_validate(validator, macro_investment(spark), outer)
    assert len(result.outerMetrics) == 2
    # 2 outer folds x 2 inner folds x 2 maps, then one refit per outer fold
    assert len(lean_fits) == (2 * 2 * 2 + 2 if lean else 0)


# -- pipelines -------------------------------------------------------------------------------------


def _macro_columns(spark):
    """The macro data with its feature columns apart, for pipelines that assemble them."""
    return macro_investment(spark).drop("features")


def _pipeline_models_agree(usual, lean):
    """Two PipelineModels with the same stages, fitted the same way but for LinearRegression's summary."""
    assert [type(s) for s in usual.stages] == [type(s) for s in lean.stages]
    for a, b in zip(usual.stages, lean.stages):
        if isinstance(a, PipelineModel):
            _pipeline_models_agree(a, b)
        elif type(a).__name__ == "LinearRegressionModel":
            assert outcome(lambda: b) == outcome(lambda: a) and a.hasSummary and not b.hasSummary
        else:
            assert a.uid == b.uid


def test_a_pipeline_is_fitted_stage_by_stage_with_lean_stages(spark):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import SQLTransformer, StandardScaler

    frame = _macro_columns(spark)
    inner = Pipeline(stages=[VectorAssembler(inputCols=["realgdp", "realcons", "tbilrate", "unemp"], outputCol="raw"),
                             StandardScaler(inputCol="raw", outputCol="features")])
    # a transformer that drops rows before the LinearRegression (it fits on what that one leaves), a
    # LinearRegression in the middle, and a transformer after the last estimator: Pipeline.fit keeps
    # that one as it is
    after = SQLTransformer(statement="SELECT *, 1 AS one FROM __THIS__")
    pipeline = Pipeline(stages=[inner, SQLTransformer(statement="SELECT * FROM __THIS__ WHERE t % 3 != 0"),
                                LinearRegression(regParam=0.1), StandardScaler(inputCol="raw", outputCol="scaled"), after])
    usual, lean = pipeline.fit(frame), lean_fit(pipeline, frame)
    _pipeline_models_agree(usual, lean)
    assert lean.stages[4] is after and lean.stages[3] is not pipeline.getStages()[3]
    assert [r.prediction for r in lean.transform(frame).collect()] == [r.prediction for r in usual.transform(frame).collect()]
    with pytest.raises(TypeError, match="Cannot recognize a pipeline stage of type"):
        lean_fit(Pipeline(stages=[VectorAssembler(), "not a stage"]), frame)


def test_a_pipeline_fit_is_pyspark_s_where_no_stage_gains_or_fit_is_not_pyspark_s(spark, monkeypatch):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StandardScaler

    frame = _macro_columns(spark)
    calls = []
    real = Pipeline._fit
    monkeypatch.setattr(Pipeline, "_fit", lambda self, dataset: calls.append(self.uid) or real(self, dataset))
    assemble = VectorAssembler(inputCols=["realgdp", "realcons"], outputCol="features")
    # a patched Pipeline._fit (the one above) is the one that runs: the LinearRegression keeps its summary
    with_lr = Pipeline(stages=[assemble, LinearRegression()])
    assert lean_fit(with_lr, frame).stages[1].hasSummary and calls == [with_lr.uid]
    monkeypatch.setattr(lean_module, "_PIPELINE_FITS", (Pipeline.fit, Pipeline._fit))  # as if unpatched
    calls.clear()
    assert not lean_fit(with_lr, frame).stages[1].hasSummary and calls == []
    # nothing to gain: no LinearRegression stage
    scaler_only = Pipeline(stages=[assemble, StandardScaler(inputCol="features", outputCol="scaled")])
    lean_fit(scaler_only, frame)
    assert calls == [scaler_only.uid]
    # another Spark release: pyspark's Pipeline.fit, whatever its stages
    monkeypatch.setattr(lean_module, "CHECKED_SPARK", ("4.2.0",))
    assert lean_fit(with_lr, frame).stages[1].hasSummary and calls[-1] == with_lr.uid

    class MyPipeline(Pipeline):
        pass

    mine = MyPipeline(stages=[assemble, LinearRegression()])
    monkeypatch.setattr(lean_module, "CHECKED_SPARK", ("4.3.0",))
    assert lean_fit(mine, frame).stages[1].hasSummary and calls[-1] == mine.uid


@pytest.fixture(scope="module")
def pipeline_reference(spark):
    """A Pipeline whose grid touches its LinearRegression only (the shared prefix applies), fitted
    with leanFits=False: the metrics every lean path must give."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StandardScaler

    lr = LinearRegression()
    pipeline = Pipeline(stages=[
        VectorAssembler(inputCols=["realgdp", "realcons", "tbilrate", "unemp"], outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features"), lr,
    ])
    grid = [{lr.regParam: 0.0}, {lr.regParam: 2.0}]

    def validator(**kwargs):
        return ParallelCrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
                                      splitter=KFoldSplitter(numFolds=3, seed=2), parallelism=2, refit=False, **kwargs)

    return validator, validator(leanFits=False).fit(_macro_columns(spark))


@pytest.mark.parametrize("paths", [
    {"sharePipelinePrefix": True, "cachePrefixOutput": True},
    {"sharePipelinePrefix": True, "cachePrefixOutput": False},
    {"sharePipelinePrefix": False},
], ids=["shared-prefix-cached", "shared-prefix", "whole-pipeline"])
def test_the_validator_fits_a_pipeline_s_linear_regression_lean_on_every_path(spark, monkeypatch, pipeline_reference, paths):
    validator, reference = pipeline_reference
    lean_fits = []
    real = lean_module._fit_linear_regression_without_summary
    monkeypatch.setattr(lean_module, "_fit_linear_regression_without_summary",
                        lambda estimator, frame: lean_fits.append(estimator) or real(estimator, frame))
    model = validator(**paths).fit(_macro_columns(spark))
    assert len(lean_fits) == 3 * 2  # every (fold, map) fit
    assert model.foldMetrics == reference.foldMetrics  # to the bit


def test_kept_pipeline_sub_models_keep_their_summaries(spark, pipeline_reference):
    validator, _ = pipeline_reference
    model = validator(collectSubModels=True).fit(_macro_columns(spark))
    assert all(sub.stages[-1].hasSummary for fold in model.subModels for sub in fold)
