"""Purge and embargo on the Spark path: real folds collected, the book's rules applied row by row.

Each case compares a splitter with ``labelEndCol``/``embargo`` to the same splitter without them:
every training row of the plain fold stays unless the rules drop it, and the rules are applied here
in Python, row by row, independently of the planner. Real data: statsmodels' quarterly US macro
series with a label that looks two quarters ahead.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression

from splitcv import (
    BlockedKFoldSplitter,
    CombinatorialPurgedSplitter,
    ExpandingWindowSplitter,
    ParallelCrossValidator,
    SlidingWindowSplitter,
    format_folds,
)
from splitcv.plan.combinatorial import plan_combinatorial
from splitcv.testing import audit_splitter
from test_splitter_errors import no_spark_job
from test_splitters_spark import collect_folds

few = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))


def expected_training(plain_folds, rows_by_id, embargo_points, index):
    """Apply purge and embargo by their definitions to the plain folds' training rows."""
    out = []
    for train, validation in plain_folds:
        times = [rows_by_id[r][0] for r in validation]
        first, span_end = min(times), max(rows_by_id[r][1] for r in validation)
        # the embargo counts time points after the span's end (the last time point not after it)
        end_index = max(i for t, i in index.items() if t <= span_end)
        kept = []
        for r in train:
            t, e = rows_by_id[r]
            if t > span_end and index[t] - end_index <= embargo_points:
                continue  # embargoed
            if t <= span_end and e >= first:
                continue  # purged
            kept.append(r)
        out.append(sorted(kept))
    return out


@st.composite
def labelled_series(draw):
    times = draw(st.lists(st.integers(0, 60), min_size=10, max_size=30, unique=True).map(sorted))
    rows = []
    for t in times:
        for _ in range(draw(st.integers(1, 2))):
            rows.append((len(rows), t, t + draw(st.integers(0, 6))))
    return rows


@few
@given(
    rows=labelled_series(),
    make=st.sampled_from(["blocked", "expanding", "sliding"]),
    embargo=st.integers(0, 2),
)
def test_only_the_rows_the_rules_name_are_dropped(spark, rows, make, embargo):
    df = spark.createDataFrame(rows, "id int, t int, e int")
    plain = {
        "blocked": lambda **kw: BlockedKFoldSplitter(timeCol="t", numFolds=3, **kw),
        "expanding": lambda **kw: ExpandingWindowSplitter(timeCol="t", horizon=3, numFolds=3, **kw),
        "sliding": lambda **kw: SlidingWindowSplitter(timeCol="t", windowSize=5, horizon=2, numFolds=3, **kw),
    }[make]
    plain_split = plain().split(df)
    splitter = plain(labelEndCol="e", embargo=embargo)
    try:
        purged_split = splitter.split(df)
    except ValueError as error:
        purged_split, refused = [], error
    else:
        refused = None
    # the plain and the purged folds' rows in one query (the purged ones when split() made them)
    collected = collect_folds(plain_split + purged_split)
    plain_folds = [([r[0] for r in t], [r[0] for r in v]) for t, v in collected[: len(plain_split)]]
    folds = collected[len(plain_split) :]
    rows_by_id = {r[0]: (r[1], r[2]) for r in rows}
    index = {t: i for i, t in enumerate(sorted({r[1] for r in rows}))}
    expected = expected_training(plain_folds, rows_by_id, embargo, index)
    if refused is not None:
        assert "leave no training rows" in str(refused)
        assert any(not e for e in expected)
        return
    assert [sorted(r[0] for r in t) for t, _ in folds] == expected
    assert [sorted(r[0] for r in v) for _, v in folds] == [sorted(v) for _, v in plain_folds], "validation is untouched"
    infos = splitter.describe(df)
    for info, (train, _), kept in zip(infos, plain_folds, expected):
        assert info.train_rows == len(kept)
        assert info.purged_rows + info.embargoed_rows == len(train) - len(kept)
    assert audit_splitter(splitter, df).ok


def test_the_auditor_catches_a_fold_that_was_not_purged(spark):
    df = spark.createDataFrame([(t, t + 3) for t in range(30)], "t int, e int")
    report = audit_splitter(BlockedKFoldSplitter(timeCol="t", numFolds=3), df, label_end="e")
    assert not report.ok
    assert report.violations[0] == (
        "fold 0: training rows at time 10 have labels ending at 13, inside the validation span 0..12 (and 2 more)"
    )
    report = audit_splitter(BlockedKFoldSplitter(timeCol="t", numFolds=3, labelEndCol="e"), df)
    assert report.ok and report.left_out == [3, 6, 3], "purged: 3 after the first block, 3 on each side of the second"
    assert str(report).endswith("rows left out of each fold: [3, 6, 3]")


