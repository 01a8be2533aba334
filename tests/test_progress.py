"""Progress and the result callback (issue 14, part 1).

Oracles: the callback's results against the model's own ``foldMetrics`` and ``summary()``; the
time left against a simulated run whose true remaining time is known; the best mean so far against
a brute-force mean over the results fed in; log lines against a count of 5% steps; thread safety
by a lock that detects a second entry."""

from __future__ import annotations

import io
import itertools
import logging
import math
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.ml.base import Estimator, Model
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasPredictionCol
from pyspark.ml.regression import LinearRegression
from pyspark.sql import functions as F

from estimators import Constant, MeanPrediction, Watched
from splitcv import (
    ExpandingWindowSplitter,
    KFoldSplitter,
    ParallelCrossValidator,
    TaskResult,
    nested_cross_validate,
)
from splitcv import progress as progress_module
from splitcv.progress import LOGGER_NAME, FitProgress
from splitcv.queue import THREAD_PREFIX, TaskFailed


@pytest.fixture(scope="module")
def days(spark):
    rows = [(d, Vectors.dense([float(d), float(d % 7)]), 2.0 * d + (d % 5)) for d in range(60)]
    return spark.createDataFrame(rows, ["day", "features", "label"])


@pytest.fixture
def no_tqdm(monkeypatch):
    """Make ``import tqdm`` fail, as where the extra is not installed."""
    for name in [n for n in sys.modules if n == "tqdm" or n.startswith("tqdm.")] + ["tqdm", "tqdm.auto"]:
        monkeypatch.setitem(sys.modules, name, None)


def _log_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]


def _task_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def _watched_cv(**kwargs):
    est = Watched()
    grid = [{est.hold: 0.0}, {est.hold: 0.01}]
    return ParallelCrossValidator(
        estimator=est, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), refit=False,
        splitter=KFoldSplitter(numFolds=3, seed=1), **kwargs,
    )


class _MeanShiftModel(Model, HasPredictionCol):
    def __init__(self, value: float = 0.0) -> None:
        super().__init__()
        self.value = value

    def _transform(self, dataset):
        return dataset.withColumn(self.getPredictionCol(), F.lit(self.value))


class _MeanShift(Estimator, HasPredictionCol):
    """Predicts the training mean plus ``shift``: cheap, and with a ``predictionCol`` the one-pass
    scorer can redirect, so a fold's maps are scored together (as LinearRegression's are)."""

    shift = Param(Params._dummy(), "shift", "added to the mean", typeConverter=TypeConverters.toFloat)

    def __init__(self) -> None:
        super().__init__()
        self._setDefault(shift=0.0)

    def _fit(self, dataset):
        mean = dataset.agg(F.avg("label")).first()[0]
        return self._copyValues(_MeanShiftModel(mean + self.getOrDefault(self.shift)))


class _Recorder:
    """A callback that records its results, the threads it ran on, and any concurrent entry."""

    def __init__(self, pause: float = 0.0) -> None:
        self.results: list[TaskResult] = []
        self.threads: set[str] = set()
        self.overlaps = 0
        self._inside = threading.Lock()
        self._pause = pause

    def __call__(self, result: TaskResult) -> None:
        if not self._inside.acquire(blocking=False):
            self.overlaps += 1
            return
        try:
            self.threads.add(threading.current_thread().name)
            time.sleep(self._pause)  # widen the window a second entry would hit
            self.results.append(result)
        finally:
            self._inside.release()


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# -- the callback on Spark ---------------------------------------------------------------------------


