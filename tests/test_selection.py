"""Choosing the best param map from fold metrics with NaN and infinities (no Spark).

The oracle below is written from the rules in splitcv/selection.py's docstring, in plain Python
(``sum``/``len`` and scipy's ``rankdata``), not from its code. Metric values are drawn from numbers
whose sums are exact in floating point, so numpy's pairwise sum and Python's ``sum`` agree on ties.
"""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import rankdata

from splitcv.selection import MetricWarning, rank, select_best

NAN, INF = float("nan"), float("inf")


def _select(metrics, larger, skipped=()):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chosen = select_best(metrics, larger, skipped)
    return chosen, [w for w in caught if issubclass(w.category, MetricWarning)]


# -- the cases reported in the issue ---------------------------------------------------------------


def test_a_map_with_nan_folds_is_not_chosen_as_in_the_report():
    chosen, warned = _select([[NAN, 39.6], [NAN, 53.9], [60.1, 54.9], [44.0, 47.8]], larger=True)
    assert chosen.best == 1
    assert chosen.ranks == [2, 1]
    assert chosen.nan_folds == [[0, 1], []]
    assert chosen.eligible == [False, True]
    assert len(warned) == 1 and "param maps 0 (NaN on folds [0, 1])" in str(warned[0].message)


def test_nan_never_wins_when_smaller_is_better():
    chosen, _ = _select([[1.0, 5.0, NAN], [1.0, 5.0, 0.1]], larger=False)
    assert chosen.best == 0
    assert chosen.ranks == [1, 2, 3]


def test_all_maps_nan_is_an_error_naming_each_maps_folds():
    with pytest.raises(ValueError) as error:
        select_best([[NAN, 1.0], [2.0, NAN], [3.0, NAN]], larger_is_better=True)
    message = str(error.value)
    assert "map 0: NaN on folds [0]" in message
    assert "map 1: NaN on folds [1, 2]" in message


def test_r2_on_one_row_folds_minus_infinity_everywhere_warns_that_the_choice_is_arbitrary():
    chosen, warned = _select([[-INF, -INF], [-INF, -INF]], larger=True)
    assert chosen.best == 0 and chosen.ranks == [1, 1]
    assert len(warned) == 1
    assert "-inf" in str(warned[0].message) and "maps [0, 1] tie" in str(warned[0].message)


def test_infinities_rank_as_the_values_they_are():
    # larger is better: -inf is the worst score, +inf the best
    assert _select([[-INF, 0.5], [0.2, 0.4]], larger=True)[0].best == 1
    assert _select([[INF, 0.5], [0.2, 0.4]], larger=True)[0].best == 0
    # smaller is better (rmse): +inf is the worst
    assert _select([[INF, 0.5], [0.2, 0.4]], larger=False)[0].best == 1


def test_plus_and_minus_infinity_in_one_map_average_to_nan_and_cannot_win():
    chosen, warned = _select([[INF, 0.5], [-INF, 0.4]], larger=True)
    assert chosen.best == 1 and chosen.eligible == [False, True] and chosen.ranks == [2, 1]
    assert "+inf and -inf" in str(warned[0].message)


def test_skipped_folds_are_left_out_of_every_average():
    chosen, warned = _select([[NAN, NAN], [1.0, 2.0], [3.0, 2.0]], larger=True, skipped=[0])
    assert chosen.avg == [2.0, 2.0] and chosen.best == 0 and not warned
    with pytest.raises(ValueError, match="every fold was skipped"):
        select_best([[1.0]], True, skipped=[0])


def test_rank_puts_nan_last_and_shares_ties():
    assert rank([0.5, NAN, 0.9, 0.5], larger_is_better=True) == [2, 4, 1, 2]
    assert rank([0.5, NAN, 0.9, 0.5], larger_is_better=False) == [1, 4, 3, 1]


# -- the rule against an independent oracle --------------------------------------------------------

VALUES = st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0, -3.5, NAN, INF, -INF])


@st.composite
def tables(draw):
    k = draw(st.integers(1, 5))
    m = draw(st.integers(1, 5))
    metrics = [[draw(VALUES) for _ in range(m)] for _ in range(k)]
    skipped = draw(st.sets(st.integers(0, k - 1), max_size=k - 1))
    return metrics, sorted(skipped), draw(st.booleans())


@given(tables())
def test_select_best_follows_the_documented_rules(case):
    metrics, skipped, larger = case
    scored = [f for f in range(len(metrics)) if f not in skipped]
    m = len(metrics[0])
    column = [[metrics[f][j] for f in scored] for j in range(m)]
    nan_folds = [[f for f in scored if math.isnan(metrics[f][j])] for j in range(m)]
    avg = [sum(values) / len(values) for values in column]  # inf + -inf is NaN here too
    eligible = [not math.isnan(a) for a in avg]
    if not any(eligible):
        with pytest.raises(ValueError) as error:
            select_best(metrics, larger, skipped)
        for j in range(m):
            assert f"map {j}: " in str(error.value)
        return
    chosen, warned = _select(metrics, larger, skipped)
    sign = 1 if larger else -1
    best_value = max(sign * a for a, ok in zip(avg, eligible) if ok)
    assert chosen.best == next(j for j in range(m) if eligible[j] and sign * avg[j] == best_value)
    assert chosen.nan_folds == nan_folds and chosen.eligible == eligible
    keys = [-sign * a for a, ok in zip(avg, eligible) if ok]
    defined_ranks = iter(rankdata(keys, method="min").astype(int).tolist())
    assert chosen.ranks == [next(defined_ranks) if ok else sum(eligible) + 1 for ok in eligible]
    assert bool(warned) == (not all(eligible) or math.isinf(avg[chosen.best]))
