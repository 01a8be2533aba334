"""Purge and embargo (Lopez de Prado, *Advances in Financial Machine Learning*, ch. 7), one copy of each rule.

A row whose label depends on the future has an interval ``[time, labelEnd]``. A validation
segment (a contiguous run of validation time points) spans from its first time point to the latest
``labelEnd`` of its rows. **Purge:** a training row whose interval overlaps a validation span is
dropped. **Embargo:** training time points after a validation span that do not clear ``embargo``
after its end (by :func:`~splitcv.plan.axis.clears_gap`, the rule ``gap`` uses) are dropped too.
The embargo counts from the end of the span, as the book's code does (its embargo follows the
latest label end of the test set, and skfolio's ``CombinatorialPurgedCV`` drops ``purged_size +
embargo_size`` observations after a test group); without label ends a span ends at its last
validation time. Nothing else is dropped.

Times and label ends are time values as integers (days, microseconds or the integers of the time
column); an axis :class:`~splitcv.plan.axis.Scale` moves them. Pure functions, tested without Spark.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Sequence, Union

from splitcv.durations import Duration
from splitcv.plan.axis import CountScale, Scale, first_clear_after
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


def is_purged(time: Any, label_end: Any, spans: Sequence[Span]) -> Any:
    """The purge rule: ``[time, label_end]`` overlaps a validation span.

    ``time`` and ``label_end`` are one row's integers, or numpy arrays of many rows' (the answer is
    then an array: :mod:`splitcv.sklearn` purges a fold's rows at once).

    >>> is_purged(0, 1, [(1, 5)]), is_purged(0, 0, [(1, 5)]), is_purged(5, 9, [(1, 5)]), is_purged(6, 9, [(1, 5)])
    (True, False, True, False)
    >>> import numpy as np
    >>> is_purged(np.array([0, 0, 5, 6]), np.array([1, 0, 9, 9]), [(1, 5)]).tolist()
    [True, False, True, False]
    """
    purged: Any = False
    for start, end in spans:
        # & and | rather than and/or: the same expression serves integers and arrays
        purged = purged | ((time <= end) & (label_end >= start))
    return purged


def embargo_training(
    scale: Scale,
    points: Sequence[int],
    train: Sequence[Range],
    span_ends: Sequence[int],
    embargo: Union[int, Duration],
) -> tuple[tuple[Range, ...], int]:
    """Training ranges less the embargoed time points after each validation span, and how many time
    points that removed. ``points`` are the axis's sorted time values, ``span_ends`` the end of each
    span (a time value); a counted ``embargo`` counts time points of the axis after that end.

    >>> from splitcv.plan import CountScale
    >>> embargo_training(CountScale(10), range(10), [(0, 2), (5, 10)], [4], 2)
    (((0, 2), (7, 10)), 2)
    """
    removed: list[Range] = []
    for end in span_ends:
        first_after = bisect_right(points, end)
        if first_after >= scale.n:
            continue
        # A counted scale's positions are indexes: the span ends at the last time point not after it.
        position = first_after - 1 if isinstance(scale, CountScale) else end
        removed.append((first_after, max(first_after, first_clear_after(scale, position, embargo))))
    kept: list[Range] = []
    for start, stop in train:
        pieces = [(start, stop)]
        for cut_start, cut_stop in removed:
            pieces = [p for a, b in pieces for p in ((a, min(b, cut_start)), (max(a, cut_stop), b)) if p[0] < p[1]]
        kept.extend(pieces)
    before = sum(b - a for a, b in train)
    return tuple(kept), before - sum(b - a for a, b in kept)
