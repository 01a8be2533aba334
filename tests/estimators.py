"""Small Python estimators that let tests watch and break the validator's queue, and helpers the
test modules share (job counting, a real data set)."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from pyspark.ml.base import Estimator, Model
from pyspark.ml.evaluation import Evaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.regression import LinearRegression
from pyspark.sql import functions as F


class ConstantModel(Model):
    def __init__(self, value: float = 0.0) -> None:
        super().__init__()
        self.value = value

    def _transform(self, dataset):
        return dataset.withColumn("prediction", F.lit(float(self.value)))


class Watched(Estimator):
    """Fits a mean-of-label model and records how many distinct training sets are in flight."""

    hold = Param(Params._dummy(), "hold", "seconds each fit waits", typeConverter=TypeConverters.toFloat)
    failOn = Param(Params._dummy(), "failOn", "raise when this param map is fitted", typeConverter=TypeConverters.toBoolean)

    lock = threading.Lock()
    in_flight: dict = {}
    max_distinct = 0
    calls = 0

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(hold=0.0, failOn=False)

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.in_flight, cls.max_distinct, cls.calls = {}, 0, 0

    def _fit(self, dataset):
        key = id(dataset)
        with Watched.lock:
            Watched.calls += 1
            Watched.in_flight[key] = Watched.in_flight.get(key, 0) + 1
            Watched.max_distinct = max(Watched.max_distinct, len(Watched.in_flight))
        try:
            if self.getOrDefault(self.failOn):
                raise RuntimeError("failing on purpose")
            time.sleep(self.getOrDefault(self.hold))
            mean = dataset.agg(F.avg("label")).first()[0]
            return ConstantModel(mean)
        finally:
            with Watched.lock:
                Watched.in_flight[key] -= 1
                if not Watched.in_flight[key]:
                    del Watched.in_flight[key]


class SlowJob(Estimator):
    """Each fit runs one long Spark job (a Python UDF that sleeps per row); ``failOn`` fails fast."""

    failOn = Param(Params._dummy(), "failOn", "raise at once", typeConverter=TypeConverters.toBoolean)
    seconds = Param(Params._dummy(), "seconds", "sleep per row", typeConverter=TypeConverters.toFloat)
    started = threading.Event()

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(failOn=False, seconds=0.05)

    def _fit(self, dataset):
        if self.getOrDefault(self.failOn):
            SlowJob.started.wait(30)  # fail only once a slow job is running
            time.sleep(1.0)
            raise RuntimeError("failing on purpose")
        seconds = self.getOrDefault(self.seconds)

        @F.udf("double")
        def slow(x):
            time.sleep(seconds)
            return float(x)

        SlowJob.started.set()
        dataset.repartition(2).select(slow(F.col("label")).alias("v")).agg(F.sum("v")).collect()
        return ConstantModel(0.0)


class CountsFitMultiple(Estimator):
    """An estimator that fits all param maps in one pass, as some do: counts fitMultiple calls."""

    calls = 0

    def _fit(self, dataset):
        return LinearRegression().fit(dataset)

    def fitMultiple(self, dataset, paramMaps):
        CountsFitMultiple.calls += 1
        model = LinearRegression().fit(dataset)
        return iter([(i, model) for i in range(len(paramMaps))])


class Constant(Estimator):
    """Predicts ``value``, or NaN once its training set reaches past ``nanFrom`` on column ``t``
    (an undefined metric on the later folds of a time split)."""

    value = Param(Params._dummy(), "value", "the prediction", typeConverter=TypeConverters.toFloat)
    nanFrom = Param(Params._dummy(), "nanFrom", "predict NaN when max(t) >= this", typeConverter=TypeConverters.toFloat)

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(value=0.0, nanFrom=float("inf"))

    def _fit(self, dataset):
        last = dataset.agg(F.max("t")).first()[0]
        nan = last is not None and last >= self.getOrDefault(self.nanFrom)
        return ConstantModel(float("nan") if nan else self.getOrDefault(self.value))


class MeanPrediction(Evaluator):
    """The mean prediction, larger is better: NaN when the predictions are."""

    def _evaluate(self, dataset):
        return float(dataset.agg(F.avg("prediction")).first()[0])

    def isLargerBetter(self) -> bool:
        return True


class CachesTrainingSet(Estimator):
    """Caches its training set while it fits, as LogisticRegression does, and records how many
    fits were in flight at once.

    Each fit caches a plan of its own (a column with the fit's number), as LogisticRegression
    persists an RDD of its own: two fits of one fold caching the same plan would share one cache
    entry, and when the first unpersists it the second's job rebuilds the cache outside any entry,
    leaving an RDD that only Spark's garbage-driven cleaner removes.
    """

    hold = Param(Params._dummy(), "hold", "seconds each fit holds its cache", typeConverter=TypeConverters.toFloat)
    lock = threading.Lock()
    in_flight = 0
    most = 0
    fits = 0

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(hold=0.3)

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.in_flight, cls.most = 0, 0

    def _fit(self, dataset):
        with CachesTrainingSet.lock:
            CachesTrainingSet.in_flight += 1
            CachesTrainingSet.most = max(CachesTrainingSet.most, CachesTrainingSet.in_flight)
            CachesTrainingSet.fits += 1
            fit_number = CachesTrainingSet.fits
        cached = dataset.withColumn("_fit", F.lit(fit_number)).cache()
        try:
            mean = cached.agg(F.avg("label")).first()[0]
            time.sleep(self.getOrDefault(self.hold))
            return ConstantModel(mean)
        finally:
            cached.unpersist(blocking=True)
            with CachesTrainingSet.lock:
                CachesTrainingSet.in_flight -= 1


def count_fits(monkeypatch, cls) -> list:
    """Patch ``cls._fit`` (for the test's duration) to record each fit's thread name; return the list."""
    calls: list = []
    original = cls._fit

    def counted(self, dataset):
        calls.append(threading.current_thread().name)
        return original(self, dataset)

    monkeypatch.setattr(cls, "_fit", counted)
    return calls


def jobs_settled(sc) -> None:
    """Wait until Spark's listener bus has delivered its events: the status tracker learns of jobs
    asynchronously, so a count taken right after an action can miss its last jobs (a count came out
    2 short once in CI, under two xdist workers)."""
    try:
        sc._jsc.sc().listenerBus().waitUntilEmpty(10_000)
    except Exception:
        time.sleep(0.2)


@contextmanager
def no_spark_job(spark) -> Iterator[None]:
    """Fail if the block runs a Spark job (on this thread)."""
    sc = spark.sparkContext
    group = f"splitcv-no-job-{uuid.uuid4().hex}"
    sc.setJobGroup(group, "must run no job", interruptOnCancel=False)
    try:
        yield
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        sc.setLocalProperty("spark.job.interruptOnCancel", None)
        jobs_settled(sc)
        jobs = sc.statusTracker().getJobIdsForGroup(group)
        assert not jobs, f"{len(jobs)} Spark jobs ran before the error"


def jobs_of(spark, action: Callable[[], Any]) -> tuple[Any, int]:
    """``action()``'s result and the number of Spark jobs it ran (from this thread and the threads
    it starts, which inherit the job group)."""
    sc = spark.sparkContext
    group = f"splitcv-count-{uuid.uuid4().hex}"
    sc.setJobGroup(group, group)
    try:
        result = action()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
    jobs_settled(sc)
    return result, len(sc.statusTracker().getJobIdsForGroup(group))


def macro_investment(spark, weighted: bool = False):
    """statsmodels' quarterly US macro data as a regression: real investment (``label``) from GDP,
    consumption, the T-bill rate and unemployment (``features``), the quarter's number in ``t``;
    with ``weighted``, a weight ``w`` of 0-3 that includes zeros (evaluators leave those rows out)."""
    import statsmodels.api as sm
    from pyspark.ml.feature import VectorAssembler

    data = sm.datasets.macrodata.load_pandas().data
    data["t"] = range(len(data))
    columns = ["t", "realinv", "realgdp", "realcons", "tbilrate", "unemp"]
    if weighted:
        data["w"] = [float(i % 4) for i in range(len(data))]
        columns.append("w")
    frame = spark.createDataFrame(data[columns]).withColumnRenamed("realinv", "label")
    return VectorAssembler(inputCols=["realgdp", "realcons", "tbilrate", "unemp"], outputCol="features").transform(frame)