@pytest.mark.parametrize("one_pass", [True, False])
def test_callback_gets_every_fold_and_map_once_with_the_models_metrics(spark, days, one_pass, capsys, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    # With 3 maps and a predictionCol, a fold's maps are scored in one pass once the last is fitted
    # (the results come per fold); Watched (no prediction column) has each task score its own map.
    est = _MeanShift() if one_pass else Watched()
    grid = [{est.shift: v} for v in (0.0, 1.0, 5.0)] if one_pass else [{est.hold: h} for h in (0.0, 0.01, 0.02)]
    record = _Recorder(pause=0.02)
    model = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), refit=False,
        splitter=ExpandingWindowSplitter(timeCol="day", horizon=5, numFolds=2), parallelism=3,
        progress=False, callback=record,
    ).fit(days)
    seen = [(r.fold, r.paramMapIndex) for r in record.results]
    assert sorted(seen) == [(f, j) for f in range(2) for j in range(3)]  # each exactly once
    for r in record.results:
        assert _same(r.metric, model.foldMetrics[r.fold][r.paramMapIndex])
        assert r.params == model.cvResults["params"][r.paramMapIndex]
        assert r.fitSeconds >= 0 and r.scoreSeconds >= 0 and r.outerFold is None
    assert [r.done for r in record.results] == list(range(1, 7)) and {r.total for r in record.results} == {6}
    if one_pass:  # a fold's results come together, the pass's scoring time shared among its maps
        assert len([fold for fold, _ in itertools.groupby(r.fold for r in record.results)]) == 2
        assert all(len({r.scoreSeconds for r in record.results if r.fold == f}) == 1 for f in range(2))
    # progress=False: no line, no log record
    assert "splitcv" not in capsys.readouterr().err and not _log_lines(caplog)
    # one thread, the caller's, never two at once
    assert record.overlaps == 0 and record.threads == {threading.current_thread().name}


def test_a_raising_callback_fails_the_fit_clean(spark, days):
    calls = []

    def dashboard(result):
        calls.append(result)
        if len(calls) == 2:
            raise ValueError("the dashboard is down")

    Watched.reset()
    est = Watched()
    est._set(hold=0.2)  # tasks still in flight when the callback raises
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.failOn: False}] * 3, evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=3, seed=1), parallelism=2, callback=dashboard, progress=False,
    )
    with pytest.raises(TaskFailed, match=r"the callback 'test_a_raising_callback_fails_the_fit_clean.<locals>.dashboard' "
                       r"raised on the result of fold \d of folds 0-2 with param map \d .*ValueError: the dashboard is down"
                       ) as info:
        cv.fit(days)
    assert isinstance(info.value.__cause__, ValueError)
    assert len(calls) == 2  # no result after the failure
    assert _task_threads() == []  # the pool is gone; the autouse fixture checks no RDD is left cached
    assert not days.is_cached


def test_racing_never_reports_dropped_tasks(spark):
    df = spark.range(200).selectExpr("id as t", "cast(id % 7 as double) as label")
    est = Constant()
    grid = [{est.value: 0.0}, {est.value: 10.0}, {est.value: 10.0}]
    record = _Recorder()
    model = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=grid, evaluator=MeanPrediction(), refit=False, progress=False,
        splitter=KFoldSplitter(numFolds=4, seed=3), parallelism=2, racing=True, callback=record,
    ).fit(df)
    assert model.cvResults["dropped_after_fold"] == [1, None, None]
    ran = {(f, j) for f in range(4) for j in range(3) if not math.isnan(model.foldMetrics[f][j])}
    seen = [(r.fold, r.paramMapIndex) for r in record.results]
    assert sorted(seen) == sorted(ran) and len(ran) == 10  # map 0's folds 2 and 3 never ran
    totals = [r.total for r in record.results]
    assert totals[0] == 12 and totals[-1] == 10 and totals == sorted(totals, reverse=True)
    assert record.results[-1].done == record.results[-1].total


def test_nested_gives_each_inner_result_with_its_outer_fold(spark, days):
    record = _Recorder()
    inner = _watched_cv(callback=record, progress=False, parallelism=2)
    inner.setSplitter(ExpandingWindowSplitter(timeCol="day", horizon=5, numFolds=2))
    result = nested_cross_validate(inner, days, ExpandingWindowSplitter(timeCol="day", horizon=10, numFolds=2))
    keys = sorted((r.outerFold, r.fold, r.paramMapIndex) for r in record.results)
    assert keys == [(o, f, j) for o in range(2) for f in range(2) for j in range(2)]
    for o in range(2):
        for j in range(2):
            mean = np.mean([r.metric for r in record.results if (r.outerFold, r.paramMapIndex) == (o, j)])
            assert mean == pytest.approx(result.innerAvgMetrics[o][j], rel=1e-12)
    assert record.results[-1].done == record.results[-1].total == 8


# -- Params and persistence --------------------------------------------------------------------------


