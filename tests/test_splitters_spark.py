"""Property tests on the Spark path: generated panel data, real folds collected, rules checked in Python.

Each test draws a small DataFrame (several series on one irregular time axis, ties within and
across series, integer or DATE time), splits it, collects every fold's training and validation
rows in one Spark job, and checks the promises in plain Python. Then regression tests for where
scikit-learn's and sktime's splitters go wrong, and the equality with scikit-learn's
``TimeSeriesSplit`` on one row per time point.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections import Counter
from functools import reduce
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from splitcv import BlockedKFoldSplitter, ExpandingWindowSplitter, KFoldSplitter, SlidingWindowSplitter
from splitcv.testing import assert_no_leakage

pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")

spark_settings = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
# k-fold properties are simple and each example runs two shuffles: fewer examples suffice.
kfold_settings = settings(spark_settings, max_examples=6)

START = dt.date(2021, 1, 1)


# -- generated data ------------------------------------------------------------------------------------
@st.composite
def panels(draw, min_points: int = 4, max_points: int = 24, dates: bool | None = None):
    """Rows ``(series, t, copy, y)``: up to 3 series on a shared irregular axis, 1-2 rows per
    (series, time), some series missing some times. ``t`` is an int or a DATE."""
    times = draw(st.lists(st.integers(0, 80), min_size=min_points, max_size=max_points, unique=True).map(sorted))
    n_series = draw(st.integers(1, 3))
    as_dates = draw(st.booleans()) if dates is None else dates
    rows = []
    for s in range(n_series):
        for i, t in enumerate(times):
            if s > 0 and draw(st.integers(0, 4)) == 0:  # holes: a series need not cover every time
                continue
            for copy in range(draw(st.integers(1, 2))):  # ties within a series
                rows.append((f"s{s}", START + dt.timedelta(days=t) if as_dates else t, copy, float(i)))
    present = sorted({r[1] for r in rows})
    assume(len(present) >= min_points)
    return rows, as_dates


def to_df(spark, rows: list[tuple], as_dates: bool) -> DataFrame:
    return spark.createDataFrame(rows, f"series string, t {'date' if as_dates else 'int'}, copy int, y double")


def collect_folds(folds: list[tuple[DataFrame, DataFrame]]) -> list[tuple[list[tuple], list[tuple]]]:
    """Every fold's training and validation rows as tuples, in one Spark job."""
    parts = [
        df.select(F.lit(i).alias("__fold"), F.lit(side).alias("__side"), "*")
        for i, (train, validation) in enumerate(folds)
        for side, df in ((0, train), (1, validation))
    ]
    out: list[tuple[list[tuple], list[tuple]]] = [([], []) for _ in folds]
    for r in reduce(DataFrame.unionAll, parts).collect():
        out[r[0]][r[1]].append(tuple(r[2:]))
    return out


def split_or_reject(splitter, df: DataFrame):
    """Split, treating "these parameters make no fold on this data" as an uninteresting example."""
    try:
        return collect_folds(splitter.split(df))
    except ValueError as error:
        text = str(error)
        assert any(s in text for s in ("numFolds=", "make no fold", "nothing to train on", "has no")), text
        assume(False)


def check_cut_by_time(rows: list[tuple], folds, time_index: int = 1) -> None:
    """Each side of each fold is exactly the rows whose time is on that side: ties are never
    split, and every series of a panel is cut at the same instants."""
    by_time: dict[Any, Counter] = {}
    for r in rows:
        by_time.setdefault(r[time_index], Counter())[r] += 1
    for i, (train, validation) in enumerate(folds):
        for name, side in (("training", train), ("validation", validation)):
            times = {r[time_index] for r in side}
            expected = sum((by_time[t] for t in times), Counter())
            assert Counter(side) == expected, f"fold {i}: {name} does not hold whole time points"
        assert not {r[time_index] for r in train} & {r[time_index] for r in validation}, f"fold {i}: a time is split"


def axis_index(rows: list[tuple], time_index: int = 1) -> dict[Any, int]:
    return {t: i for i, t in enumerate(sorted({r[time_index] for r in rows}))}


