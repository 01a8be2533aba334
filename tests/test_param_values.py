"""Param maps whose values are Params objects (issue 13, part 1): a OneVsRest's classifier, a
Pipeline's stages. Fit, save and load keep every such value (uid, Params, nested stages); the
writer honours ``persistSubModels``; Params are saved through pyspark's public helpers.

The oracle for the metrics is pyspark alone: a OneVsRest built without a classifier (whose copy keeps
the map's) fitted on a fold's training rows and scored on its validation rows."""

from __future__ import annotations

import os

import pytest

from estimators import jobs_settled
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import DecisionTreeClassifier, LogisticRegression, OneVsRest
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.tuning import ParamGridBuilder
from pyspark.sql import functions as F

from splitcv import KFoldSplitter, ParallelCrossValidator, ParallelCrossValidatorModel


@pytest.fixture(scope="module")
def wine(spark):
    """scikit-learn's wine data (178 wines, 3 cultivars), four of its measurements, a fixed fold column
    (two folds: what is claimed holds fold by fold, and each fold costs every map's fit)."""
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True).frame
    columns = ["alcohol", "malic_acid", "flavanoids", "color_intensity"]
    rows = [(i % 2, *(float(r[c]) for c in columns), float(r["target"])) for i, r in enumerate(data.to_dict("records"))]
    return spark.createDataFrame(rows, ["fold", *columns, "label"]).withColumn("fold", F.col("fold").cast("int"))


FEATURES = ["alcohol", "malic_acid", "flavanoids", "color_intensity"]


def _params(stage):
    return {p.name: v for p, v in stage.extractParamMap().items() if stage.isSet(p)}


def _ova_grid(default_classifier: bool = True):
    assembler = VectorAssembler(inputCols=FEATURES, outputCol="features")
    # maxIter=1: each iteration is a Spark job, per class; the oracle fits with the same Params, and
    # regParam=5 still underfits by far (accuracy about 0.48 against 0.93)
    ova = OneVsRest(classifier=LogisticRegression(maxIter=1)) if default_classifier else OneVsRest()
    grid = ParamGridBuilder().addGrid(
        ova.classifier, [LogisticRegression(maxIter=1, regParam=0.0), LogisticRegression(maxIter=1, regParam=5.0)]
    ).build()
    return Pipeline(stages=[assembler, ova]), grid


@pytest.fixture(scope="module")
def ova_fit(wine):
    pipeline, grid = _ova_grid()
    validator = ParallelCrossValidator(
        estimator=pipeline, estimatorParamMaps=grid, evaluator=MulticlassClassificationEvaluator(metricName="accuracy"),
        splitter=KFoldSplitter(numFolds=2, foldCol="fold"), parallelism=4,
    )
    sc = wine.sparkSession.sparkContext
    persisted = lambda: {int(k) for k in sc._jsc.getPersistentRDDs().keySet().toArray()}  # noqa: E731
    before = persisted()
    model = validator.fit(wine)
    return pipeline, grid, validator, model, persisted() - before


def test_concurrent_one_vs_rest_fits_leave_no_cache_behind(ova_fit):
    """pyspark's OneVsRest persists its training DataFrame; maps of one fold fitted at once must not
    share that cache entry (see test_validator's test_each_task_fits_on_a_plan_of_its_own)."""
    assert ova_fit[4] == set()


def test_a_grid_over_a_classifier_fits_each_classifier_and_saves_every_value(spark, wine, ova_fit, tmp_path):
    """pyspark's OneVsRest.copy keeps the classifier it was built with and drops the map's, so
    Spark's CrossValidator fits the same classifier for every map. Here each map's classifier is
    fitted: the metrics equal Spark's on a OneVsRest built without a classifier, whose copy keeps
    the map's (the oracle)."""
    pipeline, grid, ours, model, _ = ova_fit
    bare, bare_grid = _ova_grid(default_classifier=False)
    train, validation = wine.where("fold != 0"), wine.where("fold == 0")
    expected = [ours.getEvaluator().evaluate(bare.fit(train, m).transform(validation)) for m in bare_grid]
    assert model.foldMetrics[0] == pytest.approx(expected, rel=1e-12)
    assert model.avgMetrics[0] > model.avgMetrics[1]  # regParam=5 underfits: a real difference
    assert model.cvResults["params"][1] == {"classifier": "LogisticRegression(maxIter=1, regParam=5.0)"}
    ova = pipeline.getStages()[1]
    assert model.bestParams["classifier"] is grid[0][ova.classifier]
    assert model.bestModel.stages[1].getClassifier().uid == grid[0][ova.classifier].uid  # the refit too

    ours.write().save(str(tmp_path / "cv"))
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv"))
    for saved, back in zip(grid, loaded.getEstimatorParamMaps()):
        (param, value), = saved.items()
        (param_back, value_back), = back.items()
        assert (param_back.parent, param_back.name) == (param.parent, param.name)
        assert type(value_back) is LogisticRegression and value_back.uid == value.uid
        assert _params(value_back) == _params(value)

    model.write().save(str(tmp_path / "model"))
    back = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    assert back.avgMetrics == model.avgMetrics and back.cvResults == model.cvResults
    assert _params(back.bestParams["classifier"]) == {"maxIter": 1, "regParam": 0.0}
    assert back.bestModel.stages[1].models[0].coefficients == model.bestModel.stages[1].models[0].coefficients
    assert back.transform(wine).collect() == model.transform(wine).collect()


