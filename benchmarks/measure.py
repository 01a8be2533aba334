"""What one benchmark run measures, and the alternating rounds that turn runs into ratios.

Per run (one ``fit``):

* **wall time** (``time.perf_counter``);
* **cores kept busy**: CPU seconds (user + system) of the driver's Python process and of the JVM,
  read from ``/proc/<pid>/stat`` before and after, divided by the wall time. The JVM's pid comes
  from ``ProcessHandle.current().pid()`` through py4j. (Python workers are not counted: none of
  these fits starts one.)
* **peak cached bytes**: a background thread polls ``SparkContext.getRDDStorageInfo()`` every
  50 ms during the fit and keeps the largest sum of ``memSize + diskSize`` (and, apart, the largest
  ``memSize`` alone: what competes with the input's cache for storage memory); it is compared with the
  cached size of one copy of the input (cached once, counted, read the same way, unpersisted).
  It sees caches held at least ~50 ms, which every fold cache and estimator cache here is.
* **Spark jobs**: the difference of the DAG scheduler's job-id counter (``DAGScheduler.nextJobId``,
  which every submitted job, even an empty one, increments) before and after the fit. Nothing else
  submits jobs in this process while a fit runs (the cache poller does not), so the count is exact.
  It is cross-checked with the job group: the fit runs under ``setJobGroup``, and
  ``statusTracker().getJobIdsForGroup(group)`` counts the jobs of threads that inherited it; a
  contender whose threads did not inherit the group would be undercounted there, never by the
  counter.
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        text = handle.read()
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def machine_jiffies() -> tuple[int, int]:
    """(idle, total) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return idle, sum(values[:8])  # guest time is already counted in user


def load_average() -> float:
    return os.getloadavg()[0]


@dataclass
class SideRun:
    """The bookkeeping of a benchmark that runs on its own (``python -m benchmarks.inference``, ...)."""

    command: str
    started: Any  # an aware datetime
    wall0: float
    load0: float

    @classmethod
    def begin(cls, module: str, argv: Optional[Sequence[str]]) -> "SideRun":
        import datetime as dt
        import shlex
        import sys

        given = list(argv) if argv else sys.argv[1:]
        run = cls(f"python -m {module}" + (" " + shlex.join(given) if given else ""),
                  dt.datetime.now().astimezone(), time.monotonic(), load_average())
        log(f"{run.command}: load average {run.load0:.1f}")
        return run

    def header(self, machine: dict[str, Any]) -> dict[str, Any]:
        """The fields every side run's JSON starts with: command, start, minutes so far, load, machine."""
        return {
            "command": self.command,
            "started": self.started.isoformat(timespec="seconds"),
            "minutes": round((time.monotonic() - self.wall0) / 60, 1),
            "load": [round(self.load0, 1), round(load_average(), 1)],
            "machine": machine,
        }


def log(line: str) -> None:
    print(line, flush=True)


@dataclass
class Run:
    wall: float
    cpu: float
    peak_cached: int
    jobs: int
    group_jobs: int
    result: Any = None
    load: float = 0.0
    cpu_driver: float = 0.0  # the Python driver's share of ``cpu``
    idle_cores: float = -1.0  # cores left idle machine-wide during the fit (-1: not measured)
    peak_memory: int = 0  # the largest cached bytes in storage memory alone (disk left out)

    @property
    def cores(self) -> float:
        return self.cpu / self.wall if self.wall > 0 else 0.0


