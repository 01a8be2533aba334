"""Fit as ``estimator.fit(dataset)`` does, without the work whose result a cross-validation never reads.

That work is the training summary of Spark's ``LinearRegression`` on its normal-equation path
(squared-error loss, ``solver="normal"``, or ``"auto"`` with at most 4,096 features). Spark builds
it as every fit returns, in one more pass over the fit's training rows (about a third of the fit,
finding 12 of benchmarks/findings.md). A (fold, map) model that is scored and let go never has its
``summary`` read, so :func:`lean_fit` runs what ``LinearRegression.fit`` runs up to the model (the
schema check, the casts, the input checks, ``WeightedLeastSquares`` with the same arguments, the
model's Params and parent) and stops there. The model is the same to the bit: coefficients
(compressed as Spark compresses them), intercept, Params, uid and parent; only ``hasSummary`` is
``False``. Bad input fails with the same error. Two things ``fit`` does are left out besides the
summary, both for its logs only: the name of the instances' RDD, and the partition count it logs
(which, for an input with a shuffle in its plan, makes Spark run that shuffle once more under
adaptive execution).

A :class:`~splitcv.OneOf` whose chosen candidate is such a ``LinearRegression`` is fitted the same
way, and so is such a stage of a ``Pipeline`` (nested ones too): :func:`lean_fit` fits a Pipeline that
holds one as pyspark 4.3's ``Pipeline.fit`` does, stage by stage, each estimator stage through
:func:`lean_fit`.

The Scala it calls is package-private (``DatasetUtils``, ``WeightedLeastSquares``): stable within a
release, not promised across releases. So the lean path is taken only on a classic session of a Spark
release it was checked against (:data:`CHECKED_SPARK`), only for ``LinearRegression`` itself (a
subclass may fit its own way) whose ``fit`` is pyspark's own (not patched by a tracer, say), and only
on that path of ``LinearRegression.train``; a Pipeline (or a ``OneOf``) only under the same
conditions. Anything else, Spark Connect included, is ``estimator.fit(dataset)``.
"""

from __future__ import annotations

from typing import Any, Optional

from pyspark.ml import Estimator, Model, Pipeline, PipelineModel, Transformer
from pyspark.ml.wrapper import JavaEstimator
from pyspark.sql import DataFrame

from splitcv.prefix import Fit, leaves, plain_fit

__all__ = ["CHECKED_SPARK", "fit_for", "fit_without_summary", "lean_fit", "summary_free_path"]

# The releases whose Predictor.fit and LinearRegression.train the calls below follow, read from their
# bytecode and checked by tests/test_lean_fit.py. A patch release can change package-private code, so
# a new one is added only once those tests pass on it.
CHECKED_SPARK = ("4.3.0",)

# pyspark's own fits, as imported: a class or instance whose fit is another (a subclass's, a tracer's
# patch) is fitted by that fit.
_PYSPARK_FITS = (Estimator.fit, JavaEstimator._fit)
_PIPELINE_FITS = (Estimator.fit, Pipeline._fit)


def lean_fit(estimator: Estimator, dataset: DataFrame) -> Model:
    """``estimator.fit(dataset)``, leaving out a training summary nobody will read where that is
    known to give the same model (see the module's docstring); the model has no ``summary``.

    >>> from pyspark.ml.regression import LinearRegression
    >>> from pyspark.ml.linalg import Vectors
    >>> df = spark.createDataFrame([(Vectors.dense([x]), 2.0 * x + 1.0) for x in range(5)], ["features", "label"])
    >>> lean, usual = lean_fit(LinearRegression(), df), LinearRegression().fit(df)
    >>> (lean.coefficients, lean.intercept) == (usual.coefficients, usual.intercept)
    True
    >>> lean.hasSummary, usual.hasSummary
    (False, True)
    """
    from pyspark.ml.regression import LinearRegression

    from splitcv.one_of import OneOf

    if type(estimator) is OneOf:  # its fit is the chosen candidate's fit, and its model that one's
        return lean_fit(estimator.chosen(), dataset)
    if type(estimator) is Pipeline and _fits_as_pyspark_does(estimator, _PIPELINE_FITS):
        # only where a stage can gain, and only on the release whose Pipeline._fit this follows
        if _session_has_the_path(dataset) and any(type(stage) in (LinearRegression, OneOf) for stage in leaves(estimator)):
            return _fit_pipeline(estimator, dataset)
        return estimator.fit(dataset)
    if type(estimator) is not LinearRegression or not _fits_as_pyspark_does(estimator, _PYSPARK_FITS):
        return estimator.fit(dataset)
    model = _without_summary(estimator, dataset) if summary_free_path(estimator, dataset) else None
    # None: no such path, or "auto" found more than 4,096 features (Spark's l-bfgs path; fit counts
    # the features again, one job reading a row when the column's metadata has no size)
    return estimator.fit(dataset) if model is None else model


def fit_for(lean: bool) -> Fit:
    """How a model that is scored and let go is fitted: :func:`lean_fit` with ``lean`` (the
    validator's ``leanFits``, when it does not keep the models), else ``estimator.fit``."""
    return lean_fit if lean else plain_fit