def test_a_grid_over_a_pipelines_stages_saves_nested_stages(spark, wine, tmp_path):
    """Two candidate stage lists, one with a nested Pipeline; an object used by both maps is saved
    once and comes back as one object."""
    assembler = VectorAssembler(inputCols=FEATURES, outputCol="raw")
    scaled = Pipeline(stages=[StandardScaler(inputCol="raw", outputCol="features")])
    tree = DecisionTreeClassifier(maxDepth=2, seed=1)
    lr = LogisticRegression(maxIter=1, featuresCol="raw")  # the claim is about the save; each iteration is a job
    pipeline = Pipeline(stages=[assembler, lr])
    grid = [{pipeline.stages: [assembler, lr]}, {pipeline.stages: [assembler, scaled, tree]}]
    cv = ParallelCrossValidator(
        estimator=pipeline, estimatorParamMaps=grid, evaluator=MulticlassClassificationEvaluator(),
        splitter=KFoldSplitter(numFolds=2, foldCol="fold"), parallelism=2,
    )
    model = cv.fit(wine)
    model.write().save(str(tmp_path / "model"))
    assert sorted(d for d in os.listdir(tmp_path / "model") if d.startswith("epm_")) == [
        "epm_0", "epm_1", "epm_2", "epm_3"]  # assembler, lr, the nested pipeline, tree: each once
    back = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    first, second = (m[p] for m, p in zip(back.getEstimatorParamMaps(), [pipeline.stages] * 2))
    assert [s.uid for s in first] == [assembler.uid, lr.uid]
    assert [s.uid for s in second] == [assembler.uid, scaled.uid, tree.uid]
    assert first[0] is second[0]  # shared before the save, shared after
    assert isinstance(second[1], Pipeline) and second[1].getStages()[0].getOutputCol() == "features"
    assert _params(second[2]) == _params(tree)
    assert isinstance(back.bestModel, PipelineModel) and back.avgMetrics == model.avgMetrics


def test_persist_sub_models_false_leaves_them_out(spark, tmp_path):
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.linalg import Vectors
    from pyspark.ml.regression import LinearRegression

    days = spark.createDataFrame([(Vectors.dense([float(d)]), 2.0 * d + d % 3) for d in range(40)], ["features", "label"])
    lr = LinearRegression(solver="normal")
    # one map: the claim is about the writer's option, and each sub-model costs a save and a load
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 1.0}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2), parallelism=4, collectSubModels=True,
    ).fit(days)
    model.write().option("persistSubModels", "false").save(str(tmp_path / "without"))
    assert not os.path.exists(tmp_path / "without" / "subModels")
    without = ParallelCrossValidatorModel.load(str(tmp_path / "without"))
    assert without.subModels is None and without.avgMetrics == model.avgMetrics
    model.write().option("persistSubModels", "true").save(str(tmp_path / "with"))
    assert ParallelCrossValidatorModel.load(str(tmp_path / "with")).subModels[0][0] is not None
    with pytest.raises(ValueError, match=r'option\("persistSubModels", \'maybe\'\) is not "true" or "false"'):
        model.write().option("persistSubModels", "maybe").save(str(tmp_path / "bad"))
    model.subModels = None
    with pytest.raises(ValueError, match="collectSubModels=True"):
        model.write().option("persistSubModels", "true").save(str(tmp_path / "none"))
    assert not os.path.exists(tmp_path / "bad") and not os.path.exists(tmp_path / "none")


