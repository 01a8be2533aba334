"""Fixtures that start real Spark servers from pyspark's bundled launchers and always stop them."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pytest

from . import (
    CONNECT_SERVER_CLASS,
    SPARK_CLASS,
    SPARK_SUBMIT,
    Daemon,
    accepts_connections,
    free_port,
    get_json,
    spark_env,
    wait_until,
)

# The classic fixture's settings (the repository's root conftest.py), so that both sides partition data alike.
SAME_AS_CLASSIC = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
}


@dataclass
class ConnectServer:
    port: int
    daemon: Daemon

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server (master local[2], UI off) on a free port of 127.0.0.1."""
    logs = tmp_path_factory.mktemp("connect-server")
    port = free_port()
    confs = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.ui.enabled": "false",
        "spark.driver.memory": "1g",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.local.dir": str(logs / "local"),
        **SAME_AS_CLASSIC,
    }
    argv = [str(SPARK_SUBMIT), "--class", CONNECT_SERVER_CLASS, "--name", "splitcv-connect-tests", "--master", "local[2]"]
    for key, value in confs.items():
        argv += ["--conf", f"{key}={value}"]
    daemon = Daemon("Spark Connect server", argv, spark_env(logs), logs / "server.log")
    try:
        began = time.time()
        wait_until(lambda: accepts_connections(port), 180, f"the Connect server to listen on {port}", [daemon])
        print(f"Connect server up in {time.time() - began:.1f}s")
        yield ConnectServer(port, daemon)
    finally:
        daemon.stop()


@pytest.fixture(scope="module")
def connect(spark, connect_server):
    """A Connect client session next to the classic ``spark`` one, which starts first (that fixture
    clears Connect mode when it starts, which must not happen while this session is open).

    Users write ``SparkSession.builder.remote(url).getOrCreate()``; that builder refuses while a
    classic session runs in the process (SESSION_ALREADY_EXIST), so this does what it does next:
    set ``SPARK_CONNECT_MODE_ENABLED`` (pyspark's functions, ML wrappers and writers pick Connect by
    it) and build the Connect session. The variable is removed at the end, so classic sessions later
    in this process work (pyspark's builder leaves it set even after ``stop()``).
    """
    from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    session = None
    try:
        session = RemoteSparkSession.builder.remote(connect_server.url).getOrCreate()
        yield session
    finally:
        try:
            if session is not None:
                session.stop()
        finally:
            os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


@dataclass
class Standalone:
    master_url: str
    web_url: str
    master: Daemon
    workers: list[Daemon]
    cores: int


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A standalone master and two workers (1 core, 1g each) on 127.0.0.1, all on free ports."""
    root = tmp_path_factory.mktemp("standalone")
    port, web = free_port(), free_port()
    daemons: list[Daemon] = []
    began = time.time()
    # the daemons get the suite's JIT options (the root conftest), added to any the user gave them
    daemon_options = " ".join(filter(None, [os.environ.get("SPARK_DAEMON_JAVA_OPTS"), os.environ.get("SPLITCV_TEST_JVM_OPTIONS")]))
    env = spark_env(root, SPARK_DAEMON_MEMORY="512m", SPARK_WORKER_DIR=str(root / "work"),
                    SPARK_DAEMON_JAVA_OPTS=daemon_options)
    try:
        master = Daemon(
            "standalone master",
            [str(SPARK_CLASS), "org.apache.spark.deploy.master.Master",
             "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web)],
            env, root / "master.log",
        )
        daemons.append(master)
        wait_until(lambda: get_json(f"http://127.0.0.1:{web}/json/")["status"] == "ALIVE", 180,
                   "the standalone master", [master])
        for index in range(2):
            daemons.append(Daemon(
                f"standalone worker {index}",
                [str(SPARK_CLASS), "org.apache.spark.deploy.worker.Worker",
                 "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                 "--webui-port", str(free_port()), "--work-dir", str(root / f"work-{index}"),
                 f"spark://127.0.0.1:{port}"],
                env, root / f"worker-{index}.log",
            ))
        wait_until(lambda: get_json(f"http://127.0.0.1:{web}/json/")["aliveworkers"] == 2, 180,
                   "both workers to register", daemons)
        print(f"standalone cluster up in {time.time() - began:.1f}s")
        yield Standalone(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web}", master, daemons[1:], cores=2)
    finally:
        for daemon in reversed(daemons):  # workers first: they kill their executors on the way out
            daemon.stop()