# -- forward chaining ----------------------------------------------------------------------------------
@spark_settings
@given(
    data=panels(),
    sliding=st.booleans(),
    horizon=st.integers(1, 3),
    gap=st.integers(0, 2),
    step=st.none() | st.integers(1, 3),
    window=st.integers(1, 5),
    calendar=st.booleans(),
)
def test_forward_splitters_never_train_on_or_near_the_future(spark, data, sliding, horizon, gap, step, window, calendar):
    rows, as_dates = data
    calendar = calendar and as_dates
    unit = (lambda k: f"{k} days") if calendar else (lambda k: k)
    sizes = dict(timeCol="t", horizon=unit(horizon), gap=unit(gap) if gap else 0)
    if step is not None:
        sizes["step"] = unit(step)
    splitter = (
        SlidingWindowSplitter(windowSize=unit(window), **sizes) if sliding else ExpandingWindowSplitter(**sizes)
    )
    folds = split_or_reject(splitter, to_df(spark, rows, as_dates))
    check_cut_by_time(rows, folds)
    index = axis_index(rows)
    previous_cut = None
    for i, (train, validation) in enumerate(folds):
        assert train and validation, f"fold {i} is empty on one side"
        last_train, first_validation = max(r[1] for r in train), min(r[1] for r in validation)
        if calendar:
            assert last_train + dt.timedelta(days=gap) < first_validation, f"fold {i} trains within the gap"
            assert max(r[1] for r in validation) < first_validation + dt.timedelta(days=horizon)
            if sliding:
                assert max(r[1] for r in train) - min(r[1] for r in train) < dt.timedelta(days=window)
        else:
            assert index[last_train] + gap < index[first_validation], f"fold {i} trains within the gap"
            assert len({r[1] for r in validation}) <= horizon
            if sliding:
                assert len({r[1] for r in train}) <= window
        if previous_cut is not None:
            assert first_validation >= previous_cut, "folds are in time order"
        previous_cut = first_validation


def test_no_two_folds_are_the_same_on_irregular_dates(spark):
    """Found by the property above: two calendar cut-offs in one hole of the data (step < horizon)
    once made the same fold twice, which then weighed double in the averaged metric."""
    days = [0, 1, 2, 3, 22, 24, 33, 66]
    rows = [(dt.date(2021, 1, 1) + dt.timedelta(days=d), d) for d in days]
    df = spark.createDataFrame(rows, "d date, day int")
    folds = collect_folds(ExpandingWindowSplitter(timeCol="d", horizon="3 days", step="1 day").split(df))
    distinct = {(frozenset(t), frozenset(v)) for t, v in folds}
    assert len(distinct) == len(folds), f"{len(folds) - len(distinct)} of {len(folds)} folds repeat another"


# -- blocked k-fold ------------------------------------------------------------------------------------
@spark_settings
@given(data=panels(min_points=6), num_folds=st.integers(2, 5), gap=st.integers(0, 2))
def test_blocked_validation_partitions_the_rows_and_keeps_the_margin(spark, data, num_folds, gap):
    rows, as_dates = data
    folds = split_or_reject(BlockedKFoldSplitter(timeCol="t", numFolds=num_folds, gap=gap), to_df(spark, rows, as_dates))
    assert len(folds) == num_folds
    check_cut_by_time(rows, folds)
    assert sum((Counter(v) for _, v in folds), Counter()) == Counter(rows), "validation sets partition the rows"
    index = axis_index(rows)
    blocks = []
    for i, (train, validation) in enumerate(folds):
        block = sorted({index[r[1]] for r in validation})
        assert block == list(range(block[0], block[-1] + 1)), f"fold {i}: validation is not contiguous"
        blocks.append(block)
        for t in {index[r[1]] for r in train}:
            assert t + gap < block[0] or block[-1] + gap < t, f"fold {i}: training time point {t} within the margin"
        # and training is everything else outside the margin
        outside = {t for t in index.values() if t + gap < block[0] or block[-1] + gap < t}
        assert {index[r[1]] for r in train} == outside
    assert [b[0] for b in blocks] == sorted(b[0] for b in blocks), "blocks are in time order"


