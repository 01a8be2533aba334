"""splitcv.sklearn: the Spark splitters' folds as scikit-learn CV splitters, with no pyspark.

Oracles:

* **Spark itself.** On generated data (integer, date and timestamp axes with ties, holes, panels,
  calendar durations, label ends, rows in any order), every Spark splitter's real folds are
  collected (row ids) and must be the scikit-learn splitter's index sets for the same Params; when
  Spark refuses the data or the Params, the scikit-learn splitter refuses with the same message.
* **scikit-learn.** ``TimeSeriesSplit`` on data with one row per time point (any row order),
  ``GroupKFold`` on groups of distinct sizes, and ``GridSearchCV``/``cross_validate`` on
  statsmodels' macro data, whose scores must equal those of ``TimeSeriesSplit`` folds.
* **A process without pyspark** (imports of ``pyspark*`` fail) runs a ``GridSearchCV`` with our
  splitter on pandas data.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, note, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, TimeSeriesSplit, check_cv, cross_val_score, cross_validate

from conftest import spark_settings
from splitcv.durations import DateCalendar, Duration
from splitcv.sklearn import (
    CombinatorialPurgedCV,
    ExpandingWindowCV,
    GroupKFoldCV,
    KFoldCV,
    SlidingWindowCV,
    format_folds,
    from_splitter,
)

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("ignore::splitcv.plan.advice.TooManyFoldsWarning")

TWINS = {
    "ExpandingWindowSplitter": "ExpandingWindowCV",
    "SlidingWindowSplitter": "SlidingWindowCV",
    "BlockedKFoldSplitter": "BlockedKFoldCV",
    "CombinatorialPurgedSplitter": "CombinatorialPurgedCV",
    "GroupKFoldSplitter": "GroupKFoldCV",
    "KFoldSplitter": "KFoldCV",
}


def as_sklearn_message(message: str) -> str:
    """A Spark splitter's message as its twin words it: the class names differ, nothing else."""
    return reduce(lambda text, pair: text.replace(*pair), TWINS.items(), message)


def outcome(make):
    """``("folds", value)`` or ``("error", type, message)``."""
    try:
        return ("folds", make())
    except (ValueError, TypeError) as error:
        return ("error", type(error).__name__, as_sklearn_message(str(error)))


def sklearn_folds(cv, X, groups=None):
    return [(sorted(train.tolist()), sorted(test.tolist())) for train, test in cv.split(X, None, groups)]


# -- the Spark oracle: generated axes -----------------------------------------------------------------
UNITS = {  # a kind's spacing units, each with durations to draw sizes from
    "int": [("count", None)],
    "date": [("day", ["1 day", "3 days", "1 week"]), ("week", ["1 week", "2 weeks", "1 month"]), ("month", ["1 month", "2 months", "1 quarter", "2 quarters"])],
    "timestamp": [("hour", ["1 hour", "5 hours", "1 day"]), ("day", ["1 day", "2 days", "1 week"]), ("month", ["1 month", "1 quarter"])],
}


@st.composite
def axes(draw, kind):
    """Rows on a time axis of ``kind``: ties (1-3 rows of a panel per time point), holes, a label end
    per row, in a random row order. Returns (rows, durations) with rows (t, labelEnd, series)."""
    unit, durations = draw(st.sampled_from(UNITS[kind]))
    steps = draw(st.lists(st.integers(1, 3), min_size=5, max_size=18))
    offsets = [0]
    for s in steps:
        offsets.append(offsets[-1] + s)
    start = dt.date(2021, 1, draw(st.sampled_from([1, 15, 31])))

    def at(offset: int):
        if kind == "int":
            return 100 + offset
        if unit == "month":
            day = DateCalendar().to_python(DateCalendar().add((start - dt.date(1970, 1, 1)).days, Duration(months=offset)))
        else:
            day = start + dt.timedelta(days=offset * (7 if unit == "week" else 1 if unit == "day" else 0))
        if kind == "date":
            return day
        return dt.datetime(day.year, day.month, day.day) + dt.timedelta(hours=offset if unit == "hour" else 0)

    rows = []
    for i, offset in enumerate(offsets):
        for series in range(draw(st.integers(1, 3))):
            rows.append((at(offset), at(offsets[min(len(offsets) - 1, i + draw(st.integers(0, 2)))]), f"s{series}"))
    order = draw(st.permutations(range(len(rows))))
    return [rows[i] for i in order], durations


