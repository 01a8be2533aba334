"""Fold descriptions from a plan's summary, with no pass over the data: ``FoldInfo`` and its table.

The Spark splitters describe their folds from the one summary job, and the scikit-learn adapters
(:mod:`splitcv.sklearn`) from the same summary of their time values, with these functions: the
same checks (no empty side, purge leaving training rows) and the same messages. No pyspark here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from splitcv.plan.checks import check_fold
from splitcv.plan.folds import Fold, Range
from splitcv.plan.purge import Span, is_purged

__all__ = ["FoldInfo", "format_folds", "ClassCounts", "EndCounts", "plan_infos", "purged_infos", "group_infos"]

#: Row counts per class of one time value or fold: ``{class value: rows}``.
ClassCounts = dict
#: Row counts of one time value per label end and class: ``{(label end, class or None): rows}``.
EndCounts = dict


@dataclass(frozen=True)
class FoldInfo:
    """One fold as ``describe`` reports it. Time bounds are the first and last time values present
    on each side (``None`` for splitters without a time column). Class counts (``{class: rows}``)
    are there when the folds were prepared with a label column (the validator does that for
    classification evaluators), else ``None``."""

    fold: int
    train_rows: int
    validation_rows: int
    train_start: Any = None
    train_end: Any = None
    validation_start: Any = None
    validation_end: Any = None
    train_classes: Optional[dict] = None
    validation_classes: Optional[dict] = None
    #: Rows the fold's plan trains on but purge (``labelEndCol``) and ``embargo`` dropped; ``None``
    #: for splitters without them.
    purged_rows: Optional[int] = None
    embargoed_rows: Optional[int] = None


def format_folds(infos: Sequence[FoldInfo]) -> str:
    """A fixed-width table of fold descriptions, for printing."""
    header: tuple = ("fold", "train rows", "train from", "train to", "valid rows", "valid from", "valid to")
    rows: list[tuple] = [
        (i.fold, i.train_rows, i.train_start, i.train_end, i.validation_rows, i.validation_start, i.validation_end)
        for i in infos
    ]
    if any(i.purged_rows is not None for i in infos):
        header += ("purged", "embargoed")
        rows = [(*r, i.purged_rows, i.embargoed_rows) for r, i in zip(rows, infos)]
    cells = [tuple("" if v is None else _short(v) for v in r) for r in [header, *rows]]
    widths = [max(len(c[k]) for c in cells) for k in range(len(header))]
    return "\n".join("  ".join(c[k].rjust(widths[k]) for k in range(len(header))) for c in cells)


def _short(value: Any) -> str:
    text = str(value)
    return text[:19] if hasattr(value, "hour") else text


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


def group_infos(assigned: dict, sizes: dict, per_class: Optional[dict], k: int) -> list[FoldInfo]:
    """Fold descriptions from a group plan (``{group key: fold}``, ``{group key: rows}``): no pass over the data."""
    total = sum(sizes.values())
    rows, classes = [0] * k, [dict() for _ in range(k)]  # type: ignore[var-annotated]
    for key, fold in assigned.items():
        rows[fold] += sizes[key]
        for value, count in (per_class or {}).get(key, {}).items():
            classes[fold][value] = classes[fold].get(value, 0) + count
    everything: dict = {}
    for by_class in classes:
        for value, count in by_class.items():
            everything[value] = everything.get(value, 0) + count
    infos = []
    for fold in range(k):
        check_fold(fold, total - rows[fold], rows[fold])
        pair: list[Optional[dict]] = [None, None]
        if per_class is not None:
            train = {v: c - classes[fold].get(v, 0) for v, c in everything.items()}
            pair = [{v: c for v, c in train.items() if c}, classes[fold]]
        infos.append(FoldInfo(fold, total - rows[fold], rows[fold], None, None, None, None, *pair))
    return infos
