"""From data to plan and back: the one summary job, and plans rendered as Column filters."""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable, Optional, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from splitcv.plan.folds import Fold, Range
from splitcv.plan.purge import Span, is_purged
from splitcv.splitters.base import FoldInfo, check_fold

__all__ = ["ClassCounts", "EndCounts", "summarize", "render_ranges", "render_folds", "plan_infos", "purged_infos"]


#: Row counts per class of one time value or fold: ``{class value: rows}``.
ClassCounts = dict
#: Row counts of one time value per label end and class: ``{(label end, class or None): rows}``.
EndCounts = dict


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


def plan_infos(
    folds: Sequence[Fold],
    points: Sequence[Any],
    counts: Sequence[int],
    to_python: Callable[[Any], Any] | None,
    classes: Optional[Sequence[ClassCounts]] = None,
) -> list[FoldInfo]:
    """Describe planned folds from the summary alone: no Spark job."""
    prefix = [0]
    for c in counts:
        prefix.append(prefix[-1] + c)

    def rows(ranges: Sequence[Range]) -> int:
        return sum(prefix[b] - prefix[a] for a, b in ranges)

    # Running totals per class, so a fold's class counts cost one subtraction per range.
    class_prefix: dict[Any, list[int]] = {}
    for index, by_class in enumerate(classes or ()):
        for value, number in by_class.items():
            running = class_prefix.setdefault(value, [0] * (len(counts) + 1))
            running[index + 1] = number
    for running in class_prefix.values():
        for index in range(1, len(running)):
            running[index] += running[index - 1]

    def class_rows(ranges: Sequence[Range]) -> Optional[ClassCounts]:
        if classes is None:
            return None
        total = {value: sum(p[b] - p[a] for a, b in ranges) for value, p in class_prefix.items()}
        return {value: number for value, number in total.items() if number}

    infos = []
    for index, fold in enumerate(folds):
        train_rows, validation_rows = rows(fold.train), rows(fold.segments)
        check_fold(index, train_rows, validation_rows)
        bounds: list[Any] = [None] * 4
        if to_python is not None:
            bounds = [
                to_python(points[fold.train[0][0]]),
                to_python(points[fold.train[-1][1] - 1]),
                to_python(points[fold.segments[0][0]]),
                to_python(points[fold.segments[-1][1] - 1]),
            ]
        infos.append(
            FoldInfo(index, train_rows, validation_rows, *bounds, class_rows(fold.train), class_rows(fold.segments))
        )
    return infos


def purged_infos(
    folds: Sequence[Fold],
    spans: Sequence[Sequence[Span]],
    embargoed: Sequence[int],
    points: Sequence[Any],
    by_end: Sequence[EndCounts],
    to_python: Callable[[Any], Any],
    with_classes: bool,
) -> list[FoldInfo]:
    """Describe folds with purge and embargo from the summary alone: training rows are those of the
    (embargoed) training ranges whose ``[time, labelEnd]`` overlaps no validation span of their fold.
    ``embargoed`` holds the rows each fold's embargo removed."""
    infos = []
    for index, (fold, fold_spans, embargoed_rows) in enumerate(zip(folds, spans, embargoed)):
        train_rows = purged = 0
        train_classes: dict[Any, int] = {}
        kept_points = []
        for i in fold.train_indexes():
            kept = 0
            for (end, label), rows in by_end[i].items():
                if fold_spans and is_purged(points[i], end, fold_spans):
                    purged += rows
                    continue
                kept += rows
                train_classes[label] = train_classes.get(label, 0) + rows
            if kept:
                kept_points.append(i)
            train_rows += kept
        validation_classes: dict[Any, int] = {}
        for i in fold.validation_indexes():
            for (_, label), rows in by_end[i].items():
                validation_classes[label] = validation_classes.get(label, 0) + rows
        validation_rows = sum(validation_classes.values())
        if train_rows == 0 and (purged or embargoed_rows):
            raise ValueError(
                f"fold {index}: purge ({purged} rows whose labelEnd reaches the validation span) and embargo "
                f"({embargoed_rows} rows) leave no training rows; shorten the label spans, lower embargo, or "
                "plan fewer, longer folds"
            )
        check_fold(index, train_rows, validation_rows)
        start, stop = fold.segments[0][0], fold.segments[-1][1]
        infos.append(
            FoldInfo(
                index,
                train_rows,
                validation_rows,
                to_python(points[kept_points[0]]),
                to_python(points[kept_points[-1]]),
                to_python(points[start]),
                to_python(points[stop - 1]),
                train_classes if with_classes else None,
                validation_classes if with_classes else None,
                purged,
                embargoed_rows,
            )
        )
    return infos
