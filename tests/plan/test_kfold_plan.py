"""K-fold over user-given fold ids, planned as blocked k-fold on the axis of the ids ``0..k-1``.

A row's fold id is its time point: ``plan_blocked(CountScale(k), k)`` makes block ``f`` the single id
``f``. Applying the plan to rows (validation: rows whose id is in the validation range; training:
rows whose id is in a training range) must give the k-fold contract: validation sets partition
the rows, and each fold's training is exactly the other rows.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splitcv.plan import CountScale, plan_blocked

# Cases are small by construction; a busy CI machine should not turn a slow example into a failure.
bounded = settings(deadline=None)


@st.composite
def fold_ids(draw):
    """Fold ids per row, each of ``0..k-1`` present at least once, in any order."""
    k = draw(st.integers(2, 12))
    extra = draw(st.lists(st.integers(0, k - 1), max_size=150))
    rows = draw(st.permutations([*range(k), *extra]))
    return k, rows


def apply(fold, ids):
    def inside(value, ranges):
        return any(start <= value < stop for start, stop in ranges)

    validation = {row for row, f in enumerate(ids) if inside(f, [fold.validation])}
    train = {row for row, f in enumerate(ids) if inside(f, fold.train)}
    return train, validation


@bounded
@given(fold_ids())
def test_applied_plan_is_k_fold(case):
    k, ids = case
    rows = set(range(len(ids)))
    folds = plan_blocked(CountScale(k), k)
    assert len(folds) == k
    seen = []
    for number, fold in enumerate(folds):
        assert fold.validation == (number, number + 1), "fold f validates the rows of id f"
        train, validation = apply(fold, ids)
        assert validation == {row for row in rows if ids[row] == number}
        assert validation and train, "every fold has rows on both sides"
        assert not train & validation
        assert train | validation == rows
        seen.extend(validation)
    assert sorted(seen) == sorted(rows), "every row is validated exactly once"


@bounded
@given(st.integers(2, 40))
def test_plan_over_ids_trains_on_every_other_id(k):
    for number, fold in enumerate(plan_blocked(CountScale(k), k)):
        assert sorted(fold.train_indexes()) == [f for f in range(k) if f != number]
        assert fold.train_size == k - 1 and fold.validation_size == 1


def test_more_folds_than_ids_is_refused():
    with pytest.raises(ValueError, match="numFolds=4 is more than the 3 distinct"):
        plan_blocked(CountScale(3), 4)
