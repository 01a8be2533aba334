"""predict_spark: scikit-learn models applied to Spark DataFrames in Arrow batches.

Oracles: the model's own method on the rows collected from Spark (joined back by an id column, so
the order Spark returns rows in does not matter); worker-process ids and per-load random stamps
for "unpickled once per worker"; the status tracker's job ids for "raised before any job".
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F
from pyspark.sql import types as T

from conftest import spark_settings
from estimators import no_spark_job
from splitcv.inference import _batch_function, _label_type, predict_spark

sklearn = pytest.importorskip("sklearn")

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402


# -- data and helpers ---------------------------------------------------------------------------------
def frame(bunch: Any) -> pd.DataFrame:
    X = bunch.data.copy()
    X.columns = [re.sub(r"\W+", "_", c).strip("_") for c in X.columns]  # "mean radius" -> mean_radius
    return X


@pytest.fixture(scope="module")
def cancer(spark):
    """Breast cancer: 569 rows, 30 numeric features, 0/1 labels; as pandas and as Spark (with an id)."""
    bunch = load_breast_cancer(as_frame=True)
    X, y = frame(bunch), bunch.target
    return X, y, spark.createDataFrame(X.assign(id=np.arange(len(X))))


@pytest.fixture(scope="module")
def wine(spark):
    """Wine: 178 rows, 13 numeric features, 3 classes (given string names here), plus a string
    column (``colour``: the colour intensity binned into words) for the mixed-type pipeline."""
    bunch = load_wine(as_frame=True)
    X = frame(bunch)
    X["colour"] = pd.cut(X["color_intensity"], [0, 3, 6, 100], labels=["pale", "medium", "deep"]).astype(str)
    y = np.array(["barolo", "grignolino", "barbera"])[bunch.target]
    return X, y, spark.createDataFrame(X.assign(id=np.arange(len(X))))


@pytest.fixture(scope="module")
def diabetes(spark):
    X, y = load_diabetes(return_X_y=True)
    cols = [f"x{i}" for i in range(X.shape[1])]
    pdf = pd.DataFrame(X, columns=cols).assign(id=np.arange(len(X)))
    return X, y, cols, spark.createDataFrame(pdf)


@pytest.fixture(scope="module")
def fitted(cancer):
    """Scaled logistic regression on breast cancer, fitted on the DataFrame (so with feature names)."""
    X, y, df = cancer
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


@pytest.fixture(scope="module")
def fitted_unnamed(cancer):
    """The same, fitted on the bare array."""
    X, y, df = cancer
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X.to_numpy(), y)


def rows_of(scored) -> pd.DataFrame:
    """The scored rows as pandas, sorted by id (Spark returns them in any order)."""
    return scored.toPandas().sort_values("id").reset_index(drop=True)




def raises_before_any_job(spark, error, patterns, *args, **kwargs):
    with no_spark_job(spark):
        with pytest.raises(error) as info:
            predict_spark(*args, **kwargs)
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"
    return info.value


# -- results equal the model's own, with the designed types --------------------------------------------
def test_classifier_predict_proba_decision_on_breast_cancer(spark, cancer, fitted):
    X, y, df = cancer
    model = fitted
    cols = list(X.columns)
    # One query per method: each predict_spark call is its own pass through Python (Spark does not
    # merge scalar-iterator pandas UDFs), and chained ones need more Python workers to start.
    predicted = predict_spark(model, df)  # featureCols from feature_names_in_
    probabilities = predict_spark(model, df, method="predict_proba")
    margins = predict_spark(model, df, method="decision_function", outputCol="margin")
    assert predicted.columns == df.columns + ["prediction"]
    assert predicted.schema["prediction"].dataType == T.LongType()  # y is int64
    assert probabilities.schema["probability"].dataType == T.ArrayType(T.DoubleType(), False)
    assert margins.schema["margin"].dataType == T.DoubleType()
    rows = rows_of(predicted)
    assert (rows["prediction"].to_numpy() == model.predict(rows[cols])).all()
    rows = rows_of(probabilities)
    np.testing.assert_allclose(np.stack(rows["probability"]), model.predict_proba(rows[cols]), rtol=1e-12, atol=1e-15)
    rows = rows_of(margins)
    np.testing.assert_allclose(rows["margin"], model.decision_function(rows[cols]), rtol=1e-12, atol=1e-12)


def test_string_labels_multiclass_and_log_proba_on_wine(spark, wine):
    X, y, df = wine
    numeric = [c for c in X.columns if c != "colour"]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[numeric], y)
    predicted = predict_spark(model, df, numeric)
    margins = predict_spark(model, df, numeric, method="decision_function")
    log_probabilities = predict_spark(model, df, numeric, method="predict_log_proba")
    assert predicted.schema["prediction"].dataType == T.StringType()
    assert margins.schema["decision_function"].dataType == T.ArrayType(T.DoubleType(), False)  # 3 classes: one each
    rows = rows_of(predicted)
    assert rows["prediction"].tolist() == model.predict(rows[numeric]).tolist()
    rows = rows_of(margins)
    np.testing.assert_allclose(np.stack(rows["decision_function"]), model.decision_function(rows[numeric]), rtol=1e-12, atol=1e-12)
    rows = rows_of(log_probabilities)
    np.testing.assert_allclose(np.stack(rows["log_probability"]), model.predict_log_proba(rows[numeric]), rtol=1e-12, atol=1e-12)


def test_regressor_fitted_on_an_array_gets_columns_in_featurecols_order(spark, diabetes):
    X, y, cols, df = diabetes
    model = Ridge(alpha=0.1).fit(X, y)
    scored = predict_spark(model, df, cols)
    assert scored.schema["prediction"].dataType == T.DoubleType()
    rows = rows_of(scored)
    np.testing.assert_allclose(rows["prediction"], model.predict(rows[cols].to_numpy()), rtol=1e-12)
    # featureCols decides the order for an unnamed model: reversed columns give a different answer
    backwards = rows_of(predict_spark(model, df, cols[::-1]))
    np.testing.assert_allclose(backwards["prediction"], model.predict(rows[cols[::-1]].to_numpy()), rtol=1e-12)


def test_decimal_and_integer_features(spark, diabetes):
    """Decimals reach the model as doubles (cast in Spark), integers as integers."""
    X, y, cols, df = diabetes
    model = Ridge(alpha=0.1).fit(X[:, :3], y)
    typed = df.select("id", F.col("x0").cast("decimal(12,6)").alias("d"), (F.col("x1") * 1000).cast("int").alias("i"), "x2")
    rows = predict_spark(model, typed, ["d", "i", "x2"]).toPandas().sort_values("id")
    features = rows[["d", "i", "x2"]].astype(float).to_numpy()
    np.testing.assert_allclose(rows["prediction"], model.predict(features), rtol=1e-12)


def test_transform_scaler_and_pca(spark, cancer):
    X, y, df = cancer
    model = make_pipeline(StandardScaler(), PCA(n_components=3)).fit(X)
    scored = predict_spark(model, df, method="transform", outputCol="pcs")
    assert scored.schema["pcs"].dataType == T.ArrayType(T.DoubleType(), False)
    rows = rows_of(scored)
    np.testing.assert_allclose(np.stack(rows["pcs"]), model.transform(rows[list(X.columns)]), rtol=1e-10, atol=1e-10)


def test_pipeline_with_column_transformer_on_mixed_types(spark, wine):
    """A string column one-hot encoded by name next to scaled numbers: predict and the sparse
    transform (made dense), fed with featureCols in another order than the model's."""
    X, y, df = wine
    features = ["colour", "alcohol", "malic_acid", "flavanoids"]
    prep = ColumnTransformer([("cat", OneHotEncoder(), ["colour"]), ("num", StandardScaler(), features[1:])],
                             sparse_threshold=1.0)
    model = make_pipeline(prep, LogisticRegression()).fit(X[features], y)
    prep.fit(X[features])
    assert hasattr(prep.transform(X[features]), "toarray")  # sparse, as promised
    rows = rows_of(predict_spark(model, df, features[::-1]))
    assert rows["prediction"].tolist() == model.predict(rows[features]).tolist()
    rows = rows_of(predict_spark(prep, df, features, method="transform", outputCol="encoded"))
    np.testing.assert_allclose(np.stack(rows["encoded"]), prep.transform(rows[features]).toarray(), atol=1e-12)