def sizes(draw, calendar, low, high, zero=False):
    """A size: a count, or a duration when ``calendar`` lists some (zero fits either kind)."""
    if calendar:
        return draw(st.sampled_from((["0 days", 0] if zero else []) + calendar))
    return draw(st.integers(0 if zero else low, high))


@st.composite
def time_params(draw, durations):
    """Params of every time splitter, each with or without label ends and embargo."""
    calendar = durations if durations and draw(st.booleans()) else None
    params = {}
    purge = {"labelEndCol": draw(st.sampled_from([None, "e"])), "embargo": sizes(draw, calendar, 0, 2, zero=True)}
    params["ExpandingWindowSplitter"] = {
        "horizon": sizes(draw, calendar, 1, 3),
        "gap": sizes(draw, calendar, 0, 2, zero=True),
        "numFolds": draw(st.sampled_from([None, 1, 2, 3])),
        "initialWindow": draw(st.sampled_from([None, sizes(draw, calendar, 2, 5)])),
        **purge,
    }
    params["SlidingWindowSplitter"] = {
        "windowSize": sizes(draw, calendar, 1, 4),
        "horizon": sizes(draw, calendar, 1, 3),
        "step": draw(st.sampled_from([None, sizes(draw, calendar, 1, 3)])),
        "keepPartialWindow": draw(st.booleans()),
        **purge,
    }
    params["BlockedKFoldSplitter"] = {"numFolds": draw(st.integers(2, 4)), "gap": sizes(draw, calendar, 0, 2, zero=True), **purge}
    params["CombinatorialPurgedSplitter"] = {"numGroups": draw(st.integers(3, 5)), "numTestGroups": draw(st.integers(1, 2)), **purge}
    return {name: {k: v for k, v in p.items() if v is not None} for name, p in params.items()}


def spark_folds(spark, df, splitters):
    """Every splitter's folds as sorted row ids (refusals as outcomes). Each splitter prepares its folds
    as ``split`` does (its summary job), and one job evaluates every fold's training and validation
    condition, the filters ``split`` applies, on every row."""
    from pyspark.sql import functions as F

    outcomes, columns, frames = {}, {}, {}
    for name, splitter in splitters.items():
        result = outcome(lambda: splitter.prepare(df))
        if result[0] == "error":
            outcomes[name] = result
            continue
        frames.setdefault(id(result[1].frame), (result[1].frame, []))[1].append(name)
        columns[name] = result[1].conditions
    for frame, names in frames.values():
        picked = [
            F.coalesce(condition, F.lit(False)).alias(f"{n}|{fold}|{side}")
            for n in names for fold, pair in enumerate(columns[n]) for side, condition in enumerate(pair)
        ]
        rows = frame.select("id", *picked).collect()
        for n in names:
            folds = [tuple(sorted(r["id"] for r in rows if r[f"{n}|{fold}|{side}"]) for side in (0, 1)) for fold in range(len(columns[n]))]
            outcomes[n] = ("folds", [(list(t), list(v)) for t, v in folds])
    return outcomes


# -- the Spark oracle: real calendar data ----------------------------------------------------------------
def _month_ends() -> pd.DataFrame:
    """statsmodels' El Nino sea temperatures, one row per month 1950-2010, dated on the month's last day
    (28 to 31: the dates calendar arithmetic gets wrong)."""
    sm = pytest.importorskip("statsmodels.api")
    wide = sm.datasets.elnino.load_pandas().data
    long = wide.melt(id_vars="YEAR", var_name="month", value_name="temp")
    month = pd.to_datetime(long["month"], format="%b").dt.month
    long["t"] = (pd.to_datetime(dict(year=long["YEAR"].astype(int), month=month, day=1)) + pd.offsets.MonthEnd(0)).dt.date
    return long.sort_values("t").reset_index(drop=True)[["t", "temp"]]


