"""Blocked k-fold plans (``plan_blocked``), without Spark.

Each generated axis and (numFolds, gap) is checked against a brute-force model: the blocks of
``numpy.array_split``, and for each block the margin rule applied to every time point.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from splitcv.durations import ZERO, DateCalendar, parse_duration
from splitcv.plan import CalendarScale, CountScale, Fold, clears_gap, plan_blocked
from splitcv.plan.blocked import block_bounds

from .test_windows import DATE_DURATIONS, TIMESTAMP_DURATIONS, approx_length, date_axes, timestamp_axes, unix_date

# Cases are small by construction; a busy CI machine should not turn a slow example into a failure.
bounded = settings(deadline=None)


def model_blocked(scale, num_folds: int, gap):
    """Blocks as numpy cuts them; training is every time point that keeps the margin, or None if a
    block has nothing to train on."""
    positions = [scale.position(i) for i in range(scale.n)]
    folds = []
    for block in np.array_split(np.arange(scale.n), num_folds):
        start, stop = int(block[0]), int(block[-1]) + 1
        first, last = positions[start], positions[stop - 1]
        train = [
            t
            for t, p in enumerate(positions)
            if (t < start and clears_gap(scale, p, first, gap)) or (t >= stop and clears_gap(scale, last, p, gap))
        ]
        if not train:
            return None
        folds.append((train, (start, stop)))
    return folds


def check_blocked(scale, num_folds: int, gap) -> None:
    note(f"scale={scale!r} points={getattr(scale, 'points', None)} num_folds={num_folds} gap={gap}")
    if num_folds > scale.n:
        with pytest.raises(ValueError, match=rf"numFolds={num_folds} .*{scale.n} distinct time points"):
            plan_blocked(scale, num_folds, gap)
        event("too many folds")
        return
    expected = model_blocked(scale, num_folds, gap)
    if expected is None:
        with pytest.raises(ValueError) as raised:
            plan_blocked(scale, num_folds, gap)
        message = str(raised.value)
        assert f"gap={scale.describe_size(gap)}" in message and "nothing to train on" in message, message
        event("gap leaves no training")
        return
    folds = plan_blocked(scale, num_folds, gap)
    event("planned")
    assert len(folds) == num_folds
    # Validation blocks partition the axis: contiguous, in order, sizes within one of each other.
    assert [i for f in folds for i in f.validation_indexes()] == list(range(scale.n))
    sizes = [f.validation_size for f in folds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    for fold, (train, validation) in zip(folds, expected):
        assert fold.validation == validation
        # Training ranges: sorted, non-empty, apart from the block, and exactly the model's set.
        assert all(start < stop for start, stop in fold.train)
        assert list(fold.train) == sorted(fold.train) and len(fold.train) <= 2
        assert list(fold.train_indexes()) == train, "training is everything that keeps the margin"
        start, stop = fold.validation
        for t in fold.train_indexes():
            if t < start:
                assert clears_gap(scale, scale.position(t), scale.position(start), gap)
            else:
                assert t >= stop and clears_gap(scale, scale.position(stop - 1), scale.position(t), gap)


@bounded
@given(st.integers(1, 60), st.integers(1, 12), st.integers(0, 12))
def test_count_blocks(n, num_folds, gap):
    check_blocked(CountScale(n), num_folds, gap)
    if num_folds <= n and model_blocked(CountScale(n), num_folds, gap) is not None:
        for fold in plan_blocked(CountScale(n), num_folds, gap):
            start, stop = fold.validation
            # On counts the margin is exactly gap time points on either side.
            assert set(fold.train_indexes()) == set(range(0, start - gap)) | set(range(stop + gap, n))


@st.composite
def calendar_cases(draw):
    scale = draw(st.one_of(date_axes(), timestamp_axes()))
    pool = DATE_DURATIONS if isinstance(scale.calendar, DateCalendar) else TIMESTAMP_DURATIONS
    span = scale.end - scale.origin
    fits = [d for d in pool if approx_length(d, scale.calendar) * 3 <= span] or pool[:1]
    gap = draw(st.one_of(st.just(ZERO), st.sampled_from(fits), st.sampled_from(pool)))
    num_folds = draw(st.one_of(st.integers(2, 6), st.integers(1, scale.n + 1)))
    return scale, num_folds, gap


@bounded
@given(calendar_cases())
def test_calendar_blocks(case):
    check_blocked(*case)


@bounded
@given(st.integers(1, 500), st.integers(1, 40))
def test_block_bounds_cut_like_numpy(n, k):
    k = min(k, n)
    expected = [(int(b[0]), int(b[-1]) + 1) for b in np.array_split(np.arange(n), k)]
    assert block_bounds(n, k) == expected


# ------------------------------------------------------------------------ examples


def test_margin_on_either_side():
    folds = plan_blocked(CountScale(9), 3, gap=1)
    assert [f.validation for f in folds] == [(0, 3), (3, 6), (6, 9)]
    assert [f.train for f in folds] == [((4, 9),), ((0, 2), (7, 9)), ((0, 5),)]
    assert folds[1] == Fold(((0, 2), (7, 9)), (3, 6))


def test_without_gap_training_is_every_other_block():
    folds = plan_blocked(CountScale(7), 3)
    assert [f.validation for f in folds] == [(0, 3), (3, 5), (5, 7)]
    assert [f.train for f in folds] == [((3, 7),), ((0, 3), (5, 7)), ((0, 5),)]


def test_too_many_folds_raise_naming_num_folds():
    with pytest.raises(ValueError, match=r"numFolds=6 is more than the 5 distinct time points"):
        plan_blocked(CountScale(5), 6)
    assert len(plan_blocked(CountScale(5), 5)) == 5


def test_a_gap_that_leaves_no_training_raises_naming_gap():
    with pytest.raises(ValueError, match=r"gap=3 leaves fold 1 \(time points 3\.\.5 of 9\) nothing to train on"):
        plan_blocked(CountScale(9), 3, gap=3)
    # one block is the whole axis: nothing else to train on, whatever the gap
    with pytest.raises(ValueError, match=r"gap=0 leaves fold 0"):
        plan_blocked(CountScale(4), 1)


def test_calendar_gap_on_monthly_data():
    """Month-start dates for two years, four blocks, a '1 month' margin: the neighbouring month of
    each block is left out of training, and a '2 months' margin two of them."""
    months = [unix_date(dt.date(2020 + m // 12, m % 12 + 1, 1)) for m in range(24)]
    scale = CalendarScale(months, DateCalendar())
    folds = plan_blocked(scale, 4, parse_duration("1 month"))
    assert [f.validation for f in folds] == [(0, 6), (6, 12), (12, 18), (18, 24)]
    assert [f.train for f in folds] == [((7, 24),), ((0, 5), (13, 24)), ((0, 11), (19, 24)), ((0, 17),)]
    folds = plan_blocked(scale, 4, parse_duration("2 months"))
    assert folds[1].train == ((0, 4), (14, 24))
    with pytest.raises(ValueError, match=r"gap='1 year' leaves fold 1"):
        plan_blocked(scale, 4, parse_duration("1 year"))
