"""scikit-learn's parallel work (``GridSearchCV``'s fits) as Spark tasks, through joblib-spark.

joblib-spark (``joblibspark``) is a joblib backend that runs each batch of joblib calls as a
one-task Spark job. Used as its README shows (``register_spark()`` then
``parallel_backend("spark")``), it leaves a thread pool behind after every ``with`` block (the
pool is closed only when Python exits) and prints warnings that do not apply to pyspark 4.
``spark_backend`` is the same backend, scoped: the pool is shut down at the end of the block and,
when the block fails or is interrupted, the backend's Spark jobs are cancelled first.

It also mends joblibspark 0.6 under joblib 1.6, where a fit that raises did not fail with its own
error: the worker's exception came back as a Spark ``PythonException``, which joblib 1.6 could not
unwrap (``'_ExceptionWithTraceback' object is not iterable``), and the abort that followed raised
``AttributeError: 'Parallel' object has no attribute '_backend_args'``. Here each batch returns the
exception it raised, and the driver raises it as itself (``ValueError`` stays ``ValueError``), with
the worker's traceback as its cause, as joblib's own process pool does.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import threading
import warnings
from typing import Any, Callable, Iterator, Optional

INSTALL_HINT = "pip install 'splitcv[joblibspark]'"

# Warnings joblibspark 0.6 gives on every backend it makes, none of which is about the user's code:
# it warns that stage-level scheduling is unsupported even where it is supported (the else branch of
# its check warns unconditionally), that local mode has none (true, and harmless), and pyspark 4's
# inheritable_thread_target warns that tags are not inherited (joblibspark uses job groups, not tags,
# outside Connect).
_NOISE = (
    "Spark local mode doesn't support stage-level scheduling",
    "Spark version does not support stage-level scheduling",
    "Spark session is not provided",
)


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a Spark task: the ``__cause__`` of the exception
    re-raised on the driver."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]) if self.args else ""


_RAISED = "splitcv.sklearn.spark_backend: raised"  # tags a batch's exception in its pickled result


def _on_worker(func: Callable[[], Any]) -> Callable[[], Any]:
    """``func`` (a joblib batch), returning what it raises instead of failing the Spark task.

    The returned function is a closure, so cloudpickle ships it by value: the executors need no splitcv.
    """

    def run() -> Any:
        try:
            return func()
        except BaseException as exc:  # noqa: BLE001 (KeyboardInterrupt too: it is the batch's outcome)
            import traceback

            from pyspark import cloudpickle

            text = "".join(traceback.format_exception(exc))
            try:  # the driver must be able to rebuild it, not only this worker to pickle it
                cloudpickle.loads(cloudpickle.dumps(exc))
            except Exception:
                exc = RuntimeError(f"{type(exc).__name__}: {exc} (raised in a Spark task; it could not be pickled)")
            return (_RAISED, exc, text)

    return run


def _unwrap(result: Any) -> Any:
    if isinstance(result, tuple) and len(result) == 3 and result[0] == _RAISED:
        _, exc, text = result
        raise exc from RemoteTraceback(text)
    return result


def _explain_missing_module(exc: BaseException) -> None:
    """A batch that cannot be unpickled on an executor fails the Spark task before it runs: say why."""
    text = str(exc)
    if "ModuleNotFoundError" in text or "No module named" in text:
        exc.add_note(
            "spark_backend: a Spark task could not unpickle its batch of fits. The executors' Python needs the "
            "packages the driver's objects come from: scikit-learn, splitcv (GridSearchCV sends itself, with its "
            "cv, to every task) and whatever your estimator imports, at the driver's versions."
        )


@functools.lru_cache(maxsize=None)
def _backend_class() -> type:
    """joblibspark's backend with joblib 1.6's submit/retrieve protocol, a working abort, and a
    number of jobs in flight fixed by the block."""
    from joblib._utils import _retrieve_traceback_capturing_wrapped_call
    from joblibspark.backend import SparkDistributedBackend

    class ScopedSparkBackend(SparkDistributedBackend):
        supports_retrieve_callback = True  # results come back through retrieve_result_callback
        block_n_jobs = 2  # set by spark_backend before the block runs

        def _create_resource_profile(self, num_cpus_per_spark_task: Optional[int],
                                     num_gpus_per_spark_task: Optional[int]) -> Any:
            # joblibspark asks for a task resource profile wherever stage-level scheduling exists,
            # even for the cluster's own defaults; Spark refuses one in local mode behind Connect and
            # on clusters with dynamic allocation ("TaskResourceProfiles are only supported for
            # Standalone, Yarn and Kubernetes cluster for now when dynamic allocation is disabled").
            # Without cpus_per_task there is nothing to ask for: tasks get spark.task.cpus anyway.
            if num_cpus_per_spark_task is None and num_gpus_per_spark_task is None:
                return None
            return SparkDistributedBackend._create_resource_profile(self, num_cpus_per_spark_task, num_gpus_per_spark_task)

        def slots(self, n_jobs: int) -> int:
            """What joblibspark makes of ``n_jobs`` (-1: the cluster's task slots now; 64 on Connect)."""
            return int(SparkDistributedBackend.effective_n_jobs(self, n_jobs))

        def effective_n_jobs(self, n_jobs: Optional[int]) -> int:
            # The block decides: an estimator's own n_jobs inside it (GridSearchCV(n_jobs=1) would make
            # joblib fit on the driver) changes nothing, and the pool, sized once, matches what joblib plans for.
            return self.block_n_jobs

        def submit(self, func: Callable[[], Any], callback: Optional[Callable[[Any], Any]] = None) -> Any:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_NOISE[2])  # pyspark 4, once per batch
                return SparkDistributedBackend.apply_async(self, _on_worker(func), callback)

        def apply_async(self, func: Callable[[], Any], callback: Optional[Callable[[Any], Any]] = None) -> Any:
            return self.submit(func, callback)  # joblib < 1.5 calls this name

        def retrieve_result_callback(self, out: Any) -> Any:
            # out: the batch's result, or joblib's wrapper of an exception raised on the driver
            # (a failed or cancelled job); the batch's own exception comes back tagged by _on_worker
            try:
                return _unwrap(_retrieve_traceback_capturing_wrapped_call(out))
            except Exception as exc:
                _explain_missing_module(exc)
                raise

        def abort_everything(self, ensure_ready: bool = True) -> None:
            # Queued batches are dropped with the pool (joblibspark keeps them, to run after a later
            # start_call); a new pool is made on demand. joblibspark 0.6 reads Parallel._backend_args
            # here, gone in joblib 1.6.
            _stop_pool(self, cancel=True)
            if ensure_ready:
                self.configure(n_jobs=self.block_n_jobs, parallel=self.parallel)

    return ScopedSparkBackend


