"""From data to plan and back: the one summary job, and plans rendered as Column filters."""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable, Optional, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from splitcv.plan.describe import ClassCounts, EndCounts, plan_infos, purged_infos
from splitcv.plan.folds import Fold, Range

__all__ = ["ClassCounts", "EndCounts", "summarize", "render_ranges", "render_folds", "plan_infos", "purged_infos"]


def summarize(
    dataset: DataFrame,
    expr: Column,
    param: str,
    column: str,
    classes: Optional[str] = None,
    ends: Optional[Column] = None,
) -> tuple[list[Any], list[int], Optional[list[ClassCounts]], Optional[list[EndCounts]]]:
    """Distinct values of ``expr`` with their row counts, sorted: one Spark job.

    With ``classes`` (a label column), the same job also counts each value's rows per class, so a
    validator learns every fold's class counts without another pass over the data. With ``ends``
    (label ends, for purging), it counts each value's rows per ``(end, class)``.

    Null values are an error naming ``param``: a row with no time (or fold) belongs to no fold.
    """
    keys = [expr.alias("value")]
    if classes is not None:
        keys.append(F.col(classes).alias("class"))
    if ends is not None:
        keys.append(ends.alias("end"))
    rows = dataset.groupBy(*keys).count().collect()
    nulls = sum(r["count"] for r in rows if r["value"] is None)
    if nulls:
        raise ValueError(
            f"{param}={column!r} has {nulls} null values; every row needs one. Drop them "
            f"(dataset.dropna(subset=[{column!r}])) or fill them before splitting"
        )
    counts: dict[Any, int] = {}
    per_class: dict[Any, ClassCounts] = {}
    per_end: dict[Any, EndCounts] = {}
    for r in rows:
        value, number = r["value"], r["count"]
        label = r["class"] if classes is not None else None
        counts[value] = counts.get(value, 0) + number
        if classes is not None:
            by_class = per_class.setdefault(value, {})
            by_class[label] = by_class.get(label, 0) + number
        if ends is not None:
            per_end.setdefault(value, {})[(r["end"], label)] = number
    values = sorted(counts)
    return (
        values,
        [counts[v] for v in values],
        [per_class[v] for v in values] if classes is not None else None,
        [per_end[v] for v in values] if ends is not None else None,
    )


def render_ranges(expr: Column, points: Sequence[Any], ranges: Sequence[Range], literal: Callable[[Any], Column]) -> Column:
    """``expr`` falls in one of the half-open index ``ranges`` of the sorted distinct ``points``.

    Bounds are the points themselves (``>= first``, ``<= last``), so the filter is exact for the
    values the plan saw; an open end needs no bound.
    """
    pieces = []
    for start, stop in ranges:
        if stop - start == 1:
            pieces.append(expr == literal(points[start]))
            continue
        bounds = []
        if start > 0:
            bounds.append(expr >= literal(points[start]))
        if stop < len(points):
            bounds.append(expr <= literal(points[stop - 1]))
        pieces.append(reduce(lambda a, b: a & b, bounds) if bounds else F.lit(True))
    return reduce(lambda a, b: a | b, pieces)


def render_folds(
    expr: Column, points: Sequence[Any], folds: Sequence[Fold], literal: Callable[[Any], Column]
) -> list[tuple[Column, Column]]:
    return [
        (render_ranges(expr, points, fold.train, literal), render_ranges(expr, points, fold.segments, literal))
        for fold in folds
    ]
