"""splitcv.sklearn.spark_backend: GridSearchCV with our splitters, its fits run as Spark tasks (joblib-spark).

Oracle: the same search run sequentially in this process (scikit-learn's own default), which must
give the same scores to the bit; the fits are shown to have run elsewhere by the process id each
fitted estimator recorded. Real data: statsmodels' quarterly US macro series.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("joblibspark")
pytest.importorskip("sklearn")

from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402

from splitcv.sklearn import ExpandingWindowCV, spark_backend  # noqa: E402
from splitcv.sklearn.backend import RemoteTraceback  # noqa: E402
from estimators import jobs_settled  # noqa: E402

GRID = {"alpha": [0.01, 1.0, 100.0, 10_000.0]}


@pytest.fixture(scope="module")
def macro():
    """Quarterly real GDP growth against lagged growth of consumption, investment and GDP itself,
    indexed by the quarter's first day, 1959-2009."""
    pd = pytest.importorskip("pandas")
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(year=data["year"].astype(int), quarter=data["quarter"].astype(int), freq="Q")
    growth = np.log(data[["realgdp", "realcons", "realinv"]]).diff() * 400
    X = growth.shift(1).add_suffix("_lag").iloc[2:].reset_index(drop=True)
    y = growth["realgdp"].iloc[2:].reset_index(drop=True)
    time_values = quarters.to_timestamp().values[2:]
    return X, y, time_values


def _cv(time_values):
    return ExpandingWindowCV(time=time_values, horizon="1 year", gap="1 quarter", numFolds=5)


def _pool_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t is not threading.main_thread() and t.daemon}