def _check_count(name: str, value: Any, *, lowest: int, minus_one: bool) -> Optional[int]:
    if value is None and not minus_one:
        return None
    fix = (f"-1 (every task slot the cluster has) or a count of at least {lowest}" if minus_one
           else f"a count of at least {lowest}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}={value!r} must be an int: give {fix}")
    if value == -1 and minus_one:
        return value
    if value < lowest:
        raise ValueError(f"{name}={value!r} is not a valid count: give {fix}")
    return value


def _active_session() -> Any:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        try:  # the process's default session, made in another thread
            session = SparkSession.active()
        except Exception:
            session = None
    if session is None:
        raise RuntimeError(
            "spark_backend runs scikit-learn's fits on the active Spark session, and none is active: "
            "start one first (SparkSession.builder.getOrCreate(), or .remote(url) for Spark Connect)"
        )
    return session


@contextlib.contextmanager
def spark_backend(n_jobs: int = -1, *, cpus_per_task: Optional[int] = None) -> Iterator[int]:
    """Run the joblib work of scikit-learn calls inside the block as Spark tasks of the active session.

    Inside the block, ``GridSearchCV.fit``, ``cross_validate`` and every other scikit-learn call that
    parallelises with joblib send their fits to Spark, each batch of fits (joblib batches short
    ones together) as a one-task job, ``n_jobs`` jobs at a time, through joblib-spark's backend. The
    block's ``n_jobs`` decides, whatever ``n_jobs`` the estimators inside it were given.
    ``GridSearchCV``'s final refit of the best params runs here, on the driver, as it does without
    the block. scikit-learn plans the folds on the driver (``cv.split``); the estimator, the scorer,
    the data and (scikit-learn 1.9) the ``GridSearchCV`` itself with its ``cv`` travel pickled with
    every batch, so the executors need the driver's scikit-learn and splitcv installed.

    A fit that raises fails the block with its own exception (its worker traceback as the
    ``__cause__``). On leaving the block the backend's thread pool is shut down; if the block raised
    (a failed fit, ``Ctrl-C``), its running Spark jobs are cancelled first. The block yields the
    number of jobs the backend keeps in flight.

    Parameters
    ----------
    n_jobs:
        Spark jobs (so batches of fits) in flight at once, 2 or more (with 1, joblib would fit on the
        driver). ``-1``, the default, is the task slots the cluster has when the block starts
        (``local[2]``: 2); on Spark Connect, where the client cannot see them, joblibspark's 64.
    cpus_per_task:
        Cores each fit may use (for estimators that use threads themselves). Only where Spark has
        stage-level scheduling (standalone, YARN, Kubernetes); local mode ignores it. ``None``:
        ``spark.task.cpus``.

    Raises ``ImportError`` naming the extra when joblibspark is missing, ``RuntimeError`` when no
    Spark session is active or ``n_jobs=-1`` finds fewer than 2 task slots, before any Spark job.

    Examples
    --------
    The folds of an expanding window over 60 days, fitted by Spark tasks (a local session here)::

        >>> import numpy as np
        >>> from pyspark.sql import SparkSession
        >>> from sklearn.linear_model import Ridge
        >>> from sklearn.model_selection import GridSearchCV
        >>> from splitcv.sklearn import ExpandingWindowCV, spark_backend
        >>> spark = SparkSession.builder.getOrCreate()
        >>> days = np.arange("2024-01-01", "2024-03-01", dtype="datetime64[D]")
        >>> X = np.arange(len(days), dtype=float).reshape(-1, 1)
        >>> y = 2.0 * X[:, 0] + np.sin(X[:, 0])
        >>> cv = ExpandingWindowCV(time=days, horizon="1 week", numFolds=3)
        >>> search = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=cv)
        >>> with spark_backend(n_jobs=2):
        ...     search = search.fit(X, y)
        >>> search.best_params_, search.n_splits_
        ({'alpha': 0.1}, 3)
    """
    if type(n_jobs) is int and n_jobs == 1:
        raise ValueError(
            "n_jobs=1 is not a valid count (joblib runs a single job on the driver, not on Spark; leave the block "
            "out to fit one at a time): give -1 (every task slot the cluster has) or a count of at least 2"
        )
    n_jobs = _check_count("n_jobs", n_jobs, lowest=2, minus_one=True)
    cpus_per_task = _check_count("cpus_per_task", cpus_per_task, lowest=1, minus_one=False)
    try:
        importlib.import_module("joblibspark.backend")  # checked on every call: the class below is built once
        backend_class = _backend_class()
    except ImportError as err:
        raise ImportError(f"spark_backend needs joblib-spark (import of {err.name or err} failed): {INSTALL_HINT}") from err
    import joblib

    _active_session()  # joblibspark would start a session of its own instead; refuse before it does
    with warnings.catch_warnings():
        for message in _NOISE:
            warnings.filterwarnings("ignore", message=message)
        backend = backend_class(num_cpus_per_spark_task=cpus_per_task)
        slots = backend.slots(n_jobs)
    if slots < 2:
        raise RuntimeError(
            f"spark_backend(n_jobs=-1) found {slots} task slot(s) in the cluster now (executors still starting, "
            "or dynamic allocation at zero): give n_jobs=2 or more, which Spark queues until executors come"
        )
    backend.block_n_jobs = slots
    failed = True
    try:
        with joblib.parallel_config(backend=backend, n_jobs=slots):
            yield slots
        failed = False
    finally:
        _stop_pool(backend, cancel=failed)