@pytest.fixture(scope="module")
def macro(spark):
    """statsmodels' US macro series: 203 quarters 1959Q1..2009Q3, each labelled with growth two quarters on."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.macrodata.load_pandas().data
    rows = [(dt.date(int(y), 3 * int(q) - 2, 1), float(g)) for y, q, g in zip(data.year, data.quarter, data.realgdp)]
    df = spark.createDataFrame(rows, "quarter date, realgdp double")
    return df.withColumn("label_end", F.add_months("quarter", 6))


def test_quarterly_macro_data_is_purged_and_embargoed_on_the_calendar(spark, macro):
    splitter = BlockedKFoldSplitter(timeCol="quarter", numFolds=4, labelEndCol="label_end", embargo="3 months")
    infos = splitter.describe(macro)
    text = format_folds(infos)
    assert text.splitlines()[0].split()[-2:] == ["purged", "embargoed"]
    rows = {i: (r.quarter, r.label_end) for i, r in enumerate(macro.orderBy("quarter").collect())}
    folds = collect_folds(splitter.split(macro))
    for number, (info, (train, validation)) in enumerate(zip(infos, folds)):
        first = min(r[0] for r in validation)
        span_end = max(r[2] for r in validation)
        for quarter, _, end in train:
            assert end < first or quarter > span_end, f"fold {number}: {quarter} overlaps the validation span"
            assert not span_end < quarter <= span_end + dt.timedelta(days=92), f"fold {number}: {quarter} is embargoed"
        # two quarters before each block are purged (their labels reach into it); after it, the two
        # quarters up to the last validation label's end are purged and the next one is embargoed
        before = 2 if number > 0 else 0
        after = 3 if number < 3 else 0
        if number < 3:
            assert info.embargoed_rows == 1
        assert info.purged_rows + info.embargoed_rows == before + after, (number, info)
        assert info.train_rows + info.validation_rows + before + after == len(rows)
    assert audit_splitter(splitter, macro).ok


def test_purge_errors(spark):
    df = spark.createDataFrame([(1, 2, dt.date(2020, 1, 1))], "t int, e int, d date")
    with no_spark_job(spark):
        with pytest.raises(TypeError, match=re.escape("labelEndCol='d' has type date but timeCol='t' has type int")):
            BlockedKFoldSplitter(timeCol="t", numFolds=2, labelEndCol="d").split(df)
        with pytest.raises(ValueError, match=r"labelEndCol='x' is not a column of the dataset"):
            BlockedKFoldSplitter(timeCol="t", numFolds=2, labelEndCol="x").split(df)
        with pytest.raises(ValueError, match=r"embargo='1 day' is a calendar duration, but timeCol='t' holds integers"):
            BlockedKFoldSplitter(timeCol="t", numFolds=2, embargo="1 day").split(df)
    with pytest.raises(ValueError, match=r"embargo=-1"):
        BlockedKFoldSplitter(timeCol="t", embargo=-1)
    rows = spark.createDataFrame([(t, t + 1 if t != 3 else None) for t in range(8)], "t int, e int")
    with pytest.raises(ValueError, match=r"labelEndCol='e' has 1 null values"):
        BlockedKFoldSplitter(timeCol="t", numFolds=2, labelEndCol="e").split(rows)
    early = spark.createDataFrame([(t, t - 1 if t == 5 else t) for t in range(8)], "t int, e int")
    with pytest.raises(ValueError, match=re.escape("labelEndCol='e' is before timeCol='t' in 1 rows, e.g. labelEnd 4 for time 5")):
        BlockedKFoldSplitter(timeCol="t", numFolds=2, labelEndCol="e").split(early)
    long_labels = spark.createDataFrame([(t, 100) for t in range(8)], "t int, e int")
    with pytest.raises(ValueError, match=r"fold 0: purge \(4 rows whose labelEnd reaches the validation span\) and embargo \(0 rows\) leave no training rows"):
        BlockedKFoldSplitter(timeCol="t", numFolds=2, labelEndCol="e").split(long_labels)


def test_combinatorial_folds_on_macro_data_follow_the_plan_and_fit(spark, macro):
    splitter = CombinatorialPurgedSplitter(timeCol="quarter", numGroups=5, numTestGroups=2, labelEndCol="label_end", embargo="3 months")
    assert splitter.getNumFolds() == 10 and len(splitter.backtest_paths()) == 4
    quarters = sorted(r.quarter for r in macro.select("quarter").collect())
    folds = collect_folds(splitter.split(macro))
    for plan, (train, validation) in zip(plan_combinatorial(len(quarters), 5, 2), folds):
        assert sorted(r[0] for r in validation) == [quarters[i] for i in plan.validation_indexes()]
        planned = {quarters[i] for i in plan.train_indexes()}
        assert {r[0] for r in train} <= planned
        # what is left out is exactly what touches a validation span or its 3-month embargo
        for segment in plan.segments:
            first, last = quarters[segment[0]], quarters[segment[1] - 1]
            span_end = max(r[2] for r in validation if first <= r[0] <= last)
            for quarter, _, end in train:
                assert end < first or quarter > span_end + dt.timedelta(days=92)
    assert audit_splitter(splitter, macro).ok
    lagged = macro.withColumn("t", F.datediff("quarter", F.lit(dt.date(1959, 1, 1))).cast("double"))
    data = VectorAssembler(inputCols=["t"], outputCol="features").transform(lagged).withColumnRenamed("realgdp", "label")
    lr = LinearRegression(maxIter=5)
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}], evaluator=RegressionEvaluator(),
        splitter=splitter, refit=False, parallelism=4,
    ).fit(data)
    assert len(model.foldMetrics) == 10 and all(info.purged_rows > 0 for info in model.folds)
