"""What planners advise (only changes that are possible) and when they warn of very many folds."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from splitcv import TooManyFoldsWarning
from splitcv.durations import DateCalendar, TimestampCalendar, parse_duration
from splitcv.plan import MANY_FOLDS, CalendarScale, CountScale, plan_blocked, plan_windows


def _many_fold_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in caught if issubclass(w.category, TooManyFoldsWarning)]


# -- the warning ------------------------------------------------------------------------------------


def test_a_plan_of_more_than_100_folds_warns_once_with_the_count_and_the_fix():
    # 2,284 weekly points (the CO2 series' length), horizon=1, neither numFolds nor initialWindow
    folds, caught = _many_fold_warnings(lambda: plan_windows(CountScale(2284), horizon=1, owner="ExpandingWindowSplitter"))
    assert len(folds) == 2283 and len(caught) == 1
    message = str(caught[0].message)
    for part in ("ExpandingWindowSplitter makes 2283 folds", "2284 distinct time points with horizon=1",
                 "set numFolds=...", "initialWindow=..."):
        assert part in message, (part, message)
    folds, caught = _many_fold_warnings(lambda: plan_windows(CountScale(2284), horizon=1, owner="SlidingWindowSplitter"))
    assert len(folds) == 2283 and len(caught) == 1 and "SlidingWindowSplitter makes 2283 folds" in str(caught[0].message)


def test_the_threshold_is_exact():
    assert MANY_FOLDS == 100
    _, caught = _many_fold_warnings(lambda: plan_windows(CountScale(MANY_FOLDS + 1), horizon=1))
    assert not caught  # exactly 100 folds
    _, caught = _many_fold_warnings(lambda: plan_windows(CountScale(MANY_FOLDS + 2), horizon=1))
    assert len(caught) == 1 and "makes 101 folds" in str(caught[0].message)


def test_numfolds_set_means_no_warning_and_initial_window_changes_the_fix():
    _, caught = _many_fold_warnings(lambda: plan_windows(CountScale(5000), horizon=1, num_folds=3000))
    assert not caught  # the user asked for them
    _, caught = _many_fold_warnings(lambda: plan_windows(CountScale(5000), horizon=1, initial_window=100))
    assert len(caught) == 1 and "a longer step or initialWindow" in str(caught[0].message)


def test_calendar_plans_warn_too():
    days = [(dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days + i for i in range(400)]
    scale = CalendarScale(days, DateCalendar())
    folds, caught = _many_fold_warnings(lambda: plan_windows(scale, horizon=parse_duration("1 day")))
    assert len(folds) == 399 and len(caught) == 1 and "399 folds" in str(caught[0].message)


# -- advice names only changes that are possible -------------------------------------------------------


def _error(call):
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


def test_no_advice_to_lower_a_horizon_of_one():
    message = _error(lambda: plan_windows(CountScale(1), horizon=1))
    assert "make no fold" in message and "Lower" not in message and message.endswith("Use more data.")
    message = _error(lambda: plan_windows(CountScale(3), horizon=1, gap=2))
    assert message.endswith("Lower gap, or use more data.")
    message = _error(lambda: plan_windows(CountScale(3), horizon=3))
    assert message.endswith("Lower horizon, or use more data.")


def test_too_many_folds_asked_for_advises_numfolds_and_what_else_can_move():
    message = _error(lambda: plan_windows(CountScale(10), horizon=1, num_folds=20))
    assert message.endswith("Lower numFolds (to 9 at most), or use more data."), message
    message = _error(lambda: plan_windows(CountScale(10), horizon=2, gap=3, num_folds=4))
    assert message.endswith("Lower numFolds (to 3 at most), horizon, step or gap, or use more data."), message


def test_no_fold_at_all_does_not_advise_numfolds():
    message = _error(lambda: plan_windows(CountScale(2), horizon=2, num_folds=3))
    assert "make no fold" in message and "numFolds" not in message


def test_calendar_durations_are_lowered_only_above_the_finest_unit():
    days = [(dt.date(2024, 1, 1) - dt.date(1970, 1, 1)).days]
    date_axis = CalendarScale(days, DateCalendar())
    message = _error(lambda: plan_windows(date_axis, horizon=parse_duration("1 day")))
    assert "Lower" not in message, message
    message = _error(lambda: plan_windows(date_axis, horizon=parse_duration("1 month")))
    assert "Lower horizon" in message
    stamps = CalendarScale([0, 3_600_000_000], TimestampCalendar("UTC"))
    assert stamps.can_lower(parse_duration("1 day"), 1) and not stamps.can_lower(parse_duration("1 second"), 1)


def test_blocked_advises_raising_numfolds_only_below_the_number_of_points():
    assert _error(lambda: plan_blocked(CountScale(10), 2, gap=9)).endswith("Lower gap, or raise numFolds, or use more data.")
    assert _error(lambda: plan_blocked(CountScale(4), 4, gap=3)).endswith("Lower gap, or use more data.")
