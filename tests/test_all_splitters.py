"""One contract every splitter keeps, built-in or custom, checked on the Spark path.

Each case is a splitter factory taking the number of folds. On one small irregular panel dataset
(three series, one of them starting late; integer, DATE, TIMESTAMP and TIMESTAMP_NTZ time columns), every case:
splits into non-empty disjoint folds that ``describe`` counts exactly; passes the leakage auditor;
agrees with ``getNumFolds``; survives a save/load round trip with its Params; and runs the same
number of Spark jobs for 5 folds as for 50.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from typing import Callable, Iterator

import pytest
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from splitcv import (
    BlockedKFoldSplitter,
    CombinatorialPurgedSplitter,
    ExpandingWindowSplitter,
    FoldInfo,
    FoldSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    SlidingWindowSplitter,
    StratifiedKFoldSplitter,
)
from splitcv.testing import assert_no_leakage

START_DATE = dt.date(2021, 1, 1)
START_TS = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
START_NTZ = dt.datetime(2021, 1, 1)
POINTS = 150  # distinct time points; a fifth of the calendar is missing (irregular)


class EveryKthDay(FoldSplitter):
    """A custom forward splitter: validate on each of the last ``numFolds`` time points."""

    forwardChaining = True
    timeCol = "t"
    numFolds = Param(Params._dummy(), "numFolds", "number of folds", typeConverter=TypeConverters.toInt)

    def __init__(self, numFolds: int = 3) -> None:
        super().__init__()
        self._set(numFolds=numFolds)

    def _fold_conditions(self, dataset):
        times = sorted(r[0] for r in dataset.select("t").distinct().collect())
        for cut in times[-self.getOrDefault(self.numFolds) :]:
            yield F.col("t") < cut, F.col("t") == cut


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[int], FoldSplitter]

    def __repr__(self) -> str:
        return self.name


CASES = [
    Case("kfold-random", lambda k: KFoldSplitter(numFolds=k, seed=7)),
    Case("kfold-foldCol", lambda k: KFoldSplitter(numFolds=k, foldCol=f"f{k}")),
    Case("stratified", lambda k: StratifiedKFoldSplitter(labelCol="series", numFolds=k, seed=3)),
    Case("group", lambda k: GroupKFoldSplitter(groupCol="t", numFolds=k)),
    Case("expanding-int", lambda k: ExpandingWindowSplitter(timeCol="t", horizon=2, numFolds=k)),
    Case("expanding-int-gap-step", lambda k: ExpandingWindowSplitter(timeCol="t", horizon=3, step=1, gap=2, numFolds=k)),
    Case("expanding-int-initial", lambda k: ExpandingWindowSplitter(timeCol="t", horizon=1, initialWindow=20, numFolds=k)),
    Case("expanding-date", lambda k: ExpandingWindowSplitter(timeCol="d", horizon="2 days", gap="1 day", numFolds=k)),
    Case(
        "expanding-timestamp",
        lambda k: ExpandingWindowSplitter(timeCol="ts", horizon="2 hours", gap="3 hours", initialWindow="1 day", numFolds=k),
    ),
    Case(
        "expanding-timestamp-ntz",
        lambda k: ExpandingWindowSplitter(timeCol="ntz", horizon="3 hours", step="2 hours", gap="1 hour", numFolds=k),
    ),
    Case("sliding-int", lambda k: SlidingWindowSplitter(timeCol="t", windowSize=10, horizon=1, gap=1, numFolds=k)),
    Case(
        "sliding-date",
        lambda k: SlidingWindowSplitter(timeCol="d", windowSize="2 weeks", horizon="1 week", step="1 day", gap="1 day", numFolds=k),
    ),
    Case(
        "sliding-timestamp",
        lambda k: SlidingWindowSplitter(timeCol="ts", windowSize="12 hours", horizon="2 hours", step="1 hour", numFolds=k),
    ),
    Case("blocked-int", lambda k: BlockedKFoldSplitter(timeCol="t", numFolds=k, gap=1)),
    Case("blocked-date", lambda k: BlockedKFoldSplitter(timeCol="d", numFolds=k, gap="3 days")),
    Case("blocked-timestamp", lambda k: BlockedKFoldSplitter(timeCol="ts", numFolds=k)),
    Case("blocked-purged", lambda k: BlockedKFoldSplitter(timeCol="t", numFolds=k, labelEndCol="t_end", embargo=1)),
    Case("combinatorial", lambda k: CombinatorialPurgedSplitter(timeCol="d", numGroups=k, numTestGroups=1, embargo="2 days")),
    Case("custom", lambda k: EveryKthDay(numFolds=k)),
]


@pytest.fixture(scope="module")
def panel(spark) -> DataFrame:
    """Three series on one irregular time axis (every fifth step skipped); series 'c' starts late.

    ``t`` counts steps, ``d`` is a DATE ``t`` days after 2021-01-01, ``ts`` a TIMESTAMP and ``ntz`` a
    TIMESTAMP_NTZ ``t`` hours after it; ``f5``/``f50`` are fold columns for k-fold with user folds;
    ``t_end`` is a label end 0-2 steps after ``t``, for purging.
    """
    steps = [i + i // 4 for i in range(POINTS)]
    rows = []
    for series in ("a", "b", "c"):
        for step in steps[10 if series == "c" else 0 :]:
            row = len(rows)
            rows.append(
                (series, step, START_DATE + dt.timedelta(days=step), START_TS + dt.timedelta(hours=step),
                 START_NTZ + dt.timedelta(hours=step), float(step % 7), row % 5, row % 50, row, step + row % 3)
            )
    schema = "series string, t int, d date, ts timestamp, ntz timestamp_ntz, y double, f5 int, f50 int, row int, t_end int"
    frame = spark.createDataFrame(rows, schema).cache()
    frame.count()  # cached now, not inside the first test (which must leave the session's caches as found)
    yield frame
    frame.unpersist()


@dataclass
class Planned:
    """What ``split()`` then ``describe()`` gave for one case and number of folds, and how many Spark
    jobs the two ran together."""

    folds: list[tuple[DataFrame, DataFrame]]
    infos: list[FoldInfo]
    jobs: int


@pytest.fixture(scope="module")
def planned(spark, panel) -> Callable[[Case, int], Planned]:
    """``planned(case, k)``: a fresh ``case.make(k)``'s ``split(panel)`` and ``describe(panel)``, run once
    per module under a job counter. The exactness test and the job-count test both need the 5-fold
    split and description, and the auditor test the 5-fold split: planning them once rather than in
    each test removes repeated planning jobs. Splitters are deterministic (seeds are fixed), so a
    second fresh splitter with the same Params would plan the same folds."""
    done: dict[tuple[str, int], Planned] = {}

    def plan(case: Case, k: int) -> Planned:
        if (case.name, k) not in done:
            splitter = case.make(k)
            with spark_jobs(spark) as ids:
                folds = splitter.split(panel)
                infos = splitter.describe(panel)
            done[(case.name, k)] = Planned(folds, infos, len(ids))
        return done[(case.name, k)]

    return plan


def collect_folds(folds: list[tuple[DataFrame, DataFrame]]) -> dict[tuple[int, str], list[int]]:
    """The row ids of every fold's training and validation DataFrames, in one Spark job."""
    parts = [
        df.select(F.lit(i).alias("fold"), F.lit(side).alias("side"), "row")
        for i, (train, validation) in enumerate(folds)
        for side, df in (("train", train), ("validation", validation))
    ]
    found: dict[tuple[int, str], list[int]] = {(i, side): [] for i in range(len(folds)) for side in ("train", "validation")}
    for r in reduce(DataFrame.unionAll, parts).collect():
        found[(r["fold"], r["side"])].append(r["row"])
    return found


