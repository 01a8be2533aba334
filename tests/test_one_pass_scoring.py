"""Scoring a fold's param maps in one Spark job (issue 11, part 3): the same metrics as Spark's
RegressionEvaluator (the oracle), one job per fold instead of one per map, and the evaluator's own
errors where one pass cannot stand in for it."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyspark.ml.base import Model
from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator
from pyspark.ml.param.shared import HasPredictionCol
from pyspark.ml.regression import LinearRegression
from pyspark.sql import functions as F

from conftest import spark_settings
from estimators import jobs_of, macro_investment
from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator
from splitcv.queue import TaskFailed
from splitcv.scoring import one_pass_metric, score_in_one_pass

# RegressionEvaluator settings one pass computes (the evaluators need a session, built in the tests)
EVALUATORS = [
    {"metricName": "rmse"},
    {"metricName": "mse"},
    {"metricName": "mae"},
    {"metricName": "r2"},
    {"metricName": "r2", "throughOrigin": True},
    {"metricName": "rmse", "weightCol": "w"},
    {"metricName": "mae", "weightCol": "w"},
]


@pytest.fixture(scope="module")
def macro(spark):
    """statsmodels' quarterly US macro data, with weights that include zeros."""
    return macro_investment(spark, weighted=True)


def _lr_grid():
    lr = LinearRegression(maxIter=20)
    return lr, [{lr.regParam: r, lr.elasticNetParam: e} for r in (0.0, 10.0, 100.0) for e in (0.0, 1.0)]


@pytest.fixture(scope="module")
def fitted_grid(macro):
    """The grid's models fitted once on the first 150 quarters, and the validation rows after them:
    every evaluator setting below scores the same models."""
    lr, grid = _lr_grid()
    train, validation = macro.filter("t < 150"), macro.filter("t >= 150")
    return validation, [(lr.fit(train, m), m) for m in grid]


@pytest.mark.parametrize("settings", EVALUATORS, ids=lambda e: "-".join(str(v) for v in e.values()))
def test_one_pass_gives_the_evaluators_metric_for_every_model(spark, fitted_grid, settings):
    evaluator = RegressionEvaluator(**settings)
    validation, models = fitted_grid
    expected = [evaluator.evaluate(model.transform(validation, m)) for model, m in models]
    assert score_in_one_pass(evaluator, validation, models) == pytest.approx(expected, rel=1e-12)