def _quarter_ends() -> pd.DataFrame:
    """statsmodels' US macro data, one row per quarter 1959-2009, dated on the quarter's last day."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.macrodata.load_pandas().data
    start = pd.to_datetime(dict(year=data["year"].astype(int), month=3 * data["quarter"].astype(int) - 2, day=1))
    return pd.DataFrame({"t": (start + pd.offsets.QuarterEnd(0)).dt.date, "y": data["realgdp"]})


def _year_starts() -> pd.DataFrame:
    """statsmodels' yearly sunspot counts 1700-2008, dated on January 1st."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.sunspots.load_pandas().data
    return pd.DataFrame({"t": [dt.date(int(y), 1, 1) for y in data["YEAR"]], "y": data["SUNACTIVITY"]})


REAL_CALENDARS = {  # data, the rows one "horizon" holds, and each splitter's params on it
    "monthly": (_month_ends, 12, {
        "ExpandingWindowSplitter": {"horizon": "1 year", "gap": "3 months", "numFolds": 6},
        "SlidingWindowSplitter": {"windowSize": "10 years", "horizon": "1 year", "step": "2 years", "embargo": "1 month"},
        "BlockedKFoldSplitter": {"numFolds": 5, "gap": "2 months"},
        "CombinatorialPurgedSplitter": {"numGroups": 6, "numTestGroups": 2, "embargo": "1 quarter"},
    }),
    "quarterly": (_quarter_ends, 4, {
        "ExpandingWindowSplitter": {"horizon": "1 year", "gap": "1 quarter", "numFolds": 8, "initialWindow": "20 years"},
        "SlidingWindowSplitter": {"windowSize": "15 years", "horizon": "1 year", "step": "1 year", "numFolds": 10},
        "BlockedKFoldSplitter": {"numFolds": 4, "gap": "2 quarters"},
        "CombinatorialPurgedSplitter": {"numGroups": 5, "numTestGroups": 2, "embargo": "6 months"},
    }),
    "yearly": (_year_starts, 5, {
        "ExpandingWindowSplitter": {"horizon": "5 years", "gap": "1 year", "numFolds": 5},
        "SlidingWindowSplitter": {"windowSize": "50 years", "horizon": "5 years", "step": "10 years"},
        "BlockedKFoldSplitter": {"numFolds": 6, "gap": "2 years"},
        "CombinatorialPurgedSplitter": {"numGroups": 6, "numTestGroups": 1, "embargo": "1 year"},
    }),
}


@pytest.mark.parametrize("calendar", sorted(REAL_CALENDARS))
def test_real_monthly_quarterly_and_yearly_data_give_the_spark_folds(spark, calendar):
    """Month ends, quarter ends and January 1sts with calendar durations: the scikit-learn twins give
    the Spark splitters' folds, and every window validates on exactly the rows its horizon holds
    (12 months, 4 quarters, 5 years: counted, not planned)."""
    import splitcv

    load, per_horizon, params = REAL_CALENDARS[calendar]
    data = load()
    df = spark.createDataFrame([(i, t) for i, t in enumerate(data["t"])], "id int, t date")
    splitters = {name: getattr(splitcv, name)(timeCol="t", **p) for name, p in params.items()}
    expected = spark_folds(spark, df, splitters)
    X = data.assign(t=pd.to_datetime(data["t"]).values.astype("datetime64[D]"))
    for name, splitter in splitters.items():
        assert expected[name][0] == "folds", f"{name} refused {calendar} data: {expected[name]}"
        got = sklearn_folds(from_splitter(splitter), X)
        assert got == expected[name][1], f"{name}{params[name]} on {calendar} data"
        assert len(got) >= 4, f"{name} on {calendar} data made {len(got)} folds"
        if name in ("ExpandingWindowSplitter", "SlidingWindowSplitter"):
            assert {len(test) for _, test in got} == {per_horizon}, f"{name}: validation sizes {[len(t) for _, t in got]}"


