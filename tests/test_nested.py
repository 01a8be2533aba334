"""Nested cross-validation (issue 13, part 4). The oracle: for each outer fold, the validator's own
fit on that fold's training rows (tested against Spark's CrossValidator elsewhere), its best map
refit there and scored on the outer validation rows by the evaluator."""

from __future__ import annotations

import threading

import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression

from estimators import Watched
from splitcv import (
    ExpandingWindowSplitter,
    KFoldSplitter,
    NestedResult,
    ParallelCrossValidator,
    SlidingWindowSplitter,
    nested_cross_validate,
)


@pytest.fixture(scope="module")
def macro(spark):
    """statsmodels' US macro data, quarterly 1959-2009: real investment from real GDP and consumption."""
    import statsmodels.api as sm

    data = sm.datasets.macrodata.load_pandas().data
    rows = [(i, float(r.realgdp), float(r.realcons), float(r.realinv)) for i, r in enumerate(data.itertuples())]
    frame = spark.createDataFrame(rows, ["quarter", "gdp", "cons", "label"])
    return VectorAssembler(inputCols=["gdp", "cons"], outputCol="features").transform(frame)


def _validator(parallelism=4):
    lr = LinearRegression(solver="normal")
    return ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: r} for r in (0.0, 10.0, 1e4)],
        evaluator=RegressionEvaluator(metricName="rmse"),
        # two inner folds: every claim here holds fold by fold, and the oracle repeats each inner fold's fits
        splitter=SlidingWindowSplitter(timeCol="quarter", windowSize=60, horizon=8, numFolds=2), parallelism=parallelism,
    )


def test_nested_equals_tuning_each_outer_training_set_then_scoring_outside(spark, macro):
    outer = ExpandingWindowSplitter(timeCol="quarter", horizon=16, gap=2, numFolds=2)
    validator = _validator()
    result = nested_cross_validate(validator, macro, outer)
    assert isinstance(result, NestedResult) and len(result.outerMetrics) == 2
    # no leakage between the levels: every inner fold lies in its outer fold's training rows
    for info, inner in zip(result.outerFolds, result.innerFolds):
        assert len(inner) == 2
        for fold in inner:
            assert info.train_start <= fold.train_start and fold.validation_end <= info.train_end
            assert fold.validation_end < info.validation_start
    evaluator = validator.getEvaluator()
    for o, (train, validation) in enumerate(outer.split(macro)):
        # the oracle: the tuning run on the outer training rows (its refit is not needed: the best
        # map is refit below by pyspark alone)
        alone = validator.copy().setRefit(False).fit(train)
        assert result.bestIndex[o] == alone.bestIndex
        assert result.innerAvgMetrics[o] == pytest.approx(alone.avgMetrics, rel=1e-12)
        best = validator.getEstimator().fit(train, validator.getEstimatorParamMaps()[alone.bestIndex])
        assert result.outerMetrics[o] == pytest.approx(evaluator.evaluate(best.transform(validation)), rel=1e-12)
        assert result.bestParams[o] == {"regParam": [0.0, 10.0, 1e4][alone.bestIndex]}
    assert result.mean == pytest.approx(sum(result.outerMetrics) / 2)
    table = result.summary()
    assert list(table.columns) == ["outer_fold", "params", "inner_mean", "outer_metric"] and len(table) == 2


def test_inner_splitter_that_cannot_make_folds_names_the_outer_fold(spark, macro):
    outer = ExpandingWindowSplitter(timeCol="quarter", horizon=40, numFolds=5)  # first training set: 3 quarters
    with pytest.raises(ValueError, match=r"outer fold 0 of 5 \(training rows 3, 0 to 2\): no usable inner folds "
                                         r"on this fold's training rows: .*change the validator's splitter"):
        nested_cross_validate(_validator(), macro, outer)


def test_bad_input_is_refused_before_any_job(spark, macro):
    validator = _validator()
    with pytest.raises(TypeError, match="give a ParallelCrossValidator"):
        nested_cross_validate(LinearRegression(), macro, KFoldSplitter())
    with pytest.raises(TypeError, match="outerSplitter=.* is a LinearRegression, not a FoldSplitter"):
        nested_cross_validate(validator, macro, LinearRegression())
    with pytest.raises(ValueError, match="racing=False"):
        nested_cross_validate(validator.copy().setRacing(True), macro, KFoldSplitter())


def test_inner_tasks_of_every_outer_fold_share_one_queue(spark, macro):
    """All inner (fold, map) tasks run from one pool of ``parallelism`` threads: tasks of different
    outer folds are in flight together, and never more than ``parallelism`` at once."""
    Watched.reset()
    est = Watched()
    lock, running, most = threading.Lock(), [0], [0]
    original = Watched._fit

    def counted(self, dataset):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return original(self, dataset)
        finally:
            with lock:
                running[0] -= 1

    Watched._fit = counted
    try:
        validator = ParallelCrossValidator(
            estimator=est, estimatorParamMaps=[{est.hold: 0.2}, {est.hold: 0.21}], evaluator=RegressionEvaluator(),
            splitter=ExpandingWindowSplitter(timeCol="quarter", horizon=8, numFolds=2), parallelism=4,
        )
        result = nested_cross_validate(validator, macro, ExpandingWindowSplitter(timeCol="quarter", horizon=20, numFolds=2))
    finally:
        Watched._fit = original
    assert Watched.calls == 2 * 2 * 2 + 2  # inner (outer fold x inner fold x map) tasks, then the 2 refits
    assert most[0] == 4  # the pool was full: tasks of both outer folds ran together
    assert len(result.outerMetrics) == 2


def test_single_class_outer_folds_follow_single_class_folds(spark):
    """An outer validation set of one class would score the tuned model as perfect: the validator's
    singleClassFolds rule applies to the outer folds too."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.linalg import Vectors

    from splitcv import SingleClassFoldWarning

    rows = [(d, Vectors.dense([float(d % 7), float(d % 5)]), 1.0 if d >= 70 else float(d % 2)) for d in range(80)]
    frame = spark.createDataFrame(rows, ["day", "features", "label"])
    lr = LogisticRegression(maxIter=2)  # the claim is about the folds; each iteration is a Spark job
    validator = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}], evaluator=BinaryClassificationEvaluator(),
        splitter=KFoldSplitter(numFolds=2, seed=1), parallelism=4,
    )
    outer = ExpandingWindowSplitter(timeCol="day", horizon=10, numFolds=2)  # the last outer validation: days 70-79
    with pytest.raises(ValueError, match=r"the outer folds: 1 of 2 folds have a side with a single class: fold 1: validation"):
        nested_cross_validate(validator, frame, outer)
    with pytest.warns(SingleClassFoldWarning):
        result = nested_cross_validate(validator.copy().setSingleClassFolds("skip"), frame, outer)
    assert result.skippedOuterFolds == [1] and len(result.outerMetrics) == 1 and result.outerFolds[0].fold == 0
