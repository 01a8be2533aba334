"""Blocked k-fold: contiguous blocks of time points, each the validation set once.

Training is every other block, less the time points within ``gap`` on either side of the
validation block, by the same rule the forward splitters use
(:func:`~splitcv.plan.axis.clears_gap`). Blocks hold equal numbers of time points, the first
``n % k`` blocks one more, as :func:`numpy.array_split` cuts them.
"""

from __future__ import annotations

from typing import Union

from splitcv.durations import Duration
from splitcv.plan.advice import advise
from splitcv.plan.axis import Scale, count_clear_before, first_clear_after
from splitcv.plan.folds import Fold

__all__ = ["plan_blocked", "block_bounds"]


def block_bounds(n: int, k: int) -> list[tuple[int, int]]:
    """``k`` contiguous ``[start, stop)`` blocks covering ``range(n)``.

    >>> block_bounds(7, 3)
    [(0, 3), (3, 5), (5, 7)]
    """
    size, extra = divmod(n, k)
    bounds, start = [], 0
    for i in range(k):
        stop = start + size + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def plan_blocked(scale: Scale, num_folds: int, gap: Union[int, Duration] = 0) -> list[Fold]:
    """Plan blocked k-fold on ``scale``.

    >>> from splitcv.plan import CountScale
    >>> [f.train for f in plan_blocked(CountScale(9), 3, gap=1)]
    [((4, 9),), ((0, 2), (7, 9)), ((0, 5),)]
    """
    if num_folds > scale.n:
        raise ValueError(
            f"numFolds={num_folds} is more than the {scale.n} distinct time points in the data; "
            f"use numFolds <= {scale.n}"
        )
    folds = []
    for index, (start, stop) in enumerate(block_bounds(scale.n, num_folds)):
        before = count_clear_before(scale, scale.position(start), gap)
        after = first_clear_after(scale, scale.position(stop - 1), gap)
        train = tuple(r for r in ((0, before), (after, scale.n)) if r[0] < r[1])
        if not train:
            raise ValueError(
                f"gap={scale.describe_size(gap)} leaves fold {index} (time points {start}..{stop - 1} of "
                f"{scale.n}) nothing to train on. "
                + advise(scale, lower=[("gap", gap, 0)], increase=[("numFolds", num_folds, scale.n)])
            )
        folds.append(Fold(train, (start, stop)))
    return folds
