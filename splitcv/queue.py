"""The task queue: (fold x param map) tasks on a bounded thread pool that cleans up after itself.

A scheduler decides which task runs next, from the results so far; the runner keeps at most
``parallelism`` tasks in flight. On the first failure, or Ctrl-C, it stops handing out tasks,
cancels the fit's Spark jobs (every task thread carries one job tag) until the tasks in flight have
returned, shuts the pool down, and re-raises, naming the task that failed.
"""

from __future__ import annotations

import itertools
import re
import signal
import threading
import uuid
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional, Protocol, TypeVar

from pyspark.sql import DataFrame, SparkSession

from splitcv.quiet import JOB_TAG_PREFIX, error_summary, quiet_cancelled_jobs, trim_traceback

__all__ = ["Task", "Scheduler", "LongestFirst", "SessionControl", "TaskFailed", "run_tasks", "THREAD_PREFIX"]

#: Worker threads are named with this prefix, so a test can find any left behind.
THREAD_PREFIX = "splitcv-task"

R = TypeVar("R")
_pool_ids = itertools.count()


@dataclass(frozen=True)
class Task:
    """Fit one param map on one fold's training set, then score it on the fold's validation set."""

    fold: int
    #: the param map's index; None for the fold's shared pipeline prefix (splitcv.prefix)
    param_map: Optional[int]
    #: expected cost, for ordering (training rows of the fold)
    cost: float = 0.0
    #: a task that must have finished before this one starts (its fold's prefix)
    after: Optional["Task"] = None


class Scheduler(Protocol):
    """Decides the next task; told of each result, so it may reorder or drop tasks (racing)."""

    def next_task(self) -> Optional[Task]: ...

    def task_done(self, task: Task, result: Any) -> None: ...


class LongestFirst:
    """Every task, the most expensive first: an expanding window's last folds train longest, and
    starting them first keeps the tail of the run short. A task whose ``after`` has not finished
    waits; the next ready one goes instead (other folds do not wait for a fold's prefix)."""

    def __init__(self, tasks: Iterable[Task]) -> None:
        key = lambda t: (-t.cost, t.fold, -1 if t.param_map is None else t.param_map)  # noqa: E731
        self._pending = sorted(tasks, key=key)
        self._done: set[Task] = set()

    def next_task(self) -> Optional[Task]:
        for index, task in enumerate(self._pending):
            if task.after is None or task.after in self._done:
                return self._pending.pop(index)
        return None  # nothing ready until a task in flight finishes

    def task_done(self, task: Task, result: Any) -> None:
        self._done.add(task)


class TaskFailed(RuntimeError):
    """A task of the fit failed; ``task`` says which, the original error is chained."""

    def __init__(self, message: str, task: Task) -> None:
        super().__init__(message)
        self.task = task


