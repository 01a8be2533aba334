"""Scoring every param map of a fold in one Spark job instead of one job per map.

Spark's evaluators score one prediction column per job. When the evaluator is Spark's
``RegressionEvaluator`` with a metric that is a function of sums over the rows (``rmse``, ``mse``,
``mae``, and ``r2`` without weights), the models of one fold can each write their predictions to a
column of their own over the fold's validation set, and one aggregation computes every model's
sums. For a fold of *m* maps that is 1 job instead of *m*.

The sums follow Spark's ``RegressionMetrics`` (``mllib.evaluation``), which the evaluator uses:
rows of weight 0 are left out, ``mse = (sqrt(sum(w e^2)))^2 / sum(w)``, ``mae = sum(w |e|) / sum(w)``,
``r2 = 1 - SSerr / SStot`` with ``SStot`` the label's sample variance times ``n - 1`` (or the
label's sum of squares with ``throughOrigin``). Floating-point sums in another order can differ
from the evaluator's in the last bits (relative 1e-15); ``scoreInOnePass=False`` gives the
evaluator's own numbers.

Whatever the one pass cannot reproduce goes to the evaluator, map by map, so it raises its own
error: a null label, prediction or weight, a NaN, negative or infinite weight, a prediction column that is not
DOUBLE or FLOAT, a label that is not numeric, a validation set that already has the prediction column.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from pyspark.ml.base import Model
from pyspark.ml.evaluation import Evaluator, RegressionEvaluator
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, FloatType, NumericType

__all__ = ["one_pass_metric", "predicts_into", "score_in_one_pass"]

#: RegressionEvaluator metrics computed from sums over the rows ('var' needs the label's mean first)
SUMMED_METRICS = ("rmse", "mse", "mae", "r2")


def _weight_col(evaluator: RegressionEvaluator) -> str:
    return evaluator.getWeightCol() if evaluator.isDefined(evaluator.weightCol) else ""


def one_pass_metric(evaluator: Evaluator) -> Optional[str]:
    """The metric to compute in one pass for ``evaluator``, or None when it must score map by map.

    Only Spark's own ``RegressionEvaluator`` qualifies (a subclass may compute anything), with a
    metric of :data:`SUMMED_METRICS`; ``r2`` only without a weight column (Spark's weighted variance
    is not a plain sum).

    >>> one_pass_metric(RegressionEvaluator(metricName="mae"))
    'mae'
    >>> one_pass_metric(RegressionEvaluator(metricName="var")) is None
    True
    """
    if type(evaluator) is not RegressionEvaluator:
        return None
    metric = evaluator.getMetricName()
    if metric not in SUMMED_METRICS or (metric == "r2" and _weight_col(evaluator)):
        return None
    return metric


def predicts_into(estimator: Any, maps: Sequence[dict], evaluator: Evaluator) -> bool:
    """Whether every map's model will write its predictions to the column ``evaluator`` reads,
    through a ``predictionCol`` Param one pass can redirect (a Pipeline has none: its stages'
    outputs would also collide between models). Decided before any fit, so a fold's maps are never
    scored one after another in one thread instead of in parallel tasks."""
    if not estimator.hasParam("predictionCol"):
        return False
    param = estimator.getParam("predictionCol")
    default = estimator.getOrDefault(param)
    return all(m.get(param, default) == evaluator.getPredictionCol() for m in maps)


def _prediction_model(model: Model, param_map: dict, evaluator: RegressionEvaluator, column: str) -> Optional[Model]:
    """``model`` with ``param_map`` applied, writing its predictions to ``column``; None when its
    predictions would not be the column the evaluator reads."""
    if not model.hasParam("predictionCol"):
        return None  # a PipelineModel or a model without the Param: the evaluator scores it
    copied = model.copy(param_map)
    if copied.getOrDefault("predictionCol") != evaluator.getPredictionCol():
        return None
    copied.set(copied.getParam("predictionCol"), column)
    return copied


def _divide(numerator: float, denominator: float) -> float:
    """IEEE division, as the JVM does it: x/0 is +-inf, 0/0 and NaN/0 are NaN."""
    if denominator != 0 or math.isnan(denominator):
        return numerator / denominator
    if numerator == 0 or math.isnan(numerator):
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def _metric(metric: str, sums: dict[str, float], through_origin: bool) -> float:
    weight = sums["w"]
    ss_err = math.pow(math.sqrt(sums["ww_e2"]), 2)
    if metric == "mse":
        return ss_err / weight
    if metric == "rmse":
        return math.sqrt(ss_err / weight)
    if metric == "mae":
        return sums["w_abs_e"] / weight
    if through_origin:
        ss_tot = math.pow(math.sqrt(sums["y2"]), 2)
    else:
        ss_tot = sums["var_y"] * (weight - 1)
    return 1 - _divide(ss_err, ss_tot)


#: Models scored by one aggregation at most: each adds a transform to the plan and two sums to the
#: aggregate, and past a few dozen the plan's analysis and the aggregate's generated code grow.
MAPS_PER_PASS = 16


def score_in_one_pass(
    evaluator: RegressionEvaluator,
    validation: DataFrame,
    models: Sequence[tuple[Model, dict]],
) -> Optional[list[float]]:
    """Each (model, param map)'s metric on ``validation``, :data:`MAPS_PER_PASS` models per Spark
    aggregation, in order; None when the evaluator must score them map by map (see the module's
    docstring)."""
    metric = one_pass_metric(evaluator)
    if metric is None or evaluator.getPredictionCol() in validation.columns:
        return None  # an existing prediction column: Spark's models refuse to overwrite it
    scores: list[float] = []
    for first in range(0, len(models), MAPS_PER_PASS):
        chunk = _score_chunk(evaluator, metric, validation, models[first : first + MAPS_PER_PASS])
        if chunk is None:
            return None
        scores += chunk
    return scores


def _score_chunk(
    evaluator: RegressionEvaluator, metric: str, validation: DataFrame, models: Sequence[tuple[Model, dict]]
) -> Optional[list[float]]:
    taken = set(validation.columns)
    columns = []
    for j in range(len(models)):
        name = f"__splitcv_prediction_{j}"
        while name in taken:
            name += "_"
        columns.append(name)
    scored = validation
    for (model, param_map), column in zip(models, columns):
        renamed = _prediction_model(model, param_map, evaluator, column)
        if renamed is None:
            return None
        before = set(scored.columns)
        scored = renamed.transform(scored)
        # Drop what else the model added (a variance column, say): the next model may add it too.
        # By name, as given: drop() does not read dots as struct fields, unlike select().
        extra = [c for c in scored.columns if c not in before and c != column]
        scored = scored.drop(*extra) if extra else scored
    fields = {f.name: f.dataType for f in scored.schema.fields}
    label, weight_col = evaluator.getLabelCol(), _weight_col(evaluator)
    if not isinstance(fields.get(label), NumericType) or any(
        not isinstance(fields[c], (DoubleType, FloatType)) for c in columns
    ):
        return None  # the evaluator's own type check names the column
    y = F.col(label).cast("double")
    w = F.col(weight_col).cast("double") if weight_col else F.lit(1.0)
    # RegressionMetrics' summarizer skips rows of weight 0 (a NaN there does not count).
    kept = lambda value: F.when(w != 0, value)  # noqa: E731
    unusable = y.isNull() | w.isNull() | F.isnan(w) | (w < 0) | (w == float("inf"))  # Spark refuses these weights
    for c in columns:
        unusable = unusable | F.col(c).isNull()
    aggregates = [
        F.count(F.when(unusable, 1)).alias("unusable"),
        F.sum(kept(w)).alias("w"),
        F.count(kept(w)).alias("n"),
        F.sum(kept(w * y * y)).alias("y2"),
        F.var_samp(kept(y)).alias("var_y"),
    ]
    for j, c in enumerate(columns):
        error = y - F.col(c).cast("double")
        aggregates += [F.sum(kept(w * error * error)).alias(f"ww_e2_{j}"), F.sum(kept(w * F.abs(error))).alias(f"w_abs_e_{j}")]
    row = scored.agg(*aggregates).first()
    if row["unusable"] or not row["w"]:
        return None  # the evaluator raises its own error (or has no rows of weight to score)
    through_origin = evaluator.getThroughOrigin()
    # RegressionMetrics' variance of one row is 0; var_samp's is NULL (or NaN under the legacy
    # statisticalAggregate setting).
    common = {"w": row["w"], "y2": row["y2"], "var_y": row["var_y"] if row["n"] > 1 else 0.0}
    return [
        _metric(metric, {**common, "ww_e2": row[f"ww_e2_{j}"], "w_abs_e": row[f"w_abs_e_{j}"]}, through_origin)
        for j in range(len(models))
    ]
