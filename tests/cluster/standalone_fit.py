"""One cross-validation on a standalone cluster, run by test_standalone.py with ``python``.

A classic SparkContext is one per process and the test process owns a local[2] one, so the cluster
driver runs here. Usage: ``python standalone_fit.py spark://127.0.0.1:PORT``. It fits twice: once
undisturbed, once killing one executor process (SIGKILL) as soon as the first (fold, param map) task
has been scored. Between the two it runs a scikit-learn grid search with a splitcv.sklearn splitter
whose fits are Spark tasks (``splitcv.sklearn.spark_backend``, the seed article's recipe 1). It
prints one line ``RESULT {json}``: both fits' metrics, the search's scores and the processes its
fits ran in, the executor it killed, how many tasks were scored after the kill, and what is left
cached at the end.

The test imports ``ROWS``, ``COLUMNS`` and ``make_validator`` to fit the same thing on local[2],
and ``make_search`` and ``search_data`` to run the same search sequentially.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from pyspark.ml.evaluation import Evaluator

PARALLELISM = 6  # above the cluster's 2 cores: tasks queue for executors
ROWS = [(i, float(i % 17), float((i * 7) % 11), 3.0 * (i % 17) - 2.0 * ((i * 7) % 11) + (i % 5) / 4.0) for i in range(400)]
COLUMNS = ["id", "a", "b", "label"]


def make_validator(evaluator=None):
    from pyspark.ml import Pipeline
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    from splitcv import KFoldSplitter, ParallelCrossValidator

    lr = LinearRegression(solver="normal")
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=["a", "b"], outputCol="features"), lr])
    return ParallelCrossValidator(
        estimator=pipeline,
        estimatorParamMaps=[{lr.regParam: r} for r in (0.0, 5.0)],
        evaluator=evaluator or RegressionEvaluator(metricName="rmse"),
        splitter=KFoldSplitter(numFolds=3, seed=3),
        parallelism=PARALLELISM,
    )


def search_data():
    """Quarterly US real GDP growth (statsmodels' macrodata) against its own last two quarters."""
    import numpy as np
    import statsmodels.api as sm

    data = sm.datasets.macrodata.load_pandas().data
    growth = np.log(data["realgdp"]).diff().to_numpy()[1:] * 400
    X = np.column_stack([growth[1:-1], growth[:-2]])
    y = growth[2:]
    quarters = [f"{int(year)}-{3 * int(q) - 2:02d}-01" for year, q in zip(data["year"], data["quarter"])]
    return X, y, np.array(quarters[3:], dtype="datetime64[D]")


def make_search():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV

    from splitcv.sklearn import ExpandingWindowCV

    class PidRidge(Ridge):  # records where it was fitted; defined here so that workers get it by value
        def fit(self, X, y, sample_weight=None):
            self.pid_ = os.getpid()
            return super().fit(X, y, sample_weight=sample_weight)

    *_, when = search_data()
    cv = ExpandingWindowCV(time=when, horizon="2 years", gap="1 quarter", numFolds=4)
    return GridSearchCV(PidRidge(), {"alpha": [0.1, 10.0, 1000.0]}, cv=cv, scoring="neg_mean_absolute_error",
                        return_train_score=False)


def search_summary(search) -> dict:
    return {
        "scores": [search.cv_results_[f"split{i}_test_score"].tolist() for i in range(search.n_splits_)],
        "best_params": search.best_params_,
    }


def ancestors(pid: int) -> list[int]:
    """``pid``'s parent, its parent, ... up to init, read from /proc."""
    chain = []
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


def run_search_on_cluster(app_id: str) -> dict | None:
    """The grid search through spark_backend on this driver's cluster (None without joblibspark)."""
    if importlib.util.find_spec("joblibspark") is None:
        return None
    from sklearn.model_selection import cross_validate

    from splitcv.sklearn import spark_backend

    X, y, _ = search_data()
    start = time.time()
    with spark_backend() as in_flight:  # n_jobs=-1: every task slot of the cluster
        search = make_search().fit(X, y)
        fitted = cross_validate(search.estimator, X, y, cv=search.cv, return_estimator=True)
    executors = set(executor_pids(app_id))
    found = search_summary(search)
    found.update(
        seconds=time.time() - start, in_flight=in_flight, driver_pid=os.getpid(),
        fit_pids=sorted({e.pid_ for e in fitted["estimator"]}),
        under_an_executor=[bool(executors & set(ancestors(e.pid_))) for e in fitted["estimator"]],
    )
    return found


def summary(model) -> dict:
    return {
        "foldMetrics": model.foldMetrics,
        "avgMetrics": model.avgMetrics,
        "stdMetrics": model.stdMetrics,
        "bestIndex": model.bestIndex,
        "validation_rows": [f.validation_rows for f in model.folds],
    }


def executor_pids(app_id: str) -> list[int]:
    """This application's executor JVMs: CoarseGrainedExecutorBackend processes with its app id."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"org.apache.spark.executor.CoarseGrainedExecutorBackend" in argv and app_id.encode() in argv:
            found.append(int(entry.name))
    return sorted(found)


class KillAfterFirstScore(Evaluator):
    """Scores with ``inner``; right after the first score, SIGKILLs one executor of the app."""

    def __init__(self, inner: Evaluator, app_id: str) -> None:
        super().__init__()
        self.inner, self.app_id = inner, app_id
        self.lock = threading.Lock()
        self.killed = None
        self.scored_after_kill = 0

    def _evaluate(self, dataset) -> float:
        metric = self.inner.evaluate(dataset)
        with self.lock:
            if self.killed is None:
                pids = executor_pids(self.app_id)
                if not pids:
                    raise RuntimeError(f"no executor process of {self.app_id} found")
                os.kill(pids[0], signal.SIGKILL)
                self.killed = pids[0]
            else:
                self.scored_after_kill += 1
        return metric

    def isLargerBetter(self) -> bool:
        return self.inner.isLargerBetter()


def main(master: str) -> None:
    began = time.time()
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName("splitcv-standalone-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config("spark.executor.memory", "512m")
        .config("spark.executor.cores", "1")
        .config("spark.cores.max", "2")
        # the executors get the suite's JIT options, which this driver got through SPARK_SUBMIT_OPTS (the root conftest)
        .config("spark.executor.extraJavaOptions", os.environ.get("SPLITCV_TEST_JVM_OPTIONS", ""))
        # the classic test fixture's shuffle partitions; default parallelism 4, twice the cluster's 2 task
        # slots, so that the scikit-learn search's n_jobs=-1 (the slots) is told apart from it
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    app_id = sc.applicationId
    deadline = time.time() + 180
    while len(executor_pids(app_id)) < 2 or sc._jsc.sc().getExecutorMemoryStatus().size() < 3:
        if time.time() > deadline:
            raise TimeoutError(f"the two executors of {app_id} did not register")
        time.sleep(0.25)
    data = spark.createDataFrame(ROWS, COLUMNS)
    result: dict = {"app_id": app_id, "executors_before": executor_pids(app_id), "startup_seconds": time.time() - began}
    # The memory budget's view of storage: the executors' block managers, not the driver's.
    from splitcv.queue import SessionControl

    block_managers: list[int] = []  # max storage memory by host:port, the driver's among them
    entries = sc._jsc.sc().getExecutorMemoryStatus().iterator()
    while entries.hasNext():
        block_managers.append(int(entries.next()._2()._1()))
    result["storage"] = {"block_managers": block_managers, "splitcv": SessionControl(spark).storage_memory()}

    start = time.time()
    result["plain"] = summary(make_validator().fit(data))
    result["plain"]["seconds"] = time.time() - start

    result["search"] = run_search_on_cluster(app_id)

    killer = KillAfterFirstScore(RegressionEvaluator(metricName="rmse"), app_id)
    start = time.time()
    result["killed"] = summary(make_validator(killer).fit(data))
    result["killed"].update(
        seconds=time.time() - start, pid=killer.killed, scored_after_kill=killer.scored_after_kill,
        executors_after=executor_pids(app_id),
    )
    result["persistent_rdds"] = sc._jsc.getPersistentRDDs().size()
    result["cached_tables_empty"] = spark._jsparkSession.sharedState().cacheManager().isEmpty()
    spark.stop()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