# -- k-fold --------------------------------------------------------------------------------------------
@st.composite
def tables(draw):
    """Rows with duplicates: identical rows are dealt to folds like any others."""
    distinct = draw(st.lists(st.tuples(st.integers(0, 9), st.sampled_from("abc"), st.integers(-3, 3)), min_size=16, max_size=40))
    return [row for row in distinct for _ in range(draw(st.integers(1, 3)))]


def kfold_validation_sets(splitter: KFoldSplitter, df: DataFrame, rows: list[tuple]) -> list[Counter]:
    """Collect the folds of ``split``; check they cover ``rows`` exactly; return the validation multisets."""
    folds = split_or_reject(splitter, df)
    for i, (train, validation) in enumerate(folds):
        assert Counter(train) + Counter(validation) == Counter(rows), f"fold {i}: training and validation do not cover the data"
    return [Counter(v) for _, v in folds]


def assignment(splitter: KFoldSplitter, df: DataFrame) -> list[Counter]:
    """The validation multisets from the splitter's conditions, in one pass over its frame (cheaper
    than a union of filters when the frame ends in a shuffle)."""
    prepared = splitter.prepare(df)
    frame, conditions = prepared.frame, prepared.conditions
    flags = [F.coalesce(v, F.lit(False)).alias(f"__v{i}") for i, (_, v) in enumerate(conditions)]
    out = [Counter() for _ in conditions]
    for r in frame.select(*df.columns, *flags).collect():
        for i in range(len(conditions)):
            if r[len(df.columns) + i]:
                out[i][tuple(r[: len(df.columns)])] += 1
    return out


@kfold_settings
@given(rows=tables(), num_folds=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_random_kfold_partitions_balances_and_ignores_partitioning(spark, rows, num_folds, seed):
    df = spark.createDataFrame(rows, "a int, b string, c int")
    splitter = KFoldSplitter(numFolds=num_folds, seed=seed)
    one = kfold_validation_sets(splitter, df.coalesce(1), rows)
    assert sum(one, Counter()) == Counter(rows), "validation sets partition the rows"
    sizes = [sum(c.values()) for c in one]
    assert max(sizes) - min(sizes) <= 1, f"fold sizes {sizes} differ by more than one row"
    assert assignment(splitter, df.repartition(3)) == one, "the same seed gives the same folds on any partitioning"


def test_random_kfold_hashes_columns_with_dots_and_backticks_in_their_names(spark):
    # CSV headers such as "price.usd" are top-level columns, not struct fields
    df = spark.createDataFrame([(i, float(i), i % 3) for i in range(30)], "`price.usd` int, `a``b` double, c int")
    # every fold's rows in one query, rather than a count() query per side (each re-ranks the rows)
    folds = collect_folds(KFoldSplitter(numFolds=3, seed=1).split(df))
    assert sum(len(v) for _, v in folds) == 30
    assert all(len(t) + len(v) == 30 for t, v in folds)


@kfold_settings
@given(data=st.data(), num_folds=st.integers(2, 5), n=st.integers(5, 30))
def test_kfold_from_a_fold_column_is_that_column(spark, data, num_folds, n):
    folds_of = data.draw(st.lists(st.integers(0, num_folds - 1), min_size=n, max_size=n))
    assume(set(folds_of) == set(range(num_folds)))
    rows = [(i, f) for i, f in enumerate(folds_of)]
    df = spark.createDataFrame(rows, "id int, f int")
    folds = collect_folds(KFoldSplitter(numFolds=num_folds, foldCol="f").split(df))
    for k, (train, validation) in enumerate(folds):
        assert sorted(validation) == [r for r in rows if r[1] == k]
        assert sorted(train) == [r for r in rows if r[1] != k]


def test_another_seed_draws_other_folds(spark):
    rows = [(i, i % 7) for i in range(200)]
    df = spark.createDataFrame(rows, "id int, g int")
    first = kfold_validation_sets(KFoldSplitter(numFolds=3, seed=1), df, rows)
    again = assignment(KFoldSplitter(numFolds=3, seed=1), df.repartition(4))
    other = assignment(KFoldSplitter(numFolds=3, seed=2), df)
    assert first == again and first != other
    moved = sum(1 for r in rows if [r in c for c in first] != [r in c for c in other])
    assert moved > 100, f"only {moved} of 200 rows changed fold with the seed"


# -- where other libraries go wrong --------------------------------------------------------------------
TIED = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]  # two rows per time point, sorted by time