# Each example compares four splitters (five Spark jobs): two examples per kind of axis.
@pytest.mark.parametrize("kind", sorted(UNITS))
@settings(spark_settings, max_examples=2)
@given(data=st.data())
def test_every_time_splitter_gives_the_spark_folds(spark, kind, data):
    import splitcv

    rows, durations = data.draw(axes(kind))
    params = data.draw(time_params(durations))
    aware = kind == "timestamp" and data.draw(st.booleans())
    note(f"{kind} axis of {len(rows)} rows, aware={aware}, params={params}")
    times = [t for t, _, _ in rows]
    ends = [e for _, e, _ in rows]
    if kind == "timestamp":  # Spark's TIMESTAMP in the suite's UTC session; pandas naive or UTC-aware values
        spark_rows = [(i, t.replace(tzinfo=dt.timezone.utc), e.replace(tzinfo=dt.timezone.utc), s) for i, (t, e, s) in enumerate(rows)]
        X = pd.DataFrame({"t": pd.to_datetime(times, utc=aware), "e": pd.to_datetime(ends, utc=aware)})
    else:
        spark_rows = [(i, t, e, s) for i, (t, e, s) in enumerate(rows)]
        X = pd.DataFrame({"t": times, "e": ends})
    spark_type = {"int": "int", "date": "date", "timestamp": "timestamp"}[kind]
    df = spark.createDataFrame(spark_rows, f"id int, t {spark_type}, e {spark_type}, s string")
    splitters = {name: getattr(splitcv, name)(timeCol="t", **p) for name, p in params.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = spark_folds(spark, df, splitters)
        for name, splitter in splitters.items():
            cv = from_splitter(splitter)  # the same Params; timeCol and labelEndCol read columns of X
            assert type(cv).__name__ == TWINS[name]
            got = outcome(lambda: sklearn_folds(cv, X))
            assert got == expected[name], f"{name}{params[name]}: sklearn {got} != spark {expected[name]}"
            if got[0] == "folds":
                assert cv.get_n_splits(X) == len(got[1])
                assert [(i.train_rows, i.validation_rows) for i in cv.describe(X)] == [(len(t), len(v)) for t, v in got[1]]


@st.composite
def grouped_rows(draw):
    """Groups of a type Spark and numpy share, many of equal size (ties are broken by Spark's hash),
    and a fold number per row (now and then out of range)."""
    kind = draw(st.sampled_from(["long", "int", "string", "double", "boolean"]))
    count = 2 if kind == "boolean" else draw(st.integers(2, 9))
    values = {
        "long": [v * 7_919 - 40_000 for v in range(count)],
        "int": list(range(count)),
        "string": [f"patient-{v}é" for v in range(count)],
        "double": [v / 3 - 1 for v in range(count)],
        "boolean": [True, False],
    }[kind]
    sizes = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=count, max_size=count))
    rows = [g for g, n in zip(values, sizes) for _ in range(n)]
    k = draw(st.integers(2, 4))
    highest = k if draw(st.integers(0, 9)) == 0 else k - 1  # now and then a fold number out of range
    folds = draw(st.lists(st.integers(0, highest), min_size=len(rows), max_size=len(rows)))
    order = draw(st.permutations(range(len(rows))))
    return kind, [rows[i] for i in order], [folds[i] for i in order], k


@settings(spark_settings, max_examples=4)
@given(case=grouped_rows())
def test_group_and_fold_column_k_fold_give_the_spark_folds(spark, case):
    from splitcv import GroupKFoldSplitter, KFoldSplitter

    kind, groups, folds, k = case
    dtype = {"long": "int64", "int": "int32", "string": object, "double": "float64", "boolean": bool}[kind]
    X = pd.DataFrame({"g": np.array(groups, dtype=dtype), "f": np.array(folds, dtype="int64")})
    df = spark.createDataFrame([(i, g, f) for i, (g, f) in enumerate(zip(groups, folds))], f"id int, g {kind}, f int")
    splitters = {
        "GroupKFoldSplitter": GroupKFoldSplitter(groupCol="g", numFolds=k),
        "KFoldSplitter": KFoldSplitter(foldCol="f", numFolds=k),
    }
    expected = spark_folds(spark, df, splitters)
    for name, splitter in splitters.items():
        got = outcome(lambda: sklearn_folds(from_splitter(splitter), X))
        assert got == expected[name], f"{name} on {kind} groups: sklearn {got} != spark {expected[name]}"
    if expected["GroupKFoldSplitter"][0] == "folds":  # groups as scikit-learn passes them: the same folds
        assert sklearn_folds(GroupKFoldCV(numFolds=k), X, X["g"].to_numpy()) == expected["GroupKFoldSplitter"][1]


