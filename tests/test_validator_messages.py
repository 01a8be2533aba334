"""A validator configured with the wrong kind of thing says so in words a user recognises."""

from __future__ import annotations

import re

import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator
from pyspark.ml.regression import LinearRegression

from splitcv import KFoldSplitter, ParallelCrossValidator


@pytest.fixture(scope="module")
def rows(spark):
    return spark.createDataFrame([(float(i), float(i % 2)) for i in range(6)], "x double, label double")


def _config(**changes):
    lr = LinearRegression()
    config = dict(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(),
                  splitter=KFoldSplitter(numFolds=2))
    config.update(changes)
    return config


CASES = [
    (dict(evaluator=BinaryClassificationEvaluator), TypeError,
     "evaluator=BinaryClassificationEvaluator is the class, not an Evaluator: pass an instance, "
     "e.g. evaluator=BinaryClassificationEvaluator()"),
    (dict(estimator=LinearRegression), TypeError,
     "estimator=LinearRegression is the class, not an Estimator: pass an instance, e.g. estimator=LinearRegression()"),
    (dict(splitter=KFoldSplitter), TypeError,
     "splitter=KFoldSplitter is the class, not a FoldSplitter: pass an instance, e.g. splitter=KFoldSplitter()"),
    (dict(evaluator="rmse"), TypeError,
     "evaluator='rmse' is a str, not an Evaluator: pass one, e.g. evaluator=BinaryClassificationEvaluator()"),
    (dict(evaluator=RegressionEvaluator, estimatorParamMaps=[{}]), TypeError, "pass an instance, e.g. evaluator=RegressionEvaluator()"),
    (dict(estimatorParamMaps=[{"regParam": 0.1}]), ValueError,
     "estimatorParamMaps[0] sets the key 'regParam', a str, not a Param, which belongs to no stage"),
    (dict(estimatorParamMaps=[{LinearRegression.regParam: 0.1}]), ValueError,
     "estimatorParamMaps[0] sets the Param 'regParam' of no estimator (a class's Param, such as LinearRegression.regParam)"),
]


@pytest.mark.parametrize("changes, error, message", CASES, ids=[str(i) for i in range(len(CASES))])
def test_wrong_kinds_are_named_with_the_fix(rows, changes, error, message):
    with pytest.raises(error) as info:
        ParallelCrossValidator(**_config(**changes)).fit(rows)
    text = str(info.value)
    assert message in text
    assert "?" not in text and "ABCMeta" not in text and not re.search(r"\ba [AEIOU]", text), text