def _settle(spark, before: set[threading.Thread], seconds: float = 15.0) -> set[threading.Thread]:
    """Threads started since ``before`` that are still alive once running jobs ended (or ``seconds`` passed)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = {t for t in _pool_threads() - before if t.is_alive()}
        if not left and not spark.sparkContext.statusTracker().getActiveJobsIds():
            return left
        time.sleep(0.1)
    return {t for t in _pool_threads() - before if t.is_alive()}


def test_grid_search_on_spark_gives_the_sequential_scores(spark, macro):
    X, y, when = macro
    search = GridSearchCV(Ridge(), GRID, cv=_cv(when), scoring="neg_mean_absolute_error")
    sequential = search.fit(X, y).cv_results_
    with spark_backend() as in_flight:  # n_jobs=-1: the task slots of local[2]
        on_spark = GridSearchCV(Ridge(), GRID, cv=_cv(when), scoring="neg_mean_absolute_error").fit(X, y)
    assert in_flight == 2  # the two task slots of local[2]
    assert on_spark.n_splits_ == 5
    for key in [f"split{i}_test_score" for i in range(5)] + ["mean_test_score", "rank_test_score"]:
        np.testing.assert_array_equal(on_spark.cv_results_[key], sequential[key], err_msg=key)
    assert on_spark.best_params_ == search.best_params_


def test_the_fits_run_in_spark_python_workers(spark, macro):
    X, y, when = macro

    class PidRidge(Ridge):  # local, so cloudpickle ships the class by value to the Python workers
        def fit(self, X, y, sample_weight=None):
            self.pid_ = os.getpid()
            return super().fit(X, y, sample_weight=sample_weight)

    here = cross_validate(PidRidge(), X, y, cv=_cv(when), return_estimator=True)
    assert {e.pid_ for e in here["estimator"]} == {os.getpid()}  # the control: sequential fits run here
    with spark_backend():
        there = cross_validate(PidRidge(), X, y, cv=_cv(when), return_estimator=True)
        # n_jobs=1 would make joblib fit here, on the driver: inside the block, the block decides
        one = cross_validate(PidRidge(), X, y, cv=_cv(when), return_estimator=True, n_jobs=1)
    for fitted in (there, one):
        assert os.getpid() not in {e.pid_ for e in fitted["estimator"]} and len(fitted["estimator"]) == 5
        np.testing.assert_array_equal(fitted["test_score"], here["test_score"])


def test_the_block_leaves_no_thread_and_no_job(spark, macro):
    X, y, when = macro
    before = _pool_threads()
    for _ in range(2):  # joblibspark alone keeps its pool's threads until Python exits: 2 blocks, 2 pools
        with spark_backend(n_jobs=2):
            GridSearchCV(Ridge(), GRID, cv=_cv(when)).fit(X, y)
    assert _settle(spark, before) == set()


def test_a_failing_fit_fails_the_block_and_leaves_nothing(spark, macro):
    X, y, when = macro
    before = _pool_threads()
    search = GridSearchCV(Ridge(), {"alpha": [1.0, -1.0]}, cv=_cv(when), error_score="raise")
    with pytest.raises(ValueError, match="The 'alpha' parameter of Ridge") as info:
        with spark_backend(n_jobs=2):
            search.fit(X, y)
    # the fit's own error, raised in a Spark task, with the worker's traceback as its cause
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "_fit_and_score" in str(info.value.__cause__)
    assert _settle(spark, before) == set()


def test_the_block_works_again_after_a_failed_fit_inside_it(spark, macro):
    X, y, when = macro
    failing = GridSearchCV(Ridge(), {"alpha": [-1.0, 1.0, 2.0, 3.0, 4.0, 5.0]}, cv=_cv(when), error_score="raise")
    expected = GridSearchCV(Ridge(), GRID, cv=_cv(when)).fit(X, y).cv_results_["mean_test_score"]
    before = _pool_threads()
    with spark_backend(n_jobs=2):
        with pytest.raises(ValueError, match="alpha"):
            failing.fit(X, y)
        again = GridSearchCV(Ridge(), GRID, cv=_cv(when)).fit(X, y)
    np.testing.assert_array_equal(again.cv_results_["mean_test_score"], expected)
    assert _settle(spark, before) == set()


def test_an_exception_the_driver_cannot_rebuild_arrives_as_its_text(spark, macro):
    X, y, when = macro

    class TwoArgs(Exception):  # pickles, but unpickling calls TwoArgs(message) and fails
        def __init__(self, a, b):
            super().__init__(f"{a} and {b}")

    class Refusing(Ridge):
        def fit(self, X, y, sample_weight=None):
            raise TwoArgs("left", "right")

    with pytest.raises(RuntimeError, match=r"TwoArgs: left and right \(raised in a Spark task; it could not be pickled\)"):
        with spark_backend(n_jobs=2):
            GridSearchCV(Refusing(), GRID, cv=_cv(when), error_score="raise").fit(X, y)


def test_the_batch_wrapper_adds_no_dependency_on_the_executors(tmp_path):
    """The wrapper around each batch is shipped by value: it unpickles and runs where splitcv cannot be
    imported. (The batch itself holds the GridSearchCV and its cv: executors need splitcv for those.)"""
    import functools
    import subprocess

    from pyspark import cloudpickle

    from splitcv.sklearn.backend import _on_worker

    (tmp_path / "ok.pkl").write_bytes(cloudpickle.dumps(_on_worker(functools.partial(divmod, 7, 2))))
    (tmp_path / "bad.pkl").write_bytes(cloudpickle.dumps(_on_worker(functools.partial(int, "x"))))
    script = """
