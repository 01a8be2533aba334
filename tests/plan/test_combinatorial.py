"""Combinatorial purged CV on pure plans, against skfolio's ``CombinatorialPurgedCV``.

skfolio cuts ``n`` observations into groups of ``n // numGroups`` (the remainder in the last group);
splitcv cuts them as blocked k-fold does (the remainder spread over the first groups). The two agree
when ``numGroups`` divides ``n``, which is where they are compared: one row per time point, labels
ending ``purged`` time points later (skfolio's ``purged_size``), the same ``embargo``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitcv.plan import CountScale
from splitcv.plan.combinatorial import backtest_paths, count_combinatorial_folds, plan_combinatorial
from splitcv.plan.purge import embargo_training, is_purged, validation_spans

skfolio = pytest.importorskip("skfolio.model_selection")

CASES = [
    (groups, tests, size, purged, embargo)
    for groups in range(3, 8)
    for tests in range(2, groups)
    for size in (3, 5)
    for purged in range(0, 3)
    for embargo in range(0, 3)
    if purged + embargo < size - 1  # skfolio's own limit
]


def ours(n, groups, tests, purged, embargo):
    """(training indexes, validation segments) of every fold, purged and embargoed, from the pure plan."""
    points = list(range(n))
    ends = [min(n - 1, t + purged) for t in points]
    out = []
    for fold in plan_combinatorial(n, groups, tests):
        spans = validation_spans(points, ends, fold.segments)
        train, _ = embargo_training(CountScale(n), points, fold.train, [end for _, end in spans], embargo)
        kept = [t for a, b in train for t in range(a, b) if not is_purged(t, ends[t], spans)]
        out.append((kept, [list(range(a, b)) for a, b in fold.segments]))
    return out


@pytest.mark.parametrize("groups, tests, size, purged, embargo", CASES)
def test_folds_match_skfolio(groups, tests, size, purged, embargo):
    n = groups * size
    cv = skfolio.CombinatorialPurgedCV(n_folds=groups, n_test_folds=tests, purged_size=purged, embargo_size=embargo)
    theirs = [(train.tolist(), sorted(t for test in tests_ for t in test.tolist())) for train, tests_ in cv.split(np.zeros((n, 1)))]
    mine = ours(n, groups, tests, purged, embargo)
    assert len(mine) == count_combinatorial_folds(groups, tests) == cv.n_splits
    assert [(train, sorted(t for seg in segs for t in seg)) for train, segs in mine] == theirs


@pytest.mark.parametrize("groups, tests", sorted({(g, t) for g, t, *_ in CASES}))
def test_backtest_paths_match_skfolio(groups, tests):
    cv = skfolio.CombinatorialPurgedCV(n_folds=groups, n_test_folds=tests)
    paths = backtest_paths(groups, tests)
    assert len(paths) == cv.n_test_paths == math.comb(groups, tests) * tests // groups
    assert np.array_equal(np.array(paths).T, cv.recombined_paths)


def test_every_fold_group_is_in_exactly_one_path():
    for groups, tests in [(6, 2), (5, 3), (8, 4)]:
        used = sorted((fold, g) for path in backtest_paths(groups, tests) for g, fold in enumerate(path))
        assert len(used) == len(set(used)) == count_combinatorial_folds(groups, tests) * tests


def test_more_groups_than_time_points_is_an_error():
    with pytest.raises(ValueError, match=r"numGroups=5 is more than the 4 distinct time points"):
        plan_combinatorial(4, 5, 2)
    # as many groups as time points: one point per group
    assert [f.segments for f in plan_combinatorial(4, 4, 3)] == [((0, 3),), ((0, 2), (3, 4)), ((0, 1), (2, 4)), ((1, 4),)]
