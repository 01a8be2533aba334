"""From data to plan and back: the one summary job, and plans rendered as Column filters."""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from splitcv.plan.folds import Fold, Range
from splitcv.splitters.base import FoldInfo, check_fold

__all__ = ["summarize", "render_ranges", "render_folds", "plan_infos"]


def summarize(dataset: DataFrame, expr: Column, param: str, column: str) -> tuple[list[Any], list[int]]:
    """Distinct values of ``expr`` with their row counts, sorted: one Spark job.

    Null values are an error naming ``param``: a row with no time (or fold) belongs to no fold.
    """
    rows = dataset.groupBy(expr.alias("value")).count().collect()
    nulls = sum(r["count"] for r in rows if r["value"] is None)
    if nulls:
        raise ValueError(
            f"{param}={column!r} has {nulls} null values; every row needs one. Drop them "
            f"(dataset.dropna(subset=[{column!r}])) or fill them before splitting"
        )
    rows.sort(key=lambda r: r["value"])
    return [r["value"] for r in rows], [r["count"] for r in rows]


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
        (render_ranges(expr, points, fold.train, literal), render_ranges(expr, points, (fold.validation,), literal))
        for fold in folds
    ]


def plan_infos(
    folds: Sequence[Fold], points: Sequence[Any], counts: Sequence[int], to_python: Callable[[Any], Any] | None
) -> list[FoldInfo]:
    """Describe planned folds from the summary alone: no Spark job."""
    prefix = [0]
    for c in counts:
        prefix.append(prefix[-1] + c)

    def rows(ranges: Sequence[Range]) -> int:
        return sum(prefix[b] - prefix[a] for a, b in ranges)

    infos = []
    for index, fold in enumerate(folds):
        train_rows, validation_rows = rows(fold.train), rows((fold.validation,))
        check_fold(index, train_rows, validation_rows)
        bounds: list[Any] = [None] * 4
        if to_python is not None:
            bounds = [
                to_python(points[fold.train[0][0]]),
                to_python(points[fold.train[-1][1] - 1]),
                to_python(points[fold.validation[0]]),
                to_python(points[fold.validation[1] - 1]),
            ]
        infos.append(FoldInfo(index, train_rows, validation_rows, *bounds))
    return infos