def test_sklearn_time_series_split_splits_tied_timestamps(spark):
    from sklearn.model_selection import TimeSeriesSplit

    split_ties = [
        set(np.take(TIED, train)) & set(np.take(TIED, test))
        for train, test in TimeSeriesSplit(n_splits=3).split(np.zeros(len(TIED)))
    ]
    assert split_ties[0] == {2}, "scikit-learn trains on one row of time 2 and tests on the other"

    rows = [(t, i) for i, t in enumerate(TIED)]
    df = spark.createDataFrame(rows, "t int, i int")
    folds = collect_folds(ExpandingWindowSplitter(timeCol="t", numFolds=3, horizon=2).split(df))
    check_cut_by_time(rows, folds, time_index=0)
    assert [sorted({r[0] for r in v}) for _, v in folds] == [[1, 2], [3, 4], [5, 6]]


def _sktime():
    pytest.importorskip("sktime")
    warnings.filterwarnings("ignore", module="sktime")
    import pandas as pd
    from sktime.split import ExpandingWindowSplitter as SkExpanding
    from sktime.split import SlidingWindowSplitter as SkSliding

    return pd, SkExpanding, SkSliding


DUPLICATE = [0, 1, 2, 3, 3, 4, 5, 6]  # time 3 twice


def test_sktime_puts_a_row_in_both_sets_on_a_duplicate_time():
    pd, SkExpanding, SkSliding = _sktime()
    y = pd.Series(np.arange(len(DUPLICATE), dtype=float), index=pd.Index(DUPLICATE))
    for splitter in (SkExpanding(fh=[1], initial_window=3), SkSliding(fh=[1], window_length=3)):
        shared = [set(train) & set(test) for train, test in splitter.split(y)]
        assert any(shared), f"{type(splitter).__name__} no longer shares a row"


@pytest.mark.parametrize(
    "splitter",
    [
        ExpandingWindowSplitter(timeCol="t", initialWindow=3),
        SlidingWindowSplitter(timeCol="t", windowSize=3, initialWindow=3),
    ],
    ids=lambda s: type(s).__name__,
)
def test_ours_never_shares_a_row_on_a_duplicate_time(spark, splitter):
    rows = [(t, i) for i, t in enumerate(DUPLICATE)]
    df = spark.createDataFrame(rows, "t int, i int")
    folds = collect_folds(splitter.split(df))
    check_cut_by_time(rows, folds, time_index=0)
    assert [sorted(r[1] for r in v) for _, v in folds] == [[3, 4], [5], [6], [7]], "time 3 is validated whole"
    assert_no_leakage(splitter, df)


IRREGULAR = ["2021-01-01", "2021-01-02", "2021-01-03", "2021-01-04", "2021-01-10", "2021-01-11", "2021-01-12", "2021-01-20", "2021-01-21"]


def test_sktime_yields_empty_test_sets_on_irregular_dates():
    pd, SkExpanding, _ = _sktime()
    y = pd.Series(np.arange(len(IRREGULAR), dtype=float), index=pd.to_datetime(IRREGULAR))
    splitter = SkExpanding(fh=pd.to_timedelta([1], unit="D"), initial_window=pd.Timedelta("3D"), step_length=pd.Timedelta("1D"))
    assert any(len(test) == 0 for _, test in splitter.split(y))