def test_named_models_get_their_names_in_order_unnamed_ones_an_array(spark, diabetes):
    """The model sees a pandas DataFrame with the training names in training order when it has
    feature_names_in_, and a numpy array when it has none (so scikit-learn has nothing to warn about)."""
    X, y, cols, df = diabetes
    Strict = strict_model_class()
    named = Strict().fit(pd.DataFrame(X, columns=cols), y)
    unnamed = Strict().fit(X, y)
    rows = rows_of(predict_spark(named, df, cols[::-1]))  # another order: fed in the model's
    np.testing.assert_allclose(rows["prediction"], rows["x0"])
    rows = rows_of(predict_spark(unnamed, df, cols))
    np.testing.assert_allclose(rows["prediction"], rows["x0"])


def strict_model_class():
    """A regressor that predicts its first feature and fails on input it was not fitted for.
    Defined in a function, so that cloudpickle ships the class by value to the Python workers."""
    from sklearn.base import BaseEstimator, RegressorMixin

    class Strict(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            if hasattr(X, "columns"):
                self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            self.n_features_in_ = X.shape[1]
            return self

        def predict(self, X):
            if hasattr(self, "feature_names_in_"):
                if list(getattr(X, "columns", [])) != list(self.feature_names_in_):
                    raise ValueError(f"expected a DataFrame with columns {list(self.feature_names_in_)}, got {type(X)}")
                return X.iloc[:, 0].to_numpy()
            if not isinstance(X, np.ndarray):
                raise ValueError(f"fitted without names: expected an ndarray, got {type(X)}")
            return X[:, 0]

    return Strict


@pytest.mark.parametrize(
    "labels, spark_type",
    [
        (np.array([0, 1], dtype="int64"), T.LongType()),
        (np.array([0, 1], dtype="int32"), T.IntegerType()),
        (np.array([0, 1], dtype="uint8"), T.IntegerType()),
        (np.array([0, 1], dtype="uint32"), T.LongType()),
        (np.array([0.5, 1.5]), T.DoubleType()),
        (np.array([0.5, 1.5], dtype="float32"), T.FloatType()),
        (np.array([False, True]), T.BooleanType()),
        (np.array(["no", "yes"]), T.StringType()),
        (np.array(["no", "yes"], dtype=object), T.StringType()),
        (np.array([1, 2], dtype=object), T.LongType()),
    ],
    ids=lambda v: str(getattr(v, "dtype", v)),
)
def test_label_types(labels, spark_type):
    assert _label_type(labels, None)[0] == spark_type


def test_mixed_label_types_are_refused():
    with pytest.raises(TypeError, match=r"classes_ holds \['int', 'str'\] values"):
        _label_type(np.array([1, "a"], dtype=object), LogisticRegression())


def test_boolean_labels_and_clusters_round_trip(spark, cancer):
    X, y, df = cancer
    cols = list(X.columns[:4])
    classifier = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[cols], y.astype(bool))
    clusters = KMeans(n_clusters=3, n_init=2, random_state=0).fit(X[cols])
    labels, groups = predict_spark(classifier, df), predict_spark(clusters, df, outputCol="cluster")
    assert labels.schema["prediction"].dataType == T.BooleanType()
    assert groups.schema["cluster"].dataType == T.IntegerType()
    rows = rows_of(labels)
    assert rows["prediction"].tolist() == classifier.predict(rows[cols]).tolist()
    rows = rows_of(groups)
    assert rows["cluster"].tolist() == clusters.predict(rows[cols]).tolist()


