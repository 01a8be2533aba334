"""Dealing rows and packing groups into folds, checked without Spark.

Oracles: positions laid out one by one and counted (dealing), scikit-learn's ``GroupKFold`` on
groups of distinct sizes, where its greedy rule has no ties to break (packing), and the bound
that greedy rule guarantees.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from splitcv.plan.assign import deal_starts, pack_groups

bounded = settings(deadline=None, max_examples=300)

blocks = st.lists(st.integers(0, 40), min_size=1, max_size=30)
folds = st.integers(2, 12)


def laid_out(sizes: list[int], k: int) -> list[list[int]]:
    """Brute force: every row numbered in turn and dealt to the next fold; the folds of each block's rows."""
    per_block, fold = [], 0
    for size in sizes:
        rows = []
        for _ in range(size):
            rows.append(fold)
            fold = (fold + 1) % k
        per_block.append(rows)
    return per_block


def per_fold(rows: list[int], k: int) -> list[int]:
    return [rows.count(f) for f in range(k)]


@bounded
@given(sizes=blocks, k=folds)
def test_a_block_rank_from_its_start_gives_the_fold_dealt_one_by_one(sizes, k):
    starts = deal_starts(sizes, k)
    assert len(starts) == len(sizes)
    for start, size, dealt in zip(starts, sizes, laid_out(sizes, k)):
        assert [(start + rank - 1) % k for rank in range(1, size + 1)] == dealt


@bounded
@given(sizes=blocks, k=folds, data=st.data())
def test_any_run_of_adjacent_blocks_is_balanced_to_one_row(sizes, k, data):
    # A class is a run of adjacent blocks: its rows per fold differ by at most one, and so do the totals.
    first = data.draw(st.integers(0, len(sizes) - 1))
    last = data.draw(st.integers(first, len(sizes) - 1))
    starts = deal_starts(sizes, k)
    folds_of = [[(s + rank) % k for rank in range(n)] for s, n in zip(starts, sizes)]
    run = per_fold([f for block in folds_of[first : last + 1] for f in block], k)
    assert max(run) - min(run) <= 1
    assert sum(run) == sum(sizes[first : last + 1])
    totals = per_fold([f for block in folds_of for f in block], k)
    assert max(totals) - min(totals) <= 1


groups = st.lists(st.integers(1, 60), min_size=2, max_size=60)


@bounded
@given(sizes=groups, k=folds)
def test_packing_puts_every_group_in_one_fold_within_the_greedy_bound(sizes, k):
    named = [(f"g{i:03d}", n) for i, n in enumerate(sizes)]
    assigned = pack_groups(named, k)
    assert set(assigned) == {name for name, _ in named}
    assert all(0 <= f < k for f in assigned.values())
    loads = [0] * k
    for name, n in named:
        loads[assigned[name]] += n
    # Largest first into the lightest fold: the heaviest fold was the lightest before its last
    # group, so it exceeds the lightest by at most that group's size.
    assert max(loads) - min(loads) <= max(sizes)
    used = {f for f in assigned.values()}
    assert len(used) == min(k, len(sizes)), "no fold is left empty while there are groups for it"


@bounded
@given(sizes=st.lists(st.integers(1, 500), min_size=2, max_size=40, unique=True), k=folds)
def test_packing_matches_sklearn_group_kfold_when_sizes_are_distinct(sizes, k):
    from sklearn.model_selection import GroupKFold

    if len(sizes) < k:
        k = len(sizes)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    theirs = {frozenset(np.unique(labels[test]).tolist()) for _, test in GroupKFold(n_splits=k).split(labels, groups=labels)}
    assigned = pack_groups(list(enumerate(sizes)), k)
    ours = {frozenset(g for g, f in assigned.items() if f == fold) for fold in range(k)}
    assert ours == theirs


def test_packing_breaks_ties_by_key_then_fold():
    # Equal groups: keys in order fill folds 0, 1, 2, then the lightest-lowest again.
    assert pack_groups([("c", 2), ("a", 2), ("b", 2), ("d", 2)], 3) == {"a": 0, "b": 1, "c": 2, "d": 0}
    assert Counter(pack_groups([(i, 1) for i in range(10)], 3).values()) == Counter({0: 4, 1: 3, 2: 3})