def test_ours_skips_windows_without_data_on_irregular_dates(spark):
    rows = [(dt.date.fromisoformat(d), i) for i, d in enumerate(IRREGULAR)]
    df = spark.createDataFrame(rows, "d date, i int")
    splitter = ExpandingWindowSplitter(timeCol="d", horizon="1 day", step="1 day", initialWindow="3 days")
    folds = collect_folds(splitter.split(df))
    assert all(train and validation for train, validation in folds)
    # the windows starting on days with data, each once; the holes make no fold
    assert [[r[1] for r in v] for _, v in folds] == [[3], [4], [5], [6], [7], [8]]
    assert len(splitter.describe(df)) == splitter.countFolds(df) == 6


PANEL = {"a": range(0, 8), "b": range(2, 8)}  # series b starts two steps late


def test_sktime_cuts_a_panels_series_at_different_instants():
    pd, SkExpanding, _ = _sktime()
    index = pd.MultiIndex.from_tuples([(s, t) for s, times in PANEL.items() for t in times], names=["series", "time"])
    y = pd.DataFrame({"y": np.arange(len(index), dtype=float)}, index=index)
    train, test = next(iter(SkExpanding(fh=[1], initial_window=3).split_loc(y)))
    assert sorted({t for s, t in test}) == [3, 5], "each series is cut after its own third point"


def test_ours_cuts_every_series_at_the_same_instants(spark):
    rows = [(s, t) for s, times in PANEL.items() for t in times]
    df = spark.createDataFrame(rows, "series string, t int")
    folds = collect_folds(ExpandingWindowSplitter(timeCol="t", initialWindow=3).split(df))
    check_cut_by_time(rows, folds)
    first_train, first_validation = folds[0]
    assert sorted(first_validation) == [("a", 3), ("b", 3)]
    assert max(t for _, t in first_train) == 2


# -- the same index sets as scikit-learn's TimeSeriesSplit ---------------------------------------------
@spark_settings
@given(
    n=st.integers(6, 30),
    n_splits=st.integers(2, 5),
    test_size=st.integers(1, 4),
    gap=st.integers(0, 3),
    max_train=st.none() | st.integers(1, 8),
)
def test_windows_match_sklearn_time_series_split_on_one_row_per_time_point(spark, n, n_splits, test_size, gap, max_train):
    from sklearn.model_selection import TimeSeriesSplit

    theirs = TimeSeriesSplit(n_splits=n_splits, test_size=test_size, gap=gap, max_train_size=max_train)
    try:
        expected = [(list(a), list(b)) for a, b in theirs.split(np.zeros(n))]
    except ValueError:
        expected = None
    sizes = dict(timeCol="t", numFolds=n_splits, horizon=test_size, gap=gap)
    ours = SlidingWindowSplitter(windowSize=max_train, **sizes) if max_train else ExpandingWindowSplitter(**sizes)
    df = spark.createDataFrame([(i, float(i)) for i in range(n)], "t int, y double")
    if expected is None:
        # too few folds for numFolds, or (when no fold fits at all) no fold, which numFolds does not cause
        with pytest.raises(ValueError, match="numFolds=|make no fold"):
            ours.split(df)
        return
    folds = collect_folds(ours.split(df))
    assert [(sorted(r[0] for r in t), sorted(r[0] for r in v)) for t, v in folds] == expected


# -- TIMESTAMP_NTZ ----------------------------------------------------------------------------------


def _ntz_folds(spark, zone: str, frame: DataFrame, column: str, splitter_for) -> tuple[list, dict]:
    """``describe`` and every fold's row ids, with the session time zone set to ``zone``."""
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        splitter = splitter_for(column)
        assert_no_leakage(splitter, frame)
        infos = [(i.train_start, i.train_end, i.validation_start, i.validation_end, i.train_rows, i.validation_rows)
                 for i in splitter.describe(frame)]
        folds = collect_folds(splitter.split(frame))
        return infos, {i: {"train": sorted(r[-1] for r in train), "validation": sorted(r[-1] for r in validation)}
                       for i, (train, validation) in enumerate(folds)}
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)


