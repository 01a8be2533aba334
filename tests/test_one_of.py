"""Several estimator types in one fit (issue 13, part 2): ``OneOf`` and ``OneOf.grid``.

The oracle for the metrics is each estimator type's own Pipeline, fitted with pyspark alone on a
fold's training rows and scored by the evaluator on its validation rows."""

from __future__ import annotations


import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import (
    DecisionTreeClassifier,
    GBTClassifier,
    LogisticRegression,
    RandomForestClassifier,
)
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import ParamGridBuilder
from pyspark.sql import functions as F

from estimators import count_fits, jobs_settled
from splitcv import KFoldSplitter, OneOf, ParallelCrossValidator, ParallelCrossValidatorModel

FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_concavity", "worst_symmetry"]


@pytest.fixture(scope="module")
def cancer(spark):
    """scikit-learn's breast cancer data: five of its measurements, the diagnosis, a fixed fold column
    (two folds: what is claimed holds fold by fold, and each fold costs every map's fit)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True).frame
    names = [n.replace("_", " ") for n in FEATURES]
    rows = [(i % 2, *(float(r[n]) for n in names), float(r["target"])) for i, r in enumerate(data.to_dict("records"))]
    return spark.createDataFrame(rows, ["fold", *FEATURES, "label"]).withColumn("fold", F.col("fold").cast("int"))


def _candidates():
    lr = LogisticRegression(maxIter=3)  # each iteration is a Spark job; the oracle fits with the same Params
    rf = RandomForestClassifier(numTrees=3, seed=3)
    gbt = GBTClassifier(maxIter=3, maxDepth=2, seed=3)
    grids = {
        lr: ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.5]).build(),
        rf: ParamGridBuilder().addGrid(rf.maxDepth, [2, 4]).build(),
    }  # gbt: tried once, as it is
    return lr, rf, gbt, grids


def _features():
    return [VectorAssembler(inputCols=FEATURES, outputCol="raw"), StandardScaler(inputCol="raw", outputCol="features")]


def test_grid_chooses_one_candidate_per_map_with_its_own_params(spark):
    lr, rf, gbt, grids = _candidates()
    choice = OneOf(candidates=[lr, rf, gbt])
    maps = choice.grid(grids)
    assert [m[choice.candidate] for m in maps] == [0, 0, 1, 1, 2]
    assert [choice.describe(m) for m in maps] == [
        "LogisticRegression(regParam=0.0)", "LogisticRegression(regParam=0.5)",
        "RandomForestClassifier(maxDepth=2)", "RandomForestClassifier(maxDepth=4)", "GBTClassifier()"]
    for param_map in maps:  # each map sets the chosen candidate's Params only
        chosen = choice.getCandidates()[param_map[choice.candidate]]
        assert all(p.parent in (choice.uid, chosen.uid) for p in param_map)


def test_bad_candidates_and_maps_are_refused_with_the_fix(spark):
    lr, rf, gbt, grids = _candidates()
    with pytest.raises(TypeError, match=r"candidates\[1\]=.* is a VectorAssembler, not an Estimator"):
        OneOf(candidates=[lr, VectorAssembler()])
    with pytest.raises(TypeError, match=r"candidates=\[\] is not a non-empty list"):
        OneOf(candidates=[])
    with pytest.raises(ValueError, match="hold one estimator twice"):
        OneOf(candidates=[lr, lr])
    choice = OneOf(candidates=[lr, rf])
    with pytest.raises(ValueError, match="grids has a key GBTClassifier_.* that is not one of the candidates"):
        choice.grid({gbt: [{}]})
    with pytest.raises(ValueError, match=r"grids\[LogisticRegression_\w+\]\[0\] chooses candidate 0 \(LogisticRegression\) "
                                         r"but sets RandomForestClassifier_\w+\.maxDepth of candidate 1"):
        choice.grid({lr: [{rf.maxDepth: 3}]})
    with pytest.raises(ValueError, match="candidate=5 is not an index of the 2 candidates"):
        OneOf(candidates=[lr, rf], candidate=5).chosen()


def test_a_map_that_mixes_candidates_fails_before_any_job(spark, cancer):
    lr, rf, gbt, _ = _candidates()
    choice = OneOf(candidates=[lr, rf])
    cv = ParallelCrossValidator(
        estimator=Pipeline(stages=[*_features(), choice]),
        estimatorParamMaps=[{choice.candidate: 0, lr.regParam: 0.1}, {choice.candidate: 0, rf.maxDepth: 3}],
        evaluator=BinaryClassificationEvaluator(), splitter=KFoldSplitter(numFolds=2, foldCol="fold"),
    )
    sc = spark.sparkContext
    sc.setJobGroup("mixed-map", "mixed-map")
    try:
        with pytest.raises(ValueError, match=r"estimatorParamMaps\[1\] chooses candidate 0 \(LogisticRegression\) but sets "
                                             r"RandomForestClassifier_\w+\.maxDepth of candidate 1"):
            cv.fit(cancer)
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    jobs_settled(sc)
    assert sc.statusTracker().getJobIdsForGroup("mixed-map") == []


def test_three_estimator_types_in_one_fit_equal_each_types_own_fit_and_save(spark, cancer, monkeypatch, tmp_path):
    lr, rf, _, grids = _candidates()
    # Two maps of one candidate show each map's own Params reach it; the forest's second map would
    # show that again, at the price of a forest fit per fold and one more in the oracle.
    grids[rf] = grids[rf][1:]
    tree = DecisionTreeClassifier(maxDepth=2)  # cheaper than boosting, for the suite's time
    choice = OneOf(candidates=[lr, rf, tree])
    evaluator = BinaryClassificationEvaluator()
    scaler_fits = count_fits(monkeypatch, StandardScaler)
    cv = ParallelCrossValidator(
        estimator=Pipeline(stages=[*_features(), choice]), estimatorParamMaps=choice.grid(grids), evaluator=evaluator,
        splitter=KFoldSplitter(numFolds=2, foldCol="fold"), parallelism=4,
    )
    model = cv.fit(cancer)
    # the feature stages are fitted once per fold for every estimator type, plus the refit
    assert len(scaler_fits) == 2 + 1
    # fold 0 of every map, fitted by pyspark alone: each map fitted the candidate it chose (the
    # feature stages, the same for every map, fitted once: a Pipeline fits them just so)
    train, validation = cancer.where("fold != 0"), cancer.where("fold == 0")
    features = Pipeline(stages=_features()).fit(train)
    train, validation = features.transform(train), features.transform(validation)
    expected = [
        evaluator.evaluate(candidate.fit(train, param_map).transform(validation))
        for candidate in (lr, rf, tree) for param_map in grids.get(candidate, [{}])
    ]
    assert model.foldMetrics[0] == pytest.approx(expected, rel=1e-9)
    rows = model.cvResults["params"]
    assert rows[0] == {"estimator": "LogisticRegression", "regParam": 0.0}
    assert rows[2] == {"estimator": "RandomForestClassifier", "maxDepth": 4}
    assert rows[3] == {"estimator": "DecisionTreeClassifier"}
    winner = type(choice.getCandidates()[cv.getEstimatorParamMaps()[model.bestIndex][choice.candidate]]).__name__
    assert isinstance(model.bestModel, PipelineModel)
    assert type(model.bestModel.stages[-1]).__name__ == winner + "Model"  # the winner, refit

    model.write().save(str(tmp_path / "model"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    assert loaded.cvResults == model.cvResults and loaded.avgMetrics == model.avgMetrics
    loaded_choice = loaded.getEstimator().getStages()[-1]
    assert isinstance(loaded_choice, OneOf) and [c.uid for c in loaded_choice.getCandidates()] == [lr.uid, rf.uid, tree.uid]
    assert [loaded_choice.describe(m) for m in loaded.getEstimatorParamMaps()] == [
        choice.describe(m) for m in cv.getEstimatorParamMaps()]
    assert loaded.getEstimatorParamMaps()[2][loaded_choice.candidate] == 1
    assert loaded.bestModel.transform(cancer).collect() == model.bestModel.transform(cancer).collect()


def test_one_of_alone_and_copied_fits_the_chosen_candidate(spark, cancer):
    lr, tree = LinearRegression(maxIter=5), RandomForestClassifier(numTrees=2, seed=1)
    choice = OneOf(candidates=[lr, tree], candidate=1)
    data = Pipeline(stages=_features()).fit(cancer).transform(cancer)
    assert type(choice.fit(data)).__name__ == "RandomForestClassificationModel"
    copied = choice.copy({choice.candidate: 0, lr.regParam: 0.7})
    fitted = copied.fit(data)
    assert type(fitted).__name__ == "LinearRegressionModel" and fitted.getRegParam() == 0.7
    assert choice.getCandidate() == 1 and lr.getRegParam() == 0.0  # the original is untouched
