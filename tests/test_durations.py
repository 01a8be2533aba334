"""Calendar durations: parsing "7 days" / "1 month", and moving dates and timestamps by them. No Spark."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from splitcv.durations import ZERO, DateCalendar, Duration, TimestampCalendar, WallClockCalendar, parse_duration

# Cases are small by construction; a busy CI machine should not turn a slow example into a failure.
bounded = settings(deadline=None)

EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
NEW_YORK = "America/New_York"
ROOT = Path(__file__).resolve().parent.parent


def unix_date(day: dt.date) -> int:
    return (day - EPOCH_DATE).days


def from_unix_date(days: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=days)


def unix_micros(when: dt.datetime) -> int:
    return (when - EPOCH_UTC) // dt.timedelta(microseconds=1)


def add_date(day: dt.date, text: str, times: int = 1) -> dt.date:
    return from_unix_date(DateCalendar().add(unix_date(day), parse_duration(text), times))


# ------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    "text, months, days, micros",
    [
        ("7 days", 0, 7, 0),
        ("1 day", 0, 1, 0),
        ("2 weeks", 0, 14, 0),
        ("1 week", 0, 7, 0),
        ("1 month", 1, 0, 0),
        ("5 months", 5, 0, 0),
        ("3 quarters", 9, 0, 0),
        ("1 quarter", 3, 0, 0),
        ("1 year", 12, 0, 0),
        ("2 years", 24, 0, 0),
        ("12 hours", 0, 0, 12 * HOUR_US),
        ("1 hour", 0, 0, HOUR_US),
        ("30 minutes", 0, 0, 30 * 60_000_000),
        ("1 minute", 0, 0, 60_000_000),
        ("15 seconds", 0, 0, 15_000_000),
        ("1 second", 0, 0, 1_000_000),
        ("1 Month", 1, 0, 0),
        ("2 WEEKS", 0, 14, 0),
        ("  3 Days ", 0, 3, 0),
        ("10days", 0, 10, 0),
        ("0 days", 0, 0, 0),
    ],
)
def test_parse_duration_reads_units(text, months, days, micros):
    duration = parse_duration(text)
    assert (duration.months, duration.days, duration.micros) == (months, days, micros)
    assert duration.text == text.strip()
    assert str(duration) == text.strip()


@pytest.mark.parametrize(
    "value",
    ["", "   ", "days", "7", "-1 day", "- 1 day", "+1 day", "1.5 days", "1 fortnight", "1 d", "1 mins", "7 dayss",
     "1 day 2 hours", "one day", None, 7, 7.0, ["7 days"], b"7 days"],
)
def test_parse_duration_rejects_what_it_cannot_read(value):
    with pytest.raises(ValueError) as raised:
        parse_duration(value, "horizon")
    message = str(raised.value)
    assert message.startswith(f"horizon={value!r} "), message
    assert "day" in message and "month" in message, "the message lists the units that work"


def test_parse_duration_without_a_param_name():
    with pytest.raises(ValueError, match=r"^'1 fortnight' is not a duration"):
        parse_duration("1 fortnight", "")
    with pytest.raises(ValueError, match=r"^duration='x' "):
        parse_duration("x")


UNITS = {
    "second": (0, 0, 1_000_000),
    "minute": (0, 0, 60_000_000),
    "hour": (0, 0, HOUR_US),
    "day": (0, 1, 0),
    "week": (0, 7, 0),
    "month": (1, 0, 0),
    "quarter": (3, 0, 0),
    "year": (12, 0, 0),
}


@bounded
@given(
    st.integers(0, 10_000),
    st.sampled_from(sorted(UNITS)),
    st.booleans(),
    st.lists(st.booleans(), min_size=10, max_size=10),
    st.sampled_from(["", " ", "  ", "\t"]),
)
def test_parse_duration_any_amount_any_case(amount, unit, plural, upper, space):
    word = unit + ("s" if plural else "")
    word = "".join(c.upper() if up else c for c, up in zip(word, upper + [False] * len(word)))
    duration = parse_duration(f"{space}{amount}{space or ' '}{word}{space}")
    months, days, micros = UNITS[unit]
    assert (duration.months, duration.days, duration.micros) == (amount * months, amount * days, amount * micros)
    assert duration.is_zero == (amount == 0)


def test_durations_add_field_by_field():
    total = parse_duration("1 month") + parse_duration("2 weeks")
    assert (total.months, total.days, total.micros) == (1, 14, 0)
    assert str(total) == "1 month + 2 weeks"
    assert ZERO + parse_duration("1 day") == Duration(days=1, text="0 + 1 day")
    assert ZERO.is_zero and not parse_duration("1 second").is_zero


# ------------------------------------------------------------------------------ dates


def test_one_month_after_january_31_is_the_end_of_february():
    assert add_date(dt.date(2023, 1, 31), "1 month") == dt.date(2023, 2, 28)
    assert add_date(dt.date(2024, 1, 31), "1 month") == dt.date(2024, 2, 29)
    assert add_date(dt.date(2024, 2, 29), "1 year") == dt.date(2025, 2, 28)
    assert add_date(dt.date(2024, 11, 30), "1 quarter") == dt.date(2025, 2, 28)


def test_multiples_count_from_the_anchor_not_step_by_step():
    jan31 = dt.date(2023, 1, 31)
    assert add_date(jan31, "1 month", 2) == dt.date(2023, 3, 31)  # not Feb 28 + 1 month = Mar 28
    assert add_date(jan31, "2 months") == dt.date(2023, 3, 31)
    assert add_date(jan31, "1 month", 3) == dt.date(2023, 4, 30)
    assert add_date(jan31, "1 month", 13) == dt.date(2024, 2, 29)
    assert add_date(jan31, "1 week", 3) == dt.date(2023, 2, 21)


def test_negative_multiples_subtract():
    assert add_date(dt.date(2023, 3, 31), "1 month", -1) == dt.date(2023, 2, 28)
    assert add_date(dt.date(2024, 3, 31), "1 month", -1) == dt.date(2024, 2, 29)
    assert add_date(dt.date(2023, 1, 15), "1 month", -1) == dt.date(2022, 12, 15)
    assert add_date(dt.date(2023, 1, 1), "1 day", -1) == dt.date(2022, 12, 31)
    assert add_date(dt.date(2023, 3, 31), "1 quarter", -2) == dt.date(2022, 9, 30)
    assert add_date(dt.date(2023, 3, 31), "1 month", 0) == dt.date(2023, 3, 31)


def test_date_calendar_converts_back_to_dates():
    calendar = DateCalendar()
    assert calendar.to_python(0) == EPOCH_DATE
    assert calendar.to_python(unix_date(dt.date(2024, 2, 29))) == dt.date(2024, 2, 29)
    assert calendar.resolution == 1
    assert calendar.add(19_000, ZERO, 5) == 19_000


days_since_epoch = st.integers(unix_date(dt.date(1900, 1, 1)), unix_date(dt.date(2200, 12, 31)))
date_durations = st.builds(
    lambda amount, unit: parse_duration(f"{amount} {unit}"),
    st.integers(1, 40),
    st.sampled_from(["day", "week", "month", "quarter", "year"]),
)


@bounded
@given(days_since_epoch, days_since_epoch, date_durations)
def test_date_add_is_monotone_in_the_point(a, b, duration):
    calendar = DateCalendar()
    a, b = min(a, b), max(a, b)
    assert calendar.add(a, duration) <= calendar.add(b, duration)
    assert calendar.add(a, duration) > a


@bounded
@given(days_since_epoch, date_durations, st.integers(-30, 30))
def test_date_add_is_strictly_increasing_in_times(point, duration, times):
    calendar = DateCalendar()
    assert calendar.add(point, duration, times) < calendar.add(point, duration, times + 1)


@bounded
@given(days_since_epoch, st.integers(1, 400), st.integers(-20, 20))
def test_date_days_are_exact(point, amount, times):
    assert DateCalendar().add(point, parse_duration(f"{amount} days"), times) == point + amount * times


@bounded
@given(days_since_epoch, st.integers(1, 30), st.integers(-12, 12))
def test_date_months_land_on_the_same_day_or_the_month_end(point, amount, times):
    start = from_unix_date(point)
    moved = from_unix_date(DateCalendar().add(point, parse_duration(f"{amount} months"), times))
    assert (moved.year * 12 + moved.month) - (start.year * 12 + start.month) == amount * times
    next_month = (moved.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    assert moved.day == start.day or (moved.day < start.day and moved + dt.timedelta(days=1) == next_month)


# ------------------------------------------------------------------------------ timestamps


def local_micros(zone: str, *args, fold: int = 0) -> int:
    return unix_micros(dt.datetime(*args, tzinfo=ZoneInfo(zone), fold=fold))


@pytest.mark.parametrize("day, elapsed_hours", [((2024, 3, 10), 23), ((2024, 11, 3), 25), ((2024, 7, 1), 24)])
def test_one_day_after_local_midnight_is_the_next_local_midnight(day, elapsed_hours):
    calendar = TimestampCalendar(NEW_YORK)
    midnight = local_micros(NEW_YORK, *day)
    after = calendar.add(midnight, parse_duration("1 day"))
    assert after - midnight == elapsed_hours * HOUR_US
    local = calendar.to_python(after)
    assert (local.hour, local.minute, local.date()) == (0, 0, dt.date(*day) + dt.timedelta(days=1))
    assert calendar.add(after, parse_duration("1 day"), -1) == midnight


def test_a_month_and_a_week_move_the_wall_clock_too():
    calendar = TimestampCalendar(NEW_YORK)
    noon = local_micros(NEW_YORK, 2024, 2, 29, 12)
    local = calendar.to_python(calendar.add(noon, parse_duration("1 month")))
    assert (local.month, local.day, local.hour) == (3, 29, 12)
    local = calendar.to_python(calendar.add(noon, parse_duration("2 weeks")))
    assert (local.month, local.day, local.hour) == (3, 14, 12)


def test_hours_minutes_seconds_are_elapsed_time():
    calendar = TimestampCalendar(NEW_YORK)
    assert parse_duration("1 hour").micros == 3_600_000_000
    before_change = local_micros(NEW_YORK, 2024, 3, 10, 1, 30)
    for text, micros in [("1 hour", 3.6e9), ("24 hours", 24 * 3.6e9), ("90 minutes", 5.4e9), ("15 seconds", 1.5e7)]:
        assert calendar.add(before_change, parse_duration(text)) - before_change == micros
    assert calendar.to_python(calendar.add(before_change, parse_duration("1 hour"))).hour == 3  # 02:30 is skipped


def test_utc_calendar_days_are_24_hours():
    calendar = TimestampCalendar()
    point = unix_micros(dt.datetime(2024, 3, 10, tzinfo=dt.timezone.utc))
    assert calendar.add(point, parse_duration("1 day")) - point == DAY_US
    assert calendar.add(point, parse_duration("1 day"), -3) - point == -3 * DAY_US
    assert calendar.to_python(point).utcoffset() == dt.timedelta(0)
    assert TimestampCalendar("Z").add(point, parse_duration("1 week")) - point == 7 * DAY_US


def test_wall_clock_times_the_change_skips_move_to_the_change():
    """Mar 9 02:30 + 1 day is Mar 10 02:30, which New York skips: the result is the change instant
    (03:00 EDT), so that a later start never ends earlier."""
    calendar = TimestampCalendar(NEW_YORK)
    change = local_micros(NEW_YORK, 2024, 3, 10, 3)
    day = parse_duration("1 day")
    for minute in (0, 30, 59):
        assert calendar.add(local_micros(NEW_YORK, 2024, 3, 9, 2, minute), day) == change
    assert calendar.add(local_micros(NEW_YORK, 2024, 3, 9, 1, 59), day) == local_micros(NEW_YORK, 2024, 3, 10, 1, 59)
    assert calendar.add(local_micros(NEW_YORK, 2024, 3, 9, 3, 0), day) == change
    assert calendar.add(local_micros(NEW_YORK, 2024, 3, 9, 3, 1), day) == change + 60_000_000


def test_the_repeated_hour_never_moves_back():
    """Nov 3 01:00-02:00 happens twice in New York. Moving by calendar days or months from inside it
    must not take a later instant to an earlier result than an earlier instant."""
    calendar = TimestampCalendar(NEW_YORK)
    first_pass = local_micros(NEW_YORK, 2024, 11, 3, 1, 30, fold=0)  # 01:30 EDT
    second_pass = local_micros(NEW_YORK, 2024, 11, 3, 1, 10, fold=1)  # 01:10 EST, 40 minutes later
    assert first_pass < second_pass
    for text in ("1 day", "1 month", "1 year"):
        duration = parse_duration(text)
        assert calendar.add(first_pass, duration) <= calendar.add(second_pass, duration), text
        assert calendar.add(second_pass, duration) <= calendar.add(local_micros(NEW_YORK, 2024, 11, 3, 2), duration)


ZONES = [NEW_YORK, "Europe/Berlin", "Australia/Lord_Howe", "UTC"]
# Daylight-saving changes (Lord Howe moves its clocks by half an hour), as (zone, instant).
CHANGES = [
    (NEW_YORK, local_micros(NEW_YORK, 2024, 3, 10, 2)),
    (NEW_YORK, local_micros(NEW_YORK, 2024, 11, 3, 1)),
    ("Europe/Berlin", local_micros("Europe/Berlin", 2024, 3, 31, 2)),
    ("Europe/Berlin", local_micros("Europe/Berlin", 2024, 10, 27, 2)),
    ("Australia/Lord_Howe", local_micros("Australia/Lord_Howe", 2024, 4, 7, 1, 30)),
    ("Australia/Lord_Howe", local_micros("Australia/Lord_Howe", 2024, 10, 6, 2)),
]
# Whole days (or months) before a change, give or take a couple of hours: where wall-clock
# arithmetic starts in, or lands in, a skipped or repeated hour.
near_changes = st.builds(
    lambda change, days, minutes, jitter: (change[0], change[1] - days * DAY_US + minutes * 60_000_000 + jitter),
    st.sampled_from(CHANGES),
    st.one_of(st.just(1), st.integers(0, 3), st.sampled_from([28, 29, 30, 31, 61, 92, 365, 366])),
    st.integers(-90, 90),
    st.sampled_from([0, 0, 1, 999_999]),
)
anywhere = st.tuples(
    st.sampled_from(ZONES),
    st.integers(unix_micros(dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)),
                unix_micros(dt.datetime(2060, 1, 1, tzinfo=dt.timezone.utc))),
)
zoned_timestamps = st.one_of(near_changes, near_changes, near_changes, anywhere)
short_while = st.one_of(st.integers(1, 90).map(lambda m: m * 60_000_000), st.integers(0, 3 * HOUR_US))
timestamp_durations = st.builds(
    lambda amount, unit: parse_duration(f"{amount} {unit}"),
    st.one_of(st.just(1), st.integers(1, 30)),
    st.sampled_from(["second", "minute", "hour", "day", "day", "week", "month", "quarter", "year"]),
)


@bounded
@given(zoned_timestamps, short_while, timestamp_durations)
@example((NEW_YORK, local_micros(NEW_YORK, 2024, 3, 9, 2, 59)), 60_000_000, parse_duration("1 day"))
@example((NEW_YORK, local_micros(NEW_YORK, 2024, 11, 3, 1, 30)), 40 * 60_000_000, parse_duration("1 month"))
def test_timestamp_add_is_monotone_in_the_point(zoned, later_by, duration):
    zone, a = zoned
    calendar = TimestampCalendar(zone)
    b = a + later_by
    assert calendar.add(a, duration) <= calendar.add(b, duration)
    assert calendar.add(a, duration) > a


@bounded
@given(zoned_timestamps, timestamp_durations, st.integers(-24, 24))
def test_timestamp_add_is_strictly_increasing_in_times(zoned, duration, times):
    zone, point = zoned
    calendar = TimestampCalendar(zone)
    assert calendar.add(point, duration, times) < calendar.add(point, duration, times + 1)


@bounded
@given(zoned_timestamps, st.integers(1, 10_000), st.integers(-50, 50))
def test_timestamp_elapsed_units_are_exact(zoned, seconds, times):
    zone, point = zoned
    duration = parse_duration(f"{seconds} seconds")
    assert TimestampCalendar(zone).add(point, duration, times) == point + seconds * 1_000_000 * times


@bounded
@given(zoned_timestamps)
def test_timestamp_calendar_round_trips_through_python(zoned):
    zone, point = zoned
    local = TimestampCalendar(zone).to_python(point)
    assert local.tzinfo is not None
    assert unix_micros(local) == point


@bounded
@given(zoned_timestamps, st.integers(-3, 3))
def test_timestamp_days_keep_the_wall_clock_when_it_exists(zoned, days):
    """Away from a change, n days later is the same local time of day, n local dates on."""
    zone, point = zoned
    calendar = TimestampCalendar(zone)
    start = calendar.to_python(point)
    moved = calendar.to_python(calendar.add(point, parse_duration("1 day"), days))
    naive = start.replace(tzinfo=None, fold=0) + dt.timedelta(days=days)
    exists = dt.datetime.fromtimestamp(naive.replace(tzinfo=ZoneInfo(zone)).timestamp(), ZoneInfo(zone)).replace(
        tzinfo=None) == naive
    if exists and not start.fold:
        assert moved.replace(tzinfo=None) == naive


# ------------------------------------------------------------------------------ TIMESTAMP_NTZ

EPOCH_NAIVE = dt.datetime(1970, 1, 1)


def naive_micros(when: dt.datetime) -> int:
    return (when - EPOCH_NAIVE) // dt.timedelta(microseconds=1)


@pytest.mark.parametrize(
    "start, text, times, expected",
    [
        # New York springs forward on 2024-03-10 and falls back on 2024-11-03: a clock with no
        # time zone has neither change, so 02:30 exists and every day is 24 hours.
        (dt.datetime(2024, 3, 9, 2, 30), "1 day", 1, dt.datetime(2024, 3, 10, 2, 30)),
        (dt.datetime(2024, 3, 10, 1, 30), "1 hour", 1, dt.datetime(2024, 3, 10, 2, 30)),
        (dt.datetime(2024, 11, 3, 1, 30), "1 hour", 1, dt.datetime(2024, 11, 3, 2, 30)),
        (dt.datetime(2024, 1, 31, 12), "1 month", 1, dt.datetime(2024, 2, 29, 12)),
        (dt.datetime(2024, 2, 29), "1 year", 1, dt.datetime(2025, 2, 28)),
        (dt.datetime(1969, 12, 31, 23, 59, 59, 999_999), "1 second", 1, dt.datetime(1970, 1, 1, 0, 0, 0, 999_999)),
        (dt.datetime(2024, 3, 31), "1 month", -1, dt.datetime(2024, 2, 29)),
    ],
)
def test_wall_clock_calendar_has_no_clock_changes(start, text, times, expected):
    calendar = WallClockCalendar()
    moved = calendar.add(naive_micros(start), parse_duration(text), times)
    assert calendar.to_python(moved) == expected


@bounded
@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
       timestamp_durations, st.integers(-24, 24))
def test_wall_clock_calendar_is_utc_arithmetic_on_naive_times(when, duration, times):
    """Its points round-trip through naive datetimes, and it moves them exactly as the UTC calendar
    moves the same wall-clock reading."""
    calendar, utc = WallClockCalendar(), TimestampCalendar("UTC")
    point = naive_micros(when)
    assert calendar.to_python(point) == when and calendar.to_python(point).tzinfo is None
    assert calendar.add(point, duration, times) == utc.add(point, duration, times)


# ------------------------------------------------------------------------------ layering


@pytest.mark.parametrize("path", ["splitcv/durations.py", *sorted(p.relative_to(ROOT).as_posix()
                                                               for p in (ROOT / "splitcv" / "plan").glob("*.py"))])
def test_planning_modules_do_not_import_spark(path):
    tree = ast.parse((ROOT / path).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] in ("pyspark", "py4j")]
    assert not [name for name in imported if name.startswith("splitcv.") and not name.startswith(
        ("splitcv.plan", "splitcv.durations"))], "planning depends only on planning"