class SessionControl:
    """Job tagging and cancellation for one fit, on a classic or a Spark Connect session."""

    def __init__(self, session: SparkSession) -> None:
        self.session = session
        self.tag = f"{JOB_TAG_PREFIX}{uuid.uuid4().hex}"
        self.is_connect = type(session).__module__.startswith("pyspark.sql.connect")

    def wrap(self, target: Callable[[], R]) -> Callable[[], R]:
        """Give ``target`` the caller's Spark thread context and the fit's job tag.

        Each task is wrapped on its own: one wrapper shared by several threads would share one
        local-properties object, and tags would leak between tasks.
        """
        from pyspark import inheritable_thread_target

        def tagged() -> R:
            if self.is_connect:
                self.session.addTag(self.tag)
            else:
                self.session.sparkContext.addJobTag(self.tag)
            try:
                return target()
            finally:
                if self.is_connect:
                    self.session.removeTag(self.tag)
                else:
                    self.session.sparkContext.removeJobTag(self.tag)

        return inheritable_thread_target(self.session)(tagged)

    def cancel(self) -> None:
        try:
            if self.is_connect:
                self.session.interruptTag(self.tag)
            else:
                # The jobs this kills would each log an error with a stack trace (splitcv.quiet).
                quiet_cancelled_jobs(self.session)
                self.session.sparkContext.cancelJobsWithTag(self.tag)
        except Exception:  # the session may already be gone; nothing left to cancel then
            pass

    def persistent_rdds(self) -> set[int]:
        """RDD ids persisted in the JVM (classic only): estimators cache their own data."""
        if self.is_connect:
            return set()
        return {int(k) for k in self.session.sparkContext._jsc.getPersistentRDDs().keySet().toArray()}

    def storage_memory(self) -> Optional[int]:
        """Bytes the executors may cache in all (Spark's unified memory), or None on Connect,
        whose client cannot read storage status."""
        if self.is_connect:
            return None
        # The live executors by id, from the status store: getExecutorMemoryStatus() keys block
        # managers by host:port only, which cannot tell the driver's from an executor's.
        found, entries = [], self.session.sparkContext._jsc.sc().statusStore().executorList(True).iterator()
        while entries.hasNext():
            executor = entries.next()
            found.append((str(executor.id()), int(executor.maxMemory())))
        return executor_storage(found)

    def storage_fraction(self) -> float:
        """``spark.memory.storageFraction``: the share of that memory execution cannot take back."""
        if self.is_connect:
            return 0.5
        return float(self.session.sparkContext.getConf().get("spark.memory.storageFraction", "0.5"))

    def cached_bytes(self, ids: Iterable[int], dataset: Optional[DataFrame] = None) -> int:
        """Bytes in memory of the given persisted RDDs; on Connect, which has no storage status,
        the size Spark's optimizer gives ``dataset`` (its cached size once it is cached)."""
        if self.is_connect:
            return self.dataset_bytes(dataset) if dataset is not None else 0
        wanted = set(ids)
        return sum(int(i.memSize()) for i in self.session.sparkContext._jsc.sc().getRDDStorageInfo() if i.id() in wanted)

    def dataset_bytes(self, dataset: DataFrame) -> int:
        """The size Spark's optimizer gives ``dataset``: for a cached one, its cached bytes."""
        if self.is_connect:
            return plan_size(dataset._explain_string(mode="cost"))
        size = int(str(dataset._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))  # a BigInt
        return size if size < 1 << 62 else 0  # Spark's 'unknown' is Long.MaxValue

    def unpersist_rdds(self, ids: Iterable[int]) -> None:
        if self.is_connect:
            return
        rdds = self.session.sparkContext._jsc.getPersistentRDDs()
        for rdd_id in ids:
            rdd = rdds.get(rdd_id)
            if rdd is not None:
                rdd.unpersist(False)


def executor_storage(block_managers: Iterable[tuple[str, int]]) -> int:
    """The storage memory RDD blocks can use, from ``(executor id, max memory)`` per block manager.

    On a cluster the driver's block manager holds broadcasts and results, not the partitions of
    a cached DataFrame or of an estimator's cached training set, so it is left out; in local mode
    the driver is the only executor and counts.

    >>> executor_storage([("driver", 400), ("0", 300), ("1", 300)]), executor_storage([("driver", 400)])
    (600, 400)
    """
    found = list(block_managers)
    executors = [memory for executor, memory in found if executor != "driver"]
    return sum(executors) if executors else sum(memory for _, memory in found)


@contextmanager
def _ctrl_c_raises_only() -> Iterator[None]:
    """While the queue runs, Ctrl-C raises ``KeyboardInterrupt`` and nothing else.

    pyspark's own SIGINT handler cancels every job of the context before raising, because a main
    thread blocked in a py4j call cannot stop the job it waits for. Here the main thread waits on the
    pool, not on the JVM, and the queue cancels the fit's own jobs by their tag, which the log filter
    knows (:mod:`splitcv.quiet`); pyspark's "cancellation of all jobs" would log an ERROR and a stack
    trace for every fit in flight, and cancel jobs that are not this fit's. Only pyspark's handler is
    set aside, only on the main thread (where handlers live), and it is put back on the way out,
    before the queue's own cancelling: a second Ctrl-C during that cleanup cancels every job, as
    pyspark would.
    """
    current = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not (getattr(current, "__module__", None) or "").startswith("pyspark"):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, current)