@contextmanager
def spark_jobs(spark) -> Iterator[list[int]]:
    """Collect the ids of the Spark jobs the block runs (on this thread), via a job group."""
    sc = spark.sparkContext
    group = f"splitcv-test-{uuid.uuid4().hex}"
    sc.setJobGroup(group, "counting jobs", interruptOnCancel=False)
    ids: list[int] = []
    try:
        yield ids
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        sc.setLocalProperty("spark.job.interruptOnCancel", None)
        ids.extend(settled_job_ids(spark, group))


def settled_job_ids(spark, group: str) -> list[int]:
    """Job ids of ``group`` once Spark's listener has seen every submitted job."""
    try:
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(10_000)
    except Exception:  # the listener bus is internal API; fall back to waiting for a stable answer
        pass
    tracker = spark.sparkContext.statusTracker()
    last, stable = None, 0
    while stable < 3:
        now = sorted(tracker.getJobIdsForGroup(group))
        stable = stable + 1 if now == last else 0
        last = now
        time.sleep(0.02)
    return last or []


# -- the contract ------------------------------------------------------------------------------------
def test_every_built_in_splitter_has_a_case():
    """A new splitter exported from splitcv cannot be left out of this suite."""
    import inspect

    import splitcv

    built_in = {
        cls for cls in (getattr(splitcv, name) for name in splitcv.__all__)
        if inspect.isclass(cls) and issubclass(cls, FoldSplitter) and cls is not FoldSplitter
    }
    covered = {type(case.make(5)) for case in CASES}
    assert built_in - covered == set(), f"splitters with no contract case: {sorted(c.__name__ for c in built_in - covered)}"


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_split_is_non_empty_disjoint_and_described_exactly(case, planned):
    five = planned(case, 5)
    assert len(five.folds) == 5
    rows = collect_folds(five.folds)
    infos = five.infos
    assert [i.fold for i in infos] == list(range(5))
    for info in infos:
        train, validation = rows[(info.fold, "train")], rows[(info.fold, "validation")]
        assert train and validation, f"fold {info.fold} is empty on one side"
        assert not set(train) & set(validation), f"fold {info.fold} shares rows"
        assert len(set(train)) == len(train) and len(set(validation)) == len(validation)
        assert (info.train_rows, info.validation_rows) == (len(train), len(validation))


