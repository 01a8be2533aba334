"""Combinatorial purged cross-validation (Lopez de Prado, *Advances in Financial Machine Learning*, ch. 12).

The time axis is cut into ``num_groups`` contiguous groups (as blocked k-fold cuts its blocks,
:func:`~splitcv.plan.blocked.block_bounds`); every choice of ``num_test_groups`` of them is one fold,
validated on those groups and trained on the rest. Purge and embargo around every validation
segment are applied by the splitter (:mod:`splitcv.plan.purge`), as for the other time splitters.

Each group is validated in ``C(num_groups - 1, num_test_groups - 1)`` folds; taking, for every
group, its ``p``-th such fold gives backtest path ``p``: a full pass over the time axis assembled
from validation predictions of different folds.
"""

from __future__ import annotations

import itertools
import math

from splitcv.plan.blocked import block_bounds
from splitcv.plan.folds import Fold, Range

__all__ = ["plan_combinatorial", "backtest_paths", "count_combinatorial_folds"]


def count_combinatorial_folds(num_groups: int, num_test_groups: int) -> int:
    """``C(num_groups, num_test_groups)``.

    >>> count_combinatorial_folds(6, 2)
    15
    """
    return math.comb(num_groups, num_test_groups)


def _test_groups(num_groups: int, num_test_groups: int) -> list[tuple[int, ...]]:
    # Lexicographic order: fold i is the i-th combination, as itertools (and skfolio) order them.
    return list(itertools.combinations(range(num_groups), num_test_groups))


def _merge(ranges: list[Range]) -> tuple[Range, ...]:
    merged: list[Range] = []
    for start, stop in ranges:  # never empty: block_bounds cuts at least one point per group
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return tuple(merged)


def plan_combinatorial(n: int, num_groups: int, num_test_groups: int) -> list[Fold]:
    """Every fold on ``n`` time points: validation the chosen groups (adjacent ones as one segment),
    training the others.

    >>> [(f.train, f.segments) for f in plan_combinatorial(6, 3, 2)]
    [(((4, 6),), ((0, 4),)), (((2, 4),), ((0, 2), (4, 6))), (((0, 2),), ((2, 6),))]
    """
    if num_groups > n:
        raise ValueError(
            f"numGroups={num_groups} is more than the {n} distinct time points in the data; use numGroups <= {n}"
        )
    bounds = block_bounds(n, num_groups)
    folds = []
    for chosen in _test_groups(num_groups, num_test_groups):
        validation = _merge([bounds[g] for g in chosen])
        train = _merge([bounds[g] for g in range(num_groups) if g not in chosen])
        folds.append(Fold(train, validation[0], validation[1:]))
    return folds


def backtest_paths(num_groups: int, num_test_groups: int) -> list[list[int]]:
    """``paths[p][g]``: the fold whose validation predictions of group ``g`` make up path ``p``.

    There are ``C(num_groups, num_test_groups) * num_test_groups / num_groups`` paths; every fold's
    validation groups are each used by exactly one path.

    >>> backtest_paths(4, 2)
    [[0, 0, 1, 2], [1, 3, 3, 4], [2, 4, 5, 5]]
    """
    combos = _test_groups(num_groups, num_test_groups)
    validated_in = [[i for i, chosen in enumerate(combos) if g in chosen] for g in range(num_groups)]
    return [[validated_in[g][p] for g in range(num_groups)] for p in range(len(validated_in[0]))]
