"""A column the fit would read and the dataset lacks is named before any Spark job, never a column a
stage writes (splitcv.columns)."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator
from pyspark.ml.feature import SQLTransformer, StringIndexer, VectorAssembler
from pyspark.ml.regression import LinearRegression

from splitcv import KFoldSplitter, OneOf, ParallelCrossValidator
from splitcv.columns import check_columns
from tests.estimators import no_spark_job


@pytest.fixture(scope="module")
def rows(spark):
    from pyspark.ml.linalg import Vectors

    return spark.createDataFrame(
        [(Vectors.dense([float(i), float(i % 3)]), float(i % 2), "ab"[i % 2], 1.0) for i in range(12)],
        ["features", "label", "kind", "w"],
    )


def _cv(estimator, evaluator):
    last = estimator.getStages()[-1] if isinstance(estimator, Pipeline) else estimator
    return ParallelCrossValidator(estimator=estimator, evaluator=evaluator, splitter=KFoldSplitter(numFolds=2),
                                  estimatorParamMaps=[{last.maxIter: 5}])


# factories: Spark ML stages need the session, which starts after collection
@pytest.mark.parametrize("make, message", [
    (lambda: (BinaryClassificationEvaluator(labelCol="lable"), LogisticRegression()),
     "the evaluator's labelCol='lable' is not a column of the dataset, and no stage of the estimator writes it, so "
     "every score would fail after its fit. The dataset's columns: ['features', 'label', 'kind', 'w']. Set labelCol "
     "to the column that holds it, e.g. labelCol='label'"),
    (lambda: (RegressionEvaluator(weightCol="weight"), LinearRegression()),
     "the evaluator's weightCol='weight' is not a column of the dataset"),
    (lambda: (RegressionEvaluator(), LinearRegression(featuresCol="x")),
     "the estimator (LinearRegression)'s featuresCol='x' is not a column of the dataset, so every fit would fail"),
    (lambda: (RegressionEvaluator(), LinearRegression(weightCol="wt")),
     "weightCol='wt' is not a column of the dataset, so every fit would fail. The dataset's columns: "
     "['features', 'label', 'kind', 'w']. Set weightCol to the column that holds it, e.g. weightCol='w'"),
    # the pipeline writes 'y', not 'z'
    (lambda: (BinaryClassificationEvaluator(labelCol="z"),
              Pipeline(stages=[StringIndexer(inputCol="kind", outputCol="y"), LogisticRegression(labelCol="y")])),
     "the evaluator's labelCol='z' is not a column of the dataset, and no stage of the estimator writes it"),
], ids=["evaluator label", "evaluator weight", "estimator features", "estimator weight", "pipeline"])
def test_a_missing_column_is_named_before_any_job(spark, rows, make, message):
    evaluator, estimator = make()
    with no_spark_job(spark), pytest.raises(ValueError) as info:
        _cv(estimator, evaluator).fit(rows)
    assert message in str(info.value)


def test_columns_a_stage_writes_are_not_refused(spark, rows):
    # StringIndexer writes the label the evaluator and the classifier read: the fit runs and scores
    indexed = Pipeline(stages=[StringIndexer(inputCol="kind", outputCol="y"), LogisticRegression(labelCol="y")])
    model = _cv(indexed, BinaryClassificationEvaluator(labelCol="y")).fit(rows)
    assert len(model.avgMetrics) == 1

    # an SQLTransformer's statement writes what it names, which Params do not show: nothing is refused
    made = Pipeline(stages=[SQLTransformer(statement="SELECT *, label AS y FROM __THIS__"), LogisticRegression(labelCol="y")])
    check_columns(made, BinaryClassificationEvaluator(labelCol="y"), [], rows.columns)
    # nor when the SQLTransformer sits inside a fitted PipelineModel used as a stage
    from pyspark.ml import PipelineModel

    fitted = PipelineModel(stages=[SQLTransformer(statement="SELECT *, 1.0 AS wt FROM __THIS__")])
    check_columns(Pipeline(stages=[fitted, LogisticRegression()]), BinaryClassificationEvaluator(weightCol="wt"), [],
                  rows.columns)
    # nor when a param map sets the column, or a OneOf candidate writes it
    lr = LogisticRegression(featuresCol="v")
    check_columns(lr, BinaryClassificationEvaluator(), [{lr.featuresCol: "features"}], rows.columns)
    assembler = VectorAssembler(inputCols=["w"], outputCol="v")
    chosen = OneOf(candidates=[Pipeline(stages=[assembler, LogisticRegression(featuresCol="v", labelCol="label")])])
    check_columns(chosen, BinaryClassificationEvaluator(), [], rows.columns)


def test_names_resolve_as_spark_resolves_them(rows):
    # Spark matches column names in any case by default, and a dotted name may be a nested field
    check_columns(LogisticRegression(labelCol="LABEL"), BinaryClassificationEvaluator(labelCol="Label"), [], rows.columns)
    check_columns(LogisticRegression(), BinaryClassificationEvaluator(labelCol="s.label"), [], rows.columns)
    with pytest.raises(ValueError, match="labelCol='LABELS'"):
        check_columns(LogisticRegression(), BinaryClassificationEvaluator(labelCol="LABELS"), [], rows.columns)