@pytest.mark.filterwarnings("ignore::splitcv.TooManyFoldsWarning")  # many short folds on purpose
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_auditor_passes_and_fold_count_agrees(case, panel, planned):
    splitter = case.make(5)
    assert_no_leakage(splitter, panel)
    assert splitter.countFolds(panel) == len(planned(case, 5).folds) == 5
    # Without numFolds, the data decides; getNumFolds still matches split.
    if splitter.hasParam("numFolds") and isinstance(splitter, (ExpandingWindowSplitter, SlidingWindowSplitter)):
        splitter.setNumFolds(None)
        assert splitter.countFolds(panel) == len(splitter.split(panel)) > 5


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_save_and_load_keep_params(case, tmp_path):
    splitter = case.make(5)
    path = str(tmp_path / "splitter")
    splitter.write().overwrite().save(path)
    loaded = type(splitter).load(path)
    assert type(loaded) is type(splitter)

    def params(s: FoldSplitter) -> dict:
        return {p.name: v for p, v in s.extractParamMap().items()}

    assert params(loaded) == params(splitter)
    assert {p.name for p in loaded.params if loaded.isSet(p)} == {p.name for p in splitter.params if splitter.isSet(p)}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_spark_jobs_do_not_grow_with_folds(case, planned):
    jobs = {}
    for k in (5, 50):
        plan = planned(case, k)  # split() and describe() of a fresh splitter, counted by job group
        assert len(plan.folds) == len(plan.infos) == k
        jobs[k] = plan.jobs
    assert jobs[5] == jobs[50], f"split()+describe() ran {jobs[5]} Spark jobs for 5 folds, {jobs[50]} for 50"
    assert jobs[5] >= 1, "the job group saw no job: the counting itself is broken"