def test_the_same_params_give_the_same_errors_as_spark_before_any_data():
    """Bad Params: the Spark splitter's message, word for word but the class name."""
    import splitcv

    cases = [
        ("ExpandingWindowSplitter", {"horizon": 0}),
        ("ExpandingWindowSplitter", {"horizon": 7.0}),
        ("ExpandingWindowSplitter", {"gap": "1 fortnight"}),
        ("ExpandingWindowSplitter", {"numFolds": 0}),
        ("ExpandingWindowSplitter", {"keepPartialWindow": "yes"}),
        ("SlidingWindowSplitter", {"windowSize": True}),
        ("SlidingWindowSplitter", {}),  # no windowSize
        ("BlockedKFoldSplitter", {"numFolds": 1}),
        ("BlockedKFoldSplitter", {"embargo": -1}),
        ("CombinatorialPurgedSplitter", {"numGroups": 4, "numTestGroups": 4}),
        ("GroupKFoldSplitter", {"numFolds": 2.5}),
        ("KFoldSplitter", {"numFolds": "3"}),
    ]
    for name, params in cases:
        column = {"GroupKFoldSplitter": "groupCol", "KFoldSplitter": "foldCol"}.get(name, "timeCol")

        def spark_side():
            splitter = getattr(splitcv, name)(**{column: "t"}, **params)
            splitter.check()  # what split runs first, before any Spark job

        expected = outcome(spark_side)
        assert expected[0] == "error", (name, params)
        twin = getattr(splitcv.sklearn, TWINS[name])
        assert outcome(lambda: twin(**{column: "t"}, **params)) == expected, (name, params)


def test_data_errors_are_the_spark_messages(spark):
    """The same data refused for the same reason, in the same words; where the words name a Spark
    type or a fix that only Spark has, the scikit-learn splitter names numpy's."""
    import splitcv

    frame = pd.DataFrame({"t": [1, 2, 3, 5], "d": pd.to_datetime(["2024-01-01"] * 4).date, "e": [2, 1, 4, 6]})
    df = spark.createDataFrame(frame)
    same = lambda message: message  # noqa: E731
    cases = [
        ("ExpandingWindowSplitter", {"timeCol": "t", "horizon": 3, "numFolds": 2}, same),  # more folds than the data holds
        ("BlockedKFoldSplitter", {"timeCol": "t", "numFolds": 5}, same),  # more blocks than time points
        ("BlockedKFoldSplitter", {"timeCol": "t", "numFolds": 2, "labelEndCol": "e"}, same),  # a label ends before its time
        ("ExpandingWindowSplitter", {"timeCol": "t", "horizon": "7 days"},
         lambda m: m.replace("a DATE, TIMESTAMP or TIMESTAMP_NTZ column", "dates or timestamps (numpy datetime64, pandas Timestamps, datetime.date)")),
        ("ExpandingWindowSplitter", {"timeCol": "d", "horizon": "12 hours"}, lambda m: m.replace("is a DATE column", "holds dates")),
        ("BlockedKFoldSplitter", {"timeCol": "t", "numFolds": 2, "labelEndCol": "d"},
         lambda m: m.replace("type date", "type object").replace("type bigint", "type int64")),
        ("ExpandingWindowSplitter", {"timeCol": "nope"}, lambda m: m.replace("of the dataset", "of X")),
    ]
    for name, params, adapt in cases:
        expected = outcome(lambda: getattr(splitcv, name)(**params).split(df))
        assert expected[0] == "error", (name, params)
        got = outcome(lambda: sklearn_folds(from_splitter(getattr(splitcv, name)(**params)), frame))
        assert got == (*expected[:2], adapt(expected[2])), (name, params)


# -- scikit-learn as the oracle -----------------------------------------------------------------------
@settings(deadline=None)
@given(n=st.integers(4, 60), k=st.integers(2, 6), h=st.integers(1, 6), g=st.integers(0, 4), m=st.one_of(st.none(), st.integers(1, 20)), order=st.randoms())
def test_one_row_per_time_point_gives_time_series_split_in_any_row_order(n, k, h, g, m, order):
    """X's rows in a shuffled order: our positions are TimeSeriesSplit's, through the shuffle."""
    shuffle = list(range(n))
    order.shuffle(shuffle)
    time = np.array(shuffle)  # row i of X holds time point shuffle[i]
    position_of = np.argsort(time)  # time point -> row of X
    try:
        expected = [
            (sorted(position_of[train].tolist()), sorted(position_of[test].tolist()))
            for train, test in TimeSeriesSplit(n_splits=k, test_size=h, gap=g, max_train_size=m).split(np.zeros((n, 1)))
        ]
    except ValueError:
        expected = None
    make = (lambda: SlidingWindowCV(time=time, windowSize=m, horizon=h, gap=g, numFolds=k)) if m else (
        lambda: ExpandingWindowCV(time=time, horizon=h, gap=g, numFolds=k)
    )
    got = outcome(lambda: sklearn_folds(make(), np.zeros((n, 2))))
    if expected is None:  # TimeSeriesSplit has too few samples: so do we, and we say what to change
        assert got[0] == "error" and "fold" in got[2], got
    else:
        assert got == ("folds", expected)