def run_tasks(
    scheduler: Scheduler,
    work: Callable[[Task], R],
    parallelism: int,
    control: SessionControl,
    describe: Callable[[Task], str] = str,
    budget: Optional[float] = None,
    need: Callable[[Task], float] = lambda task: 0.0,
    on_done: Optional[Callable[[Task, R], None]] = None,
    on_wait: Optional[Callable[[], None]] = None,
) -> dict[Task, R]:
    """Run the scheduler's tasks on ``parallelism`` threads; return each task's result.

    With a ``budget``, the tasks in flight together ``need`` at most that much (bytes they may
    cache): a task that does not fit waits for tasks to finish, and runs alone if it never fits.

    ``on_done(task, result)`` is told of each finished task, after the scheduler, and ``on_wait()``
    is called about once a second while tasks run (a progress display's clock). Both run on this,
    the coordinating thread, one call at a time, never on a task's thread; what they raise stops
    the fit like a failed task (jobs cancelled, the pool shut down) and propagates as it is.
    """
    stop = threading.Event()
    results: dict[Task, R] = {}
    held: Optional[Task] = None  # the next task, waiting for room in the budget
    used = 0.0

    def guarded(task: Task) -> Callable[[], R]:
        return control.wrap(lambda: _run_task(stop, work, task))

    executor = ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix=f"{THREAD_PREFIX}-{next(_pool_ids)}")
    in_flight: dict[Future, Task] = {}
    try:
        with _ctrl_c_raises_only():
            while True:
                while len(in_flight) < parallelism:
                    task, held = held or scheduler.next_task(), None
                    if task is None:
                        break
                    if budget is not None and in_flight and used + need(task) > budget:
                        held = task
                        break
                    used += need(task)
                    in_flight[executor.submit(guarded(task))] = task
                if not in_flight:
                    return results
                done, _ = wait(in_flight, timeout=_TICK_SECONDS if on_wait else None, return_when=FIRST_COMPLETED)
                for future in done:
                    task = in_flight.pop(future)
                    used -= need(task)
                    error = future.exception()
                    if error is not None:
                        message = f"{describe(task)} failed: {error_summary(error)}\n" + _FAILURE_NOTE[
                            isinstance(scheduler, LongestFirst)
                        ]
                        # The frames above the task's work are the pool's: the user reads the cause from
                        # their own code down (the whole error stays chained as __cause__).
                        raise TaskFailed(message, task) from trim_traceback(error, _run_task.__code__)
                    results[task] = future.result()
                    scheduler.task_done(task, results[task])
                    if on_done is not None:
                        on_done(task, results[task])
                if on_wait is not None:
                    on_wait()
    except BaseException:
        stop.set()
        # Cancel until the tasks in flight have returned: a task between two jobs would
        # otherwise start its next one after a single cancel.
        while in_flight:
            control.cancel()
            _, pending = wait(in_flight, timeout=0.25)
            in_flight = {f: t for f, t in in_flight.items() if f in pending}
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


#: How often ``on_wait`` is called while tasks run, at most: a progress line's elapsed time moves on.
_TICK_SECONDS = 1.0

_SIZE_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50}


def plan_size(explained: str) -> int:
    """The root's ``sizeInBytes`` in an ``explain(mode="cost")`` text; 0 when unknown.

    >>> plan_size("InMemoryRelation [a#1], Statistics(sizeInBytes=1.5 MiB)")
    1572864
    >>> plan_size("Relation Statistics(sizeInBytes=8.0 EiB)")  # Spark's 'unknown'
    0
    """
    found = re.search(r"sizeInBytes=([\d.]+)\s*([KMGTPE]?i?B)", explained)
    if not found or found.group(2) not in _SIZE_UNITS:
        return 0
    return int(float(found.group(1)) * _SIZE_UNITS[found.group(2)])


class _Skipped(Exception):
    """A task that was dequeued after the fit had already failed."""


def _run_task(stop: threading.Event, work: Callable[[Task], R], task: Task) -> R:
    """A task's body on its worker thread; a failure's traceback is cut above this frame."""
    if stop.is_set():
        raise _Skipped()
    return work(task)


#: The second line of a failure's message, by whether tasks ran longest first.
_FAILURE_NOTE = {
    True: (
        "It is the first task that failed, and it stopped the fit; tasks start with the folds that train longest, "
        "not in fold order, so other folds may fail too. The full error is chained above."
    ),
    False: "It is the first task that failed, and it stopped the fit. The full error is chained above.",
}


def is_cached(dataset: DataFrame) -> bool:
    level = dataset.storageLevel
    return bool(level.useMemory or level.useDisk or level.useOffHeap)


__all__ += ["is_cached"]
