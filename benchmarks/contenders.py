"""The contenders, each a zero-argument ``fit`` returning the average metrics it found.

* ``spark``: ``pyspark.ml.tuning.CrossValidator`` with ``parallelism``, the folds given through
  ``foldCol`` (random k-fold only: Spark cannot express time-series folds);
* ``article``: the seed article's time-series loop (:mod:`benchmarks.article_loop`);
* ``splitcv``: ``ParallelCrossValidator`` with ``KFoldSplitter(foldCol=...)`` or
  ``ExpandingWindowSplitter``.

All use the same estimator (``LinearRegression``, solver ``auto`` as a user would leave it: with 8
features that is the normal-equation solver, one pass over the data per fit), the same evaluator
(RMSE) and the same grid, and all refit the best param map on the whole dataset at the end (Spark
and the article do it unconditionally; ``refit=True`` is splitcv's default).
"""

from __future__ import annotations

from typing import Any, Callable

from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import DataFrame

from benchmarks.article_loop import ArticleTimeSeriesCV
from benchmarks.data import FEATURES
from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator

Fit = Callable[[], Any]


def estimator(max_iter: int = 10, solver: str = "auto") -> LinearRegression:
    return LinearRegression(maxIter=max_iter, solver=solver)


def grid(lr: LinearRegression, size: int) -> list[dict]:
    """1 map (smoke only): regParam 0.1. 2 maps: regParam 0 and 0.1. 12 maps: 6 regParams x
    elasticNetParam 0 and 0.5."""
    if size == 1:
        return [{lr.regParam: 0.1}]
    if size == 2:
        return ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.1]).build()
    if size == 12:
        return (
            ParamGridBuilder()
            .addGrid(lr.regParam, [0.0, 0.01, 0.03, 0.1, 0.3, 1.0])
            .addGrid(lr.elasticNetParam, [0.0, 0.5])
            .build()
        )
    raise ValueError(f"no grid of size {size}")


def evaluator() -> RegressionEvaluator:
    return RegressionEvaluator(metricName="rmse")


def spark_kfold(df: DataFrame, folds: int, maps: int, parallelism: int, **est: Any) -> Fit:
    lr = estimator(**est)
    cv = CrossValidator(
        estimator=lr,
        estimatorParamMaps=grid(lr, maps),
        evaluator=evaluator(),
        numFolds=folds,
        foldCol=f"fold{folds}",
        parallelism=parallelism,
    )
    return lambda: cv.fit(df).avgMetrics


def splitcv_kfold(df: DataFrame, folds: int, maps: int, parallelism: int, racing: bool = False, one_pass: bool = True,
                  rule: str = "paired-t", **est: Any) -> Fit:
    lr = estimator(**est)
    cv = ParallelCrossValidator(
        estimator=lr,
        estimatorParamMaps=grid(lr, maps),
        evaluator=evaluator(),
        splitter=KFoldSplitter(numFolds=folds, foldCol=f"fold{folds}"),
        parallelism=parallelism,
        racing=racing,
        racingRule=rule,
        scoreInOnePass=one_pass,
    )
    if racing:  # the maps it dropped have averages over fewer folds: compare what it chose
        return lambda: [float(cv.fit(df).bestIndex)]
    return lambda: cv.fit(df).avgMetrics


def window_horizon(folds: int) -> int:
    """Validation windows cover the last 200 of the 500 days: 10 folds of 20 days, 30 of 6, 100 of 2
    (so the first fold trains on 300 days, the last on 480-498)."""
    return max(1, 200 // folds)


def article_window(df: DataFrame, folds: int, maps: int, parallelism: int, **est: Any) -> Fit:
    lr = estimator(**est)
    cv = ArticleTimeSeriesCV(
        lr, grid(lr, maps), evaluator(), timeCol="day", horizon=window_horizon(folds), numFolds=folds,
        parallelism=parallelism,
    )
    return lambda: cv.fit(df).avgMetrics


def splitcv_window(df: DataFrame, folds: int, maps: int, parallelism: int, **est: Any) -> Fit:
    lr = estimator(**est)
    cv = ParallelCrossValidator(
        estimator=lr,
        estimatorParamMaps=grid(lr, maps),
        evaluator=evaluator(),
        splitter=ExpandingWindowSplitter(timeCol="day", horizon=window_horizon(folds), numFolds=folds),
        parallelism=parallelism,
    )
    return lambda: cv.fit(df).avgMetrics


# -- a real pipeline (issue 11): categorical and numeric columns, the grid on its last stage ----------
def pipeline(max_iter: int = 10):
    """StringIndexer, OneHotEncoder on the series id (a categorical column: 200 levels at 10^5 rows),
    VectorAssembler with the numeric features, StandardScaler, LogisticRegression on whether the
    day's value is above zero. Returns the pipeline and its 6-map grid (3 regParams x 2
    elasticNetParams, all on LogisticRegression)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

    lr = LogisticRegression(maxIter=max_iter, featuresCol="scaled", labelCol="above")
    stages = [
        StringIndexer(inputCol="series", outputCol="series_i", handleInvalid="keep"),
        OneHotEncoder(inputCols=["series_i"], outputCols=["series_v"]),
        VectorAssembler(inputCols=["series_v", *FEATURES], outputCol="assembled"),
        StandardScaler(inputCol="assembled", outputCol="scaled"),
        lr,
    ]
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.01, 0.1]).addGrid(lr.elasticNetParam, [0.0, 0.5]).build()
    return Pipeline(stages=stages), grid


def pipeline_input(df: DataFrame) -> DataFrame:
    """The panel with its numeric features as columns again and a binary label."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    values = vector_to_array("features")
    return df.select(
        "series", "day", *[values[i].alias(name) for i, name in enumerate(FEATURES)],
        (F.col("label") > 0).cast("double").alias("above"), *[c for c in df.columns if c.startswith("fold")],
    )


def _auc():
    """Exact AUC (numBins=0). With the default numBins=1000, Spark down-samples the ROC curve in
    bins formed per partition of the scored rows, so the same models score differently (by ~1e-6
    here) when the validation rows are partitioned differently: measured on this pipeline at 2x10^4
    rows, Spark's CrossValidator and splitcv (shared prefix or not) differed by up to 1.8e-6 with
    numBins=1000 and by at most 3e-15 with numBins=0. The benchmark checks that the fits agree,
    so it scores without the binning."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    return BinaryClassificationEvaluator(labelCol="above", numBins=0)


def spark_pipeline(df: DataFrame, folds: int, parallelism: int, max_iter: int = 10) -> Fit:
    est, maps = pipeline(max_iter)
    cv = CrossValidator(estimator=est, estimatorParamMaps=maps, evaluator=_auc(), numFolds=folds,
                        foldCol=f"fold{folds}", parallelism=parallelism)
    data = pipeline_input(df)
    return lambda: cv.fit(data).avgMetrics


def splitcv_pipeline(df: DataFrame, folds: int, parallelism: int, max_iter: int = 10, share: bool = True,
                     cache_prefix: bool = True) -> Fit:
    est, maps = pipeline(max_iter)
    cv = ParallelCrossValidator(estimator=est, estimatorParamMaps=maps, evaluator=_auc(),
                                splitter=KFoldSplitter(numFolds=folds, foldCol=f"fold{folds}"),
                                parallelism=parallelism, sharePipelinePrefix=share,
                                cachePrefixOutput=cache_prefix)
    data = pipeline_input(df)
    return lambda: cv.fit(data).avgMetrics