class Probe:
    """Reads the figures of one SparkSession (classic, local)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.sc = spark.sparkContext
        self.driver_pid = os.getpid()
        self.jvm_pid = int(self.sc._jvm.ProcessHandle.current().pid())
        self._dag = self.sc._jsc.sc().dagScheduler()

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.driver_pid) + process_cpu_seconds(self.jvm_pid)

    def job_counter(self) -> int:
        return int(self._dag.nextJobId())

    def cached_bytes(self) -> int:
        return sum(self.cached_bytes_apart())

    def cached_bytes_apart(self) -> tuple[int, int]:
        """(bytes in storage memory, bytes on disk) of every cached RDD."""
        infos = self.sc._jsc.sc().getRDDStorageInfo()
        return int(sum(i.memSize() for i in infos)), int(sum(i.diskSize() for i in infos))

    def cached_copy_bytes(self, df: Any) -> int:
        """The cached size of one copy of ``df``: cache it, count it, read the storage, unpersist."""
        before = self.cached_bytes()
        cached = df.cache()
        cached.count()
        size = self.cached_bytes() - before
        cached.unpersist(blocking=True)
        return size

    def measure(self, fit: Callable[[], Any]) -> Run:
        """Run ``fit()`` once and measure it."""
        gc.collect()
        self.sc._jvm.System.gc()
        time.sleep(0.2)
        memory, disk = self.cached_bytes_apart()
        baseline, memory_baseline = memory + disk, memory
        peak, peak_memory = [baseline], [memory]
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                try:
                    memory, disk = self.cached_bytes_apart()
                    peak[0] = max(peak[0], memory + disk)
                    peak_memory[0] = max(peak_memory[0], memory)
                except Exception:  # the gateway may be busy closing; a missed sample is harmless
                    pass
                stop.wait(0.05)

        poller = threading.Thread(target=poll, name="benchmark-cache-poller", daemon=True)
        group = f"benchmark-{uuid.uuid4().hex[:12]}"
        self.sc.setJobGroup(group, "benchmark run")
        load = load_average()
        poller.start()
        jobs0, cpu0 = self.job_counter(), self.cpu_seconds()
        driver0 = process_cpu_seconds(self.driver_pid)
        idle0, _ = machine_jiffies()
        start = time.perf_counter()
        try:
            result = fit()
        finally:
            wall = time.perf_counter() - start
            cpu1, jobs1 = self.cpu_seconds(), self.job_counter()
            driver1 = process_cpu_seconds(self.driver_pid)
            idle1, _ = machine_jiffies()
            stop.set()
            poller.join()
            self.sc.setLocalProperty("spark.jobGroup.id", None)
            self.sc.setLocalProperty("spark.job.description", None)
            self.sc.setLocalProperty("spark.job.interruptOnCancel", None)
        group_jobs = self._group_jobs(group, jobs1 - jobs0)
        return Run(
            wall=wall,
            cpu=cpu1 - cpu0,
            peak_cached=peak[0] - baseline,
            peak_memory=peak_memory[0] - memory_baseline,
            jobs=jobs1 - jobs0,
            group_jobs=group_jobs,
            result=result,
            load=(load + load_average()) / 2,
            cpu_driver=driver1 - driver0,
            idle_cores=(idle1 - idle0) / _CLK_TCK / wall if wall > 0 else 0.0,
        )

    def _group_jobs(self, group: str, expected: int) -> int:
        # the status tracker is fed by the listener bus, asynchronously: give it a moment
        tracker = self.sc.statusTracker()
        count = len(tracker.getJobIdsForGroup(group))
        deadline = time.monotonic() + 2.0
        while count < expected and time.monotonic() < deadline:
            time.sleep(0.05)
            count = len(tracker.getJobIdsForGroup(group))
        return count


@dataclass
class Spread:
    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.median:.2f} [{self.low:.2f}-{self.high:.2f}]"

    @staticmethod
    def of(values: Sequence[float]) -> "Spread":
        return Spread(statistics.median(values), min(values), max(values))


@dataclass
class Comparison:
    """Contenders run side by side: one warm-up each, then ``rounds`` rounds A B C, A B C, ..."""

    name: str
    contenders: dict[str, Callable[[], Any]]
    reference: str  # the contender the others are divided by (ours)
    runs: dict[str, list[Run]] = field(default_factory=dict)
    warmup: dict[str, Run] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def run(self, probe: Probe, rounds: int, log: Callable[[str], None] = print) -> "Comparison":
        for label, fit in self.contenders.items():
            self.warmup[label] = probe.measure(fit)
            log(f"  warm-up {label:<10} {self.warmup[label].wall:7.2f} s")
        self.runs = {label: [] for label in self.contenders}
        for r in range(rounds):
            line = []
            for label, fit in self.contenders.items():
                run = probe.measure(fit)
                self.runs[label].append(run)
                line.append(f"{label} {run.wall:6.2f} s")
            log(f"  round {r + 1}: " + ", ".join(line))
        return self

    def ratio(self, label: str) -> Spread:
        """Wall time of ``label`` / wall time of the reference, per round."""
        ours = self.runs[self.reference]
        return Spread.of([a.wall / b.wall for a, b in zip(self.runs[label], ours)])

    def wall(self, label: str) -> Spread:
        return Spread.of([r.wall for r in self.runs[label]])

    def cores(self, label: str) -> Spread:
        return Spread.of([r.cores for r in self.runs[label]])

    def peak(self, label: str) -> int:
        return max(r.peak_cached for r in self.runs[label])

    def jobs(self, label: str) -> int:
        return int(statistics.median(r.jobs for r in self.runs[label]))

    def group_jobs_agree(self, label: str) -> bool:
        return all(r.jobs == r.group_jobs for r in self.runs[label])

    def load(self) -> float:
        return statistics.median(r.load for runs in self.runs.values() for r in runs)

    def results(self, label: str) -> list[Any]:
        return [r.result for r in self.runs[label]]


def check_same_metrics(results: dict[str, Any], tolerance: float = 1e-6) -> Optional[str]:
    """None if every contender found the same average metrics; else a message saying how they differ."""
    labels = list(results)
    base = results[labels[0]]
    for label in labels[1:]:
        other = results[label]
        if len(other) != len(base) or any(abs(a - b) > tolerance * max(1.0, abs(a)) for a, b in zip(base, other)):
            return f"{labels[0]} {base} vs {label} {other}"
    return None
