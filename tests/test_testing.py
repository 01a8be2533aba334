"""The leakage auditor catches leaky custom splitters, says what leaked, and passes correct ones."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.sql import functions as F

from splitcv import (
    BlockedKFoldSplitter,
    ExpandingWindowSplitter,
    FoldSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    SlidingWindowSplitter,
)
from splitcv.testing import AuditReport, assert_no_leakage, audit_splitter


# -- data ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def days(spark):
    """Two series on days 0..7 (a small panel): every day is a tie of two rows."""
    rows = [(s, d, i, float(d)) for i, (s, d) in enumerate((s, d) for d in range(8) for s in ("a", "b"))]
    return spark.createDataFrame(rows, "series string, day int, id int, y double")


@pytest.fixture(scope="module")
def dates(spark):
    start = dt.date(2021, 1, 1)
    rows = [(start + dt.timedelta(days=d), float(d)) for d in range(0, 30, 2)]
    return spark.createDataFrame(rows, "date date, y double")


# -- leaky splitters, each with one fault -------------------------------------------------------------
class TrainsOnTheFuture(FoldSplitter):
    """Claims to chain forward, but trains on every other day, later ones included."""

    forwardChaining = True
    timeCol = "day"

    def _fold_conditions(self, dataset):
        for cut in (5, 6):
            yield F.col("day") != cut, F.col("day") == cut


class SharesARow(FoldSplitter):
    """Off by one: the cut-off day is both trained on and validated on."""

    forwardChaining = True
    timeCol = "day"

    def _fold_conditions(self, dataset):
        for cut in (3, 5):
            yield F.col("day") <= cut, F.col("day") == cut


class SplitsATie(FoldSplitter):
    """Cuts on the row id, so the two rows of one day land on different sides."""

    forwardChaining = True
    timeCol = "day"

    def _fold_conditions(self, dataset):
        for cut in (7, 11):
            yield F.col("id") < cut, (F.col("id") >= cut) & (F.col("id") < cut + 2)


class EmptyFold(FoldSplitter):
    """Its second fold validates on a day the data does not have."""

    forwardChaining = True
    timeCol = "day"

    def _fold_conditions(self, dataset):
        for cut in (3, 99):
            yield F.col("day") < cut, F.col("day") == cut


class IgnoresItsGap(FoldSplitter):
    """Declares a gap Param but trains right up to the validation day."""

    forwardChaining = True
    timeCol = "day"
    gap = Param(Params._dummy(), "gap", "time points left out", typeConverter=TypeConverters.toInt)

    def __init__(self, gap: int = 2) -> None:
        super().__init__()
        self._set(gap=gap)

    def _fold_conditions(self, dataset):
        for cut in (5, 6):
            yield F.col("day") < cut, F.col("day") == cut


class GapByValue(FoldSplitter):
    """Leaves out 2 *values* of ``day`` before validation, not 2 time points of the data."""

    forwardChaining = True
    timeCol = "day"
    gap = 2

    def _fold_conditions(self, dataset):
        yield F.col("day") < 28, F.col("day") >= 30


class BlockWithoutMargin(FoldSplitter):
    """Blocked k-fold in spirit, with a margin it forgets on the right of the block."""

    timeCol = "day"
    gap = 1

    def _fold_conditions(self, dataset):
        yield (F.col("day") < 2) | (F.col("day") >= 5), F.col("day").between(3, 4)


class LeavesRowsOut(FoldSplitter):
    """A k-fold whose validation sets miss day 7 and hold day 2 twice."""

    timeCol = "day"

    def _fold_conditions(self, dataset):
        yield F.col("day") >= 3, F.col("day") < 3
        yield F.col("day") < 2, F.col("day").between(2, 6)


class WeekAhead(FoldSplitter):
    """Correct: validates on each week after the first two and trains on all before it."""

    forwardChaining = True
    timeCol = "date"
    gap = "2 days"

    def _fold_conditions(self, dataset):
        for week in (2, 3):
            start = F.date_add(F.lit(dt.date(2021, 1, 1)), 7 * week)
            yield F.col("date") < F.date_sub(start, 2), (F.col("date") >= start) & (F.col("date") < F.date_add(start, 7))


# -- the leaky ones are caught, in words -----------------------------------------------------------
LEAKS = [
    (TrainsOnTheFuture(), "fold 0: training time 7 is not clear of validation time 5 by gap=0 (time points)"),
    (SharesARow(), "fold 0: 2 rows in both training and validation, for example at time 3"),
    (SplitsATie(), "fold 0: time 3 is split: 1 row in training and 1 in validation"),
    (EmptyFold(), "fold 1: no validation rows (16 training, 0 validation)"),
    (IgnoresItsGap(), "fold 0: training time 4 is not clear of validation time 5 by gap=2 (time points)"),
    (BlockWithoutMargin(), "fold 0: training time 5 is within gap=1 (time points) of the validation block 3..4"),
]


@pytest.mark.parametrize("splitter, message", LEAKS, ids=[type(s).__name__ for s, _ in LEAKS])
def test_auditor_names_the_leak(splitter, message, days):
    report = audit_splitter(splitter, days)
    assert not report.ok and not report
    assert report.violations[0] == message
    assert message in str(report)
    with pytest.raises(AssertionError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        assert_no_leakage(splitter, days)


def test_every_fold_and_every_check_is_reported(days):
    report = audit_splitter(SharesARow(), days)
    assert report.violations == [
        "fold 0: 2 rows in both training and validation, for example at time 3",
        "fold 0: training time 3 is not clear of validation time 3 by gap=0 (time points)",
        "fold 1: 2 rows in both training and validation, for example at time 5",
        "fold 1: training time 5 is not clear of validation time 5 by gap=0 (time points)",
    ]
    tie = audit_splitter(SplitsATie(), days).violations
    assert "fold 1: time 5 is split: 1 row in training and 1 in validation" in tie
    assert any(v.startswith("fold 1: training time 5 is not clear of validation time 5") for v in tie)


def test_integer_gap_counts_time_points_of_the_data_not_values(spark):
    sparse = spark.createDataFrame([(d, 0.0) for d in range(0, 40, 2)], "day int, y double")
    # days 26 and 28 lie between training (< 28, so up to 26) and validation (>= 30): one point, not two
    assert audit_splitter(GapByValue(), sparse).violations == [
        "fold 0: training time 26 is not clear of validation time 30 by gap=2 (time points)"
    ]
    assert audit_splitter(GapByValue(), sparse, gap=1).ok


def test_duration_gap_uses_the_calendar(dates):
    assert audit_splitter(WeekAhead(), dates).ok
    assert audit_splitter(WeekAhead(), dates, gap="3 days").ok
    report = audit_splitter(WeekAhead(), dates, gap="4 days")
    assert report.violations[0] == (
        "fold 0: training time 2021-01-11 is not clear of validation time 2021-01-15 by gap='4 days' (calendar)"
    )


def test_duration_gap_on_timestamps_names_instants(spark):
    start = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    df = spark.createDataFrame([(start + dt.timedelta(hours=h), 1.0) for h in range(12)], "ts timestamp, y double")
    splitter = ExpandingWindowSplitter(timeCol="ts", horizon="2 hours", gap="1 hour")
    assert audit_splitter(splitter, df).ok
    report = audit_splitter(splitter, df, gap="2 hours")
    assert report.violations[0] == (
        "fold 0: training time 2021-01-01 00:00:00+00:00 is not clear of validation time "
        "2021-01-01 02:00:00+00:00 by gap='2 hours' (calendar)"
    )


def test_partition_check(days):
    report = audit_splitter(LeavesRowsOut(), days, partition=True)
    assert report.violations == [
        "partition: 2 rows in no fold's validation set, for example at time 7",
        "partition: 2 rows in the validation sets of several folds, for example at time 2",
    ]
    assert audit_splitter(LeavesRowsOut(), days).ok, "partition is off by default for a custom splitter"


def test_report_reads_well(days):
    good = audit_splitter(ExpandingWindowSplitter(timeCol="day", horizon=2, gap=1), days)
    assert isinstance(good, AuditReport) and good.ok and good.num_folds == 3 and good.rows == 16
    assert str(good) == (
        "ExpandingWindowSplitter: 3 folds, 16 rows: no leakage found (non-empty folds, disjoint training and "
        "validation, ties on one side, training before validation by gap=1 (time points))"
    )
    bad = str(audit_splitter(TrainsOnTheFuture(), days))
    assert bad.splitlines()[0] == "TrainsOnTheFuture: 2 folds, 16 rows: 2 violations"


# -- correct splitters pass ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "splitter",
    [
        ExpandingWindowSplitter(timeCol="day", horizon=1, gap=2),
        SlidingWindowSplitter(timeCol="day", windowSize=2, horizon=2, gap=1),
        BlockedKFoldSplitter(timeCol="day", numFolds=3, gap=1),
        KFoldSplitter(numFolds=2, seed=3),
        IgnoresItsGap(gap=0),
    ],
    ids=repr,
)
def test_correct_splitters_pass(splitter, days):
    assert_no_leakage(splitter, days)


def test_overrides_beat_the_splitters_own_word(days):
    # A blocked splitter trains on the future: audited as forward chaining it fails, as it should.
    blocked = BlockedKFoldSplitter(timeCol="day", numFolds=2)
    assert audit_splitter(blocked, days).ok
    assert audit_splitter(blocked, days, forward=True).violations[0] == (
        "fold 0: training time 7 is not clear of validation time 0 by gap=0 (time points)"
    )
    # The time column decides what a tie is: ordered by row id, the same folds are clean.
    assert audit_splitter(SplitsATie(), days, time_col="id").ok


def test_bad_auditor_arguments(days):
    with pytest.raises(ValueError, match=r"gap='7 days' is a calendar duration, but timeCol='day' holds integers"):
        audit_splitter(IgnoresItsGap(), days, gap="7 days")
    with pytest.raises(TypeError, match="gap=True"):
        audit_splitter(IgnoresItsGap(), days, gap=True)
    with pytest.raises(ValueError, match="time_col='nope' is not a column"):
        audit_splitter(IgnoresItsGap(), days, time_col="nope")


# -- a custom splitter in a dozen lines: split, described and audited in one line -------------------
class LastDays(FoldSplitter):
    """Validate on each of the last ``k`` days, train on everything before it."""

    forwardChaining = True
    timeCol = "day"

    def __init__(self, k: int = 3) -> None:
        super().__init__()
        self.k = k

    def _fold_conditions(self, dataset):
        last = dataset.agg(F.max("day")).first()[0]
        for cut in range(last - self.k + 1, last + 1):
            yield F.col("day") < cut, F.col("day") == cut


def test_custom_splitter_in_a_dozen_lines(days):
    splitter = LastDays(3)
    folds, infos, report = splitter.split(days), splitter.describe(days), audit_splitter(splitter, days)
    assert report.ok, str(report)
    assert [(i.train_rows, i.validation_rows, i.train_end, i.validation_start) for i in infos] == [
        (10, 2, 4, 5),
        (12, 2, 5, 6),
        (14, 2, 6, 7),
    ]
    assert [(t.count(), v.count()) for t, v in folds] == [(10, 2), (12, 2), (14, 2)]


def test_audit_runs_as_many_spark_jobs_for_50_folds_as_for_5(spark):
    df = spark.createDataFrame([(d, float(d)) for d in range(60)], "day int, y double")
    sc = spark.sparkContext
    jobs = {}
    for k in (5, 50):
        group = f"splitcv-audit-{uuid.uuid4().hex}"
        sc.setJobGroup(group, "counting audit jobs", interruptOnCancel=False)
        try:
            assert audit_splitter(LastDays(k), df).num_folds == k
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)
            sc.setLocalProperty("spark.job.description", None)
            sc.setLocalProperty("spark.job.interruptOnCancel", None)
        sc._jsc.sc().listenerBus().waitUntilEmpty(10_000)
        jobs[k] = len(sc.statusTracker().getJobIdsForGroup(group))
    assert jobs[5] == jobs[50] >= 1, jobs


class SplitsPatients(FoldSplitter):
    """Declares a group column, then splits by row parity: every patient ends up on both sides."""

    groupCol = Param(Params._dummy(), "groupCol", "the group column", typeConverter=TypeConverters.toString)

    def __init__(self) -> None:
        super().__init__()
        self._set(groupCol="patient")

    def _fold_conditions(self, dataset):
        yield F.col("i") % 2 == 0, F.col("i") % 2 == 1
        yield F.col("i") % 2 == 1, F.col("i") % 2 == 0


def test_groups_check_names_the_split_group(spark):
    df = spark.createDataFrame([(i, f"p{i // 4}") for i in range(12)], "i int, patient string")
    report = audit_splitter(SplitsPatients(), df)
    assert "groups of 'patient' kept whole" in report.checks
    assert report.violations == [
        "fold 0: group 'p0' of 'patient' has rows in training and validation (and 2 more)",
        "fold 1: group 'p0' of 'patient' has rows in training and validation (and 2 more)",
    ]
    assert audit_splitter(GroupKFoldSplitter(groupCol="patient", numFolds=3), df).ok
    # the check also runs on request, for any column
    assert not audit_splitter(KFoldSplitter(numFolds=2), df, groups="patient").ok


# -- check_splitter: the contract suite, offered to users ----------------------------------------------
def test_check_splitter_passes_a_custom_splitter(days, tmp_path):
    from splitcv.testing import check_splitter

    checks = check_splitter(LastDays(3), days, save_path=str(tmp_path / "last-days"))
    assert checks[-1] == "save and load keep the Params" and len(checks) == 6


def test_check_splitter_leaves_no_directory_behind(days, tmp_path, monkeypatch):
    import tempfile

    from splitcv.testing import check_splitter

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its temporary directory goes
    assert check_splitter(LastDays(3), days)[-1] == "save and load keep the Params"
    assert list(tmp_path.iterdir()) == []


class MiscountedLastDays(LastDays):
    """Describes its folds with one training row too many."""

    def _fold_set(self, dataset, classes=None):
        from dataclasses import replace

        from splitcv.splitters.base import FoldSet, measure_folds

        conditions = list(self._fold_conditions(dataset))
        infos = [replace(i, train_rows=i.train_rows + 1) for i in measure_folds(dataset, conditions, "day")]
        return FoldSet(conditions, infos)


def test_check_splitter_names_the_broken_promise(days):
    from splitcv.testing import check_splitter

    with pytest.raises(AssertionError, match=r"TrainsOnTheFuture: .*|fold 0: training time"):
        check_splitter(TrainsOnTheFuture(), days)
    with pytest.raises(AssertionError, match=r"MiscountedLastDays: fold 0 has 10 training and 2 validation rows, but describe says 11 and 2"):
        check_splitter(MiscountedLastDays(3), days)