def test_empty_dataframe(spark, cancer, fitted):
    X, y, df = cancer
    scored = predict_spark(fitted, df.limit(0), method="predict_proba")
    assert scored.collect() == []
    assert scored.schema["probability"].dataType == T.ArrayType(T.DoubleType(), False)


@settings(parent=spark_settings, max_examples=6)
@given(
    rows=st.integers(1, 60),
    partitions=st.integers(1, 4),
    batch=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_any_partitioning_and_batch_size_scores_every_row_once(spark, rows, partitions, batch, seed):
    """Results equal the model's on the collected rows whatever the partitions and the Arrow batch
    size; every batch the model sees holds at most spark.sql.execution.arrow.maxRecordsPerBatch rows."""
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({"id": np.arange(rows), "a": rng.normal(size=rows), "b": rng.integers(-5, 5, size=rows)})
    model = batch_size_model_class()().fit(pdf[["a", "b"]])
    df = spark.createDataFrame(pdf).repartition(partitions)
    previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch))
    try:
        out = predict_spark(model, df, method="transform").toPandas().sort_values("id")
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)
    seen = np.stack(out["transformed"])
    assert out["id"].tolist() == list(range(rows))
    np.testing.assert_allclose(seen[:, :2], out[["a", "b"]].to_numpy())
    assert seen[:, 2].max() <= batch