def _stop_pool(backend: Any, *, cancel: bool) -> None:
    """Shut the backend's thread pool down; with ``cancel``, its Spark jobs are cancelled first.

    Cancelling goes on until the pool's threads are gone: a thread that was about to start a job
    when the first cancel came would otherwise start it after, and the join would wait for it.
    joblibspark 0.6 has no public way to do either: ``_cancel_all_jobs`` and ``_pool`` are its own
    names, read defensively so that a version without them degrades to joblibspark's behaviour
    (pool closed at exit) rather than failing the block.
    """
    pool = getattr(backend, "_pool", None)
    cancel_jobs = getattr(backend, "_cancel_all_jobs", None)
    if not cancel or cancel_jobs is None:
        cancel_jobs = None
    stop = threading.Event()

    def keep_cancelling() -> None:
        while True:
            with contextlib.suppress(Exception):
                cancel_jobs()
            if stop.wait(0.1):
                return

    canceller = None
    if cancel_jobs is not None:
        canceller = threading.Thread(target=keep_cancelling, name="splitcv-spark-backend-cancel", daemon=True)
        canceller.start()
    try:
        if pool is not None:
            if cancel:
                pool.terminate()  # queued batches are dropped; running ones end as their jobs are cancelled
            else:
                pool.close()
            pool.join()
            atexit.unregister(pool.close)
            backend._pool = None
    finally:
        stop.set()
        if canceller is not None:
            canceller.join()
