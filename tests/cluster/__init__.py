"""Tests against real Spark deployments: a Spark Connect server, a standalone cluster, long runs.

Every server here is started from pyspark's own launchers (``bin/spark-submit``, ``bin/spark-class``
inside the installed pyspark package, no download), bound to 127.0.0.1 on free ports, in its own
process group, and killed with that group at the end, also when a test fails or pytest is
interrupted. Run them alone with ``python -m pytest -m cluster``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pyspark

SPARK_HOME = Path(pyspark.__file__).resolve().parent
#: pyspark's launcher for JVM classes (Master, Worker) and for applications (the Connect server).
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
SPARK_SUBMIT = SPARK_HOME / "bin" / "spark-submit"
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"

_running: list["Daemon"] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spark_env(log_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a JVM started from pyspark's launchers: pyspark's own SPARK_HOME, this
    Python for any Python worker, loopback only, and no Connect mode inherited from this process."""
    env = dict(os.environ)
    for name in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE", "SPARK_CONNECT_MODE", "MASTER", "SPARK_CONF_DIR"):
        env.pop(name, None)
    env.update(
        SPARK_HOME=str(SPARK_HOME),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOG_DIR=str(log_dir),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        SPARK_CONNECT_MODE="0",  # what sbin/start-connect-server.sh sets: a classic JVM server
    )
    env.update(extra)
    return env


class Daemon:
    """A process started in its own process group, its output in a log file; ``stop`` kills the group
    (the JVM and whatever it forked: executors, Python workers)."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            list(argv), env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pgid = self.process.pid  # start_new_session: the child leads its own group
        _running.append(self)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the group, then SIGKILL to what is left of it."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.time() + wait
            while time.time() < deadline and group_alive(self.pgid):
                time.sleep(0.1)
                self.process.poll()  # reap the leader
            if not group_alive(self.pgid):
                break
        self.process.poll()
        self._log.close()
        if self in _running:
            _running.remove(self)


def group_alive(pgid: int) -> bool:
    """True while any process of the group lives (zombies aside)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            return True
    return False


@atexit.register
def _stop_all() -> None:  # pytest killed mid-fixture: leave no JVM behind
    for daemon in list(_running):
        daemon.stop(grace=3.0)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, watch: Sequence[Daemon] = (), every: float = 0.25
) -> None:
    """Poll ``condition`` until it holds; fail early with the log of a watched process that died."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for daemon in watch:
            if not daemon.alive():
                raise RuntimeError(f"{daemon.name} exited ({daemon.process.returncode}) before {what}:\n{daemon.log_tail()}")
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(every)
    logs = "\n".join(f"--- {d.name} ({d.log_path}):\n{d.log_tail()}" for d in watch)
    raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}\n{logs}")


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


@contextlib.contextmanager
def classic_mode() -> Iterator[None]:
    """Run classic-session code while a Connect session is open in this process.

    ``SparkSession.builder.remote()`` sets ``SPARK_CONNECT_MODE_ENABLED``; while it is set, pyspark
    routes ``functions``, ML fitting and writers to Connect, and classic DataFrames break.
    """
    saved = os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["SPARK_CONNECT_MODE_ENABLED"] = saved

