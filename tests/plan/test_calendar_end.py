"""Calendar windows at the end of the data hold exactly ``horizon``, on any regular spacing.

The oracle here shares no code with the planner: it builds the axis with pandas' own frequencies
(daily, weekly, month-start, month-end, quarter-start, quarter-end, year-start, year-end), knows the
data's step from the generator rather than inferring it, and does the calendar arithmetic with
pandas ``DateOffset``. The rule it encodes (docs/splitters/expanding-window.md, "Where the data
ends"): each time point stands for one step of its grid, so the data ends one grid step after its
last point, and windows laid back from there hold whole periods. A second, cruder oracle counts
points: when the grid has no hole in the last window, that window holds ``horizon`` points.

These failed before the step was measured in calendar units: quarterly data ending on Apr 1 ended
92 days later, on Jul 2, and its last "2 years" window lost a quarter.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pandas as pd
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from splitcv.durations import DateCalendar, TimestampCalendar, parse_duration
from splitcv.plan import CalendarScale, plan_windows

EPOCH = dt.date(1970, 1, 1)

# pandas grid alias -> (our unit for one grid period, periods of that unit per grid step)
GRIDS = {
    "D": ("day", 1),
    "W-SUN": ("week", 1),
    "W-WED": ("week", 1),
    "MS": ("month", 1),
    "ME": ("month", 1),
    "QS-JAN": ("month", 3),
    "QE-DEC": ("month", 3),
    "QS-FEB": ("month", 3),
    "YS": ("month", 12),
    "YE": ("month", 12),
}

# Sizes to try on each grid, as (text, grid periods it spans or None when it is not a whole number).
SIZES = {
    "day": [("1 day", 1), ("3 days", 3), ("7 days", 7), ("1 week", 7), ("2 weeks", 14), ("1 month", None)],
    "week": [("1 week", 1), ("2 weeks", 2), ("4 weeks", 4), ("14 days", 2), ("1 month", None), ("1 quarter", None)],
    "month": [
        ("1 month", 1),
        ("2 months", 2),
        ("3 months", 3),
        ("1 quarter", 3),
        ("2 quarters", 6),
        ("6 months", 6),
        ("1 year", 12),
        ("2 years", 24),
    ],
}


def to_offset(text: str) -> pd.DateOffset:
    """A duration string as a pandas calendar offset (days and weeks as calendar days, not 24 h)."""
    amount, unit = text.split()
    amount, unit = int(amount), unit.rstrip("s")
    months = {"month": 1, "quarter": 3, "year": 12}
    if unit in months:
        return pd.DateOffset(months=amount * months[unit])
    return pd.DateOffset(days=amount * (7 if unit == "week" else 1))


@st.composite
def grid_axes(draw):
    """(freq, the grid, the kept points, zone or None): a regular grid with holes, keeping at least
    one pair of neighbours so the step is visible in the data."""
    freq = draw(st.sampled_from(sorted(GRIDS)))
    periods = draw(st.integers(2, 36 if GRIDS[freq][1] < 12 else 24))
    start = draw(st.dates(dt.date(1950, 1, 1), dt.date(2030, 1, 1)))
    grid = list(pd.date_range(start, periods=periods, freq=freq))
    pair = draw(st.integers(0, periods - 2))
    keep = draw(st.lists(st.booleans(), min_size=periods, max_size=periods))
    kept = [d for i, d in enumerate(grid) if keep[i] or i in (pair, pair + 1)]
    zone = draw(st.sampled_from([None, None, "UTC", "America/New_York"]))
    return freq, grid, kept, zone


def positions(days: list[pd.Timestamp], zone: Optional[str]) -> list[int]:
    """Days since the epoch (DATE), or microseconds of local midnight in ``zone`` (TIMESTAMP)."""
    if zone is None:
        return [(d.date() - EPOCH).days for d in days]
    return [int(d.tz_localize(zone).value // 1000) for d in days]


def times(text: Optional[str], k: int) -> pd.DateOffset:
    """``k`` times a duration, as one pandas offset (one move, as the planner moves)."""
    kwds = to_offset(text).kwds if text else {}
    return pd.DateOffset(months=kwds.get("months", 0) * k, days=kwds.get("days", 0) * k)


def oracle_folds(grid_freq: str, kept, zone, horizon, step, gap, initial_window=None, keep_partial=False):
    """The folds by pandas arithmetic: (training points, validation points) per fold, in time order.

    Without an initial window, window ``j`` counted back from the end is
    ``[end - (j step + horizon), end - j step)`` while a point is left to train on; with one, cut-off
    ``i`` is ``origin + initialWindow + gap + i step`` while it is inside the data and its window
    ends by the end of the data (unless ``keep_partial``).
    """
    local = (lambda d: d) if zone is None else (lambda d: d.tz_localize(zone))
    points = [local(d) for d in kept]
    end = local(kept[-1] + pd.tseries.frequencies.to_offset(grid_freq))
    plus = lambda a, b: pd.DateOffset(  # noqa: E731
        months=a.kwds.get("months", 0) + b.kwds.get("months", 0), days=a.kwds.get("days", 0) + b.kwds.get("days", 0)
    )
    train_of = lambda cut: [p for p in points if p + times(gap, 1) < cut]  # noqa: E731
    windows = []
    if initial_window is None:
        for j in range(10_000):
            cut = end - plus(times(step, j), times(horizon, 1))
            if not train_of(cut):
                break
            windows.append((cut, end - times(step, j)))
        windows.reverse()
    else:
        first = points[0] + times(initial_window, 1) + times(gap, 1)
        for i in range(10_000):
            cut, stop = first + times(step, i), first + plus(times(step, i), times(horizon, 1))
            if cut >= end or (stop > end and not keep_partial):
                break
            windows.append((cut, stop))
    folds = []
    for cut, stop in windows:
        train, validation = train_of(cut), [p for p in points if cut <= p < stop]
        # A side with no point is no fold; cut-offs in one hole that pick the same points, one fold.
        if train and validation and (not folds or folds[-1] != (train, validation)):
            folds.append((train, validation))
    return folds


@settings(deadline=None, max_examples=300)
@given(grid_axes(), st.data())
def test_windows_match_pandas_calendar_arithmetic(axis, data):
    """Laid back from the end of the data, or forward from an initial window (where the end decides
    which last window is whole)."""
    freq, grid, kept, zone = axis
    unit, _ = GRIDS[freq]
    sizes = [t for t, _ in SIZES[unit]]
    horizon = data.draw(st.sampled_from(sizes), label="horizon")
    step = data.draw(st.sampled_from([horizon] + sizes), label="step")
    gap = data.draw(st.sampled_from([None] + sizes[:3]), label="gap")
    initial_window = data.draw(st.sampled_from([None, None] + sizes), label="initial_window")
    keep_partial = data.draw(st.booleans(), label="keep_partial")
    calendar = DateCalendar() if zone is None else TimestampCalendar(zone)
    scale = CalendarScale(positions(kept, zone), calendar)
    note(f"step measured as {scale.step}; data ends {calendar.to_python(scale.end)}")
    expected = oracle_folds(freq, kept, zone, horizon, step, gap, initial_window, keep_partial)
    try:
        folds = plan_windows(
            scale,
            horizon=parse_duration(horizon),
            step=parse_duration(step),
            gap=parse_duration(gap) if gap else 0,
            initial_window=parse_duration(initial_window) if initial_window else None,
            keep_partial=keep_partial,
        )
    except ValueError:
        assert expected == []
        return
    as_days = [d.date() for d in kept]
    got = [
        ([as_days[i] for i in f.train_indexes()], [as_days[i] for i in f.validation_indexes()]) for f in folds
    ]
    want = [([p.date() for p in t], [p.date() for p in v]) for t, v in expected]
    assert got == want


@settings(deadline=None, max_examples=300)
@given(grid_axes(), st.data())
def test_the_last_window_holds_horizon_points_when_the_grid_has_no_hole_there(axis, data):
    """Counts of points, no calendar arithmetic at all: on a grid with its last ``k`` periods
    present, a ``horizon`` of ``k`` periods makes a last validation window of exactly those points."""
    freq, grid, kept, zone = axis
    unit, per_step = GRIDS[freq]
    horizon, periods = data.draw(
        st.sampled_from([(t, k // per_step) for t, k in SIZES[unit] if k is not None and k % per_step == 0])
    )
    tail = grid[: grid.index(kept[-1]) + 1][-periods:]
    calendar = DateCalendar() if zone is None else TimestampCalendar(zone)
    scale = CalendarScale(positions(kept, zone), calendar)
    if len(tail) < periods or not set(tail) <= set(kept) or len(kept) <= periods:
        return  # a hole (or the start of the data) inside the last window: no count to expect
    last = plan_windows(scale, horizon=parse_duration(horizon))[-1]
    assert [kept[i] for i in last.validation_indexes()] == tail


@pytest.mark.parametrize(
    "freq, last, horizon, expected",
    [
        ("YS", "1954-01-01", "2 years", ["1953-01-01", "1954-01-01"]),  # Grunfeld's years as dates
        ("QS-JAN", "2009-04-01", "2 years", 8),  # statsmodels macrodata, cut at 2009Q2
        ("MS", "2001-11-01", "3 months", ["2001-09-01", "2001-10-01", "2001-11-01"]),  # monthly CO2
        ("ME", "2024-02-29", "3 months", ["2023-12-31", "2024-01-31", "2024-02-29"]),
        ("QE-DEC", "2023-12-31", "1 year", ["2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31"]),
        ("W-SUN", "2023-12-31", "2 weeks", ["2023-12-24", "2023-12-31"]),
    ],
)
def test_reported_cases_hold_a_whole_horizon(freq, last, horizon, expected):
    grid = list(pd.date_range(end=last, periods=40, freq=freq))
    scale = CalendarScale(positions(grid, None), DateCalendar())
    folds = plan_windows(scale, horizon=parse_duration(horizon), num_folds=3)
    validations = [[str(grid[i].date()) for i in f.validation_indexes()] for f in folds]
    if isinstance(expected, int):
        assert [len(v) for v in validations] == [expected] * 3
    else:
        assert validations[-1] == expected


def test_a_month_end_series_covers_its_last_month_when_windows_march_forward():
    """Forward from an initial window, the last window [Nov 30, Dec 31) is whole: the series ends on
    Dec 31, one month-end step after Nov 30 (Nov 30 + 1 month would be Dec 30, and drop it)."""
    grid = list(pd.date_range("2023-01-31", "2023-11-30", freq="ME"))
    scale = CalendarScale(positions(grid, None), DateCalendar())
    assert DateCalendar().to_python(scale.end) == dt.date(2023, 12, 31)
    folds = plan_windows(scale, horizon=parse_duration("1 month"), initial_window=parse_duration("6 months"))
    assert [str(grid[f.validation[0]].date()) for f in folds] == [
        "2023-07-31", "2023-08-31", "2023-09-30", "2023-10-31", "2023-11-30"
    ]
