"""What a failed fit shows: one exception whose first line names the fold, the param map and the
cause, no thread-pool frames, and no JVM log lines for the jobs the fit cancels on purpose."""

from __future__ import annotations

import re
import threading
import time
import traceback
from contextlib import contextmanager

import pytest
from pyspark.ml.base import Estimator
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.regression import LinearRegression
from pyspark.sql import functions as F

from estimators import ConstantModel, Watched
from splitcv import KFoldSplitter, ParallelCrossValidator
from splitcv.queue import TaskFailed


@pytest.fixture(scope="module")
def days(spark):
    return spark.createDataFrame([(d, 2.0 * d + (d % 5)) for d in range(120)], ["day", "label"])


def _fit_failing(estimator, maps, days, folds=3, parallelism=2) -> TaskFailed:
    cv = ParallelCrossValidator(
        estimator=estimator, estimatorParamMaps=maps, evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=folds), parallelism=parallelism,
    )
    with pytest.raises(TaskFailed) as info:
        cv.fit(days)
    return info.value


def test_the_first_line_names_fold_param_map_and_cause_and_no_pool_frames_are_shown(spark, days):
    Watched.reset()
    est = Watched()
    error = _fit_failing(est, [{est.failOn: False}, {est.failOn: True}], days)
    first = str(error).splitlines()[0]
    # Folds count from 0 (as in foldMetrics and describe()); "of folds 0-2" says so and how many.
    assert re.fullmatch(r"fold [0-2] of folds 0-2 with param map 1 \{failOn: True\} failed: RuntimeError: failing on purpose", first), first
    assert "longest" in str(error), "the message says tasks run longest first, so the fold named is seldom fold 0"
    shown = "".join(traceback.format_exception(error))
    assert f"splitcv.queue.TaskFailed: {first}" in shown.splitlines()
    for plumbing in ("concurrent/futures", "pyspark/util.py", "in tagged"):
        assert plumbing not in shown, f"{plumbing!r} in the traceback a user sees:\n{shown}"
    # The original error stays chained, with its frames from the task's work to where it was raised.
    cause = error.__cause__
    assert isinstance(cause, RuntimeError) and str(cause) == "failing on purpose"
    frames = traceback.extract_tb(cause.__traceback__)
    assert frames[0].name == "work" and frames[-1].name == "_fit", [f.name for f in frames]


class CallsJava(Estimator):
    """Fails inside a JVM call with an exception pyspark does not convert: a Py4JJavaError, whose
    message starts 'An error occurred while calling' and goes on with the Java stack trace."""

    def _fit(self, dataset):
        dataset.sparkSession.sparkContext._jvm.java.lang.Class.forName("no.such.Class")
        return ConstantModel(0.0)


def test_a_java_error_is_named_by_the_java_exception_not_by_py4j_s_preamble(spark, days):
    error = _fit_failing(CallsJava(), [{}], days, folds=2, parallelism=1)
    first = str(error).splitlines()[0]
    assert first.endswith("failed: Py4JJavaError: java.lang.ClassNotFoundException: no.such.Class"), first
    assert "\tat " not in str(error), "the Java stack trace stays in the chained error"
    assert type(error.__cause__).__name__ == "Py4JJavaError"


@contextmanager
def _jvm_log(spark):
    """Everything the driver's log4j2 passes to its appenders (ERROR and up in the test session)."""
    jvm = spark.sparkContext._jvm
    core = jvm.org.apache.logging.log4j.core
    context = jvm.org.apache.logging.log4j.LogManager.getContext(False)
    writer = jvm.java.io.StringWriter()
    layout = core.layout.PatternLayout.newBuilder().withPattern("%p %c{1}: %m%n").build()
    appender = core.appender.WriterAppender.createAppender(layout, None, writer, "splitcv-test-capture", False, True)
    appender.start()
    root = context.getConfiguration().getRootLogger()
    root.addAppender(appender, None, None)
    context.updateLoggers()
    try:
        yield writer
    finally:
        root.removeAppender("splitcv-test-capture")
        appender.stop()
        context.updateLoggers()


class FitsSlowlyOrFails(Estimator):
    """``failOn``: fail once another map's LinearRegression is running a long job (a Python UDF
    that sleeps per row), so that the fit cancels it; Spark ML then logs the cancelled job as an
    ERROR with its stack trace."""

    failOn = Param(Params._dummy(), "failOn", "raise when the other fit runs", typeConverter=TypeConverters.toBoolean)
    started = threading.Event()
    seen: list = []

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(failOn=False)

    def _fit(self, dataset):
        if self.getOrDefault(self.failOn):
            FitsSlowlyOrFails.started.wait(60)
            time.sleep(1.0)
            raise RuntimeError("failing on purpose")

        @F.udf("double")
        def slow(day):
            time.sleep(0.1)
            return float(day)

        features = VectorAssembler(inputCols=["x"], outputCol="features").transform(dataset.withColumn("x", slow("day")))
        FitsSlowlyOrFails.started.set()
        try:
            return LinearRegression().fit(features)
        except Exception as error:
            FitsSlowlyOrFails.seen.append(str(error))
            raise


def test_the_jvm_logs_nothing_for_the_jobs_the_fit_cancels_and_other_errors_still(spark, days):
    FitsSlowlyOrFails.started.clear()
    FitsSlowlyOrFails.seen.clear()
    est = FitsSlowlyOrFails()
    with _jvm_log(spark) as log:
        error = _fit_failing(est, [{est.failOn: False}, {est.failOn: True}], days, folds=2, parallelism=2)
        assert "failing on purpose" in str(error)
        assert any("SPARK_JOB_CANCELLED" in seen for seen in FitsSlowlyOrFails.seen), "no fit was cancelled mid-job"
        jvm = spark.sparkContext._jvm
        jvm.org.apache.logging.log4j.LogManager.getLogger("splitcv.test").error(
            "[SPARK_JOB_CANCELLED] Job 1 cancelled part of cancelled job tags somebody-else"
        )
        logged = log.toString()
    assert "splitcv-fit-" not in logged, logged
    assert "ERROR test: [SPARK_JOB_CANCELLED] Job 1 cancelled part of cancelled job tags somebody-else" in logged


def test_ctrl_c_logs_nothing_for_the_jobs_it_cancels_and_puts_pysparks_handler_back(spark, days):
    # pyspark's SIGINT handler cancels every job of the context ("cancellation of all jobs", which
    # no filter can tell from a user's); during the queue Ctrl-C only raises, and the fit cancels
    # its own jobs by their tag
    import os
    import signal

    handler = signal.getsignal(signal.SIGINT)
    assert handler.__module__.startswith("pyspark"), "the test needs pyspark's own handler in place"
    FitsSlowlyOrFails.started.clear()
    FitsSlowlyOrFails.seen.clear()
    est = FitsSlowlyOrFails()
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.failOn: False}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2), parallelism=2,
    )

    def interrupt():
        FitsSlowlyOrFails.started.wait(60)
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGINT)

    with _jvm_log(spark) as log:
        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            cv.fit(days)
        deadline = time.time() + 10
        while spark.sparkContext.statusTracker().getActiveJobsIds() and time.time() < deadline:
            time.sleep(0.1)
        logged = log.toString()
    assert any("SPARK_JOB_CANCELLED" in seen for seen in FitsSlowlyOrFails.seen), "no fit was cancelled mid-job"
    assert "SPARK_JOB_CANCELLED" not in logged, logged
    assert signal.getsignal(signal.SIGINT) is handler