def test_every_json_param_is_saved_through_pysparks_metadata(spark, tmp_path):
    """No hand-kept list: every Param but the four stage-like ones and the callback (a function, never
    saved) is in pyspark's metadata, set or default, and a load gives them all back."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression
    from pyspark.ml.util import DefaultParamsReader

    lr = LinearRegression()
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2), parallelism=3, racing=True, racingConfidence=0.9,
        memoryBudget="2g", singleClassFolds="skip", scoreInOnePass=False, sharePipelinePrefix=False, refit=False,
        cachePrefixOutput=False, leanFits=False,
    )
    cv.write().save(str(tmp_path / "cv"))
    metadata = DefaultParamsReader.loadMetadata(str(tmp_path / "cv"), spark)
    stage_like = {"estimator", "evaluator", "splitter", "estimatorParamMaps", "callback"}
    assert set(metadata["paramMap"]) == {p.name for p in cv.params} - stage_like
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv"))
    for param in cv.params:
        if param.name not in stage_like:
            assert loaded.getOrDefault(param.name) == cv.getOrDefault(param.name), param.name


def test_a_map_value_a_param_does_not_take_is_refused_before_any_job(spark, wine):
    from pyspark.ml.regression import LinearRegression

    lr = LinearRegression()
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}, {lr.regParam: LogisticRegression()}],
        evaluator=MulticlassClassificationEvaluator(), splitter=KFoldSplitter(numFolds=2),
    )
    sc = spark.sparkContext
    sc.setJobGroup("refused-map", "refused-map")
    try:
        with pytest.raises(TypeError, match=r"estimatorParamMaps\[1\] sets LinearRegression_\w+\.regParam to LogisticRegression_\w+, which that Param does not take"):
            cv.fit(wine)
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    jobs_settled(sc)
    assert sc.statusTracker().getJobIdsForGroup("refused-map") == []


def test_a_value_that_cannot_be_saved_is_named_before_the_earlier_save_is_replaced(spark, tmp_path):
    from estimators import Watched

    assembler = VectorAssembler(inputCols=FEATURES, outputCol="features")
    ova = OneVsRest(classifier=LogisticRegression())
    pipeline = Pipeline(stages=[assembler, ova])
    cv = ParallelCrossValidator(
        estimator=pipeline, estimatorParamMaps=[{ova.classifier: LogisticRegression(regParam=1.0)}],
        evaluator=MulticlassClassificationEvaluator(), splitter=KFoldSplitter(numFolds=2),
    )
    path = str(tmp_path / "cv")
    cv.write().save(path)
    for maps, match in [
        ([{ova.classifier: Watched()}], r"estimatorParamMaps\[0\] sets classifier to Watched_\w+: a Watched, which has no write\(\)"),
        ([{}, {pipeline.stages: [assembler, "ova"]}], r"estimatorParamMaps\[1\] sets stages to .*: a list, which cannot be saved"),
    ]:
        with pytest.raises(ValueError, match=match):
            cv.copy().setEstimatorParamMaps(maps).write().overwrite().save(path)
    assert ParallelCrossValidator.load(path).getEstimatorParamMaps()[0][ova.classifier].getRegParam() == 1.0


# -- apply_map: every value of a map is in force ----------------------------------------------------


def test_a_classifier_copied_from_the_ovas_own_is_applied_although_it_has_the_same_uid(spark):
    """``lr.copy({...})`` keeps lr's uid: a uid cannot tell whether OneVsRest.copy kept the map's."""
    from splitcv.param_maps import apply_map, dropped_values

    lr = LogisticRegression(maxIter=10)
    ova = OneVsRest(classifier=lr)
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=FEATURES, outputCol="features"), ova])
    grid = ParamGridBuilder().addGrid(ova.classifier, [lr.copy({lr.regParam: 0.0}), lr.copy({lr.regParam: 50.0})]).build()
    assert ova.copy(grid[1]).getClassifier().getRegParam() == 0.0  # pyspark's copy drops it
    assert dropped_values(pipeline, grid[1]) == [ova.classifier]
    applied = apply_map(pipeline, grid[1]).getStages()[1].getClassifier()
    assert applied.getRegParam() == 50.0 and applied is not grid[1][ova.classifier]  # a copy of its own


def test_a_list_of_stages_carries_the_maps_values_for_those_stages(spark):
    from splitcv.param_maps import apply_map

    assembler = VectorAssembler(inputCols=FEATURES, outputCol="features")
    lr = LogisticRegression()
    pipeline = Pipeline(stages=[assembler])
    applied = apply_map(pipeline, {pipeline.stages: [assembler, lr], lr.regParam: 0.3})
    assert [type(s).__name__ for s in applied.getStages()] == ["VectorAssembler", "LogisticRegression"]
    assert applied.getStages()[1].getRegParam() == 0.3


def test_numpy_values_in_a_grid_fit_and_save(spark, tmp_path):
    """numpy scalars and arrays in param maps (np.linspace grids) work as Spark's validators take
    them, and the results table keeps plain numbers, so the model saves."""
    import numpy as np
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.linalg import Vectors
    from pyspark.ml.regression import LinearRegression

    from splitcv.param_maps import apply_map

    thresholds = LogisticRegression()
    assert apply_map(thresholds, {thresholds.thresholds: np.array([0.4, 0.6])}).getThresholds() == [0.4, 0.6]
    rows = spark.createDataFrame([(Vectors.dense([float(d)]), 2.0 * d + d % 3) for d in range(30)], ["features", "label"])
    lr = LinearRegression(solver="normal")
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: v} for v in np.linspace(0.0, 1.0, 2)],
        evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=2), parallelism=2,
    ).fit(rows)
    assert model.cvResults["params"] == [{"regParam": 0.0}, {"regParam": 1.0}]
    assert all(type(row["regParam"]) is float for row in model.cvResults["params"])
    model.write().save(str(tmp_path / "model"))
    assert ParallelCrossValidatorModel.load(str(tmp_path / "model")).cvResults == model.cvResults
