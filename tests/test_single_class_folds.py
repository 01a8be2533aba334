"""Folds with one class on a side, under a classification evaluator (issue 10, part 3).

Real data: scikit-learn's breast cancer set ordered by ``worst area`` (its 100 smallest tumours are
all benign, its 100 largest all malignant) and the wine set in its file order (sorted by class), the
orders a time or row-order split meets. Class counts are checked against pandas on the same rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator, MulticlassClassificationEvaluator
from pyspark.ml.feature import VectorAssembler

from estimators import Watched
from splitcv import (
    ExpandingWindowSplitter,
    KFoldSplitter,
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
    SingleClassFoldWarning,
)
from splitcv.splitters.base import measure_folds
from test_all_splitters import spark_jobs


def _frame(spark, bunch, order_by=None):
    frame = bunch.frame.copy()
    if order_by is not None:
        frame = frame.sort_values(order_by, kind="stable").reset_index(drop=True)
    frame["row"] = np.arange(len(frame))
    names = list(bunch.feature_names[:4])
    rows = [(int(r["row"]), float(r["target"]), *map(float, r[names])) for _, r in frame.iterrows()]
    df = spark.createDataFrame(rows, ["row", "label", *[f"x{i}" for i in range(4)]])
    return frame, VectorAssembler(inputCols=[f"x{i}" for i in range(4)], outputCol="features").transform(df)


@pytest.fixture(scope="module")
def cancer(spark):
    from sklearn.datasets import load_breast_cancer

    return _frame(spark, load_breast_cancer(as_frame=True), order_by="worst area")


@pytest.fixture(scope="module")
def wine(spark):
    from sklearn.datasets import load_wine

    return _frame(spark, load_wine(as_frame=True))


def _validator(estimator, evaluator, splitter, **kwargs):
    grid = kwargs.pop("grid", None) or [{}]
    kwargs.setdefault("refit", False)  # the choice is what these tests check, not the final model
    return ParallelCrossValidator(estimator=estimator, estimatorParamMaps=grid, evaluator=evaluator, splitter=splitter, **kwargs)


def _counts(frame, rows):
    return {float(k): int(v) for k, v in frame.loc[rows, "target"].value_counts().items()}


def test_one_class_validation_folds_are_an_error_before_any_fit(spark, cancer):
    _, df = cancer
    Watched.reset()
    validator = _validator(Watched(), BinaryClassificationEvaluator(), ExpandingWindowSplitter(timeCol="row", horizon=50, numFolds=2))
    with pytest.raises(ValueError) as error:
        validator.fit(df)
    message = str(error.value)
    frame, _ = cancer
    for fold, start in ((0, 469), (1, 519)):
        counts = f"(training {_text(_counts(frame, range(start)))}, validation 0.0: 50)"
        assert f"fold {fold}: validation all one class {counts}" in message
    assert "singleClassFolds='skip'" in message
    assert Watched.calls == 0


def test_one_class_training_fold_is_named_instead_of_sparks_vector_length_error(spark, cancer):
    frame, df = cancer
    # Forward from a first training window of the 60 smallest tumours, all benign.
    splitter = ExpandingWindowSplitter(timeCol="row", initialWindow=60, horizon=60)
    with pytest.raises(ValueError) as error:
        _validator(LogisticRegression(maxIter=5), BinaryClassificationEvaluator(), splitter).fit(df)
    assert "fold 0: training and validation all one class (training 1.0: 60, validation 1.0: 60)" in str(error.value)
    assert _counts(frame, range(120)) == {1.0: 120}


def test_multiclass_folds_are_checked_too_with_counts_from_the_data(spark, wine):
    frame, df = wine
    splitter = ExpandingWindowSplitter(timeCol="row", horizon=30, numFolds=3)
    evaluator = MulticlassClassificationEvaluator(metricName="f1")
    with pytest.raises(ValueError) as error:
        _validator(LogisticRegression(maxIter=5), evaluator, splitter).fit(df)
    message = str(error.value)
    assert "2 of 3 folds" in message
    assert f"fold 0: validation all one class (training {_text(_counts(frame, range(88)))}, validation 1.0: 30)" in message
    assert "validation 2.0: 30" in message and "fold 1:" not in message


def _text(counts):
    return ", ".join(f"{k!r}: {v}" for k, v in sorted(counts.items()))


def test_class_counts_match_pandas_and_cost_no_extra_job(spark, cancer):
    frame, df = cancer
    for splitter in (ExpandingWindowSplitter(timeCol="row", horizon=50, numFolds=3), KFoldSplitter(numFolds=3, seed=4)):
        with spark_jobs(spark) as plain:
            folds = splitter.prepare(df)
            infos = folds.infos or measure_folds(folds.frame, folds.conditions, splitter._time_column())
        with spark_jobs(spark) as counted:
            folds = splitter.prepare(df, "label")
            infos = folds.infos or measure_folds(folds.frame, folds.conditions, splitter._time_column(), "label")
        assert len(counted) == len(plain), splitter
        for info in infos:
            assert sum(info.train_classes.values()) == info.train_rows
            assert sum(info.validation_classes.values()) == info.validation_rows
        if isinstance(splitter, ExpandingWindowSplitter):
            for info, start in zip(infos, (419, 469, 519)):
                assert info.train_classes == _counts(frame, range(start))
                assert info.validation_classes == _counts(frame, range(start, start + 50))


def test_random_folds_of_the_same_data_hold_both_classes_and_fit(spark, cancer):
    _, df = cancer
    model = _validator(LogisticRegression(maxIter=5), BinaryClassificationEvaluator(), KFoldSplitter(numFolds=2, seed=3)).fit(df)
    assert model.skippedFolds == [] and all(len(f.validation_classes) == 2 for f in model.folds)


def _fit_warned(validator, df):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = validator.fit(df)
    return model, [w for w in caught if issubclass(w.category, SingleClassFoldWarning)]


def test_skip_leaves_the_single_class_folds_out_with_a_warning(spark, cancer, tmp_path):
    _, df = cancer
    lr = LogisticRegression(maxIter=5)
    splitter = ExpandingWindowSplitter(timeCol="row", horizon=50, numFolds=4)
    validator = _validator(
        lr, BinaryClassificationEvaluator(), splitter, grid=[{lr.regParam: 0.0}, {lr.regParam: 1.0}],
        singleClassFolds="skip", collectSubModels=True, parallelism=2,
    )
    model, warned = _fit_warned(validator, df)
    assert len(warned) == 1 and "skipping 2 of 4 folds" in str(warned[0].message)
    assert model.skippedFolds == [2, 3]
    assert all(np.isnan(model.foldMetrics[f]).all() for f in (2, 3))
    assert all(m is None for f in (2, 3) for m in model.subModels[f])  # never fitted
    assert all(m is not None for f in (0, 1) for m in model.subModels[f])
    assert model.avgMetrics == pytest.approx(np.mean(model.foldMetrics[:2], axis=0).tolist())
    assert model.summary()["nan_folds"].tolist() == [[], []]  # skipped, not undefined

    model.write().save(str(tmp_path / "model"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "model"))
    assert loaded.skippedFolds == [2, 3]
    assert [f.validation_classes for f in loaded.folds] == [f.validation_classes for f in model.folds]
    assert loaded.getSingleClassFolds() == "skip"
    validator.write().save(str(tmp_path / "validator"))
    assert ParallelCrossValidator.load(str(tmp_path / "validator")).getSingleClassFolds() == "skip"


def test_score_scores_every_fold_with_a_warning(spark, cancer):
    _, df = cancer
    validator = _validator(
        LogisticRegression(maxIter=5), BinaryClassificationEvaluator(),
        ExpandingWindowSplitter(timeCol="row", horizon=50, numFolds=2), singleClassFolds="score",
    )
    model, warned = _fit_warned(validator, df)
    assert len(warned) == 1 and "scoring 2 of 2 folds" in str(warned[0].message)
    assert model.skippedFolds == [] and len(model.foldMetrics) == 2


def test_skip_with_every_fold_single_class_is_an_error(spark, cancer):
    _, df = cancer
    validator = _validator(
        Watched(), BinaryClassificationEvaluator(), ExpandingWindowSplitter(timeCol="row", horizon=50, numFolds=2),
        singleClassFolds="skip",
    )
    with pytest.raises(ValueError, match="leaves no fold to score"), warnings.catch_warnings():
        warnings.simplefilter("ignore", SingleClassFoldWarning)
        validator.fit(df)


def test_single_class_folds_takes_one_of_three_choices():
    with pytest.raises(ValueError, match=r"singleClassFolds='maybe'.*'error', 'skip', 'score'"):
        ParallelCrossValidator(singleClassFolds="maybe")