def test_param_errors_name_the_param_and_the_value():
    with pytest.raises(ValueError, match=r"progress='yes' is not one of True, False or 'auto'"):
        ParallelCrossValidator(progress="yes")
    with pytest.raises(TypeError, match=r"progress=None is not one of True, False or 'auto'"):
        ParallelCrossValidator().setProgress(None)
    with pytest.raises(TypeError, match=r"progress=1 is not one of"):
        ParallelCrossValidator(progress=1)
    with pytest.raises(TypeError, match=r"callback=5 is not callable"):
        ParallelCrossValidator(callback=5)
    with pytest.raises(TypeError, match=r"callback='print' is not callable"):
        ParallelCrossValidator().setCallback("print")
    cv = ParallelCrossValidator()
    assert (cv.getProgress(), cv.getCallback()) == ("auto", None)
    assert cv.setProgress(False).setCallback(print).getCallback() is print
    with pytest.raises(TypeError, match=r"callback=3 is not callable"):  # copy(extra) converts nothing
        cv.copy({cv.callback: 3})._check_config()


def test_a_validator_with_a_callback_saves_and_loads_without_it(spark, tmp_path):
    record, lr = _Recorder(), LinearRegression()
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2), callback=record, progress=True,
    )
    copied = cv.copy()
    assert copied.getCallback() is record and copied.getProgress() is True
    cv.write().save(str(tmp_path / "cv"))
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv"))
    assert loaded.getCallback() is None and loaded.getProgress() is True


# -- what is shown -----------------------------------------------------------------------------------