import sys
class NoSplitcv:
    def find_spec(self, name, path=None, target=None):
        if name == "splitcv" or name.startswith("splitcv."):
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, NoSplitcv())
from pyspark import cloudpickle
ok = cloudpickle.loads(open("ok.pkl", "rb").read())()
tag, exc, text = cloudpickle.loads(open("bad.pkl", "rb").read())()
print(ok, type(exc).__name__, "invalid literal" in text, "splitcv" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(3,", "1)", "ValueError", "True", "False"]



def test_ctrl_c_cancels_the_running_spark_jobs(spark, macro):
    X, y, when = macro

    class SlowRidge(Ridge):
        def fit(self, X, y, sample_weight=None):
            time.sleep(60)
            return super().fit(X, y, sample_weight=sample_weight)

    tracker = spark.sparkContext.statusTracker()

    def interrupt():
        deadline = time.time() + 60
        while time.time() < deadline and not tracker.getActiveJobsIds():
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGINT)

    before = _pool_threads()
    threading.Thread(target=interrupt, daemon=True, name="test-interrupter").start()
    started = time.time()
    with pytest.raises(KeyboardInterrupt):
        with spark_backend(n_jobs=2):
            GridSearchCV(SlowRidge(), GRID, cv=_cv(when)).fit(X, y)
    assert time.time() - started < 30, "the sleeping fits were waited for instead of cancelled"
    before.update(t for t in _pool_threads() if t.name == "test-interrupter")
    assert _settle(spark, before) == set()
    assert tracker.getActiveJobsIds() == []


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_jobs": 0}, ValueError, r"n_jobs=0 is not a valid count: give -1 .* or a count of at least 2"),
        ({"n_jobs": 1}, ValueError, r"n_jobs=1 is not a valid count \(joblib runs a single job on the driver"),
        ({"n_jobs": -2}, ValueError, r"n_jobs=-2 is not a valid count"),
        ({"n_jobs": True}, TypeError, r"n_jobs=True must be an int"),
        ({"n_jobs": "2"}, TypeError, r"n_jobs='2' must be an int"),
        ({"cpus_per_task": 0}, ValueError, r"cpus_per_task=0 is not a valid count: give a count of at least 1"),
        ({"cpus_per_task": 1.5}, TypeError, r"cpus_per_task=1.5 must be an int"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(kwargs, error, message):
    with pytest.raises(error, match=message):
        with spark_backend(**kwargs):
            pytest.fail("the block ran")


def test_no_active_session_is_refused_rather_than_starting_one(monkeypatch):
    from pyspark.sql import SparkSession

    def no_session(cls):
        raise RuntimeError("no session")  # what SparkSession.active() raises, in its own words

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(SparkSession, "active", classmethod(no_session))
    with pytest.raises(RuntimeError, match=r"none is active.*SparkSession\.builder\.getOrCreate\(\)"):
        with spark_backend():
            pytest.fail("the block ran")


def test_a_module_the_executors_lack_is_named_with_the_fix(spark, macro, tmp_path, monkeypatch):
    X, y, when = macro
    (tmp_path / "driver_only_estimators.py").write_text(
        "from sklearn.linear_model import Ridge\n\nclass DriverOnlyRidge(Ridge):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # this process only: the Python workers started earlier
    from driver_only_estimators import DriverOnlyRidge

    with pytest.raises(Exception, match="driver_only_estimators") as info:
        with spark_backend(n_jobs=2):
            GridSearchCV(DriverOnlyRidge(), GRID, cv=_cv(when)).fit(X, y)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "The executors' Python needs the packages the driver's objects come from" in notes
    sys.modules.pop("driver_only_estimators", None)


def test_a_cluster_without_two_task_slots_is_refused_before_any_job(spark, monkeypatch):
    from splitcv.sklearn.backend import _backend_class

    monkeypatch.setattr(_backend_class(), "slots", lambda self, n_jobs: 0)
    jobs_settled(spark.sparkContext)
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    with pytest.raises(RuntimeError, match=r"found 0 task slot\(s\) .* give n_jobs=2 or more"):
        with spark_backend():
            pytest.fail("the block ran")
    jobs_settled(spark.sparkContext)
    assert spark.sparkContext.statusTracker().getJobIdsForGroup(None) == jobs


def test_missing_joblibspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "joblibspark.backend", None)
    with pytest.raises(ImportError, match=r"pip install 'splitcv\[joblibspark\]'"):
        with spark_backend():
            pytest.fail("the block ran")