def _without_zone(infos: list[tuple]) -> list[tuple]:
    """``describe`` rows of a TIMESTAMP column in a UTC session, read as wall-clock (naive) times."""
    return [tuple(v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in info) for info in infos]


def test_timestamp_ntz_follows_its_own_wall_clock_in_any_session_time_zone(spark):
    """Half-hourly readings across New York's 2024 clock changes, as TIMESTAMP_NTZ. With the session
    in New York, 02:00-02:59 on March 10 do not exist and 01:00-01:59 on November 3 happen twice; a
    TIMESTAMP_NTZ has neither change, so its folds must be the same as in a UTC session, and the same
    as those of a TIMESTAMP column holding the same readings in UTC."""
    readings = [dt.datetime(2024, 3, 10) + dt.timedelta(minutes=30 * i) for i in range(12)]
    readings += [dt.datetime(2024, 11, 3) + dt.timedelta(minutes=30 * i) for i in range(12)]
    rows = [(when, when.replace(tzinfo=dt.timezone.utc), r) for r, when in enumerate(readings)]
    frame = spark.createDataFrame(rows, "ntz timestamp_ntz, ts timestamp, row int")

    def splitter_for(column):
        return ExpandingWindowSplitter(timeCol=column, horizon="1 hour", gap="30 minutes", numFolds=6)

    in_new_york = _ntz_folds(spark, "America/New_York", frame, "ntz", splitter_for)
    in_utc = _ntz_folds(spark, "UTC", frame, "ntz", splitter_for)
    as_timestamp = _ntz_folds(spark, "UTC", frame, "ts", splitter_for)
    assert in_new_york == in_utc
    naive = _without_zone(as_timestamp[0])
    assert in_utc[0] == naive and in_utc[1] == as_timestamp[1]
    # The last fold validates on 05:00 and 05:30 of November 3 (rows 22, 23) and, after a 30-minute
    # gap, trains up to 04:00 (row 20).
    assert in_utc[0][-1][2:4] == (dt.datetime(2024, 11, 3, 5), dt.datetime(2024, 11, 3, 5, 30))
    assert all(isinstance(v, dt.datetime) and v.tzinfo is None for info in in_utc[0] for v in info[:4])
    last = len(in_utc[0]) - 1
    assert in_utc[1][last]["validation"] == [22, 23] and max(in_utc[1][last]["train"]) == 20
    # Every fold trains on all of March 10, 02:00 and 02:30 (rows 4, 5) included, which New York's
    # clock skips: none was dropped or merged with 03:00.
    assert all(set(range(12)) <= set(sides["train"]) for sides in in_utc[1].values())


@pytest.mark.parametrize("sizes", [{"horizon": 1, "numFolds": 5}, {"horizon": "1 second", "numFolds": 3}],
                         ids=["counts", "seconds"])
def test_timestamp_ntz_keeps_microseconds_on_both_sides_of_1970(spark, sizes):
    """Sub-second readings around the epoch (negative points, fractions): the same folds and bounds as
    a TIMESTAMP column holding the same readings in a UTC session."""
    epoch = dt.datetime(1970, 1, 1)
    offsets = [-2_500_000, -1_000_000, -500_000, -1, 0, 1, 499_999, 500_000, 1_250_000, 2_000_001]
    readings = [epoch + dt.timedelta(microseconds=o) for o in offsets]
    rows = [(when, when.replace(tzinfo=dt.timezone.utc), r) for r, when in enumerate(readings)]
    frame = spark.createDataFrame(rows, "ntz timestamp_ntz, ts timestamp, row int")

    def splitter_for(column):
        return ExpandingWindowSplitter(timeCol=column, **sizes)

    ntz = _ntz_folds(spark, "UTC", frame, "ntz", splitter_for)
    ts = _ntz_folds(spark, "UTC", frame, "ts", splitter_for)
    naive = _without_zone(ts[0])
    assert ntz[0] == naive and ntz[1] == ts[1]
    bounds = {v for info in ntz[0] for v in info[:4]}
    assert bounds <= set(readings), bounds - set(readings)