def batch_size_model_class():
    """A transformer that returns each row's features and the size of the batch it came in."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class BatchSize(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            self.n_features_in_ = X.shape[1]
            return self

        def transform(self, X):
            return np.column_stack([X.to_numpy(dtype=float), np.full(len(X), float(len(X)))])

    return BatchSize


# -- shipping the model --------------------------------------------------------------------------------
def load_stamp_model_class():
    """A transformer whose unpickling leaves a mark: each load draws a random stamp, and transform
    returns (worker pid, stamp) per row. Distinct stamps count the loads; distinct pids the workers."""
    import os
    import random

    from sklearn.base import BaseEstimator, TransformerMixin

    class LoadStamp(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            self.n_features_in_ = X.shape[1]
            return self

        def __setstate__(self, state):
            super().__setstate__(state)
            self.stamp_ = random.random()

        def transform(self, X):
            return np.tile([float(os.getpid()), getattr(self, "stamp_", -1.0)], (len(X), 1))

    return LoadStamp


def test_the_model_is_unpickled_once_per_worker_not_per_task(spark):
    """8 tasks on local[2], two calls with the same model: predict_spark unpickles it once per
    Python worker process, where a pandas UDF closing over the model unpickles it in every task
    (the contrast shows that the test tells the two apart)."""
    from pyspark.sql.functions import pandas_udf

    model = load_stamp_model_class()().fit(np.zeros((2, 1)))
    df = spark.range(0, 800, numPartitions=8).select(F.col("id").cast("double").alias("x"))

    def loads(scored) -> pd.DataFrame:
        stamps = scored.select(F.col("transformed")[0].alias("pid"), F.col("transformed")[1].alias("stamp"))
        return stamps.distinct().toPandas()

    first = loads(predict_spark(model, df, ["x"], method="transform"))
    again = loads(predict_spark(model, df, ["x"], method="transform"))  # another call, the same model
    both = pd.concat([first, again]).drop_duplicates()
    assert (both["stamp"] >= 0).all()  # every batch ran on an unpickled copy
    assert both.groupby("pid")["stamp"].nunique().max() == 1, both  # one load per worker process, across calls
    assert len(first) < 8

    def closure(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        for batch in batches:
            yield pd.Series(model.transform(batch.to_numpy())[:, 1])

    naive = pandas_udf(closure, "double")
    stamps = df.select(naive(F.struct("x")).alias("stamp")).distinct().count()
    assert stamps == 8  # one load per task


def test_importing_the_module_imports_no_scikit_learn():
    import os

    import splitcv

    root = os.path.dirname(os.path.dirname(splitcv.__file__))
    script = "import sys, splitcv.inference; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_shipped_function_needs_no_splitcv(tmp_path):
    """The UDF body travels by value: a Python without splitcv unpickles it and scores a batch."""
    from pyspark import cloudpickle

    X, y = load_diabetes(return_X_y=True)
    model = Ridge().fit(X[:, :3], y)
    function = _batch_function("k", cloudpickle.dumps(model), False, "predict", ["a", "b", "c"], "scalar", "float64", False)
    path = tmp_path / "udf.pkl"
    path.write_bytes(cloudpickle.dumps(function))
    script = (
        "import sys, pickle, pandas as pd, numpy as np\n"
        "sys.modules['splitcv'] = None  # importing splitcv now fails\n"
        f"f = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        f"X = np.array({X[:5, :3].tolist()!r})\n"
        "out = list(f(iter([pd.DataFrame(X, columns=['a', 'b', 'c'])])))\n"
        "print(repr(out[0].tolist()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(eval(result.stdout), model.predict(X[:5, :3]))


# -- bad input: clear errors before any job ------------------------------------------------------------
def test_missing_feature_columns_are_named_with_the_available_ones(spark, cancer, fitted_unnamed):
    X, y, df = cancer
    model = fitted_unnamed
    raises_before_any_job(
        spark, ValueError, [r"featureCols 'Mean_Radius', 'nope' are not in the DataFrame", r"whose columns are \['mean_radius'",
                            r"names differ in case: 'Mean_Radius' -> 'mean_radius'"],
        model, df, ["Mean_Radius", "nope"] + list(X.columns[2:]),
    )


def test_columns_that_differ_from_the_models(spark, cancer, fitted):
    X, y, df = cancer
    cols = list(X.columns[:-1]) + ["id"]
    raises_before_any_job(spark, ValueError, [r"fitted on the columns \['mean_radius'", r"featureCols lacks 'worst_fractal_dimension'",
                                              r"has 'id', which the model never saw"], fitted, df, cols)


def test_number_of_features_for_an_unnamed_model(spark, cancer, fitted_unnamed):
    X, y, df = cancer
    model = fitted_unnamed
    raises_before_any_job(spark, ValueError, [r"Pipeline was fitted on 30 features, and featureCols has 2"],
                          model, df, ["mean_radius", "mean_texture"])
    raises_before_any_job(spark, ValueError, [r"featureCols is needed", r"\(30 of them\)"], model, df)


@pytest.mark.parametrize("make", [
    lambda: LogisticRegression(),
    lambda: make_pipeline(StandardScaler(), LogisticRegression()),
], ids=["estimator", "pipeline"])
def test_a_model_never_fitted(spark, cancer, make):
    X, y, df = cancer
    error = raises_before_any_job(spark, NotFittedError, [r"was never fitted: fit it first"], make(), df, list(X.columns))
    assert isinstance(error, ValueError)


def test_a_class_or_not_an_estimator(spark, cancer):
    X, y, df = cancer
    raises_before_any_job(spark, TypeError, [r"model=LogisticRegression is a class: pass a fitted instance"], LogisticRegression, df, ["mean_radius"])
    raises_before_any_job(spark, TypeError, [r"not a scikit-learn estimator \(it has no fit method\)"], np.mean, df, ["mean_radius"])


def test_a_method_the_model_lacks(spark, cancer):
    X, y, df = cancer
    svc = SVC().fit(X, y)  # probability=False: no predict_proba
    raises_before_any_job(spark, ValueError, [r"method='predict_proba', but SVC has no predict_proba \(.*probability.*\)",
                                              r"it has 'predict', 'decision_function'"], svc, df, method="predict_proba")
    ridge = Ridge().fit(X, y)
    raises_before_any_job(spark, ValueError, [r"Ridge has no transform; it has 'predict'"], ridge, df, method="transform")
    raises_before_any_job(spark, ValueError, [r"method='score' is not one of 'predict', 'predict_proba'"], ridge, df, method="score")


def test_feature_types(spark, cancer, diabetes, fitted):
    X, y, cols, df = diabetes
    model = Ridge().fit(X[:, :2], y)
    typed = df.select("id", F.col("x0").cast("string").alias("s"), "x1", F.array("x0", "x1").alias("arr"))
    raises_before_any_job(spark, TypeError, [r"'s' is string, and the model was fitted on an unnamed numeric array",
                                             r"fit the model on a pandas DataFrame"], model, typed, ["s", "x1"])
    raises_before_any_job(spark, TypeError, [r"'arr' is array<double>", r"vector_to_array"], Ridge().fit(X[:, :1], y), typed, ["arr"])
    from pyspark.ml.feature import VectorAssembler

    vectors = VectorAssembler(inputCols=["x0", "x1"], outputCol="features").transform(df)
    raises_before_any_job(spark, TypeError, [r"'features' is vector", r"vector_to_array"], Ridge().fit(X[:, :1], y), vectors, ["features"])


def test_output_column_and_arguments(spark, cancer, fitted):
    X, y, df = cancer
    raises_before_any_job(spark, ValueError, [r"outputCol='ID' is already a column of the DataFrame \('id'\)"], fitted, df, outputCol="ID")
    raises_before_any_job(spark, ValueError, [r"featureCols names 'mean_radius' more than once"], fitted, df, ["mean_radius", "mean_radius"])
    raises_before_any_job(spark, TypeError, [r"df is a DataFrame, not a Spark DataFrame", r"spark.createDataFrame\(df\)"], fitted, X)
    raises_before_any_job(spark, TypeError, [r"featureCols must be column names \(str\); 3 is an int"], fitted, df, [3])


def test_a_model_that_cannot_be_pickled(spark, cancer):
    X, y, df = cancer
    model = LogisticRegression().fit(X[["mean_radius"]], y)
    model.lock_ = threading.Lock()
    raises_before_any_job(spark, TypeError, [r"cannot be pickled, so it cannot be shipped to the executors", r"lock"], model, df)


def test_an_error_on_the_data_names_the_method_and_columns(spark, wine):
    """A category the encoder never saw fails inside the job, with a message that says where."""
    X, y, df = wine
    model = make_pipeline(OneHotEncoder(), LogisticRegression()).fit(X[["colour"]].replace("deep", "medium"), y)
    with pytest.raises(Exception, match=r"predict_spark: Pipeline.predict failed on a batch of \d+ rows with columns \{'colour': 'object'\}"):
        predict_spark(model, df).collect()
