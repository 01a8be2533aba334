"""One local[2] SparkSession for the whole suite (tests and doctests in splitcv/), and Hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, print_blob=True)
settings.register_profile("thorough", max_examples=5000, print_blob=True, phases=list(Phase))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Every JVM the suite starts through spark-submit (this session, the Connect server, the standalone
# cluster's driver; tests/cluster gives the same options to the standalone daemons and executors)
# compiles with the JIT's first tier only. The suite is many short Spark jobs on small data, where the
# optimizing compiler's threads compete with the tests for the 2 cores and rarely pay back: three
# Spark-heavy test files took 191-206 s against 214-218 s with the default JIT (2026-12-05). Results
# do not depend on it. Added to what SPARK_SUBMIT_OPTS holds already (a debugger agent, say), and kept
# apart in TEST_JVM_OPTIONS so that only these options travel to the daemons and executors.
# First-tier-only also shrinks the JVM's default code cache from 240 MB to 48 MB, which the Connect
# server, running the whole Connect file's queries, filled once ("Out of space in CodeCache for
# adapters", 2026-12-05 10:53: its SparkContext stopped and every later Connect test failed): the
# size is set back to the default's.
TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"
os.environ["SPLITCV_TEST_JVM_OPTIONS"] = TEST_JVM_OPTIONS
if TEST_JVM_OPTIONS not in os.environ.get("SPARK_SUBMIT_OPTS", ""):
    os.environ["SPARK_SUBMIT_OPTS"] = " ".join(filter(None, [os.environ.get("SPARK_SUBMIT_OPTS"), TEST_JVM_OPTIONS]))

# Spark-path property tests: few examples (the pure planners get hundreds), no deadline (a Spark job takes tens of milliseconds).
spark_settings = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="session")
def spark():
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("splitcv-tests")
        .config("spark.ui.enabled", "false")
        # one partition per core: more tasks per job only add scheduling on 2 cores, and every test
        # that is about partitioning repartitions its data itself (2026-12-05: three Spark-heavy test
        # files took 158 s against 191-206 s with 4)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _doctest_spark(request):
    """Give doctests in splitcv/ a ``spark`` name, starting the session only when they need it."""
    if isinstance(request.node, pytest.DoctestItem):
        request.node.dtest.globs["spark"] = request.getfixturevalue("spark")
    yield


@pytest.fixture(autouse=True)
def _no_rdd_left_cached():
    """Every test leaves the shared session's persisted RDDs as it found them: a fit that returns
    or fails must not leave a cache behind (module fixtures that cache on purpose are set up before
    and torn down after this check)."""
    from pyspark import SparkContext

    def persisted() -> set[int]:
        context = SparkContext._active_spark_context
        if context is None:
            return set()
        return {int(k) for k in context._jsc.getPersistentRDDs().keySet().toArray()}

    before = persisted()
    yield
    left = persisted() - before
    assert not left, f"the test left persisted RDDs {sorted(left)} behind"


# What each documentation page ran travels on its test's report (user_properties), which
# pytest-xdist carries from the worker that ran the test to the process that prints the summary.
_DOCS_PROPERTY = "splitcv_documentation_blocks"


@pytest.fixture
def record_docs_blocks(request):
    """``record(page, ran, skipped)``: shown in the "documentation blocks" section at the end."""

    def record(page: str, ran: int, skipped: list) -> None:
        request.node.user_properties.append((_DOCS_PROPERTY, [page, ran, list(skipped)]))

    return record


def pytest_terminal_summary(terminalreporter):
    """What each documentation page ran (tests/test_docs.py records it with ``record_docs_blocks``)."""
    pages = {}
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == _DOCS_PROPERTY:
                page, ran, skipped = value
                pages[page] = (ran, skipped)
    if pages:
        terminalreporter.section("documentation blocks")
        for page, (ran, skipped) in sorted(pages.items()):
            reasons = "".join(f"; skipped {s}" for s in skipped)
            terminalreporter.write_line(f"{page}: {ran} run, {len(skipped)} skipped{reasons}")


def pytest_collection_modifyitems(config, items):
    """The cluster tests start servers and take a few minutes: run them after the rest, which give
    fast feedback (a stable sort, so each group keeps its collection order).

    Under pytest-xdist (setup.cfg: ``-n 2 --dist loadfile``) this order does not hold: xdist hands
    out whole files, the largest first, so the cluster files run among the others, each in one
    worker. Putting them last in one worker (``--dist loadgroup --no-loadscope-reorder``) was tried
    and measured worse: 873 s against 717-754 s, the standalone cluster set up twice."""
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)