def fit_without_summary(estimator: Any, dataset: DataFrame) -> Optional[Model]:
    """The model ``LinearRegression.fit`` would give, without its summary; ``None`` when ``"auto"``
    finds more than 4,096 features (Spark's l-bfgs path). As ``JavaEstimator._fit`` does, the Python
    model gets the estimator's Params. Raises ``ValueError`` where :func:`summary_free_path` refuses
    (another loss or solver would be another model; Connect and unchecked releases have no such path).
    """
    if summary_free_path(estimator, dataset) is None:
        raise ValueError(
            f"fit_without_summary: {type(estimator).__name__}(loss={estimator.getLoss()!r}, "
            f"solver={estimator.getSolver()!r}) on this session has no summary-free path: it needs "
            f"squaredError with solver 'normal' or 'auto', a classic session, and Spark {' or '.join(CHECKED_SPARK)}; "
            "call fit, or lean_fit, which falls back to fit"
        )
    return _without_summary(estimator, dataset)


def _without_summary(estimator: Any, dataset: DataFrame) -> Optional[Model]:
    java_model = _fit_linear_regression_without_summary(estimator, dataset)
    return None if java_model is None else estimator._copyValues(estimator._create_model(java_model))


def _fits_as_pyspark_does(estimator: Any, fits: tuple[Any, Any]) -> bool:
    own = vars(estimator)
    return (type(estimator).fit, type(estimator)._fit) == fits and "fit" not in own and "_fit" not in own


def _fit_pipeline(pipeline: Pipeline, dataset: DataFrame) -> PipelineModel:
    """pyspark 4.3's ``Pipeline._fit``, step for step, with each estimator stage fitted by
    :func:`lean_fit`: the stages after the last estimator are kept as they are, and the data a
    stage fits on is the output of every stage before it."""
    stages = pipeline.getStages()
    for stage in stages:
        if not isinstance(stage, (Estimator, Transformer)):
            raise TypeError("Cannot recognize a pipeline stage of type %s." % type(stage))
    last_estimator = max((i for i, stage in enumerate(stages) if isinstance(stage, Estimator)), default=-1)
    transformers: list[Transformer] = []
    for i, stage in enumerate(stages):
        if i > last_estimator:
            transformers.append(stage)
        elif isinstance(stage, Transformer):
            transformers.append(stage)
            dataset = stage.transform(dataset)
        else:
            model = lean_fit(stage, dataset)
            transformers.append(model)
            if i < last_estimator:
                dataset = model.transform(dataset)
    return PipelineModel(transformers)


def summary_free_path(estimator: Any, dataset: Any) -> Optional[str]:
    """Why ``estimator`` on ``dataset`` may be fitted without its summary (the solver Param's
    value), or ``None`` when it must be fitted by ``fit``: another loss or solver, Spark Connect,
    or a Spark release not in :data:`CHECKED_SPARK`."""
    if estimator.getLoss() != "squaredError" or estimator.getSolver() not in ("normal", "auto"):
        return None
    return estimator.getSolver() if _session_has_the_path(dataset) else None


def _session_has_the_path(dataset: Any) -> bool:
    """A classic session of a Spark release in :data:`CHECKED_SPARK`."""
    from pyspark.sql.utils import is_remote

    if is_remote() or getattr(dataset, "_jdf", None) is None:
        return False
    return dataset.sparkSession.version in CHECKED_SPARK


def _fit_linear_regression_without_summary(estimator: Any, dataset: DataFrame) -> Any:
    """Spark 4.3's ``Predictor.fit`` and ``LinearRegression.train`` up to ``trainWithNormal``'s
    model, with the same arguments, without its last step (the summary) and what only feeds the
    logs. ``None`` when ``train`` would take another path (decided before the instances are built,
    which only describes them: it runs nothing)."""
    estimator._transfer_params_to_java()
    java = estimator._java_obj
    jvm = dataset.sparkSession.sparkContext._jvm
    ml = jvm.org.apache.spark.ml
    utils = _scala_object(ml.util, "DatasetUtils$")

    # Predictor.fit: validate the schema, cast the label (and a weight column) to double, keeping
    # their metadata.
    frame = dataset._jdf
    java.transformSchema(frame.schema(), True)
    double = jvm.org.apache.spark.sql.types.DataTypes.DoubleType
    columns = [java.getLabelCol()]
    if java.isDefined(java.weightCol()) and java.getWeightCol():
        columns.append(java.getWeightCol())
    for name in columns:
        metadata = frame.schema().apply(name).metadata()
        frame = frame.withColumn(name, jvm.org.apache.spark.sql.functions.col(name).cast(double), metadata)

    # LinearRegression.train: the number of features decides the solver under "auto" (a job when
    # the column carries no size in its metadata, as in Spark).
    features = utils.getNumFeatures(frame, java.getFeaturesCol())
    normal = _scala_object(ml.optim, "WeightedLeastSquares$")
    if java.getSolver() == "auto" and features > normal.MAX_NUM_FEATURES():
        return None
    instances = utils.extractInstances(java, frame, getattr(utils, "extractInstances$default$3")())

    # trainWithNormal, up to the model: the same solver, arguments and tree depth.
    solver = ml.optim.WeightedLeastSquares(
        java.getFitIntercept(), java.getRegParam(), java.getElasticNetParam(), java.getStandardization(), True,
        _scala_object(ml.optim, "WeightedLeastSquares$Auto$"), java.getMaxIter(), java.getTol(),
    )
    instrumentation = _scala_object(ml.util, "OptionalInstrumentation$").create(java.getClass())
    solved = solver.fit(instances, instrumentation, getattr(solver, "fit$default$3")())
    model = ml.regression.LinearRegressionModel(java.uid(), solved.coefficients().compressed(), solved.intercept())
    no_extra = ml.param.ParamMap()
    model = java.copyValues(model, no_extra)
    # Predictor.fit again: the parent, and the estimator's Params once more.
    model.setParent(java)
    return java.copyValues(model, no_extra)


def _scala_object(package: Any, name: str) -> Any:
    return getattr(getattr(package, name), "MODULE$")
