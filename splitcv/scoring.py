"""Scoring every param map of a fold in one Spark query instead of one evaluation per map.

Spark's evaluators score one prediction column per evaluation. When the evaluator is Spark's
``RegressionEvaluator`` with a metric that is a function of sums over the rows (``rmse``, ``mse``,
``mae``, and ``r2`` without weights), the models of one fold can each write their predictions to a
column of their own over the fold's validation set, and one aggregation computes every model's
sums. For a fold of *m* maps that is 1 aggregation instead of *m*.

Spark's ``BinaryClassificationEvaluator`` (``areaUnderROC``, ``areaUnderPR``) runs 3 jobs per
evaluation (a sort of the distinct scores, a count, the area). One query computes every model's
curve instead: the weighted positives and negatives at each distinct score, their running sums in
descending score order, and the trapezoids between consecutive points, as Spark's
``BinaryClassificationMetrics`` does. Only where Spark draws the exact curve: with ``numBins=0``,
or when the validation set has fewer than ``2 x numBins`` rows (Spark down-samples the curve only
when there are at least that many distinct scores, and then in bins formed per partition of the
sorted scores, which no other query can reproduce).

The sums follow Spark's ``RegressionMetrics`` (``mllib.evaluation``), which the evaluator uses:
rows of weight 0 are left out, ``mse = (sqrt(sum(w e^2)))^2 / sum(w)``, ``mae = sum(w |e|) / sum(w)``,
``r2 = 1 - SSerr / SStot`` with ``SStot`` the label's sample variance times ``n - 1`` (or the
label's sum of squares with ``throughOrigin``). Floating-point sums in another order can differ
from the evaluator's in the last bits (relative 1e-15); ``scoreInOnePass=False`` gives the
evaluator's own numbers.

Whatever the one pass cannot reproduce goes to the evaluator, map by map, so it raises its own
error: a null label, prediction or weight, a NaN, negative or infinite weight, a prediction column that is not
DOUBLE or FLOAT (regression) or a vector of 2 or more values or DOUBLE (binary), a label that is not numeric,
a validation set that already has the prediction column; for the areas also a NaN score, and a score of
zero (Spark's curve keeps 0.0 and -0.0 apart, SQL's grouping does not).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from pyspark.ml.base import Model
from pyspark.ml.evaluation import BinaryClassificationEvaluator, Evaluator, RegressionEvaluator
from pyspark.ml.linalg import VectorUDT
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, FloatType, NumericType

__all__ = ["one_pass_metric", "predicts_into", "score_in_one_pass"]

#: RegressionEvaluator metrics computed from sums over the rows ('var' needs the label's mean first)
SUMMED_METRICS = ("rmse", "mse", "mae", "r2")
#: BinaryClassificationEvaluator metrics: areas under curves drawn from running sums
AREA_METRICS = ("areaUnderROC", "areaUnderPR")


def _weight_col(evaluator: Evaluator) -> str:
    return evaluator.getWeightCol() if evaluator.isDefined(evaluator.weightCol) else ""


def scored_column(evaluator: Evaluator) -> tuple[str, str]:
    """The model Param that names the column ``evaluator`` reads, and that column."""
    if isinstance(evaluator, BinaryClassificationEvaluator):
        return "rawPredictionCol", evaluator.getRawPredictionCol()
    return "predictionCol", evaluator.getPredictionCol()


def one_pass_metric(evaluator: Evaluator) -> Optional[str]:
    """The metric to compute in one pass for ``evaluator``, or None when it must score map by map.

    Only Spark's own evaluators qualify (a subclass may compute anything): ``RegressionEvaluator``
    with a metric of :data:`SUMMED_METRICS` (``r2`` only without a weight column: Spark's weighted
    variance is not a plain sum), and ``BinaryClassificationEvaluator`` (whether its curve is exact
    for a fold's rows is decided by :func:`score_in_one_pass`).

    >>> one_pass_metric(RegressionEvaluator(metricName="mae"))
    'mae'
    >>> one_pass_metric(RegressionEvaluator(metricName="var")) is None
    True
    >>> one_pass_metric(BinaryClassificationEvaluator(metricName="areaUnderPR"))
    'areaUnderPR'
    """
    if type(evaluator) is BinaryClassificationEvaluator:
        return evaluator.getMetricName() if evaluator.getMetricName() in AREA_METRICS else None
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
    name, read = scored_column(evaluator)
    if not estimator.hasParam(name):
        return False
    param = estimator.getParam(name)
    default = estimator.getOrDefault(param)
    return all(m.get(param, default) == read for m in maps)


def _prediction_model(model: Model, param_map: dict, evaluator: Evaluator, column: str) -> Optional[Model]:
    """``model`` with ``param_map`` applied, writing what the evaluator reads to ``column``; None
    when that would not be the column the evaluator reads."""
    name, read = scored_column(evaluator)
    if not model.hasParam(name):
        return None  # a PipelineModel or a model without the Param: the evaluator scores it
    copied = model.copy(param_map)
    if copied.getOrDefault(name) != read:
        return None
    copied.set(copied.getParam(name), column)
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
    evaluator: Evaluator,
    validation: DataFrame,
    models: Sequence[tuple[Model, dict]],
    validation_rows: Optional[int] = None,
) -> Optional[list[float]]:
    """Each (model, param map)'s metric on ``validation``, :data:`MAPS_PER_PASS` models per Spark
    query, in order; None when the evaluator must score them map by map (see the module's
    docstring). ``validation_rows`` (the plan's count) tells whether a binary evaluator's curve is
    exact on this fold; without it, only ``numBins=0`` is."""
    metric = one_pass_metric(evaluator)
    if metric is None or scored_column(evaluator)[1] in validation.columns:
        return None  # an existing prediction column: Spark's models refuse to overwrite it
    if metric in AREA_METRICS:
        bins = evaluator.getNumBins()
        if bins > 0 and (validation_rows is None or validation_rows >= 2 * bins):
            return None  # Spark may down-sample this curve, per partition of its sorted scores
    scores: list[float] = []
    for first in range(0, len(models), MAPS_PER_PASS):
        chunk = _score_chunk(evaluator, metric, validation, models[first : first + MAPS_PER_PASS])
        if chunk is None:
            return None
        scores += chunk
    return scores


def _score_chunk(
    evaluator: Evaluator, metric: str, validation: DataFrame, models: Sequence[tuple[Model, dict]]
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
        # Drop what else the model added (a variance column, a classifier's probabilities, say):
        # the next model may add it too. By name, as given: drop() does not read dots as struct
        # fields, unlike select().
        extra = [c for c in scored.columns if c not in before and c != column]
        scored = scored.drop(*extra) if extra else scored
    fields = {f.name: f.dataType for f in scored.schema.fields}
    label, weight_col = evaluator.getLabelCol(), _weight_col(evaluator)
    if not isinstance(fields.get(label), NumericType):
        return None  # the evaluator's own type check names the column
    y = F.col(label).cast("double")
    w = F.col(weight_col).cast("double") if weight_col else F.lit(1.0)
    unusable = y.isNull() | w.isNull() | F.isnan(w) | (w < 0) | (w == float("inf"))  # Spark refuses these weights
    if metric in AREA_METRICS:
        return _areas(metric, scored, columns, fields, y, w, unusable)
    if any(not isinstance(fields[c], (DoubleType, FloatType)) for c in columns):
        return None
    # RegressionMetrics' summarizer skips rows of weight 0 (a NaN there does not count).
    kept = lambda value: F.when(w != 0, value)  # noqa: E731
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


def _trapezoid(x: Column, y: Column, previous_x: Column, previous_y: Column) -> Column:
    """The area between two consecutive points of a curve, as Spark's ``AreaUnderCurve`` adds it."""
    return (x - previous_x) * (y + previous_y) / 2.0


def _areas(
    metric: str, scored: DataFrame, columns: Sequence[str], fields: dict, y: Column, w: Column, unusable: Column
) -> Optional[list[float]]:
    """Every model's area under its ROC or precision-recall curve, from one query.

    Follows ``BinaryClassificationMetrics``: a row is positive when its label is above 0.5; each
    distinct score is a point whose counts are the weights at that score or above; the ROC curve
    runs from (0, 0) through (false positive rate, recall) to (1, 1), a rate being 0 when its
    class has no weight; the PR curve runs through (recall, precision) and starts at (0, the first
    point's precision), a precision being 1 where nothing is predicted positive."""
    scores = []
    for c in columns:
        kind = fields[c]
        if isinstance(kind, VectorUDT):
            from pyspark.ml.functions import vector_to_array

            values = vector_to_array(F.col(c))
            unusable = unusable | (F.size(values) < 2)
            scores.append(F.when(F.size(values) >= 2, values[1]))
        elif isinstance(kind, DoubleType):
            scores.append(F.col(c))
        else:
            return None  # the evaluator's own type check names the column
    for score in scores:  # Spark sorts NaN above every number and keeps -0.0 apart from 0.0
        unusable = unusable | score.isNull() | F.isnan(score) | (score == 0.0)
    unusable = unusable | F.isnan(y)  # NaN > 0.5 is true in SQL, false on the JVM's doubles
    positive = F.when(y > 0.5, w).otherwise(0.0)
    rows = scored.select(
        F.when(unusable, 1).otherwise(0).alias("unusable"),
        F.explode(F.array(*[F.struct(F.lit(j).alias("j"), s.alias("s")) for j, s in enumerate(scores)])).alias("m"),
        positive.alias("p"),
        (w - positive).alias("n"),
    )
    points = rows.groupBy(F.col("m.j").alias("j"), F.col("m.s").alias("s")).agg(
        F.sum("unusable").alias("unusable"), F.sum("p").alias("p"), F.sum("n").alias("n")
    )
    down = Window.partitionBy("j").orderBy(F.col("s").desc())
    running = down.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = Window.partitionBy("j")
    tp, fp = F.sum("p").over(running), F.sum("n").over(running)
    positives, negatives = F.sum("p").over(whole), F.sum("n").over(whole)
    rate = lambda part, total: F.when(total == 0, 0.0).otherwise(part / total)  # noqa: E731
    curve = points.select(
        "j", "unusable", F.col("s"),
        rate(tp, positives).alias("recall"),
        rate(fp, negatives).alias("fpr"),
        F.when(tp + fp == 0, 1.0).otherwise(tp / (tp + fp)).alias("precision"),
    )
    if metric == "areaUnderROC":
        x, y_ = F.col("fpr"), F.col("recall")
        area = _trapezoid(x, y_, F.lag(x, 1, 0.0).over(down), F.lag(y_, 1, 0.0).over(down))
    else:
        x, y_ = F.col("recall"), F.col("precision")
        area = _trapezoid(x, y_, F.lag(x, 1, 0.0).over(down), F.coalesce(F.lag(y_, 1).over(down), y_))
    totals = (
        curve.select("j", "unusable", "s", "fpr", "recall", area.alias("area"))
        .groupBy("j")
        .agg(F.sum("unusable").alias("unusable"), F.sum("area").alias("area"),
             F.min_by("fpr", "s").alias("last_x"), F.min_by("recall", "s").alias("last_y"))
        .collect()
    )
    if len(totals) != len(columns) or any(row["unusable"] for row in totals):
        return None  # the evaluator raises its own error (or scores an empty set its own way)
    areas = {}
    for row in totals:
        area = row["area"]
        if metric == "areaUnderROC":  # from the lowest score's point to (1, 1)
            area += (1.0 - row["last_x"]) * (1.0 + row["last_y"]) / 2.0
        areas[row["j"]] = area
    return [areas[j] for j in range(len(columns))]
