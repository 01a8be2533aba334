"""From a time axis's summary to folds, purged and embargoed, with their descriptions.

A summary is what the Spark splitters' one summary job returns (and what :mod:`splitcv.sklearn`
computes with numpy): the sorted distinct time points, their row counts, and, for purging, each
point's rows per label end. :func:`plan_time_axis` checks it and plans on it with a
:mod:`~splitcv.plan.recipes` recipe; :func:`purge_plan` applies purge and embargo
(:mod:`splitcv.plan.purge`) to the planned folds and describes them. The two paths only differ in
how they turn the result into rows: Spark filters, or numpy index arrays. No pyspark here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from splitcv.durations import Calendar
from splitcv.plan.axis import CalendarScale, CountScale, Scale
from splitcv.plan.checks import check_not_empty
from splitcv.plan.describe import ClassCounts, EndCounts, FoldInfo, plan_infos, purged_infos
from splitcv.plan.folds import Fold
from splitcv.plan.purge import Span, embargo_training, validation_spans
from splitcv.plan.recipes import AxisWords, TimeRecipe, is_zero_size, resolve_sizes

__all__ = [
    "TimePlan",
    "PurgedFolds",
    "plan_time_axis",
    "describe_plan",
    "purge_plan",
    "plan_folds",
    "purges",
    "check_label_ends",
    "label_end_type_error",
]


@dataclass(frozen=True)
class TimePlan:
    """A time splitter's plan of one dataset: its summary, the scale and sizes, and the folds
    (before purge and embargo)."""

    points: list[int]
    counts: list[int]
    per_class: Optional[list[ClassCounts]]
    by_end: Optional[list[EndCounts]]
    scale: Scale
    sizes: dict[str, Any]
    folds: list[Fold]


@dataclass(frozen=True)
class PurgedFolds:
    """Folds after purge and embargo: training ranges less the embargo, each fold's validation
    spans (empty without label ends: nothing to purge), and the folds' descriptions."""

    folds: list[Fold]
    spans: list[list[Span]]
    infos: list[FoldInfo]


def purges(label_end: Optional[Any], embargo: Any) -> bool:
    """Whether folds lose rows to purge or embargo: label ends are given, or the embargo is not zero
    (a zero embargo written as a duration is none either)."""
    return label_end is not None or not is_zero_size(embargo)


def plan_time_axis(
    recipe: TimeRecipe,
    points: list[int],
    counts: list[int],
    calendar: Optional[Calendar],
    words: AxisWords,
    *,
    is_date: bool = False,
    per_class: Optional[list[ClassCounts]] = None,
    by_end: Optional[list[EndCounts]] = None,
) -> TimePlan:
    """Plan ``recipe`` on a summary. Label ends (``by_end``) must have been checked
    (:func:`check_label_ends`)."""
    sizes, is_calendar = resolve_sizes(recipe.sizes(), calendar, words, is_date)
    check_not_empty(sum(counts), recipe.owner)
    scale: Scale
    if is_calendar:
        assert calendar is not None
        scale = CalendarScale(points, calendar)
    else:
        scale = CountScale(len(points))
    return TimePlan(points, counts, per_class, by_end, scale, sizes, recipe.plan(scale, sizes))


def describe_plan(plan: TimePlan, to_python: Optional[Callable[[int], Any]]) -> list[FoldInfo]:
    """The descriptions of a plan without purge or embargo (and its checks: no fold empty)."""
    return plan_infos(plan.folds, plan.points, plan.counts, to_python, plan.per_class)


def plan_folds(plan: TimePlan, purging: bool, has_label_ends: bool, to_python: Callable[[int], Any]) -> PurgedFolds:
    """The folds to render, on either engine: with ``purging`` (:func:`purges`), those of
    :func:`purge_plan`; otherwise the plan's own, with no spans to purge against."""
    if purging:
        return purge_plan(plan, has_label_ends, to_python)
    return PurgedFolds(list(plan.folds), [[] for _ in plan.folds], describe_plan(plan, to_python))


def purge_plan(plan: TimePlan, has_label_ends: bool, to_python: Callable[[int], Any]) -> PurgedFolds:
    """Apply the embargo to every fold's training ranges and find the validation spans the purge
    rule (:func:`~splitcv.plan.purge.is_purged`) checks training rows against; describe the folds,
    raising when purge and embargo leave a fold no training rows."""
    points, by_end = plan.points, plan.by_end
    if by_end is None:  # embargo alone: every row's label ends at its own time
        by_end = [
            {(None, label): rows for label, rows in (plan.per_class[i] if plan.per_class else {None: c}).items()}
            for i, c in enumerate(plan.counts)
        ]
    latest = [max((end for end, _ in ends if end is not None), default=p) for p, ends in zip(points, by_end)]
    prefix = [0]
    for c in plan.counts:
        prefix.append(prefix[-1] + c)
    folds, spans, embargoed = [], [], []
    for fold in plan.folds:
        fold_spans = validation_spans(points, latest, fold.segments)
        train, _ = embargo_training(plan.scale, points, fold.train, [end for _, end in fold_spans], plan.sizes["embargo"])
        before = sum(prefix[b] - prefix[a] for a, b in fold.train)
        embargoed.append(before - sum(prefix[b] - prefix[a] for a, b in train))
        folds.append(Fold(train, fold.validation, fold.more_validation))
        spans.append(fold_spans if has_label_ends else [])  # no label ends: nothing to purge
    infos = purged_infos(folds, spans, embargoed, points, by_end, to_python, plan.per_class is not None)
    return PurgedFolds(folds, spans, infos)


def check_label_ends(
    points: Sequence[int],
    by_end: Sequence[EndCounts],
    to_python: Callable[[int], Any],
    end_subject: str,
    time_subject: str,
    fill: str,
) -> None:
    """Every row has a label end, and none ends before its row's time: both are errors naming the
    values (``end_subject``: ``labelEndCol='e'``; ``time_subject``: ``timeCol='t'``); ``fill`` is
    how to fill missing ends on this path."""
    nulls = sum(rows for ends in by_end for (end, _), rows in ends.items() if end is None)
    if nulls:
        raise ValueError(
            f"{end_subject} has {nulls} null values; every row needs the last time its label depends "
            f"on (its own time when the label is known at once). Fill them, e.g. {fill}"
        )
    early = [(p, end, rows) for p, ends in zip(points, by_end) for (end, _), rows in ends.items() if end < p]
    if early:
        p, end, _ = early[0]
        raise ValueError(
            f"{end_subject} is before {time_subject} in {sum(r for _, _, r in early)} rows, e.g. "
            f"labelEnd {to_python(end)} for time {to_python(p)}; a label cannot end before its row's time"
        )


def label_end_type_error(end_subject: str, end_type: str, time_subject: str, time_type: str) -> TypeError:
    """Label ends of another kind than the time values (dates against integers, say)."""
    return TypeError(
        f"{end_subject} has type {end_type} but {time_subject} has type {time_type}; "
        "a label's end is a time on the same axis: give both columns the same type"
    )
