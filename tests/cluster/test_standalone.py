"""splitcv on a real standalone cluster (a master and two 1-core workers), losing an executor mid-fit.

The cluster driver runs in a subprocess (``standalone_fit.py``): this process already owns the
suite's local[2] SparkContext, and a classic context is one per process. Its results are compared
with the same fit on local[2].
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from . import group_alive, spark_env
from .standalone_fit import COLUMNS, PARALLELISM, ROWS, make_search, make_validator, search_data, search_summary, summary

pytestmark = pytest.mark.cluster

SCRIPT = Path(__file__).with_name("standalone_fit.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster_run(standalone, tmp_path_factory):
    logs = tmp_path_factory.mktemp("standalone-driver")
    env = spark_env(logs, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), standalone.master_url], env=env, cwd=str(logs),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=420)
    finally:  # the driver's JVM is in the script's process group
        if process.poll() is None or group_alive(process.pid):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert process.returncode == 0 and lines, f"the cluster driver failed ({process.returncode}):\n{err[-4000:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    print(f"standalone driver: startup {result['startup_seconds']:.1f}s, fit {result['plain']['seconds']:.1f}s, "
          f"fit losing an executor {result['killed']['seconds']:.1f}s")
    return result


@pytest.fixture(scope="module")
def local_result(spark):
    return summary(make_validator().fit(spark.createDataFrame(ROWS, COLUMNS)))


def _assert_same(got: dict, expected: dict) -> None:
    assert got["validation_rows"] == expected["validation_rows"]
    assert got["bestIndex"] == expected["bestIndex"]
    for row, expected_row in zip(got["foldMetrics"], expected["foldMetrics"], strict=True):
        assert row == pytest.approx(expected_row, rel=1e-9, abs=1e-12)
    assert got["avgMetrics"] == pytest.approx(expected["avgMetrics"], rel=1e-9, abs=1e-12)
    assert got["stdMetrics"] == pytest.approx(expected["stdMetrics"], rel=1e-9, abs=1e-12)


def test_fit_on_a_standalone_cluster_equals_local(cluster_run, local_result, standalone):
    assert PARALLELISM > standalone.cores
    assert len(cluster_run["executors_before"]) == 2
    _assert_same(cluster_run["plain"], local_result)


def test_losing_an_executor_mid_fit_changes_nothing_and_leaves_nothing_cached(cluster_run, local_result):
    killed = cluster_run["killed"]
    assert killed["pid"] in cluster_run["executors_before"]
    assert killed["pid"] not in killed["executors_after"]
    # the kill came after the first of 6 scores (3 folds x 2 param maps): the other 5 tasks, running
    # at that moment (parallelism 6), lost the executor under them
    assert killed["scored_after_kill"] == 3 * 2 - 1
    _assert_same(killed, local_result)
    assert cluster_run["persistent_rdds"] == 0
    assert cluster_run["cached_tables_empty"] is True


def test_the_memory_budget_counts_the_executors_storage_not_the_drivers(cluster_run):
    """'auto' is a share of the storage memory where cached partitions live: on a cluster, the
    executors' block managers; the driver's holds no RDD blocks and is left out."""
    managers = cluster_run["storage"]["block_managers"]
    assert len(managers) == 3  # the driver and two executors
    # the driver has 1g, each executor 512m: the driver's block manager is the largest
    assert cluster_run["storage"]["splitcv"] == sum(managers) - max(managers)


def test_a_scikit_learn_grid_search_runs_its_fits_on_the_cluster_executors(cluster_run):
    """The seed article's recipe 1 with a splitcv.sklearn splitter: GridSearchCV's fits as Spark tasks
    (splitcv.sklearn.spark_backend), on the cluster's executors, scoring as the same search run here."""
    got = cluster_run["search"]
    if got is None:
        pytest.skip("joblibspark is not installed (pip install 'splitcv[joblibspark]')")
    X, y, _ = search_data()
    expected = search_summary(make_search().fit(X, y))  # sequential, in this process
    assert got["scores"] == expected["scores"]  # to the bit: same folds, same fits
    assert got["best_params"] == expected["best_params"]
    assert got["in_flight"] == 2  # n_jobs=-1: the cluster's two 1-core executors, not its default parallelism (4)
    assert got["driver_pid"] not in got["fit_pids"]
    assert got["under_an_executor"] == [True] * 4  # each fit's process descends from an executor JVM