class _Column(Model, HasPredictionCol):
    """Predicts the values of column ``source`` (so a test chooses every prediction)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def _transform(self, dataset):
        return dataset.withColumn(self.getPredictionCol(), F.col(self.source))

    def copy(self, extra=None):
        that = super().copy(extra)
        that.source = self.source
        return that


NAN, INF = float("nan"), float("inf")
finite = st.floats(-1e3, 1e3, allow_nan=False)
rows = st.lists(
    st.tuples(
        st.one_of(finite, st.just(NAN)),  # label
        finite,  # prediction a
        st.one_of(finite, st.sampled_from([NAN, INF, -INF])),  # prediction b
        st.sampled_from([0.0, 0.5, 1.0, 3.0]),  # weight
    ),
    min_size=1, max_size=12,
)


# five drawn examples beside the explicit ones (each example is four Spark jobs); every edge case
# known has an @example, so the draws only look for new ones
@hypothesis_settings(spark_settings, max_examples=5)
@given(rows=rows, settings=st.sampled_from(EVALUATORS))
# SStot = 0 with a NaN error: Spark's 1 - NaN/0 is NaN, not -inf
@example(rows=[(0.0, 0.0, NAN, 1.0)], settings={"metricName": "r2"})
@example(rows=[(NAN, 1.0, 2.0, 1.0)], settings={"metricName": "r2"})
@example(rows=[(2.0, 1.0, 2.0, 1.0), (2.0, 3.0, 2.0, 1.0)], settings={"metricName": "r2"})  # constant label
@example(rows=[(0.0, 1.0, 0.0, 1.0)], settings={"metricName": "r2", "throughOrigin": True})
@example(rows=[(1.0, 1.0, INF, 1.0), (2.0, 1.5, 0.0, 1.0)], settings={"metricName": "mae"})
@example(rows=[(1.0, 1.0, 2.0, 0.0), (2.0, 0.5, NAN, 0.0)], settings={"metricName": "rmse", "weightCol": "w"})  # every weight 0
def test_one_pass_agrees_with_the_evaluator_on_any_rows(spark, rows, settings):
    evaluator = RegressionEvaluator(**settings)
    # labels, two prediction columns (one with NaNs), weights with zeros: rows of weight 0 do not
    # count, even with a NaN prediction; one row gives r2 = -inf or NaN as in Spark
    frame = spark.createDataFrame(rows, "label double, a double, b double, w double")
    models = [(_Column("a"), {}), (_Column("b"), {})]
    try:
        expected = [evaluator.evaluate(model.transform(frame)) for model, _ in models]
    except Exception:  # every weight 0: Spark's summarizer refuses; one pass must hand it back
        assert score_in_one_pass(evaluator, frame, models) is None
        return
    got = score_in_one_pass(evaluator, frame, models)
    for g, e in zip(got, expected):
        assert (math.isnan(g) and math.isnan(e)) or g == pytest.approx(e, rel=1e-9, abs=1e-9)


# two folds: the saving is per fold, so two show it as well as more would
@pytest.mark.parametrize("splitter", [KFoldSplitter(numFolds=2, seed=4), ExpandingWindowSplitter(timeCol="t", horizon=20, numFolds=2)], ids=["kfold", "window"])
def test_the_validator_scores_each_fold_in_one_job_with_the_same_results(spark, macro, splitter):
    lr, grid = _lr_grid()
    # three maps (regParam 0, 10 and 100: three different models, so swapped metrics would show), the
    # fewest that one pass applies to: one job saved per fold, which scoring map by map would not save
    # (every map of the grid is checked against the evaluator in
    # test_one_pass_gives_the_evaluators_metric_for_every_model)
    grid = grid[::2]

    def fit(together):
        return ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), splitter=splitter,
            parallelism=4, refit=False, scoreInOnePass=together,
        ).fit(macro)

    apart, apart_jobs = jobs_of(spark, lambda: fit(False))
    together, together_jobs = jobs_of(spark, lambda: fit(True))
    for row_apart, row_together in zip(apart.foldMetrics, together.foldMetrics):
        assert row_together == pytest.approx(row_apart, rel=1e-12)
    assert together.bestIndex == apart.bestIndex
    # per fold one aggregation instead of one evaluator job per map (adaptive execution runs the
    # aggregation as 2 jobs: its shuffle stage and the result)
    assert len(together.foldMetrics) == 2 and apart_jobs - together_jobs == 2 * (len(grid) - 2)
    assert all(t > 0 for t in together.cvResults["mean_score_time"])


@pytest.mark.parametrize(
    "make",
    [lambda: RegressionEvaluator(metricName="var"), lambda: RegressionEvaluator(metricName="r2", weightCol="w"),
     BinaryClassificationEvaluator],
    ids=["var", "weighted-r2", "binary"],
)
def test_metrics_one_pass_cannot_compute_are_scored_map_by_map(spark, make):
    assert one_pass_metric(make()) is None


def test_pipelines_and_maps_that_move_the_prediction_are_scored_map_by_map(spark):
    from pyspark.ml import Pipeline

    from splitcv.scoring import predicts_into

    lr = LinearRegression()
    evaluator = RegressionEvaluator()
    assert predicts_into(lr, [{lr.regParam: 0.0}, {lr.regParam: 1.0}], evaluator)
    assert not predicts_into(lr, [{lr.regParam: 0.0}, {lr.predictionCol: "p"}], evaluator)
    assert not predicts_into(Pipeline(stages=[lr]), [{lr.regParam: 0.0}], evaluator)


def test_a_subclass_of_the_evaluator_is_scored_map_by_map(spark):
    class Mine(RegressionEvaluator):
        pass

    assert one_pass_metric(Mine()) is None


def test_a_null_label_fails_as_the_evaluator_fails_naming_the_map(spark, macro):
    lr, grid = _lr_grid()
    holed = macro.withColumn("label", F.when(F.col("t") == 202, F.lit(None)).otherwise(F.col("label")))
    with pytest.raises(TaskFailed, match=r"(?s)fold 2 .*scoring fold 2's param maps together, param map 0 \{regParam: 0.0, .*MatchError"):
        ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=grid[:3], evaluator=RegressionEvaluator(),
            splitter=ExpandingWindowSplitter(timeCol="t", horizon=10, numFolds=3), refit=False,
        ).fit(holed)


def test_score_in_one_pass_persists_and_can_be_turned_off(spark, tmp_path):
    lr, grid = _lr_grid()
    validator = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), splitter=KFoldSplitter(), scoreInOnePass=False,
    )
    validator.save(str(tmp_path / "v"))
    assert ParallelCrossValidator.load(str(tmp_path / "v")).getScoreInOnePass() is False
    assert ParallelCrossValidator().getScoreInOnePass() is True



class _Spy:
    def __init__(self, monkeypatch):
        import splitcv.validator as validator_module

        self.calls = []
        real = validator_module.score_in_one_pass

        def spy(evaluator, validation, models):
            result = real(evaluator, validation, models)
            self.calls.append((len(models), result is not None))
            return result

        monkeypatch.setattr(validator_module, "score_in_one_pass", spy)


@pytest.mark.parametrize(
    "case", ["two maps", "var", "weighted r2", "pipeline"],
)
def test_what_one_pass_cannot_score_runs_map_by_map_in_parallel_tasks(spark, macro, monkeypatch, case):
    # decided before any fit: the fold's tasks each score their own map, none waits for the others
    from pyspark.ml import Pipeline

    spy = _Spy(monkeypatch)
    lr, grid = _lr_grid()
    estimator, evaluator = lr, RegressionEvaluator()
    # otherwise three maps, as many as one pass needs: but for what the case names, these maps
    # would be scored together (test_dotted_and_existing_columns_and_sub_models)
    grid = grid[:2] if case == "two maps" else grid[:3]
    if case == "var":
        evaluator = RegressionEvaluator(metricName="var")
    elif case == "weighted r2":
        evaluator = RegressionEvaluator(metricName="r2", weightCol="w")
    elif case == "pipeline":
        estimator = Pipeline(stages=[lr])
    ParallelCrossValidator(
        estimator=estimator, estimatorParamMaps=grid, evaluator=evaluator,
        splitter=KFoldSplitter(numFolds=2, seed=3), refit=False, parallelism=2,
    ).fit(macro)
    assert spy.calls == []


def test_dotted_and_existing_columns_and_sub_models(spark, macro, monkeypatch):
    spy = _Spy(monkeypatch)
    lr, grid = _lr_grid()
    dotted = macro.withColumn("price.usd", F.col("realgdp") * 2)
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid[:3], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=3), refit=False, collectSubModels=True,
    ).fit(dotted)
    assert spy.calls == [(3, True), (3, True)]  # a column with a dot in its name is kept as it is
    # the sub-models are the fitted models, not the copies that wrote to a column of their own
    assert {m.getPredictionCol() for row in model.subModels for m in row} == {"prediction"}
    # a validation set that already has the prediction column: Spark's model refuses, as map by map
    with pytest.raises(TaskFailed, match="prediction"):
        ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=grid[:3], evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2, seed=3), refit=False,
        ).fit(macro.withColumn("prediction", F.lit(0.0)))


def test_a_failing_shared_query_falls_back_to_the_evaluator(spark, macro, monkeypatch):
    import splitcv.validator as validator_module

    def broken(evaluator, validation, models):
        raise RuntimeError("executor lost")

    monkeypatch.setattr(validator_module, "score_in_one_pass", broken)
    lr, grid = _lr_grid()
    # the shared query failed; map by map every model scores, so the fit succeeds with the evaluator's numbers
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid[:3], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=3), refit=False, scoreInOnePass=True,
    ).fit(macro)
    assert all(math.isfinite(v) for row in model.foldMetrics for v in row)