def test_groups_of_distinct_sizes_are_packed_as_sklearn_group_kfold():
    """Without ties, packing largest-first into the lightest fold is scikit-learn's GroupKFold."""
    rng = np.random.default_rng(3)
    sizes = rng.permutation(np.arange(1, 30))
    groups = rng.permutation(np.repeat(np.arange(len(sizes)) * 11, sizes))
    X = np.zeros((len(groups), 3))
    ours = sklearn_folds(GroupKFoldCV(numFolds=4), X, groups)
    theirs = [(sorted(a.tolist()), sorted(b.tolist())) for a, b in GroupKFold(n_splits=4).split(X, None, groups)]
    assert ours == theirs
    # with scikit-learn's metadata routing on, groups reach the splitter as they reach GroupKFold
    y = rng.normal(size=len(groups))
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(Ridge(), X, y, cv=GroupKFoldCV(numFolds=4), params={"groups": groups})
        reference = cross_validate(Ridge(), X, y, cv=GroupKFold(n_splits=4), params={"groups": groups})
    np.testing.assert_allclose(routed["test_score"], reference["test_score"])


@pytest.fixture(scope="module")
def macro():
    """statsmodels' quarterly US macro data, 1959Q1-2009Q3: one row per quarter, dated."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.macrodata.load_pandas().data
    quarter = pd.to_datetime([f"{int(y)}-{3 * int(q) - 2:02d}-01" for y, q in zip(data.year, data.quarter)])
    return pd.DataFrame({"quarter": quarter, "realinv": data.realinv, "realgdp": data.realgdp, "unemp": data.unemp, "cpi": data.cpi})


def test_grid_search_and_cross_validate_on_macro_data_match_time_series_split(macro):
    """Two years of quarters, counted or as a duration, are TimeSeriesSplit(test_size=8): the folds, the
    scores of cross_validate and GridSearchCV's choice (run on 2 processes) are the same; the rows of X
    shuffled give the same folds through the shuffle."""
    features, target = ["realgdp", "unemp", "cpi"], "realinv"
    reference = TimeSeriesSplit(n_splits=5, test_size=8, gap=2, max_train_size=80)
    expected = [(a.tolist(), b.tolist()) for a, b in reference.split(macro)]
    counted = SlidingWindowCV(time=np.arange(len(macro)), windowSize=80, horizon=8, gap=2, numFolds=5)
    calendar = SlidingWindowCV(timeCol="quarter", windowSize="20 years", horizon="2 years", gap="6 months", numFolds=5)
    for cv in (counted, calendar):
        assert [(a.tolist(), b.tolist()) for a, b in cv.split(macro)] == expected
        assert cv.get_n_splits(macro) == 5
    X, y = macro[features], macro[target]
    scores = cross_validate(Ridge(alpha=1.0), X, y, cv=counted, scoring="neg_mean_absolute_error")
    theirs = cross_validate(Ridge(alpha=1.0), X, y, cv=reference, scoring="neg_mean_absolute_error")
    np.testing.assert_allclose(scores["test_score"], theirs["test_score"])
    np.testing.assert_allclose(cross_val_score(Ridge(alpha=1.0), X, y, cv=counted, scoring="neg_mean_absolute_error"), theirs["test_score"])
    assert check_cv(calendar) is calendar, "scikit-learn takes it as a splitter, not as an iterable of folds"
    # timeCol reads the column: give GridSearchCV the whole frame and let the model drop the date
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(ColumnTransformer([("x", "passthrough", features)]), Ridge())
    grid = {"ridge__alpha": [0.1, 10.0, 1000.0]}
    ours = GridSearchCV(model, grid, cv=calendar, n_jobs=2, scoring="neg_mean_absolute_error").fit(macro, y)
    ref = GridSearchCV(model, grid, cv=reference, n_jobs=1, scoring="neg_mean_absolute_error").fit(macro, y)
    assert ours.best_params_ == ref.best_params_ and ours.n_splits_ == 5
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])
    # any row order: the same rows, at their new positions
    order = np.random.default_rng(0).permutation(len(macro))  # row j of shuffled is row order[j] of macro
    shuffled = macro.iloc[order].reset_index(drop=True)
    new_position = np.argsort(order)
    assert [(sorted(new_position[a].tolist()), sorted(new_position[b].tolist())) for a, b in expected] == [
        (a.tolist(), b.tolist()) for a, b in calendar.split(shuffled)
    ]


def test_a_splitter_splits_the_same_twice_pickled_or_not_and_counts_without_splitting(macro):
    cv = CombinatorialPurgedCV(timeCol="quarter", numGroups=6, numTestGroups=2, embargo="1 year",
                               labelEnd=macro["quarter"] + pd.DateOffset(months=6))
    first, second = sklearn_folds(cv, macro), sklearn_folds(cv, macro)
    assert first == second and len(first) == cv.get_n_splits() == 15  # known from the Params alone
    assert sklearn_folds(pickle.loads(pickle.dumps(cv)), macro) == first
    windows = ExpandingWindowCV(timeCol="quarter", horizon="1 year", initialWindow="40 years")
    assert windows.get_n_splits(macro) == len(list(windows.split(macro))) == 10
    printed = format_folds(cv.describe(macro))
    assert printed.splitlines()[0].split()[-2:] == ["purged", "embargoed"]


def test_every_form_of_time_values_gives_the_same_folds():
    """Days as numpy dates, datetime.date objects, naive and aware pandas Timestamps (objects or a
    column), a DatetimeIndex: one axis, so one plan of the same calendar windows."""
    days = pd.date_range("2023-12-25", periods=40, freq="D").repeat(2)  # a panel of two series
    shuffled = np.random.default_rng(1).permutation(len(days))
    days = days[shuffled]
    forms = {
        "datetime64[D]": days.to_numpy().astype("datetime64[D]"),
        "datetime.date": [d.date() for d in days],
        "Timestamp objects": np.array(list(days), dtype=object),
        "datetime64[ns] Series": pd.Series(days),
        "DatetimeIndex": days,
        "aware Timestamps": days.tz_localize("Europe/Paris"),
    }
    X = np.zeros((len(days), 1))
    folds = {name: sklearn_folds(ExpandingWindowCV(time=values, horizon="1 week", gap="2 days", numFolds=3), X)
             for name, values in forms.items()}
    first = folds["datetime64[D]"]
    assert len(first) == 3 and all(len(test) == 14 for _, test in first)  # 7 days of 2 series
    assert all(f == first for f in folds.values()), {name: len(f) for name, f in folds.items()}


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, X, error, pattern",
    [
        (lambda: ExpandingWindowCV(), None, ValueError, r"ExpandingWindowCV needs the time of every row of X, once: .*time=df\['date'\]"),
        (lambda: ExpandingWindowCV(time=[1, 2], timeCol="t"), None, ValueError, r"not both"),
        (lambda: ExpandingWindowCV(time="date"), None, TypeError, r"time='date' is a string.*timeCol="),
        (lambda: ExpandingWindowCV(time=[1.0, 2.0]), None, TypeError, r"time has type float64.*time\.astype\(int\)"),
        (lambda: ExpandingWindowCV(time=["2024-01-01"]), None, TypeError, r"pd\.to_datetime\(time\)"),
        (lambda: ExpandingWindowCV(time=np.arange(5)), np.zeros((4, 1)), ValueError, r"time holds 5 values but X has 4 rows"),
        (lambda: ExpandingWindowCV(timeCol="t"), np.zeros((4, 1)), TypeError, r"timeCol='t' names a column of X, but X is ndarray"),
        (lambda: ExpandingWindowCV(time=pd.Series([1, None, 3], dtype="Int64")), np.zeros((3, 1)), ValueError, r"time has 1 null values"),
        (lambda: ExpandingWindowCV(time=np.arange(3), labelEnd=[0, 1, None]), np.zeros((3, 1)), ValueError, r"labelEnd has 1 null values"),
        (lambda: KFoldCV(numFolds=5), None, ValueError, r"KFold\(n_splits=5, shuffle=True, random_state=42\)"),
        (lambda: KFoldCV(numFolds=2, folds=[0, 1, 2]), np.zeros((3, 1)), ValueError, r"folds holds \[2\], outside 0..1"),
        (lambda: KFoldCV(numFolds=2, folds=[0.0, 1.0]), np.zeros((2, 1)), TypeError, r"folds has type float64; it must hold integer fold numbers"),
        (lambda: GroupKFoldCV(numFolds=2), np.zeros((3, 1)), ValueError, r"GroupKFoldCV needs each row's group"),
        (lambda: GroupKFoldCV(numFolds=2, groupCol="g"), pd.DataFrame({"g": [1.0, np.nan]}), ValueError, r"groupCol='g' has 1 null or NaN values"),
        (lambda: GroupKFoldCV(numFolds=3, groupCol="g"), pd.DataFrame({"g": ["a", "b"]}), ValueError, r"groupCol='g' has 2 groups, fewer than numFolds=3"),
        (lambda: GroupKFoldCV(numFolds=2, groupCol="g"), pd.DataFrame({"g": pd.to_datetime(["2024-01-01", "2024-01-02"])}), TypeError, r"groups must be integers"),
    ],
)
def test_bad_input_is_named_with_its_fix(make, X, error, pattern):
    with pytest.raises(error, match=pattern):
        make().split(X)


def test_stratified_and_random_k_fold_point_to_scikit_learn():
    from splitcv import KFoldSplitter, StratifiedKFoldSplitter

    with pytest.raises(ValueError, match=re.escape("StratifiedKFold(n_splits=4, shuffle=True, random_state=7)")):
        from_splitter(StratifiedKFoldSplitter(numFolds=4, seed=7))
    with pytest.raises(ValueError, match=re.escape("KFold(n_splits=3, shuffle=True, random_state=42)")):
        from_splitter(KFoldSplitter())


# -- no pyspark on this path ------------------------------------------------------------------------------
NO_PYSPARK = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class NoPyspark(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "pyspark" or name.startswith("pyspark."):
                raise ImportError(f"No module named {name!r} (blocked)")

    sys.meta_path.insert(0, NoPyspark())
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV

    import splitcv, splitcv.plan
    from splitcv import TooManyFoldsWarning, format_folds
    from splitcv.sklearn import ExpandingWindowCV

    days = pd.date_range("2024-01-01", periods=120, freq="D")
    X = pd.DataFrame({"x": np.arange(120.0)}).sample(frac=1.0, random_state=1)
    y = 2 * X["x"] + 1
    cv = ExpandingWindowCV(time=days[X.index], horizon="2 weeks", gap="3 days", numFolds=3)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=cv).fit(X, y)
    assert search.n_splits_ == 3, search.n_splits_
    print(format_folds(cv.describe(X)).splitlines()[1])
    try:
        from splitcv import ParallelCrossValidator
    except ImportError as error:
        print("Spark side:", error)
    assert not any(name == "pyspark" or name.startswith("pyspark.") for name in sys.modules)
    print("no pyspark imported")
    """
)


def test_splitcv_sklearn_works_where_pyspark_cannot_be_imported():
    run = subprocess.run([sys.executable, "-c", NO_PYSPARK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "no pyspark imported"
    assert lines[-2].startswith("Spark side:") and "pyspark" in lines[-2]
    # 120 days: the last three fortnights validate from day 78; fold 0 trains on days 0-74, 3 days before
    assert lines[0].split()[:2] == ["0", "75"], lines[0]


def test_the_package_exports_its_public_names_lazily():
    import splitcv

    assert set(splitcv.__all__) <= set(dir(splitcv))
    from splitcv.splitters import ExpandingWindowSplitter

    assert splitcv.ExpandingWindowSplitter is ExpandingWindowSplitter
    assert splitcv.splitters.ExpandingWindowSplitter is ExpandingWindowSplitter  # submodules, as before
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        splitcv.nothing
