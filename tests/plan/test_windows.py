"""Forward-chaining window plans (``plan_windows``), without Spark.

Axes are a :class:`CountScale` or a :class:`CalendarScale` over generated irregular dates and
timestamps (UTC and daylight-saving zones). Each generated case is checked three ways:

* the invariants the design promises (no training on or within ``gap`` of the future, non-empty
  sides, time order, ``numFolds``, window sizes), checked on the output alone;
* a brute-force model written from the module docstring (cut-offs, then a linear scan of every
  time point with :func:`clears_gap`), which must give exactly the same folds or fail together;
* on counts, scikit-learn's ``TimeSeriesSplit``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from typing import Optional, Union
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from sklearn.model_selection import TimeSeriesSplit

from splitcv.durations import ZERO, DateCalendar, Duration, TimestampCalendar, parse_duration
from splitcv.plan import CalendarScale, CountScale, Fold, clears_gap, plan_windows

# Generated axes can be long enough for a plan of more than 100 folds; that warning has its own tests
# (tests/plan/test_advice.py).
pytestmark = pytest.mark.filterwarnings("ignore::splitcv.plan.advice.TooManyFoldsWarning")

# Cases are small by construction; a busy CI machine should not turn a slow example into a failure.
bounded = settings(deadline=None)

Size = Union[int, Duration]

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def unix_date(day: dt.date) -> int:
    return (day - EPOCH_DATE).days


def unix_micros(when: dt.datetime) -> int:
    return (when - EPOCH_UTC) // dt.timedelta(microseconds=1)


def durations(table: dict[str, list[int]]) -> list[Duration]:
    return [parse_duration(f"{a} {unit}{'s' if a > 1 else ''}") for unit, amounts in table.items() for a in amounts]


DATE_DURATIONS = durations(
    {"day": [1, 2, 3, 5, 10, 20, 45], "week": [1, 2, 4, 8], "month": [1, 2, 3, 6], "quarter": [1, 2], "year": [1]}
)
TIMESTAMP_DURATIONS = durations(
    {
        "second": [90],
        "minute": [1, 15, 30, 45, 100],
        "hour": [1, 2, 5, 12, 25],
        "day": [1, 2, 3],
        "week": [1, 2],
        "month": [1, 2],
    }
)


def approx_length(duration: Duration, calendar) -> float:
    """A duration's rough length in the calendar's units (days or microseconds), to pick sizes."""
    in_days = duration.months * 30.44 + duration.days + duration.micros / DAY_US
    return in_days if isinstance(calendar, DateCalendar) else in_days * DAY_US


def reaches(scale, size: Size) -> list[int]:
    """``scale.shift(position(i), size)`` for every time point ``i``, computed once per axis and size.

    ``clears_gap(scale, position(i), later, size)`` is by definition ``reaches(scale, size)[i] < later``
    (``test_clears_gap_is_shift_then_compare`` pins that), so the checks below compare integers
    instead of redoing calendar arithmetic for every cut-off.
    """
    return [scale.shift(scale.position(i), size) for i in range(scale.n)]


def plus(a: Size, b: Size) -> Size:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return a + b if isinstance(a, Duration) and isinstance(b, Duration) else (b if a in (0, ZERO) else a)


# --------------------------------------------------------------------------------------- axes


@st.composite
def irregular_steps(draw, n: int, base: int) -> list[int]:
    """The n - 1 spacings between consecutive time points: regular with a few jitters and holes, or
    irregular throughout."""
    if n < 2:
        return []
    if draw(st.booleans()):
        return draw(st.lists(st.integers(1, 12).map(lambda k: max(1, k * base // 4)), min_size=n - 1, max_size=n - 1))
    steps = [base] * (n - 1)
    odd = st.one_of(st.integers(1, 3 * base), st.integers(4 * base, 25 * base))
    for index, size in draw(st.lists(st.tuples(st.integers(0, n - 2), odd), max_size=5)):
        steps[index] = size
    return steps


@st.composite
def date_axes(draw, max_points: int = 40) -> CalendarScale:
    n = draw(st.integers(1, max_points))
    base = draw(st.sampled_from([1, 7, 30]))
    steps = draw(irregular_steps(n, base))
    start = draw(st.integers(unix_date(dt.date(1999, 1, 1)), unix_date(dt.date(2030, 12, 31))))
    return CalendarScale(list(itertools.accumulate([start, *steps])), DateCalendar())


# Local midnights a day or two before daylight-saving changes (and a zone without any).
ZONE_ANCHORS = {
    "America/New_York": [dt.datetime(2024, 3, 9), dt.datetime(2024, 11, 2)],
    "Europe/Berlin": [dt.datetime(2024, 3, 30), dt.datetime(2024, 10, 26)],
    "UTC": [dt.datetime(2024, 2, 28)],
}


@st.composite
def timestamp_axes(draw, max_points: int = 40, zones=tuple(ZONE_ANCHORS)) -> CalendarScale:
    zone = draw(st.sampled_from(zones))
    anchor = draw(st.sampled_from(ZONE_ANCHORS[zone])).replace(tzinfo=ZoneInfo(zone))
    start = unix_micros(anchor) + draw(st.integers(-8, 140)) * 15 * MINUTE_US + draw(st.sampled_from([0, 0, 17]))
    n = draw(st.integers(1, max_points))
    base = draw(st.sampled_from([15 * MINUTE_US, HOUR_US, 6 * HOUR_US, DAY_US, 7 * DAY_US]))
    steps = draw(irregular_steps(n, base))
    return CalendarScale(list(itertools.accumulate([start, *steps])), TimestampCalendar(zone))


def calendar_axes(max_points: int = 30):
    return st.one_of(date_axes(max_points), timestamp_axes(max_points))


@st.composite
def calendar_window_params(draw, scale: CalendarScale) -> dict:
    """Window parameters as durations, sized to the axis so that valid and invalid sets both come up.

    The step is never so short that the planner walks more than ~60 cut-offs over the axis.
    """
    calendar = scale.calendar
    pool = DATE_DURATIONS if isinstance(calendar, DateCalendar) else TIMESTAMP_DURATIONS
    span = scale.end - scale.origin
    spacing = sorted(b - a for a, b in zip(scale.points, scale.points[1:]))[(scale.n - 1) // 2] if scale.n > 1 else span
    small = [d for d in pool if spacing <= 2 * approx_length(d, calendar) and approx_length(d, calendar) * 4 <= span]
    small = small or pool[:2]
    fits = [d for d in pool if approx_length(d, calendar) <= 1.2 * span] or pool[:2]
    steppable = [d for d in pool if approx_length(d, calendar) * 60 >= span]
    sizes = st.one_of(st.sampled_from(small), st.sampled_from(small), st.sampled_from(fits), st.sampled_from(pool))
    horizon = draw(sizes)
    step = draw(st.one_of(st.none(), st.sampled_from(steppable)))
    if step is None and approx_length(horizon, calendar) * 60 < span:
        step = steppable[0]
    return dict(
        horizon=horizon,
        step=step,
        gap=draw(st.one_of(st.just(ZERO), sizes)),
        initial_window=draw(st.one_of(st.none(), sizes)),
        window_size=draw(st.one_of(st.none(), sizes)),
        num_folds=draw(st.one_of(st.none(), st.integers(1, 3), st.integers(1, 6))),
        keep_partial=draw(st.booleans()),
    )


@st.composite
def count_window_params(draw, n: int) -> dict:
    return dict(
        horizon=draw(st.integers(1, max(1, n // 2 + 2))),
        step=draw(st.one_of(st.none(), st.integers(1, max(1, n // 2 + 2)))),
        gap=draw(st.one_of(st.just(0), st.integers(0, max(0, n // 3 + 1)))),
        initial_window=draw(st.one_of(st.none(), st.integers(1, n + 1))),
        window_size=draw(st.one_of(st.none(), st.integers(1, n + 1))),
        num_folds=draw(st.one_of(st.none(), st.integers(1, 8))),
        keep_partial=draw(st.booleans()),
    )


@st.composite
def count_cases(draw, max_points: int = 60):
    n = draw(st.integers(1, max_points))
    return CountScale(n), draw(count_window_params(n))


@st.composite
def calendar_cases(draw, axes=None):
    scale = draw(axes if axes is not None else calendar_axes())
    return scale, draw(calendar_window_params(scale))


# ------------------------------------------------------------------------ model and checks


def model_cutoffs(scale, *, horizon, step, gap, initial_window, keep_partial) -> list[tuple[int, int]]:
    """``(cut-off, validation end)`` positions, in time order, as the module docstring lays them.

    With an initial window: the first cut-off is ``origin + initialWindow + gap``; cut-off ``i`` is
    ``first + i * step`` and its window ends at ``first + (i * step + horizon)``, each one move from
    the first cut-off, while the cut-off is inside the data and (unless ``keep_partial``) its window ends by
    the end of the data. Without one: window ``j`` (counted back) ends at ``end - j * step`` and
    starts at ``end - (j * step + horizon)``, while a time point is left to train on.
    """
    step = horizon if step is None else step
    gap_reach = reaches(scale, gap)
    cuts = []
    if initial_window is not None:
        first = scale.shift(scale.shift(scale.origin, initial_window), gap)
        for i in itertools.count():
            cut = scale.shift(first, model_times(step, i))
            stop = scale.shift(first, model_plus(model_times(step, i), horizon))
            if cut >= scale.end or (stop > scale.end and not keep_partial):
                return cuts
            cuts.append((cut, stop))
    for j in itertools.count():
        stop = scale.shift(scale.end, model_times(step, j), -1)
        cut = scale.shift(scale.end, model_plus(model_times(step, j), horizon), -1)
        if not any(reach < cut for reach in gap_reach):
            return cuts[::-1]
        cuts.append((cut, stop))
    raise AssertionError("unreachable")


def model_times(size, k):
    if isinstance(size, Duration):
        return Duration(size.months * k, size.days * k, size.micros * k)
    return size * k


def model_plus(a, b):
    if isinstance(a, Duration) or isinstance(b, Duration):
        a = a if isinstance(a, Duration) else Duration()
        b = b if isinstance(b, Duration) else Duration()
        return Duration(a.months + b.months, a.days + b.days, a.micros + b.micros)
    return a + b


def model_windows(scale, *, horizon, step=None, gap=0, initial_window=None, window_size=None, keep_partial=False,
                  with_cutoffs=False):
    """The folds before ``numFolds``, by brute force: every time point is tested against each cut-off.

    Training is every time point that clears ``gap`` before the cut-off (and, sliding, does not
    clear ``gap + windowSize``); validation every time point in ``[cut-off, validation end)``. A fold
    with an empty side is skipped; an identical repeat of the previous fold is not a new fold.
    """
    cuts = model_cutoffs(
        scale, horizon=horizon, step=step, gap=gap, initial_window=initial_window, keep_partial=keep_partial
    )
    gap_reach = reaches(scale, gap)
    window_reach = None if window_size is None else reaches(scale, plus(gap, window_size))
    positions = [scale.position(i) for i in range(scale.n)]
    folds: list[Fold] = []
    cut_of: dict[Fold, int] = {}
    for cut, stop in cuts:
        train = [
            i for i in range(scale.n) if gap_reach[i] < cut and (window_reach is None or window_reach[i] >= cut)
        ]
        validation = [i for i, p in enumerate(positions) if cut <= p < stop]
        if not train or not validation:
            continue
        assert train == list(range(train[0], train[-1] + 1)), f"training at cut-off {cut} is not contiguous"
        fold = Fold(((train[0], train[-1] + 1),), (validation[0], validation[-1] + 1))
        if not folds or folds[-1] != fold:
            folds.append(fold)
            cut_of[fold] = cut
    return (folds, cut_of) if with_cutoffs else folds


def plan_or_error(scale, **params):
    try:
        return plan_windows(scale, **params), None
    except ValueError as error:
        return None, str(error)


def check_error(message: str, params: dict) -> None:
    """A refusal names the parameters that caused it."""
    for name in ("horizon=", "step=", "gap="):
        assert name in message, message
    if params.get("initial_window") is not None:
        assert "initialWindow=" in message, message
    assert ("numFolds=" in message) or ("no fold" in message), message


def check_invariants(scale, folds: list[Fold], params: dict) -> None:
    """What every forward plan promises, read off the output alone."""
    gap, window_size, num_folds = params["gap"], params["window_size"], params["num_folds"]
    assert isinstance(folds, list) and folds, "a plan is never an empty list"
    gap_reach = reaches(scale, gap)
    if num_folds is not None:
        assert len(folds) == num_folds
    for fold in folds:
        assert len(fold.train) == 1, "a forward window trains on one contiguous range"
        (train_start, train_stop), (val_start, val_stop) = fold.train[0], fold.validation
        assert 0 <= train_start < train_stop <= val_start < val_stop <= scale.n, fold
        assert fold.train_size > 0 and fold.validation_size > 0
        # Never train on or within gap of the future. Validation positions are sorted and the rule
        # compares with `<`, so clearing the first validation point clears every one of them.
        first_validation = scale.position(val_start)
        assert clears_gap(scale, scale.position(train_stop - 1), first_validation, gap), fold
        for i in fold.train_indexes():
            assert gap_reach[i] < first_validation, (fold, i)
        if window_size is None:
            assert train_start == 0, "an expanding window starts with the data"
        elif isinstance(scale, CountScale):
            assert fold.train_size <= window_size
    for before, after in zip(folds, folds[1:]):
        assert before != after, "no fold twice"
        assert before.validation[0] <= after.validation[0] and before.validation[1] <= after.validation[1]
        assert before.train[0][1] <= after.train[0][1]
        if isinstance(scale, CountScale):
            assert before.validation[0] < after.validation[0], "validation starts strictly increase"


def check_count_shape(n: int, folds: list[Fold], params: dict) -> None:
    """The exact shape of windows counted in time points."""
    horizon, gap = params["horizon"], params["gap"]
    step = horizon if params["step"] is None else params["step"]
    for index, fold in enumerate(folds):
        (train_start, train_stop), (val_start, val_stop) = fold.train[0], fold.validation
        assert train_stop == val_start - gap, "training ends exactly gap points before validation"
        if params["window_size"] is not None:
            assert train_start == max(0, train_stop - params["window_size"])
        if val_stop - val_start != horizon:
            # keep_partial keeps the windows that run past the data (several when step < horizon)
            assert params["keep_partial"], "only keep_partial makes a short window"
            assert val_stop == n and val_stop - val_start < horizon
            assert all(later.validation_size < horizon for later in folds[index:]), "short ones come last"
    for before, after in zip(folds, folds[1:]):
        assert after.validation[0] - before.validation[0] == step
    if params["initial_window"] is None:
        assert folds[-1].validation[1] == n, "end-anchored windows end with the data"
        if params["num_folds"] is None:
            assert folds[0].validation[0] - step - gap < 1, "one more fold back would have no training"
    elif params["num_folds"] is None:
        assert folds[0].train[0][1] == params["initial_window"], "the first training window is initialWindow"
        next_start = folds[-1].validation[0] + step
        assert next_start >= n or (next_start + horizon > n and not params["keep_partial"])


def check_against_model(scale, params: dict) -> Optional[list[Fold]]:
    note(f"scale={scale!r} points={getattr(scale, 'points', None)} params={params}")
    folds, error = plan_or_error(scale, **params)
    model_params = {k: v for k, v in params.items() if k != "num_folds"}
    expected = model_windows(scale, **model_params)
    num_folds = params["num_folds"]
    if not expected or (num_folds is not None and len(expected) < num_folds):
        assert error is not None, f"expected a ValueError, got {folds}"
        check_error(error, params)
        event("invalid")
        return None
    assert error is None, error
    assert folds == expected[len(expected) - (num_folds or len(expected)) :]
    event("valid")
    return folds


# ------------------------------------------------------------------------ property tests


@bounded
@given(count_cases())
def test_count_windows_keep_their_promises(case):
    scale, params = case
    folds = check_against_model(scale, params)
    if folds is not None:
        check_invariants(scale, folds, params)
        check_count_shape(scale.n, folds, params)


@bounded
@given(calendar_cases(date_axes()))
def test_date_windows_keep_their_promises(case):
    scale, params = case
    folds = check_against_model(scale, params)
    if folds is not None:
        check_invariants(scale, folds, params)


@bounded
@given(calendar_cases(timestamp_axes()))
def test_timestamp_windows_keep_their_promises(case):
    scale, params = case
    folds = check_against_model(scale, params)
    if folds is not None:
        check_invariants(scale, folds, params)


@bounded
@given(calendar_cases())
def test_calendar_sliding_window_stays_within_window_size(case):
    """Every training point t of a sliding fold has t + gap + windowSize at or after the cut-off."""
    scale, params = case
    params["window_size"] = params["window_size"] or params["horizon"]
    folds, error = plan_or_error(scale, **params)
    if error is not None:
        return
    _, cut_of = model_windows(scale, **{k: v for k, v in params.items() if k != "num_folds"}, with_cutoffs=True)
    window_reach = reaches(scale, plus(params["gap"], params["window_size"]))
    for fold in folds:
        cut = cut_of[fold]
        assert scale.position(fold.validation[0]) >= cut
        for i in fold.train_indexes():
            assert window_reach[i] >= cut
        # and nothing that reaches the cut-off is left out before the training window
        start = fold.train[0][0]
        if start > 0:
            assert window_reach[start - 1] < cut


@bounded
@given(count_cases(), st.integers(1, 8))
def test_num_folds_keeps_the_last_folds(case, num_folds):
    scale, params = case
    params["num_folds"] = None
    every, error = plan_or_error(scale, **params)
    params["num_folds"] = num_folds
    kept, kept_error = plan_or_error(scale, **params)
    if error is not None:  # no fold at all: the same error, which does not advise lowering numFolds
        assert kept is None and kept_error == error and "numFolds" not in kept_error
        return
    if num_folds > len(every):
        assert kept is None and f"numFolds={num_folds}" in kept_error and f"give {len(every)}" in kept_error
    else:
        assert kept == every[-num_folds:]


@bounded
@given(calendar_cases(calendar_axes(20)), st.integers(1, 6))
def test_num_folds_keeps_the_last_calendar_folds(case, num_folds):
    scale, params = case
    params["num_folds"] = None
    every, error = plan_or_error(scale, **params)
    params["num_folds"] = num_folds
    kept, kept_error = plan_or_error(scale, **params)
    if error is not None:
        assert kept_error is not None
    elif num_folds > len(every):
        assert f"numFolds={num_folds}" in kept_error
    else:
        assert kept == every[-num_folds:]


@bounded
@given(count_cases(), st.integers(1, 70))
def test_window_size_never_changes_the_fold_count(case, window_size):
    scale, params = case
    params["window_size"] = None
    expanding, expanding_error = plan_or_error(scale, **params)
    params["window_size"] = window_size
    sliding, sliding_error = plan_or_error(scale, **params)
    assert expanding_error == sliding_error
    if expanding is not None:
        assert [f.validation for f in expanding] == [f.validation for f in sliding]
        assert [f.train[0][1] for f in expanding] == [f.train[0][1] for f in sliding]


# ------------------------------------------------------------------------ scikit-learn


def sklearn_folds(n: int, **kwargs):
    try:
        splits = TimeSeriesSplit(**kwargs).split(np.zeros((n, 1)))
        return [(list(train), list(test)) for train, test in splits]
    except ValueError:
        return None


def plan_indexes(n: int, **kwargs):
    folds, _ = plan_or_error(CountScale(n), **kwargs)
    return None if folds is None else [(list(f.train_indexes()), list(f.validation_indexes())) for f in folds]


@st.composite
def sklearn_cases(draw):
    n = draw(st.integers(2, 90))
    k = draw(st.integers(2, 10))
    h = draw(st.integers(1, max(1, n // k + 1)))
    g = draw(st.integers(0, max(0, n // 4)))
    m = draw(st.one_of(st.none(), st.integers(1, n)))
    return n, k, h, g, m


@bounded
@given(sklearn_cases())
def test_expanding_windows_are_time_series_split(case):
    n, k, h, g, _ = case
    expected = sklearn_folds(n, n_splits=k, test_size=h, gap=g)
    event("sklearn raises" if expected is None else "sklearn splits")
    assert plan_indexes(n, horizon=h, gap=g, num_folds=k) == expected


@bounded
@given(sklearn_cases())
def test_sliding_windows_are_time_series_split_with_max_train_size(case):
    n, k, h, g, m = case
    m = m or 1
    expected = sklearn_folds(n, n_splits=k, test_size=h, gap=g, max_train_size=m)
    assert plan_indexes(n, horizon=h, gap=g, num_folds=k, window_size=m) == expected


@bounded
@given(st.integers(3, 120), st.integers(2, 12), st.integers(0, 6))
def test_sklearn_default_test_size(n, k, g):
    h = n // (k + 1)
    expected = sklearn_folds(n, n_splits=k, gap=g)
    if h == 0:
        assert expected is None
        return
    assert plan_indexes(n, horizon=h, gap=g, num_folds=k) == expected


# ------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "n, params, names",
    [
        (5, dict(horizon=5), ["horizon=5", "gap=0"]),
        (5, dict(horizon=9), ["horizon=9"]),
        (10, dict(horizon=2, num_folds=5), ["numFolds=5", "horizon=2", "give 4"]),
        (10, dict(horizon=2, gap=3, num_folds=4), ["numFolds=4", "gap=3", "give 3"]),
        (10, dict(horizon=1, initial_window=10), ["initialWindow=10"]),
        (10, dict(horizon=3, initial_window=8), ["initialWindow=8", "horizon=3"]),
        (10, dict(horizon=1, gap=9), ["gap=9"]),
    ],
)
def test_impossible_count_windows_raise_naming_the_parameters(n, params, names):
    with pytest.raises(ValueError) as raised:
        plan_windows(CountScale(n), **params)
    for name in names:
        assert name in str(raised.value)


def test_impossible_calendar_windows_raise_naming_the_durations():
    days = [unix_date(dt.date(2024, 1, 1)) + i for i in range(30)]
    scale = CalendarScale(days, DateCalendar())
    with pytest.raises(ValueError, match=r"horizon='1 month'.*gap='1 week'"):
        plan_windows(scale, horizon=parse_duration("1 month"), gap=parse_duration("1 week"))
    with pytest.raises(ValueError, match=r"numFolds=9 .*horizon='1 week'.*give 4"):
        plan_windows(scale, horizon=parse_duration("1 week"), num_folds=9)


# ------------------------------------------------------------------------ examples


def validations(folds):
    return [f.validation for f in folds]


def trains(folds):
    return [f.train for f in folds]


def test_end_anchored_windows_end_with_the_data():
    folds = plan_windows(CountScale(10), horizon=2)
    assert validations(folds) == [(2, 4), (4, 6), (6, 8), (8, 10)]
    assert trains(folds) == [((0, 2),), ((0, 4),), ((0, 6),), ((0, 8),)]
    # a step shorter than the horizon overlaps validation windows, still ending with the data
    assert validations(plan_windows(CountScale(10), horizon=3, step=2, gap=1)) == [(3, 6), (5, 8), (7, 10)]


def test_start_anchored_windows_begin_with_initial_window():
    folds = plan_windows(CountScale(10), horizon=2, initial_window=3)
    assert trains(folds) == [((0, 3),), ((0, 5),), ((0, 7),)]
    assert validations(folds) == [(3, 5), (5, 7), (7, 9)]
    # the gap comes after the initial window: training stays initialWindow long
    folds = plan_windows(CountScale(10), horizon=2, initial_window=3, gap=2)
    assert trains(folds) == [((0, 3),), ((0, 5),)]
    assert validations(folds) == [(5, 7), (7, 9)]


def test_a_final_partial_window_is_dropped_unless_kept():
    assert validations(plan_windows(CountScale(10), horizon=2, initial_window=3))[-1] == (7, 9)
    kept = plan_windows(CountScale(10), horizon=2, initial_window=3, keep_partial=True)
    assert validations(kept) == [(3, 5), (5, 7), (7, 9), (9, 10)]


def test_sliding_window_slides():
    folds = plan_windows(CountScale(12), horizon=2, window_size=3, gap=1)
    assert trains(folds) == [((0, 1),), ((0, 3),), ((2, 5),), ((4, 7),), ((6, 9),)]
    assert validations(folds) == [(2, 4), (4, 6), (6, 8), (8, 10), (10, 12)]


def test_a_month_without_data_is_skipped_not_yielded_empty():
    """Daily data for 2021 with June missing: monthly windows skip June instead of validating nothing.

    (sktime's window splitters on irregular dates yield an empty test set for such a window.)
    """
    days = [d for d in range(unix_date(dt.date(2021, 1, 1)), unix_date(dt.date(2022, 1, 1)))]
    days = [d for d in days if EPOCH_DATE + dt.timedelta(days=d) < dt.date(2021, 6, 1)
            or EPOCH_DATE + dt.timedelta(days=d) >= dt.date(2021, 7, 1)]
    scale = CalendarScale(days, DateCalendar())
    month = parse_duration("1 month")
    folds = plan_windows(scale, horizon=month, initial_window=parse_duration("3 months"))
    first_days = [EPOCH_DATE + dt.timedelta(days=days[f.validation[0]]) for f in folds]
    assert first_days == [dt.date(2021, m, 1) for m in (4, 5, 7, 8, 9, 10, 11, 12)]
    assert all(f.validation_size > 0 and f.train_size > 0 for f in folds)
    july = folds[2]
    assert EPOCH_DATE + dt.timedelta(days=days[july.train[0][1] - 1]) == dt.date(2021, 5, 31)
    # End-anchored windows skip the hole the same way.
    back = plan_windows(scale, horizon=month)
    assert all(f.validation_size > 0 for f in back)
    assert dt.date(2021, 6, 1) not in [EPOCH_DATE + dt.timedelta(days=days[f.validation[0]]) for f in back]


def test_overlapping_windows_across_a_hole_are_not_repeated():
    """With a step shorter than the horizon, several cut-offs inside a hole give the same fold once."""
    points = [*range(0, 31), *range(60, 91), *range(120, 151)]
    scale = CalendarScale(points, DateCalendar())
    folds = plan_windows(scale, horizon=parse_duration("70 days"), step=parse_duration("7 days"),
                         initial_window=parse_duration("35 days"))
    assert len(folds) == len(set(folds))


def test_timestamp_windows_move_by_wall_clock_days_across_dst():
    """Hourly New York data around the March change: a '1 day' horizon is a local calendar day."""
    zone = ZoneInfo("America/New_York")
    start = unix_micros(dt.datetime(2024, 3, 8, tzinfo=zone))
    points = [start + i * HOUR_US for i in range(24 * 4)]
    scale = CalendarScale(points, TimestampCalendar("America/New_York"))
    folds = plan_windows(scale, horizon=parse_duration("1 day"), initial_window=parse_duration("1 day"))
    assert [f.validation_size for f in folds] == [24, 23, 24]  # Mar 10 has 23 hours
    local = [scale.calendar.to_python(points[f.validation[0]]) for f in folds]
    assert [(t.day, t.hour) for t in local] == [(9, 0), (10, 0), (11, 0)]


def test_monthly_data_validates_its_last_month_without_keep_partial():
    months = [unix_date(dt.date(2020 + m // 12, m % 12 + 1, 1)) for m in range(24)]
    scale = CalendarScale(months, DateCalendar())
    folds = plan_windows(scale, horizon=parse_duration("1 month"), initial_window=parse_duration("12 months"))
    assert folds[-1].validation == (23, 24)


@bounded
@given(calendar_axes(), st.data())
def test_clears_gap_is_shift_then_compare(scale, data):
    """The leakage rule the checks above rely on: ``earlier + gap < later`` in the scale's arithmetic."""
    pool = DATE_DURATIONS if isinstance(scale.calendar, DateCalendar) else TIMESTAMP_DURATIONS
    gap = data.draw(st.one_of(st.just(ZERO), st.sampled_from(pool)))
    i, j = data.draw(st.integers(0, scale.n - 1)), data.draw(st.integers(0, scale.n - 1))
    earlier, later = scale.position(i), scale.position(j)
    assert clears_gap(scale, earlier, later, gap) == (scale.calendar.add(earlier, gap) < later)
    assert clears_gap(scale, earlier, later, ZERO) == (earlier < later)
    assert not clears_gap(scale, later, later, gap)


# ------------------------------------------------------------------------ daylight saving


@functools.lru_cache(maxsize=None)
def minute_data_around_a_change(day: dt.date, every: int) -> CalendarScale:
    """New York data every few minutes from 01:00 to 04:00, the day before and the day of a clock change."""
    zone = ZoneInfo("America/New_York")
    points = []
    for date in (day, day + dt.timedelta(days=1)):
        start = unix_micros(dt.datetime.combine(date, dt.time(1), zone))
        points += [start + m * MINUTE_US for m in range(0, 181, every)]
    return CalendarScale(sorted(set(points)), TimestampCalendar("America/New_York"))


clock_change_axes = st.builds(
    minute_data_around_a_change, st.sampled_from([dt.date(2024, 3, 9), dt.date(2024, 11, 2)]), st.sampled_from([1, 3])
)


@bounded
@given(clock_change_axes, st.data())
def test_training_edges_are_exact_across_a_clock_change(scale, data):
    """Where wall-clock days cross a skipped or repeated hour, the points that clear a '1 day' gap
    before a cut-off are still a prefix of the axis, and the planner's edge is that prefix's end."""
    from splitcv.plan import count_clear_before

    gap = parse_duration(data.draw(st.sampled_from(["1 day", "1 month"])))
    cut = data.draw(st.sampled_from(scale.points)) + data.draw(st.integers(-2, 2)) * MINUTE_US
    clear = [clears_gap(scale, p, cut, gap) for p in scale.points]
    edge = count_clear_before(scale, cut, gap)
    assert clear == [True] * edge + [False] * (scale.n - edge)


# ------------------------------------------------------------------------ the axes themselves


def test_calendar_axis_ends_one_sampling_interval_after_its_last_point():
    """Weekly data that ends on Dec 25 covers the week up to Jan 1; the interval is the smallest one."""
    weeks = [unix_date(dt.date(2023, 12, 4)) + 7 * i for i in range(4)]
    scale = CalendarScale(weeks, DateCalendar())
    assert (scale.n, scale.origin, scale.end) == (4, weeks[0], unix_date(dt.date(2024, 1, 1)))
    assert scale.position(3) == weeks[3] and scale.position(4) == scale.end
    irregular = CalendarScale([10, 13, 20, 22, 40], DateCalendar())
    assert irregular.end == 42
    assert CalendarScale([10], DateCalendar()).end == 11
    assert CalendarScale([10], TimestampCalendar()).end == 11
    # end-anchored windows: the last one ends with the data
    folds = plan_windows(scale, horizon=parse_duration("2 weeks"))
    assert validations(folds) == [(2, 4)] and trains(folds) == [((0, 2),)]
    assert validations(plan_windows(scale, horizon=parse_duration("1 week"))) == [(1, 2), (2, 3), (3, 4)]


def test_calendar_axis_positions_and_lookups():
    scale = CalendarScale([10, 13, 20, 22, 40], DateCalendar())
    assert [scale.first_at_or_after(p) for p in (0, 10, 11, 20, 23, 40, 41)] == [0, 0, 1, 2, 4, 4, 5]
    assert scale.shift(10, parse_duration("1 week"), 2) == 24
    assert scale.shift(10, 0) == 10
    with pytest.raises(TypeError, match="durations, not by the count 3"):
        scale.shift(10, 3)
    with pytest.raises(ValueError, match="at least one time point"):
        CalendarScale([], DateCalendar())
    assert scale.describe_size(parse_duration("1 week")) == "'1 week'"


def test_count_axis_positions_are_indexes():
    scale = CountScale(5)
    assert (scale.origin, scale.end) == (0, 5)
    assert [scale.position(i) for i in range(6)] == list(range(6))
    assert scale.shift(2, 3, 2) == 8 and scale.shift(8, 3, -1) == 5
    assert [scale.first_at_or_after(p) for p in (-3, 0, 2, 5, 9)] == [0, 0, 2, 5, 5]
    assert clears_gap(scale, 1, 3, 1) and not clears_gap(scale, 1, 2, 1) and clears_gap(scale, 1, 2, 0)


@pytest.mark.parametrize("initial_window", [parse_duration("30 days"), None])
def test_monthly_windows_meet_without_overlap_or_holes(initial_window):
    """Month arithmetic clips (Jan 31 + 1 month = Feb 29); every boundary is one move from the
    anchor, so consecutive windows with step == horizon tile the axis exactly."""
    days = [unix_date(dt.date(2024, 1, 1) + dt.timedelta(days=d)) for d in range(121)]  # Jan 1 .. Apr 30
    scale = CalendarScale(days, DateCalendar())
    folds = plan_windows(scale, horizon=parse_duration("1 month"), initial_window=initial_window)
    assert len(folds) >= 2
    for before, after in zip(folds, folds[1:]):
        assert before.validation[1] == after.validation[0]
    if initial_window is not None:  # cut-offs on Jan 31, Feb 29 (clipped), Mar 31: the 31st comes back
        starts = [DateCalendar().to_python(days[f.validation[0]]) for f in folds]
        assert starts == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)][: len(starts)]
