"""Assigning rows (or groups of rows) to k folds: dealt in turn, or groups packed greedily.

Dealing: the rows are laid out in one sequence, block after block (a block is the rows of one
(class, hash bucket) pair, in a seeded order inside it), and the row at position ``p`` goes to fold
``p mod k``. A block is summarised by its size alone, so Spark ranks rows inside each block in
parallel and the driver only needs each block's first position (a row of rank ``r`` in a block
starting at fold ``s`` goes to fold ``(s + r - 1) mod k``). Any run of consecutive positions
puts the same number of rows in every fold, give or take one, so with one block per (class,
bucket) and a class's blocks adjacent, every class is balanced across folds to one row, and so is
the whole dataset.

Packing: groups are taken largest first and each goes to the fold with the fewest rows so far, as
scikit-learn's ``GroupKFold`` does; ties go to the smaller group key and the lower fold, so the
same data gives the same folds in every process.
"""

from __future__ import annotations

import heapq
from typing import Any, Hashable, Sequence

__all__ = ["deal_starts", "pack_groups"]


def deal_starts(sizes: Sequence[int], k: int) -> list[int]:
    """The fold of each block's first row (``position mod k``) when blocks of ``sizes`` rows are
    laid end to end, in the order given.

    >>> deal_starts([3, 0, 2, 4], 3)
    [0, 0, 0, 2]
    """
    starts, position = [], 0
    for size in sizes:
        starts.append(position % k)
        position += size
    return starts


def pack_groups(groups: Sequence[tuple[Hashable, int]], k: int) -> dict[Any, int]:
    """The fold of every group of ``(key, rows)``: largest group first into the fold with the fewest
    rows; ties broken by key (groups) and fold number (folds). Keys must be mutually comparable.

    >>> pack_groups([("a", 5), ("b", 3), ("c", 3), ("d", 1)], 2)
    {'a': 0, 'b': 1, 'c': 1, 'd': 0}
    """
    order = sorted(groups, key=lambda group: (-group[1], group[0]))
    loads = [(0, fold) for fold in range(k)]  # (rows so far, fold): a heap pops the lightest, then the lowest fold
    assigned = {}
    for key, rows in order:
        load, fold = heapq.heappop(loads)
        assigned[key] = fold
        heapq.heappush(loads, (load + rows, fold))
    return assigned
