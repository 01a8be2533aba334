"""Failures that read well: a one-line cause, tracebacks without the thread pool's frames, and no
JVM log lines for the Spark jobs a fit cancels on purpose."""

from __future__ import annotations

from types import CodeType, TracebackType
from typing import Optional

__all__ = ["JOB_TAG_PREFIX", "CANCELLED_JOB_LOG", "error_summary", "trim_traceback", "quiet_cancelled_jobs"]

#: Every fit's Spark jobs carry one tag, this prefix and 32 hex digits (``SessionControl``).
JOB_TAG_PREFIX = "splitcv-fit-"

#: What Spark logs for a job cancelled through a fit's tag: the task set manager's "Lost task ...
#: TaskKilled (Stage cancelled: [SPARK_JOB_CANCELLED] Job 4 cancelled part of cancelled job tags
#: splitcv-fit-...)" warnings, and Spark ML's "ERROR Instrumentation: ...SparkException:
#: [SPARK_JOB_CANCELLED] ..." with a stack trace for each fit that was running one. A fit cancels
#: its jobs only after it failed or was interrupted, and raises that failure itself: these lines
#: are expected, and only bury it. Any other cancellation still logs.
CANCELLED_JOB_LOG = r"(?s).*\[SPARK_JOB_CANCELLED\].*" + JOB_TAG_PREFIX + r"[0-9a-f]{32}.*"


def error_summary(error: BaseException) -> str:
    """``<type>: <first line>`` of ``error``; for a Py4JJavaError, the Java exception's own line.

    A Py4JJavaError's message is "An error occurred while calling o123.fit." and then the whole
    Java stack trace; the line that says what went wrong is the Java exception's ``toString()``.
    """
    text = str(error)
    java = getattr(error, "java_exception", None)
    if java is not None:
        try:
            text = str(java.toString())
        except Exception:  # the JVM may be gone (a stopped session): keep py4j's text
            pass
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def trim_traceback(error: BaseException, below: CodeType) -> BaseException:
    """Drop the frames of ``error``'s traceback down to and including the first frame running
    ``below``: on a worker thread those are the pool's and the job-tag wrapper's, none of them the
    user's. Unchanged when no frame runs ``below``. Returns ``error``."""
    tb: Optional[TracebackType] = error.__traceback__
    while tb is not None and tb.tb_frame.f_code is not below:
        tb = tb.tb_next
    if tb is not None and tb.tb_next is not None:
        error.__traceback__ = tb.tb_next
    return error


def quiet_cancelled_jobs(session) -> bool:
    """Keep the driver's log4j2 from logging the cancellation of jobs tagged by any splitcv fit
    (:data:`CANCELLED_JOB_LOG`); True once the filter is in place.

    A filter of the whole logging configuration, not a level: every other message logs as before,
    whatever its logger and level. It stays for the life of the configuration (one per JVM, added
    once) because the executors report killed tasks after the fit has returned. On Spark Connect
    (no JVM in this process; the server logs to its own files) or another logging backend, nothing
    is done and False is returned.
    """
    context = getattr(session, "sparkContext", None)
    jvm = getattr(context, "_jvm", None) if context is not None and not _is_connect(session) else None
    if jvm is None:
        return False
    try:
        core = jvm.org.apache.logging.log4j.core
        logging_context = jvm.org.apache.logging.log4j.LogManager.getContext(False)
        config = logging_context.getConfiguration()
        if CANCELLED_JOB_LOG in _filter_text(config.getFilter()):
            return True
        result = getattr(core, "Filter$Result")
        found = core.filter.RegexFilter.createFilter(CANCELLED_JOB_LOG, None, False, result.DENY, result.NEUTRAL)
        found.start()
        config.addFilter(found)
        logging_context.updateLoggers()
        return True
    except Exception:  # not log4j2 core (a custom slf4j binding), or the JVM is going away
        return False


def _filter_text(found) -> str:
    """The description of a configuration's filter (a CompositeFilter lists its parts)."""
    return "" if found is None else str(found.toString())


def _is_connect(session) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")
