"""Purge and embargo on pure plans, against a brute-force reading of the book's definitions.

Rows are ``(time index, label end index)`` on a counted axis. For every fold of a blocked plan the
reference walks the rows one by one: a row trains iff the plan trains on its time, it is not within
``embargo`` time points after the validation span (which ends at the latest label end of the
validation rows), and its ``[time, labelEnd]`` does not overlap that span.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from splitcv.durations import DateCalendar, parse_duration
from splitcv.plan import CalendarScale, CountScale, plan_blocked
from splitcv.plan.purge import embargo_training, is_purged, validation_spans

bounded = settings(deadline=None, max_examples=300)


@st.composite
def labelled_rows(draw):
    n = draw(st.integers(4, 30))
    rows = []
    for t in range(n):  # every time point has 1-3 rows, each label ending 0..5 points later (capped)
        for _ in range(draw(st.integers(1, 3))):
            rows.append((t, min(n - 1, t + draw(st.integers(0, 5)))))
    return n, rows


def reference(rows, fold, embargo):
    """The training rows of one fold, by the definitions, row by row."""
    validation = [r for r in rows if fold.validation[0] <= r[0] < fold.validation[1]]
    first, last_end = min(t for t, _ in validation), max(e for _, e in validation)
    planned = set(fold.train_indexes())
    kept = []
    for t, e in rows:
        if t not in planned:
            continue
        if last_end < t <= last_end + embargo:
            continue  # embargo: too soon after the validation span
        if not (e < first or t > last_end):
            continue  # purge: [t, e] overlaps the validation span
        kept.append((t, e))
    return kept


@bounded
@given(data=labelled_rows(), k=st.integers(2, 5), gap=st.integers(0, 2), embargo=st.integers(0, 3))
def test_purge_and_embargo_keep_exactly_the_rows_the_definitions_keep(data, k, gap, embargo):
    n, rows = data
    scale = CountScale(n)
    try:
        folds = plan_blocked(scale, k, gap)
    except ValueError:
        return  # the plan itself refuses (gap too wide): nothing to purge
    latest = [max(e for t, e in rows if t == p) for p in range(n)]
    for fold in folds:
        spans = validation_spans(list(range(n)), latest, [fold.validation])
        train, removed = embargo_training(scale, range(n), fold.train, [end for _, end in spans], embargo)
        inside = {i for a, b in train for i in range(a, b)}
        ours = [(t, e) for t, e in rows if t in inside and not is_purged(t, e, spans)]
        assert ours == reference(rows, fold, embargo)
        assert removed == len(set(fold.train_indexes()) - inside)


@given(start=st.integers(0, 10), end=st.integers(0, 10), t=st.integers(0, 12), length=st.integers(0, 4))
def test_purge_is_interval_overlap(start, end, t, length):
    if end < start:
        start, end = end, start
    e = t + length
    overlaps = bool(set(range(t, e + 1)) & set(range(start, end + 1)))
    assert is_purged(t, e, [(start, end)]) == overlaps
    assert not is_purged(t, e, []), "no span, no purge"


def test_embargo_only_cuts_after_each_validation_span():
    scale = CountScale(12)
    train, removed = embargo_training(scale, range(12), [(0, 3), (6, 12)], [5], 2)
    assert (train, removed) == (((0, 3), (8, 12)), 2)
    # a span that ends with the data has nothing after it
    assert embargo_training(scale, range(12), [(0, 9)], [11], 5) == (((0, 9),), 0)
    # two spans (as combinatorial CV has), each embargoed
    assert embargo_training(scale, range(12), [(0, 2), (4, 8), (10, 12)], [3, 9], 1) == (((0, 2), (5, 8), (11, 12)), 2)
    # time values between the axis's points: the span ends at the last point not after its end
    assert embargo_training(CountScale(4), [0, 10, 20, 30], [(0, 1), (2, 4)], [15], 1) == (((0, 1), (3, 4)), 1)


def test_a_calendar_embargo_counts_from_the_span_end_in_time():
    # weekly points (days since 1970); the span ends 10 days after the last validation point
    points = [7 * i for i in range(10)]
    scale = CalendarScale(points, DateCalendar())
    train = [(0, 2), (5, 10)]
    # span end 38: a 2-week embargo drops the points in (38, 52], that is 42 and 49 (indexes 6, 7)
    assert embargo_training(scale, points, train, [38], parse_duration("2 weeks")) == (((0, 2), (5, 6), (8, 10)), 2)
