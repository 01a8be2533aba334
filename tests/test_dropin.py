"""Code written for pyspark's CrossValidator(Model) calls getNumFolds/getSeed/getFoldCol on both."""

from __future__ import annotations

import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import LinearRegression

from estimators import Watched
from splitcv import (
    BlockedKFoldSplitter,
    ExpandingWindowSplitter,
    FoldInfo,
    KFoldSplitter,
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
    SlidingWindowSplitter,
)


@pytest.fixture(scope="module")
def days(spark):
    rows = [(d, Vectors.dense([float(d)]), 2.0 * d + (d % 5), d % 3) for d in range(40)]
    return spark.createDataFrame(rows, ["day", "features", "label", "fold"])


# -- the validator, no data needed ------------------------------------------------------------------


@pytest.mark.parametrize(
    "splitter, folds, seed, fold_col",
    [
        (KFoldSplitter(), 3, 42, ""),  # pyspark's default foldCol is ""
        (KFoldSplitter(numFolds=4, seed=7, foldCol="fold"), 4, 7, "fold"),
        (BlockedKFoldSplitter(timeCol="day", numFolds=6), 6, None, None),
        (ExpandingWindowSplitter(timeCol="day", numFolds=2), 2, None, None),
        (SlidingWindowSplitter(timeCol="day", windowSize=5), None, None, None),
    ],
    ids=["kfold-default", "kfold-column", "blocked", "expanding-numFolds", "sliding-no-numFolds"],
)
def test_validator_answers_from_its_splitter(splitter, folds, seed, fold_col):
    cv = ParallelCrossValidator(splitter=splitter)
    name = type(splitter).__name__
    if folds is None:
        with pytest.raises(ValueError, match=rf"{name} has no numFolds set.*getSplitter\(\)\.countFolds\(dataset\)"):
            cv.getNumFolds()
    else:
        assert cv.getNumFolds() == folds
    if seed is None:
        with pytest.raises(ValueError, match=rf"getSeed\(\): {name} has no seed: it draws nothing at random "
                                             r"\(its folds follow timeCol='day'\)"):
            cv.getSeed()
    else:
        assert cv.getSeed() == seed
    if fold_col is None:
        with pytest.raises(ValueError, match=rf"getFoldCol\(\): {name} has no foldCol.*getSplitter\(\)\.getTimeCol\(\)"):
            cv.getFoldCol()
    else:
        assert cv.getFoldCol() == fold_col


def test_validator_without_a_splitter_says_so():
    with pytest.raises(ValueError, match=r"getSeed\(\) answers from the splitter, and none is set"):
        ParallelCrossValidator().getSeed()


# -- fitted models, and a model after save/load ----------------------------------------------------


def _fit(splitter, days):
    watched = Watched()  # a mean-of-label Python estimator: fast, so this test stays cheap
    return ParallelCrossValidator(
        estimator=watched, estimatorParamMaps=[{watched.hold: 0.0}], evaluator=RegressionEvaluator(),
        splitter=splitter, refit=False,
    ).fit(days)


def test_fitted_models_answer_too(days):
    kfold = _fit(KFoldSplitter(numFolds=2, seed=9), days)
    assert (kfold.getNumFolds(), kfold.getSeed(), kfold.getFoldCol()) == (2, 9, "")
    # A window splitter without numFolds: the model knows how many folds it was fitted on.
    window = _fit(ExpandingWindowSplitter(timeCol="day", horizon=10), days)
    assert window.getNumFolds() == len(window.folds) == len(window.foldMetrics) == 3
    with pytest.raises(ValueError, match=r"ExpandingWindowSplitter has no seed"):
        window.getSeed()
    with pytest.raises(ValueError, match=r"ExpandingWindowSplitter has no foldCol"):
        window.getFoldCol()


def test_a_loaded_model_answers_from_its_saved_splitter_and_folds(spark, tmp_path):
    lr = LinearRegression()
    folds = [FoldInfo(f, 10 * (f + 1), 10) for f in range(4)]
    model = ParallelCrossValidatorModel(avgMetrics=[1.0], stdMetrics=[0.0], foldMetrics=[[1.0]] * 4, folds=folds)
    model._set(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}], evaluator=RegressionEvaluator(),
               splitter=SlidingWindowSplitter(timeCol="day", windowSize=5, horizon=10))
    model.write().save(str(tmp_path / "model"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    assert loaded.getNumFolds() == 4
    with pytest.raises(ValueError, match=r"SlidingWindowSplitter has no seed"):
        loaded.getSeed()
