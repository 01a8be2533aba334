"""Batch inference of a fitted scikit-learn model on a Spark DataFrame: :func:`predict_spark`.

The seed article scores rows with a row-at-a-time ``@udf`` that closes over the model: every row
becomes a Python call and a one-row ``model.predict``, and the model travels inside the UDF's
pickled closure, which every task unpickles again. :func:`predict_spark` does the same job as a
scalar-iterator pandas UDF:

* rows reach the model in Arrow batches (``spark.sql.execution.arrow.maxRecordsPerBatch`` rows,
  10,000 by default), one vectorised ``predict``/``predict_proba``/``transform`` call per batch;
* the model is pickled once on the driver and broadcast; each Python worker unpickles it once and
  keeps it for the tasks that follow (a small cache keyed by the pickled model's digest, see
  :func:`_batch_function`);
* only the feature columns go to Python; the other columns stay in the JVM and the output column is
  added next to them, with a Spark type that follows the model (see :func:`predict_spark`);
* everything that can be checked without data is checked before any Spark job: the feature columns
  exist and have types the model can take, the model is fitted, has the method, and was fitted on
  these columns.

scikit-learn is imported only when :func:`predict_spark` is called (``pip install 'splitcv[sklearn]'``);
the executors need scikit-learn and the model's own classes, not splitcv.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

__all__ = ["predict_spark", "METHODS"]

#: The methods :func:`predict_spark` can apply, and the output column each one gets by default.
METHODS: dict[str, str] = {
    "predict": "prediction",
    "predict_proba": "probability",
    "predict_log_proba": "log_probability",
    "decision_function": "decision_function",
    "transform": "transformed",
}

# Spark types a numeric model takes as they are. DecimalType is cast to double first: Arrow hands
# decimals to pandas as Python Decimal objects, one object per value.
_NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.BooleanType, T.DecimalType)
# Types only a model that routes columns by name (a ColumnTransformer, an encoder) can take.
_BY_NAME_ONLY = (T.StringType, T.DateType, T.TimestampType, T.TimestampNTZType)

# How many models a Python worker keeps unpickled (most recently used first out): enough for a
# query that applies a few models in one stage, bounded so a long-lived worker that scores with
# many models one after another does not hold them all.
WORKER_CACHE_SIZE = 4


def predict_spark(
    model: Any,
    df: DataFrame,
    featureCols: Optional[Union[str, Sequence[str]]] = None,
    method: str = "predict",
    outputCol: Optional[str] = None,
) -> DataFrame:
    """``df`` with one more column: ``model.<method>`` applied to ``featureCols``, batch by batch.

    Parameters
    ----------
    model
        A fitted scikit-learn estimator or pipeline (or anything with its API: ``fit``, a fitted
        state that ``sklearn.utils.validation.check_is_fitted`` recognises, and ``method``).
    df
        The Spark DataFrame to score. Its other columns are kept as they are.
    featureCols
        The columns to feed the model, one per feature. Default: the model's ``feature_names_in_``
        (models fitted on a pandas DataFrame have it). For such a model the names must be the ones
        it was fitted on; they are passed to it in its own order, as a pandas DataFrame with those
        column names. A model fitted on an unnamed array gets a numpy array, columns in the order
        of ``featureCols``.
    method
        ``"predict"``, ``"predict_proba"``, ``"predict_log_proba"``, ``"decision_function"`` or
        ``"transform"``.
    outputCol
        The new column's name; default ``prediction``, ``probability``, ``log_probability``,
        ``decision_function`` or ``transformed`` after ``method``. It must not exist in ``df``.

    Output types
    ------------
    * ``predict``: a classifier's label type, from ``classes_`` (integer classes give
      ``int``/``bigint``, strings ``string``, floats ``double``, booleans ``boolean``); a clusterer's
      or outlier detector's ``int``; anything else (a regressor) ``double``.
    * ``predict_proba``, ``predict_log_proba``: ``array<double>``, one entry per class in the order
      of ``model.classes_`` (``F.col("probability")[1]`` is the second class's; Spark ML's
      ``vector`` is ``pyspark.ml.functions.array_to_vector`` away).
    * ``decision_function``: ``double`` for a binary classifier or an outlier detector,
      ``array<double>`` (one entry per class) for more classes.
    * ``transform``: ``array<double>``; a sparse result (a ``OneHotEncoder``) is made dense, batch
      by batch.

    Errors, all raised before any Spark job: ``TypeError`` for a model that is not an estimator
    instance or cannot be pickled, for a ``df`` that is not a Spark DataFrame, and for feature columns
    of a type the model cannot take; ``sklearn.exceptions.NotFittedError`` (a ``ValueError``) for a
    model that was never fitted; ``ValueError`` for an unknown ``method`` or one the model lacks,
    missing or duplicated feature columns, columns that differ from the ones the model was fitted
    on, and an ``outputCol`` that already exists. An error the model raises on the data itself
    (a string it cannot convert, a category it never saw) surfaces when the job runs, as a Spark
    ``PythonException`` whose message starts with ``predict_spark:`` and names the method and the
    columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
    >>> model = LogisticRegression().fit(train[["x"]], train["y"])
    >>> df = spark.createDataFrame([(1, 0.5), (2, 2.5)], "id int, x double")
    >>> scored = predict_spark(model, df)  # featureCols from model.feature_names_in_
    >>> scored.schema.simpleString()
    'struct<id:int,x:double,prediction:bigint>'
    >>> [(r.id, r.prediction) for r in scored.orderBy("id").collect()]
    [(1, 0), (2, 1)]
    >>> predict_spark(model, df, method="predict_proba").schema["probability"].dataType.simpleString()
    'array<double>'
    """
    plan = _plan(model, df, featureCols, method, outputCol)
    payload = _pickle(model)
    # The workers' cache key: the pickled bytes' digest, so that calls with the same fitted model
    # (predict, then predict_proba) share one unpickled copy per worker.
    key = hashlib.sha256(payload).hexdigest()
    session = df.sparkSession
    if _is_connect(session):
        # Spark Connect has no SparkContext to broadcast with: the pickled model travels inside the
        # UDF's command, with the tasks; the worker cache still unpickles it once per worker.
        source: Any = payload
        from_broadcast = False
    else:
        source = session.sparkContext.broadcast(payload)
        from_broadcast = True
    function = _batch_function(key, source, from_broadcast, method, plan.names, plan.kind, plan.numpy_dtype, plan.named)
    from pyspark.sql.functions import pandas_udf

    udf = pandas_udf(function, plan.output_type)  # type: ignore[call-overload]
    features = F.struct(*plan.columns)
    return df.withColumn(plan.output_col, udf(features))


@dataclass(frozen=True)
class _Plan:
    names: list[str]  # the pandas column names the model sees, in the order it sees them
    columns: list[Column]  # the Spark columns, aliased to ``names``
    named: bool  # feed a pandas DataFrame with names (True) or a numpy array (False)
    output_col: str
    output_type: T.DataType
    kind: str  # "scalar" (one value per row) or "array" (a row of doubles per row)
    numpy_dtype: Optional[str]  # what a scalar output is cast to before Arrow


def _plan(model: Any, df: Any, featureCols: Any, method: Any, outputCol: Any) -> _Plan:
    """Every check that needs no data, in the order a person would fix them; then what to run."""
    _check_dataframe(df)
    _check_method_name(method)
    _check_is_model(model)
    _check_fitted(model)
    _check_has_method(model, method)
    model_names = _feature_names(model)
    cols = _feature_cols(featureCols, model_names, model)
    _check_columns_exist(df, cols)
    if model_names is not None:
        _check_same_names(cols, model_names)
        names = model_names  # the model's order, so its feature-name check passes
    else:
        _check_feature_count(cols, model)
        names = cols
    fields = {f.name: f for f in df.schema.fields}
    _check_types(fields, names, named=model_names is not None)
    output_col = _output_col(outputCol, method, df)
    output_type, kind, numpy_dtype = _output_type(model, method)
    columns = []
    for name in names:
        column = F.col(_quote(name))
        if isinstance(fields[name].dataType, T.DecimalType):
            column = column.cast("double")
        columns.append(column.alias(name))
    return _Plan(names, columns, model_names is not None, output_col, output_type, kind, numpy_dtype)


# -- checks -------------------------------------------------------------------------------------------
def _check_dataframe(df: Any) -> None:
    if isinstance(df, DataFrame) or type(df).__module__.startswith("pyspark.sql.connect"):
        return
    hint = "spark.createDataFrame(df)" if type(df).__module__.startswith("pandas") else "a DataFrame from spark.read or spark.createDataFrame"
    raise TypeError(f"predict_spark: df is {_a(type(df).__name__)}, not a Spark DataFrame: pass one, e.g. {hint}")


def _check_method_name(method: Any) -> None:
    if method not in METHODS:
        raise ValueError(f"predict_spark: method={method!r} is not one of {', '.join(map(repr, METHODS))}")


def _check_is_model(model: Any) -> None:
    if isinstance(model, type):
        raise TypeError(
            f"predict_spark: model={model.__name__} is a class: pass a fitted instance, e.g. {model.__name__}().fit(X, y)"
        )
    if not hasattr(model, "fit"):
        raise TypeError(
            f"predict_spark: model={_short_repr(model)} is {_a(type(model).__name__)}, not a scikit-learn estimator "
            "(it has no fit method): pass a fitted estimator or Pipeline"
        )


def _check_fitted(model: Any) -> None:
    sklearn = _sklearn()
    try:
        sklearn.utils.validation.check_is_fitted(model)
    except sklearn.exceptions.NotFittedError:
        raise sklearn.exceptions.NotFittedError(
            f"predict_spark: model={_short_repr(model)} was never fitted: fit it first, e.g. model.fit(X, y) on a "
            "pandas DataFrame with the feature columns, then call predict_spark(model, df)"
        ) from None


def _check_has_method(model: Any, method: str) -> None:
    try:
        getattr(model, method)
    except AttributeError as error:
        has = [m for m in METHODS if _has(model, m)]
        # scikit-learn's available_if puts the reason ("not available when probability=False") in the cause
        why = str(error.__cause__ or error).strip()
        raise ValueError(
            f"predict_spark: method={method!r}, but {type(model).__name__} has no {method}"
            + (f" ({why})" if why and "has no attribute" not in why else "")
            + f"; it has {', '.join(map(repr, has)) or 'none of the methods predict_spark applies'}"
        ) from None


def _has(model: Any, name: str) -> bool:
    try:
        getattr(model, name)
        return True
    except AttributeError:
        return False


def _feature_names(model: Any) -> Optional[list[str]]:
    try:
        names = getattr(model, "feature_names_in_", None)
    except AttributeError:  # a Pipeline whose first step has none raises from its property
        names = None
    return None if names is None else [str(n) for n in names]


def _feature_cols(featureCols: Any, model_names: Optional[list[str]], model: Any) -> list[str]:
    if featureCols is None:
        if model_names is None:
            n = getattr(model, "n_features_in_", None)
            raise ValueError(
                f"predict_spark: featureCols is needed: {type(model).__name__} was fitted on an array without column "
                "names, so the columns cannot be looked up by name. Pass them in the order of the training "
                "columns, e.g. featureCols=['x1', 'x2']" + (f" ({n} of them)" if n is not None else "")
            )
        return list(model_names)
    if isinstance(featureCols, str):
        featureCols = [featureCols]
    try:
        cols = list(featureCols)
    except TypeError:
        raise TypeError(f"predict_spark: featureCols={featureCols!r} is not a list of column names: pass e.g. featureCols=['x1', 'x2']") from None
    bad = [c for c in cols if not isinstance(c, str)]
    if bad:
        raise TypeError(f"predict_spark: featureCols must be column names (str); {bad[0]!r} is {_a(type(bad[0]).__name__)}")
    if not cols:
        raise ValueError("predict_spark: featureCols is empty: pass the feature columns, e.g. featureCols=['x1', 'x2']")
    seen: set[str] = set()
    dupes = [c for c in cols if c in seen or seen.add(c)]  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"predict_spark: featureCols names {_names(dict.fromkeys(dupes))} more than once")
    return cols


def _check_columns_exist(df: Any, cols: list[str]) -> None:
    available = list(df.columns)
    missing = [c for c in cols if c not in available]
    if not missing:
        return
    lower = {a.lower(): a for a in available}
    close = [f"{m!r} -> {lower[m.lower()]!r}" for m in missing if m.lower() in lower]
    raise ValueError(
        f"predict_spark: featureCols {_names(missing)} {'is' if len(missing) == 1 else 'are'} not in the DataFrame, "
        f"whose columns are {available}" + (f" (names differ in case: {', '.join(close)})" if close else "")
    )


def _check_same_names(cols: list[str], model_names: list[str]) -> None:
    lacking = [n for n in model_names if n not in cols]
    extra = [c for c in cols if c not in model_names]
    if lacking or extra:
        parts = []
        if lacking:
            parts.append(f"featureCols lacks {_names(lacking)}")
        if extra:
            parts.append(f"has {_names(extra)}, which the model never saw")
        raise ValueError(
            f"predict_spark: the model was fitted on the columns {model_names}, and {' and '.join(parts)}: pass "
            "featureCols with the training columns' names (or leave it out to use model.feature_names_in_)"
        )


def _check_feature_count(cols: list[str], model: Any) -> None:
    n = getattr(model, "n_features_in_", None)
    if n is not None and n != len(cols):
        raise ValueError(
            f"predict_spark: {type(model).__name__} was fitted on {n} features, and featureCols has {len(cols)} "
            f"({cols}): pass the {n} training columns, in their training order"
        )


def _check_types(fields: dict[str, T.StructField], names: list[str], named: bool) -> None:
    for name in names:
        dt = fields[name].dataType
        if isinstance(dt, _NUMERIC):
            continue
        if isinstance(dt, _BY_NAME_ONLY):
            if named:
                continue  # a model fitted on a DataFrame routes columns by name: it may encode strings
            raise TypeError(
                f"predict_spark: feature column {name!r} is {dt.simpleString()}, and the model was fitted on an "
                "unnamed numeric array: cast the column to a number, or fit the model on a pandas DataFrame with "
                "these column names (a ColumnTransformer or an encoder can then take it)"
            )
        hint = (
            "; for a Spark ML vector column, expand it first: "
            "df.withColumn('f', pyspark.ml.functions.vector_to_array('features')) and one column per element, "
            "e.g. F.col('f')[i].alias(f'x{i}')"
            if isinstance(dt, (T.ArrayType, T.UserDefinedType))
            else ""
        )
        raise TypeError(
            f"predict_spark: feature column {name!r} is {dt.simpleString()}: predict_spark feeds the model one column "
            f"per feature, of a number, boolean, string, date or timestamp type{hint}"
        )


def _output_col(outputCol: Any, method: str, df: Any) -> str:
    name = METHODS[method] if outputCol is None else outputCol
    if not isinstance(name, str) or not name:
        raise TypeError(f"predict_spark: outputCol={outputCol!r} is not a column name: pass a non-empty str")
    clash = [c for c in df.columns if c.lower() == name.lower()]
    if clash:
        raise ValueError(
            f"predict_spark: outputCol={name!r} is already a column of the DataFrame ({clash[0]!r}): pass another "
            "name, e.g. outputCol='" + name + "_sklearn'"
        )
    return name


def _output_type(model: Any, method: str) -> tuple[T.DataType, str, Optional[str]]:
    """The output column's Spark type, whether it is a scalar or an array per row, and the numpy
    dtype a scalar is cast to (Arrow then makes exactly that Spark type)."""
    array = (T.ArrayType(T.DoubleType(), containsNull=False), "array", None)
    double = (T.DoubleType(), "scalar", "float64")
    base = _sklearn().base
    if method in ("predict_proba", "predict_log_proba", "transform"):
        return array
    classes = getattr(model, "classes_", None) if base.is_classifier(model) else None
    if classes is not None and (isinstance(classes, list) or getattr(classes, "ndim", 1) != 1):
        raise ValueError(
            f"predict_spark: {type(model).__name__} is a multi-output classifier (classes_ is a list of arrays): "
            f"predict_spark applies models with one output per row; score each output's estimator separately"
        )
    if method == "decision_function":
        return array if classes is not None and len(classes) > 2 else double
    # method == "predict"
    if classes is not None:
        return _label_type(classes, model)
    if _is(base, "is_clusterer", model, "clusterer") or _is(base, "is_outlier_detector", model, "outlier_detector"):
        return (T.IntegerType(), "scalar", "int32")
    return double


def _label_type(classes: Any, model: Any) -> tuple[T.DataType, str, Optional[str]]:
    import numpy as np

    classes = np.asarray(classes)
    kind, size = classes.dtype.kind, classes.dtype.itemsize
    if kind == "b":
        return T.BooleanType(), "scalar", "bool"
    if kind in "iu":
        small = size < 4 or (size == 4 and kind == "i")
        return (T.IntegerType(), "scalar", "int32") if small else (T.LongType(), "scalar", "int64")
    if kind == "f":
        return (T.FloatType(), "scalar", "float32") if size == 4 else (T.DoubleType(), "scalar", "float64")
    if kind in "US" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        return T.StringType(), "scalar", "object"
    if kind == "O":
        import numbers

        if all(isinstance(c, (bool, np.bool_)) for c in classes):
            return T.BooleanType(), "scalar", "bool"
        if all(isinstance(c, numbers.Integral) and not isinstance(c, (bool, np.bool_)) for c in classes):
            return T.LongType(), "scalar", "int64"
        if all(isinstance(c, numbers.Real) and not isinstance(c, (bool, np.bool_)) for c in classes):
            return T.DoubleType(), "scalar", "float64"
    raise TypeError(
        f"predict_spark: {type(model).__name__}.classes_ holds {sorted({type(c).__name__ for c in classes.ravel()})} "
        "values, which map to no single Spark type: fit the classifier on labels of one type (int, str, float or bool)"
    )


def _is(base: Any, function: str, model: Any, estimator_type: str) -> bool:
    test = getattr(base, function, None)  # is_clusterer is scikit-learn 1.6+
    if test is not None:
        return bool(test(model))
    return getattr(model, "_estimator_type", None) == estimator_type


def _pickle(model: Any) -> bytes:
    from pyspark import cloudpickle  # what pyspark ships UDFs with: classes defined in a notebook travel too

    try:
        return cloudpickle.dumps(model)
    except Exception as error:
        raise TypeError(
            f"predict_spark: model={_short_repr(model)} cannot be pickled, so it cannot be shipped to the executors: "
            f"{type(error).__name__}: {error}"
        ) from error


# -- the code that runs on the executors ---------------------------------------------------------------
def _batch_function(
    key: str,
    source: Any,
    from_broadcast: bool,
    method: str,
    names: list[str],
    kind: str,
    numpy_dtype: Optional[str],
    named: bool,
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The scalar-iterator pandas UDF body: ``Iterator[pd.DataFrame] -> Iterator[pd.Series]``.

    It is a closure, so cloudpickle ships it by value and the executors need no splitcv. What it
    closes over is small: the broadcast handle (or, on Spark Connect, the pickled bytes) and a few
    strings. The model itself is unpickled at most once per Python worker process: the worker keeps
    it in a module-level cache under ``key`` (the digest of the pickled model). A plain closure
    over the model object would instead be unpickled with the UDF for every task, because pyspark
    deserialises a UDF's command, closure included, task by task; on a model of tens of megabytes
    (a random forest) that is seconds per task.
    """
    import pandas as pd

    cache_size = WORKER_CACHE_SIZE

    def load_model() -> Any:
        import pickle
        import sys
        import types
        from collections import OrderedDict

        # A module-level cache that lives as long as the worker process. This function is shipped
        # by value, so its own globals are a fresh copy per task: the cache must hang off something
        # every task of the process shares, hence a module object in sys.modules.
        holder = sys.modules.get("_splitcv_inference_models")
        if holder is None:
            holder = types.ModuleType("_splitcv_inference_models")
            holder.models = OrderedDict()  # type: ignore[attr-defined]
            sys.modules["_splitcv_inference_models"] = holder
        models = holder.models  # type: ignore[attr-defined]
        if key in models:
            models.move_to_end(key)
            return models[key]
        model = pickle.loads(source.value if from_broadcast else source)
        models[key] = model
        while len(models) > cache_size:
            models.popitem(last=False)
        return model

    def apply(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        import numpy as np

        model = load_model()
        call = getattr(model, method)
        for batch in batches:
            if len(batch) == 0:  # scikit-learn refuses zero rows; an empty batch gets an empty answer
                yield pd.Series([], dtype=numpy_dtype or "object")
                continue
            features = batch[names] if named else batch[names].to_numpy()
            try:
                out = call(features)
            except Exception as error:
                raise type(error)(
                    f"predict_spark: {type(model).__name__}.{method} failed on a batch of {len(batch)} rows with "
                    f"columns {dict(batch.dtypes.astype(str))}: {error}"
                ) if _rebuildable(error) else error
            if kind == "array":
                if hasattr(out, "toarray"):  # scipy sparse (a OneHotEncoder): dense, one batch at a time
                    out = out.toarray()
                out = np.asarray(out)
                if out.ndim == 1:
                    out = out.reshape(-1, 1)
                try:
                    out = out.astype("float64", copy=False)
                except (TypeError, ValueError):
                    raise TypeError(
                        f"predict_spark: {type(model).__name__}.{method} returned {out.dtype} values, and the "
                        "output column is array<double>: apply only the numeric steps, or encode the rest"
                    ) from None
                yield pd.Series(list(out))
            else:
                out = np.asarray(out)
                if out.ndim == 2 and out.shape[1] == 1:
                    out = out[:, 0]
                if out.ndim != 1:
                    raise ValueError(
                        f"predict_spark: {type(model).__name__}.{method} returned shape {out.shape}, one value per row "
                        "was expected: multi-output models are not supported"
                    )
                yield pd.Series(out.astype(numpy_dtype, copy=False))

    def _rebuildable(error: Exception) -> bool:
        # Re-raise with context only where the exception type takes one message argument.
        return type(error) in (ValueError, TypeError, KeyError, IndexError)

    apply.__annotations__ = {"batches": Iterator[pd.DataFrame], "return": Iterator[pd.Series]}
    return apply


# -- small helpers ------------------------------------------------------------------------------------
def _sklearn() -> Any:
    try:
        import sklearn.base
        import sklearn.exceptions
        import sklearn.utils.validation
    except ImportError as error:
        raise ImportError(
            "predict_spark needs scikit-learn: pip install 'splitcv[sklearn]' (or scikit-learn>=1.4)"
        ) from error
    return sklearn


def _is_connect(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _a(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _names(names: Any) -> str:
    return ", ".join(repr(n) for n in names)


def _short_repr(model: Any, limit: int = 80) -> str:
    text = " ".join(repr(model).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
