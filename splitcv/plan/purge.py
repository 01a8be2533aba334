"""Purge and embargo (Lopez de Prado, *Advances in Financial Machine Learning*, ch. 7), one copy of each rule.

A row whose label depends on the future has an interval ``[time, labelEnd]``. A validation
segment (a contiguous run of validation time points) spans from its first time point to the latest
``labelEnd`` of its rows. **Purge:** a training row whose interval overlaps a validation span is
dropped. **Embargo:** training time points after a validation segment that do not clear
``embargo`` after its last time point (by :func:`~splitcv.plan.axis.clears_gap`, the rule ``gap``
uses) are dropped too. Nothing else is dropped.

Positions are the axis positions of :mod:`splitcv.plan.axis` (time points as integers); label ends
are positions on the same axis. Pure functions, tested without Spark.
"""

from __future__ import annotations

from typing import Sequence, Union

from splitcv.durations import Duration
from splitcv.plan.axis import Scale, first_clear_after
from splitcv.plan.folds import Range

__all__ = ["Span", "validation_spans", "is_purged", "embargo_training"]

#: ``(first validation position, latest label end)`` of one validation segment, both inclusive.
Span = tuple[int, int]


def validation_spans(points: Sequence[int], latest_end: Sequence[int], segments: Sequence[Range]) -> list[Span]:
    """The span of every validation segment: ``latest_end[i]`` is the latest label end of the rows at
    ``points[i]`` (at least ``points[i]``).

    >>> validation_spans([0, 1, 2, 3], [2, 1, 5, 3], [(1, 3)])
    [(1, 5)]
    """
    return [(points[start], max(latest_end[start:stop])) for start, stop in segments]


def is_purged(time: int, label_end: int, spans: Sequence[Span]) -> bool:
    """The purge rule: ``[time, label_end]`` overlaps a validation span.

    >>> is_purged(0, 1, [(1, 5)]), is_purged(0, 0, [(1, 5)]), is_purged(5, 9, [(1, 5)]), is_purged(6, 9, [(1, 5)])
    (True, False, True, False)
    """
    return any(time <= end and label_end >= start for start, end in spans)


def embargo_training(
    scale: Scale, train: Sequence[Range], segments: Sequence[Range], embargo: Union[int, Duration]
) -> tuple[tuple[Range, ...], int]:
    """Training ranges less the embargoed time points after each validation segment, and how many
    time points that removed.

    >>> from splitcv.plan import CountScale
    >>> embargo_training(CountScale(10), [(0, 2), (5, 10)], [(2, 5)], 2)
    (((0, 2), (7, 10)), 2)
    """
    removed: list[Range] = []
    for _, stop in segments:
        if stop < scale.n:
            removed.append((stop, first_clear_after(scale, scale.position(stop - 1), embargo)))
    kept: list[Range] = []
    for start, stop in train:
        pieces = [(start, stop)]
        for cut_start, cut_stop in removed:
            pieces = [p for a, b in pieces for p in ((a, min(b, cut_start)), (max(a, cut_stop), b)) if p[0] < p[1]]
        kept.extend(pieces)
    before = sum(b - a for a, b in train)
    return tuple(kept), before - sum(b - a for a, b in kept)