def test_progress_falls_back_to_log_lines_without_tqdm(spark, days, no_tqdm, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    _watched_cv(progress=True, parallelism=2).fit(days)
    lines = _log_lines(caplog)
    # 6 tasks: every task passes another 5% step; the last line is the end's
    assert [line.split(" tasks")[0] for line in lines] == [f"splitcv: {d}/6" for d in range(1, 7)]
    assert "elapsed" in lines[0] and "left" in lines[0] and "best rmse" in lines[0]
    assert lines[-1].startswith("splitcv: 6/6 tasks (100%) in ") and "best rmse" in lines[-1]
    assert "tqdm" not in {name for name, module in sys.modules.items() if module is not None}


def test_forced_progress_draws_a_tqdm_line(spark, days, capsys):
    pytest.importorskip("tqdm")
    _watched_cv(progress=True).fit(days)
    err = capsys.readouterr().err
    assert "splitcv: 100%" in err and "6/6 tasks" in err and "best rmse" in err


def test_auto_prints_nothing_when_stderr_is_not_a_terminal(spark, days, capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "AUTO_DELAY_SECONDS", 0.0)  # as if the fit ran long enough to show
    _watched_cv(progress="auto").fit(days)
    assert "splitcv" not in capsys.readouterr().err


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_auto_shows_a_line_in_a_terminal_after_the_delay(with_tqdm, monkeypatch, request):
    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        request.getfixturevalue("no_tqdm")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    now = [0.0]
    with FitProgress("auto", None, "rmse", larger_is_better=False, clock=lambda: now[0]) as progress:
        progress.add([1.0] * 4)
        progress.task_done(1.0)
        progress.refresh()
        assert terminal.getvalue() == ""  # not before the delay
        now[0] = progress_module.AUTO_DELAY_SECONDS + 1
        for _ in range(3):
            progress.task_done(1.0)
            progress.result(0, 0, {}, 0.25, 0.0, 0.0, str)
            progress.refresh()
    shown = terminal.getvalue()
    assert "4/4 tasks" in shown and "best rmse 0.25 (map 0)" in shown
    assert ("\r" in shown) == with_tqdm  # tqdm redraws one line; without it, lines


# -- the counting, without Spark ---------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 7, 20, 100, 333])
def test_a_log_line_each_five_percent_and_one_at_the_end(total, no_tqdm, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    with FitProgress(True, None, clock=lambda: 0.0) as progress:
        progress.add([1.0] * total)
        for _ in range(total):
            progress.task_done(1.0)
            progress.refresh()
    lines = _log_lines(caplog)
    # the 5%, 10%, ... 95% marks that the tasks done pass before the last task
    marks = [k for k in range(1, 20) if any(d * 20 >= k * total for d in range(1, total))]
    assert len(lines) == len({min(d for d in range(1, total) if d * 20 >= k * total) for k in marks}) + 1
    assert lines[-1] == f"splitcv: {total}/{total} tasks (100%) in 00:00"


def test_auto_waits_a_few_seconds_before_showing_anything(no_tqdm, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    now = [0.0]
    with FitProgress("auto", None, clock=lambda: now[0]) as progress:
        progress.add([1.0] * 10)
        for _ in range(5):
            progress.task_done(1.0)
            progress.refresh()
        assert _log_lines(caplog) == []  # the first seconds: nothing
        now[0] = progress_module.AUTO_DELAY_SECONDS + 1
        progress.task_done(1.0)
        progress.refresh()
        assert _log_lines(caplog) == ["splitcv: 6/10 tasks (60%), 00:04 elapsed, ~00:02 left"]
    with FitProgress("auto", None, clock=lambda: 0.0) as quick:  # a fit that ends at once: no line
        quick.add([1.0])
        quick.task_done(1.0)
    assert len(_log_lines(caplog)) == 2


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 1000), min_size=1, max_size=30), st.sets(st.integers(0, 29)))
def test_time_left_is_exact_when_time_grows_with_training_rows(rows, dropped):
    """A run whose tasks take time in proportion to their training rows, one at a time, longest
    first: after each task, the estimate equals the true time left (a count of tasks would not)."""
    now = [0.0]
    progress = FitProgress(False, None, clock=lambda: now[0])
    order = sorted(rows, reverse=True)
    progress.add(order)
    dropped = {i for i in dropped if 0 < i < len(order)}  # racing drops tasks not yet run
    # each dropped task is discarded when the task run before it finishes
    told = {k: max(i for i in range(k) if i not in dropped) for k in dropped}
    for i, weight in enumerate(order):
        if i in dropped:
            continue
        now[0] += 0.01 * weight
        progress.task_done(weight, [order[k] for k in sorted(dropped) if told[k] == i])
        known_gone = {k for k in dropped if told[k] <= i}
        true_left = sum(0.01 * w for k, w in enumerate(order) if k > i and k not in known_gone)
        assert progress.left() == pytest.approx(true_left, rel=1e-9, abs=1e-9)
    assert progress.total == len(order) - len(dropped) == progress.done


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")))),
             min_size=1, max_size=40, unique_by=lambda t: (t[0], t[1])),
    st.booleans(),
)
def test_best_mean_so_far_matches_brute_force(results, larger):
    progress = FitProgress(False, None, "auc", larger_is_better=larger)
    for n, (fold, j, metric) in enumerate(results, 1):
        progress.result(fold, j, {}, metric, 0.0, 0.0, str)
        seen = results[:n]
        means = {}
        for map_index in {r[1] for r in seen}:
            values = [r[2] for r in seen if r[1] == map_index]
            if not any(math.isnan(v) for v in values):  # a NaN fold: the map cannot be chosen
                means[map_index] = float(np.mean(values))
        if not means:
            assert progress.best is None
            continue
        want = max(means.values()) if larger else min(means.values())
        best_map, best_mean = progress.best
        assert best_mean == pytest.approx(want, rel=1e-9, abs=1e-6)
        assert means[best_map] == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_the_callback_error_names_the_callback_and_the_result():
    def broken(result):
        raise KeyError("column")

    progress = FitProgress(False, broken)
    progress.add([1.0])
    with pytest.raises(TaskFailed, match=r"the callback '.*broken' raised on the result of fold 0, map 1: KeyError") as info:
        progress.result(0, 1, {"regParam": 0.1}, 0.5, 1.0, 0.1, lambda: "fold 0, map 1")
    assert isinstance(info.value.__cause__, KeyError)
    assert (info.value.task.fold, info.value.task.param_map) == (0, 1)


def test_forced_lines_are_printed_where_logging_would_not_show_them(no_tqdm, capsys):
    logger = logging.getLogger(LOGGER_NAME)
    assert not logger.isEnabledFor(logging.INFO)  # logging as a process starts: WARNING and up
    with FitProgress(True, None, clock=lambda: 0.0) as progress:
        progress.add([1.0, 1.0])
        progress.task_done(1.0)
        progress.refresh()
        progress.task_done(1.0)
    assert capsys.readouterr().err.splitlines() == [
        "splitcv: 1/2 tasks (50%), 00:00 elapsed, ~00:00 left", "splitcv: 2/2 tasks (100%) in 00:00",
    ]
    now = [0.0]
    with FitProgress("auto", None, clock=lambda: now[0]) as quiet:  # stderr is no terminal here
        quiet.add([1.0, 1.0])
        now[0] = 10.0  # long past the delay
        quiet.task_done(1.0)
        quiet.refresh()
        quiet.task_done(1.0)
    assert capsys.readouterr().err == ""
