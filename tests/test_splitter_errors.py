"""Bad input: a ValueError/TypeError that names the parameter, the value and what would work.

Wherever the fault shows in the parameters or the schema, the error comes before any Spark job
(counted with a job group). Faults only the data can show (null times, sizes too large for the
data, fold numbers out of range) come from the one summary job, before anything is fitted.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from estimators import no_spark_job

from splitcv import (
    BlockedKFoldSplitter,
    CombinatorialPurgedSplitter,
    ExpandingWindowSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    StratifiedKFoldSplitter,
    ParallelCrossValidator,
    SlidingWindowSplitter,
)


# -- data and job counting -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def df(spark):
    """Ten days, two rows each; every kind of column a user might point timeCol at."""
    start = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    rows = [
        (d, dt.date(2021, 1, 1) + dt.timedelta(days=d), start + dt.timedelta(days=d), float(d), f"day {d}", d % 3, s)
        for d in range(10)
        for s in range(2)
    ]
    return spark.createDataFrame(rows, "t int, d date, ts timestamp, x double, label string, f int, s int")




def raises_before_any_job(spark, splitter, dataset, error, *patterns):
    """``splitter.split(dataset)`` raises ``error`` matching every pattern, having run no Spark job."""
    with no_spark_job(spark):
        with pytest.raises(error) as info:
            splitter.split(dataset)
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"
    return info.value


def check_message(info, *patterns):
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), f"{pattern!r} not in: {info.value}"


# -- the time column -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "splitter",
    [ExpandingWindowSplitter(horizon=2), SlidingWindowSplitter(windowSize=3), BlockedKFoldSplitter(numFolds=3)],
    ids=lambda s: type(s).__name__,
)
def test_missing_time_col(spark, df, splitter):
    name = type(splitter).__name__
    raises_before_any_job(spark, splitter, df, ValueError, f"{name} needs timeCol", re.escape(f"{name}(timeCol='date'"))


def test_time_col_not_in_the_dataframe(spark, df):
    raises_before_any_job(
        spark, ExpandingWindowSplitter(timeCol="day"), df, ValueError,
        r"timeCol='day' is not a column of the dataset", r"its columns are \['d', 'f', 'label', 's', 't', 'ts', 'x'\]",
    )


@pytest.mark.parametrize(
    "column, type_name, fix",
    [
        ("x", "double", ["df.withColumn('x', F.col('x').cast('int'))", "F.make_date(F.col('x').cast('int'), F.lit(1), F.lit(1))"]),
        ("label", "string", ["df.withColumn('label', F.to_date(F.col('label'), 'yyyy-MM-dd'))", "F.to_timestamp(F.col('label'), "]),
    ],
)
def test_time_col_that_cannot_be_ordered_as_time(spark, df, column, type_name, fix):
    """The message gives the cast that fixes the column (years arrive as doubles, dates as strings)."""
    raises_before_any_job(
        spark, BlockedKFoldSplitter(timeCol=column, numFolds=2), df, TypeError,
        f"timeCol='{column}' has type {type_name}", "use an integer, DATE, TIMESTAMP or TIMESTAMP_NTZ column",
        *map(re.escape, fix),
    )


def test_the_suggested_casts_work(spark):
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(1950.0 + i, f"2024-01-0{i + 1}") for i in range(4)], "year double, day string")
    years = frame.withColumn("year", F.col("year").cast("int"))
    as_dates = frame.withColumn("year", F.make_date(F.col("year").cast("int"), F.lit(1), F.lit(1)))
    days = frame.withColumn("day", F.to_date(F.col("day"), "yyyy-MM-dd"))
    for data, column in ((years, "year"), (as_dates, "year"), (days, "day")):
        assert ExpandingWindowSplitter(timeCol=column, numFolds=3).countFolds(data) == 3


def test_null_times(spark, df):
    with_nulls = df.union(df.limit(1).selectExpr("CAST(NULL AS INT) AS t", "d", "ts", "x", "label", "f", "s"))
    with pytest.raises(ValueError) as info:
        ExpandingWindowSplitter(timeCol="t").split(with_nulls)
    check_message(info, r"timeCol='t' has 1 null values", re.escape("dataset.dropna(subset=['t'])"))


# -- sizes ---------------------------------------------------------------------------------------------
BAD_VALUES = [
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon=0), ValueError, [r"horizon=0", r"give a whole number >= 1, or a duration such as '7 days'"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon=-2), ValueError, [r"horizon=-2", r">= 1"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", gap=-1), ValueError, [r"gap=-1", r"give a whole number >= 0"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", step=0), ValueError, [r"step=0", r">= 1"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", initialWindow=0), ValueError, [r"initialWindow=0", r">= 1"]),
    (lambda: SlidingWindowSplitter(timeCol="t", windowSize=0), ValueError, [r"windowSize=0", r">= 1"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", numFolds=0), ValueError, [r"numFolds=0", r">= 1"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon=True), TypeError, [r"horizon=True", r"True is a bool, not a whole number", r"or a duration such as '7 days'"]),
    (lambda: BlockedKFoldSplitter(timeCol="t", gap=False), TypeError, [r"gap=False", r"is a bool, not a whole number"]),
    (lambda: KFoldSplitter(numFolds=True), TypeError, [r"numFolds=True", r"is a bool"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon=1.5), TypeError, [r"horizon=1.5", r"1.5 is not a whole number: write horizon=1 or horizon=2, or a duration"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon=0.5), TypeError, [r"horizon=0.5", r"write horizon=1, or a duration"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon="1 fortnight"), ValueError, [r"horizon='1 fortnight'", r"not a duration", r"'7 days' or '1 month'"]),
    (lambda: ExpandingWindowSplitter(timeCol="t", horizon="0 days"), ValueError, [r"horizon='0 days'", r"positive one such as '7 days'"]),
    (lambda: KFoldSplitter(numFolds=1), ValueError, [r"numFolds=1", r"give a whole number >= 2"]),
    (lambda: BlockedKFoldSplitter(timeCol="t", numFolds=1), ValueError, [r"numFolds=1", r">= 2"]),
    (lambda: KFoldSplitter(foldCol=3), TypeError, [r"foldCol=3", r"name of a column"]),
    (lambda: ExpandingWindowSplitter(timeCol=""), TypeError, [r"timeCol=''", r"name of a column"]),
]


@pytest.mark.parametrize("make, error, patterns", BAD_VALUES, ids=[patterns[0] for _, _, patterns in BAD_VALUES])
def test_bad_sizes_fail_when_set(make, error, patterns):
    with pytest.raises(error) as info:
        make()
    check_message(info, *patterns)


# One rule for every count and size Param: whole numbers only, never a float (not even 7.0) or a bool.
WHOLE_NUMBER_PARAMS = {
    "numFolds", "seed", "horizon", "step", "gap", "initialWindow", "windowSize", "parallelism", "embargo",
    "numGroups", "numTestGroups",
}
OTHER_PARAMS = {
    "timeCol", "foldCol", "keepPartialWindow", "labelEndCol", "labelCol", "groupCol",
    "estimator", "estimatorParamMaps", "evaluator", "splitter", "collectSubModels", "refit", "singleClassFolds",
    "sharePipelinePrefix", "racing", "racingConfidence", "racingRule", "racingKeep", "memoryBudget", "scoreInOnePass", "cachePrefixOutput", "leanFits", "progress",
    "callback",
}
PARAM_OWNERS = [
    KFoldSplitter, StratifiedKFoldSplitter, GroupKFoldSplitter, ExpandingWindowSplitter, SlidingWindowSplitter,
    BlockedKFoldSplitter, CombinatorialPurgedSplitter, ParallelCrossValidator,
]
WHOLE_NUMBER_CASES = [
    (cls, p.name) for cls in PARAM_OWNERS for p in sorted(cls().params, key=lambda p: p.name) if p.name in WHOLE_NUMBER_PARAMS
]


def test_every_param_is_known_to_the_whole_number_test():
    """A new Param must be added to one of the two lists, so no count escapes the rule below."""
    for cls in PARAM_OWNERS:
        unknown = {p.name for p in cls().params} - WHOLE_NUMBER_PARAMS - OTHER_PARAMS
        assert not unknown, f"{cls.__name__} has Params the whole-number test does not know: {unknown}"


@pytest.mark.parametrize("cls, name", WHOLE_NUMBER_CASES, ids=[f"{c.__name__}.{n}" for c, n in WHOLE_NUMBER_CASES])
def test_whole_floats_and_bools_are_refused_by_every_count_and_size(cls, name):
    value = 3
    assert cls(**{name: value}).getOrDefault(name) == value  # a whole number works
    for wrong, patterns in [
        (3.0, [rf"{name}=3\.0 is not valid", r"3\.0 is a float, not a whole number", rf"write {name}=3\b"]),
        (2.5, [rf"{name}=2\.5 is not valid", r"2\.5 is not a whole number", rf"write {name}=2 or {name}=3"]),
        (True, [rf"{name}=True is not valid", r"True is a bool, not a whole number"]),
    ]:
        with pytest.raises(TypeError) as info:
            cls(**{name: wrong})
        check_message(info, re.escape(cls.__name__), *patterns)
        instance = cls()
        with pytest.raises(TypeError, match=rf"write .*{name}="):  # the Param itself refuses it, set() too
            instance.set(instance.getParam(name), wrong)
    if name in {"horizon", "step", "gap", "initialWindow", "windowSize", "embargo"}:
        assert cls(**{name: "2 weeks"}).getOrDefault(name) == "2 weeks"  # durations still work


def test_setters_check_too():
    splitter = ExpandingWindowSplitter(timeCol="t")
    with pytest.raises(ValueError, match=r"horizon=0 is not valid"):
        splitter.setHorizon(0)
    with pytest.raises(ValueError, match=r"gap='3 lightyears' is not valid"):
        splitter.setGap("3 lightyears")
    assert splitter.getHorizon() == 1 and splitter.getGap() == 0, "a failed set leaves the old value"


def test_sliding_without_window_size(spark, df):
    raises_before_any_job(
        spark, SlidingWindowSplitter(timeCol="t", horizon=2), df, ValueError,
        "SlidingWindowSplitter needs windowSize", re.escape("windowSize=52"),
    )


@pytest.mark.parametrize(
    "splitter, patterns",
    [
        (ExpandingWindowSplitter(timeCol="t", horizon="7 days"), [r"horizon='7 days' is a calendar duration, but timeCol='t' holds integers", r"whole number of time points"]),
        (BlockedKFoldSplitter(timeCol="t", gap="1 day"), [r"gap='1 day' is a calendar duration", r"DATE, TIMESTAMP or TIMESTAMP_NTZ"]),
        (ExpandingWindowSplitter(timeCol="d", horizon="7 days", gap=2), [r"gap=2 counts time points but horizon='7 days' is a calendar duration", r"the same way"]),
        (SlidingWindowSplitter(timeCol="ts", windowSize=5, horizon="1 hour"), [r"windowSize=5 counts time points but horizon='1 hour'"]),
        (ExpandingWindowSplitter(timeCol="d", horizon="12 hours"), [r"horizon='12 hours' is finer than a day", r"timeCol='d' is a DATE column", r"days, weeks, months or years"]),
    ],
    ids=["duration-on-int", "gap-duration-on-int", "mixed-date", "mixed-timestamp", "sub-day-on-date"],
)
def test_sizes_that_do_not_fit_the_column(spark, df, splitter, patterns):
    raises_before_any_job(spark, splitter, df, ValueError, *patterns)


@pytest.mark.parametrize(
    "splitter, patterns",
    [
        (ExpandingWindowSplitter(timeCol="t", horizon=10), [r"make no fold", r"10 distinct time points with horizon=10", r"Lower horizon"]),
        (SlidingWindowSplitter(timeCol="t", windowSize=2, horizon=12), [r"make no fold", r"horizon=12"]),
        (ExpandingWindowSplitter(timeCol="t", numFolds=20), [r"numFolds=20 asks for more folds than the data holds", r"give 9", r"Lower numFolds"]),
        (ExpandingWindowSplitter(timeCol="t", horizon=2, gap=3, numFolds=4), [r"numFolds=4", r"gap=3", r"give 3"]),
        (ExpandingWindowSplitter(timeCol="d", horizon="1 month"), [r"make no fold", r"horizon='1 month'"]),
        (BlockedKFoldSplitter(timeCol="t", numFolds=11), [r"numFolds=11 is more than the 10 distinct time points", r"numFolds <= 10"]),
        (BlockedKFoldSplitter(timeCol="t", numFolds=2, gap=9), [r"gap=9 leaves fold 0", r"Lower gap, or raise numFolds"]),
        (KFoldSplitter(numFolds=21, seed=1), [r"fold \d+ has no validation rows", r"too small or too sparse"]),
    ],
    ids=["horizon-all-points", "sliding-horizon", "numFolds-too-many", "gap-eats-folds", "calendar-too-long", "blocked-too-many", "blocked-gap", "kfold-too-many"],
)
def test_sizes_too_large_for_the_data(df, splitter, patterns):
    with pytest.raises(ValueError) as info:
        splitter.split(df)
    check_message(info, *patterns)


@pytest.mark.parametrize(
    "splitter",
    [
        KFoldSplitter(numFolds=3),
        KFoldSplitter(numFolds=3, foldCol="f"),
        ExpandingWindowSplitter(timeCol="d", horizon="2 days"),
        SlidingWindowSplitter(timeCol="t", windowSize=2),
        BlockedKFoldSplitter(timeCol="ts", numFolds=2),
    ],
    ids=["kfold-random", "kfold-column", "expanding", "sliding", "blocked"],
)
def test_an_empty_dataset_is_named_as_such(df, splitter):
    """One rule for every splitter: not 'fold 0 has no training rows (0 training, 0 validation)'."""
    with pytest.raises(ValueError) as info:
        splitter.split(df.limit(0))
    check_message(info, rf"^the dataset is empty: {type(splitter).__name__} has no rows to split into folds$")


def test_numfolds_too_many_without_running_the_planner(df):
    # getNumFolds counts folds arithmetically; it must fail the same way as split.
    with pytest.raises(ValueError, match=r"numFolds=20 asks for more folds than the data holds"):
        ExpandingWindowSplitter(timeCol="t", numFolds=20).countFolds(df)


# -- fold columns --------------------------------------------------------------------------------------
def test_fold_col_values_outside_the_folds(df):
    with pytest.raises(ValueError) as info:
        KFoldSplitter(numFolds=2, foldCol="f").split(df)
    check_message(info, r"foldCol='f' holds \[2\], outside 0..1", r"numFolds=2 every row's fold must be one of 0..1")
    negative = df.withColumn("f", df["f"] - 1)
    with pytest.raises(ValueError, match=r"foldCol='f' holds \[-1\]"):
        KFoldSplitter(numFolds=3, foldCol="f").split(negative)


def test_fold_col_with_nulls(df):
    nulls = df.selectExpr("t", "CASE WHEN t = 0 THEN NULL ELSE f END AS f")
    with pytest.raises(ValueError, match=r"foldCol='f' has 2 null values"):
        KFoldSplitter(numFolds=3, foldCol="f").split(nulls)


def test_fold_col_missing(spark, df):
    raises_before_any_job(
        spark, KFoldSplitter(numFolds=3, foldCol="fold"), df, ValueError,
        r"foldCol='fold' is not a column of the dataset", r"its columns are \[",
    )


@pytest.mark.parametrize("column, type_name", [("x", "double"), ("label", "string"), ("d", "date")])
def test_fold_col_not_integer(spark, df, column, type_name):
    raises_before_any_job(
        spark, KFoldSplitter(numFolds=3, foldCol=column), df, TypeError,
        f"foldCol='{column}' has type {type_name}", r"integer fold numbers 0..2",
    )


def test_errors_come_from_describe_and_count_folds_too(spark, df):
    splitter = ExpandingWindowSplitter(timeCol="t", horizon="7 days")
    for call in (splitter.describe, splitter.countFolds, splitter.check):
        with no_spark_job(spark), pytest.raises(ValueError, match="horizon='7 days' is a calendar duration"):
            call(df)
    with pytest.raises(ValueError, match=r"has no numFolds set: its number of folds depends on the data. Call countFolds\(dataset\) or set numFolds"):
        ExpandingWindowSplitter(timeCol="t").getNumFolds()


def test_get_num_folds_with_a_dataset_still_counts_but_warns(df):
    with pytest.warns(DeprecationWarning, match=r"getNumFolds\(dataset\) is deprecated: .* countFolds\(dataset\)"):
        assert ExpandingWindowSplitter(timeCol="t", horizon=2).getNumFolds(df) == 4


def test_the_job_counter_sees_a_job(spark, df):
    """The guard above is not vacuous: a block that runs a job fails it."""
    with pytest.raises(AssertionError, match="Spark jobs ran before the error"):
        with no_spark_job(spark):
            df.count()
