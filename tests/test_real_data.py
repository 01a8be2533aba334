"""Splitters on real data no one here made: statsmodels' quarterly US macro series, Grunfeld's
yearly investment panel and the monthly CO2 record, with dates as the statsmodels users have them.

The oracles are counts: a "2 years" window on quarterly data holds 8 quarters, and on a panel of
11 firms 22 rows; a calendar plan and a plan counted in time points must pick the same rows. These
cases returned a short last window before the data's step was measured in calendar units
(issue 10: Grunfeld's last fold held 11 rows, macrodata's 7 quarters, CO2's 2 months).
"""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from splitcv import ExpandingWindowSplitter, SlidingWindowSplitter

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def macro(spark):
    """Quarterly macrodata with a DATE on the first day of each quarter, cut at 2009-04-01."""
    data = sm.datasets.macrodata.load_pandas().data
    rows = [
        (dt.date(int(y), 3 * int(q) - 2, 1), float(g))
        for y, q, g in zip(data.year, data.quarter, data.realgdp)
        if (int(y), int(q)) <= (2009, 2)
    ]
    return spark.createDataFrame([(i, *r) for i, r in enumerate(rows)], "t int, quarter date, realgdp double")


@pytest.fixture(scope="module")
def grunfeld(spark):
    """Grunfeld's panel: 11 firms, one row a year 1935-1954, years as DATE Jan 1 (statsmodels
    gives them as doubles, so they are cast the way the error message for doubles says)."""
    data = sm.datasets.grunfeld.load_pandas().data
    frame = spark.createDataFrame(list(zip(data.firm, data.year, data.invest)), "firm string, year double, invest double")
    return frame.withColumn("d", F.make_date(F.col("year").cast("int"), F.lit(1), F.lit(1)))


@pytest.fixture(scope="module")
def co2_monthly(spark):
    """statsmodels' weekly CO2 record as monthly means, dated on the first of each month, to Nov 2001."""
    weekly = sm.datasets.co2.load_pandas().data
    monthly = weekly.resample("MS").mean().dropna()
    monthly = monthly[monthly.index <= "2001-11-01"]
    return spark.createDataFrame([(d.date(), float(v)) for d, v in zip(monthly.index, monthly.co2)], "month date, co2 double")


def validation_sizes(splitter, df, column):
    """Distinct time values and rows of every validation set, counted by Spark on the real folds."""
    return [tuple(v.agg(F.count_distinct(column), F.count("*")).first()) for _, v in splitter.split(df)]


def test_grunfeld_two_year_windows_hold_two_years_of_every_firm(grunfeld):
    splitter = ExpandingWindowSplitter(timeCol="d", horizon="2 years", numFolds=3)
    assert validation_sizes(splitter, grunfeld, "d") == [(2, 22)] * 3
    last = splitter.describe(grunfeld)[-1]
    assert (last.validation_start, last.validation_end) == (dt.date(1953, 1, 1), dt.date(1954, 1, 1))


def test_macrodata_calendar_windows_equal_counted_windows(macro):
    """"2 years" with a "1 quarter" gap on quarterly dates is 8 quarters with a gap of 1: the same
    rows, whether counted in time points or in calendar time."""
    calendar = ExpandingWindowSplitter(timeCol="quarter", horizon="2 years", gap="1 quarter", numFolds=3)
    counted = ExpandingWindowSplitter(timeCol="quarter", horizon=8, gap=1, numFolds=3)
    assert validation_sizes(calendar, macro, "quarter") == [(8, 8)] * 3
    for (ct, cv), (nt, nv) in zip(calendar.split(macro), counted.split(macro)):
        assert sorted(r.t for r in ct.collect()) == sorted(r.t for r in nt.collect())
        assert sorted(r.t for r in cv.collect()) == sorted(r.t for r in nv.collect())
    assert calendar.describe(macro)[-1].validation_end == dt.date(2009, 4, 1)


def test_monthly_co2_windows_hold_whole_months(co2_monthly):
    expanding = ExpandingWindowSplitter(timeCol="month", horizon="3 months", numFolds=3)
    assert validation_sizes(expanding, co2_monthly, "month") == [(3, 3)] * 3
    assert expanding.describe(co2_monthly)[-1].validation_start == dt.date(2001, 9, 1)
    sliding = SlidingWindowSplitter(timeCol="month", windowSize="1 year", horizon="1 quarter", numFolds=4)
    for info in sliding.describe(co2_monthly):
        assert (info.train_rows, info.validation_rows) == (12, 3)
