"""Progress of a long fit, and a callback that is given each finished (fold, param map) result.

A fit's progress counts its (fold, map) tasks (a pipeline prefix task is internal and not counted):
tasks done of total, the time elapsed, an estimate of the time left, and the best mean metric so far.
Racing drops tasks, so the total shrinks as maps leave the race; nested cross-validation counts its
inner tasks of every outer fold in one progress.

Where it goes (the validator's ``progress`` Param):

- ``"auto"`` (default): nothing for the first :data:`AUTO_DELAY_SECONDS` seconds, then one updating
  line on stderr when stderr is a terminal, or a widget in a notebook (``tqdm.auto`` picks it), if
  ``tqdm`` is installed (``pip install splitcv[progress]``). Without ``tqdm``, or when stderr is not a
  terminal, INFO lines through the ``logging`` logger ``splitcv.progress``, one every 5% of the tasks
  and one at the end: they are seen only where logging is set up to show them, so nothing is printed
  to a log file or a pipe unless asked for. In a terminal without ``tqdm`` and without logging set
  up, the same lines are printed to stderr.
- ``True``: from the start, whatever stderr is: the ``tqdm`` line if ``tqdm`` is there, the lines
  otherwise (printed to stderr when logging would not show them).
- ``False``: never.

The time left: tasks start longest first (the folds with the most training rows), so the tasks done
are the longer ones and a count of them undercounts the time spent. The estimate weighs each task by
its training rows (what a fit's time grows with): time left = elapsed x (rows of the tasks not done)
/ (rows of the tasks done). The fixed cost of a task (a Spark job's overhead, the same for every
task) is not in the weights, so on small folds, where it dominates, the estimate is on the long side
early in the run.

The callback (the ``callback`` Param) is given a :class:`TaskResult` per finished (fold, map) task,
once its metric is known, on the thread that called ``fit`` (the queue's coordinating thread), one
call at a time: it may update a dashboard without a lock. While it runs no new task starts (the
tasks running go on): keep it quick. If it raises, the fit stops as for a failed task.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

from pyspark.ml.param import Param, Params

from splitcv.queue import Task, TaskFailed
from splitcv.quiet import error_summary

__all__ = ["TaskResult", "HasProgress", "FitProgress", "LOGGER_NAME", "AUTO_DELAY_SECONDS"]

#: The logger of the progress lines.
LOGGER_NAME = "splitcv.progress"
#: With ``progress="auto"``, a fit shows its progress once it has run this long.
AUTO_DELAY_SECONDS = 3.0
#: A progress line is logged each time the tasks done pass another 1/_LOG_STEPS of the total (5%).
_LOG_STEPS = 20

_logger = logging.getLogger(LOGGER_NAME)


@dataclass(frozen=True)
class TaskResult:
    """One finished (fold, param map) task, as the validator's ``callback`` is given it.

    ``fold`` and ``paramMapIndex`` index ``foldMetrics[fold][paramMapIndex]``; ``params`` is the map as
    ``summary()`` shows it (``{'regParam': 0.1}``); ``metric`` the evaluator's metric on the fold's
    validation rows (NaN where the evaluator gave NaN); ``fitSeconds`` and ``scoreSeconds`` as in
    ``summary()``'s ``mean_fit_time`` and ``mean_score_time``. ``done`` counts the results given to the
    callback so far, this one included, of ``total`` it will be given (racing lowers ``total`` as maps
    leave the race; the last result has ``done == total``). ``outerFold`` is the outer fold in
    :func:`splitcv.nested_cross_validate` (``fold`` is then the inner fold in it), None in a fit.

    >>> TaskResult(fold=0, paramMapIndex=1, params={"regParam": 0.1}, metric=0.9, fitSeconds=1.5,
    ...            scoreSeconds=0.2, done=1, total=6).params
    {'regParam': 0.1}
    """

    fold: int
    paramMapIndex: int
    params: dict[str, Any]
    metric: float
    fitSeconds: float
    scoreSeconds: float
    done: int
    total: int
    outerFold: Optional[int] = None


def to_progress(value: Any) -> Union[bool, str]:
    """The ``progress`` Param's converter: True, False or ``"auto"``.

    >>> to_progress("auto"), to_progress(False)
    ('auto', False)
    >>> to_progress("yes")
    Traceback (most recent call last):
    ...
    ValueError: progress='yes' is not one of True, False or 'auto' ...
    """
    if isinstance(value, bool) or (isinstance(value, str) and value == "auto"):
        return value
    if type(value).__name__ == "bool_":  # numpy's bool
        return bool(value)
    kind = ValueError if isinstance(value, str) else TypeError
    raise kind(
        f"progress={value!r} is not one of True, False or 'auto' (the default: shown in a terminal or a "
        "notebook once the fit has run a few seconds); give e.g. progress=False to never show it"
    )


def to_callback(value: Any) -> Optional[Callable[[TaskResult], Any]]:
    """The ``callback`` Param's converter: a callable, or None for no callback."""
    if value is None or callable(value):
        return value
    raise TypeError(
        f"callback={value!r} is not callable; give a function of one splitcv.TaskResult, e.g. "
        "callback=lambda result: print(result.fold, result.metric), or None for no callback"
    )


class HasProgress(Params):
    """The ``progress`` and ``callback`` Params (see :mod:`splitcv.progress`)."""

    progress: "Param[Union[bool, str]]" = Param(
        Params._dummy(),
        "progress",
        "show the fit's progress (tasks done of total, elapsed, time left, best mean metric so far): 'auto' "
        "(default: a line in a terminal or a widget in a notebook once the fit has run a few seconds, log "
        "lines through the logger 'splitcv.progress' otherwise), True (always) or False (never)",
        typeConverter=lambda value: to_progress(value),
    )
    callback: "Param[Optional[Callable[[TaskResult], Any]]]" = Param(
        Params._dummy(),
        "callback",
        "a function given a splitcv.TaskResult for each finished (fold, param map) task, on the thread that "
        "called fit, one call at a time; if it raises, the fit stops. None (default) for none; not saved",
        typeConverter=lambda value: to_callback(value),
    )

    def getProgress(self) -> Union[bool, str]:
        return self.getOrDefault(self.progress)

    def getCallback(self) -> Optional[Callable[[TaskResult], Any]]:
        return self.getOrDefault(self.callback)


def metric_name(evaluator: Any) -> str:
    """The evaluator's ``metricName``, or ``"metric"`` for one without it."""
    try:
        if evaluator.hasParam("metricName"):
            return str(evaluator.getOrDefault("metricName"))
    except Exception:  # an evaluator of the user's that cannot say
        pass
    return "metric"


def clock_text(seconds: float) -> str:
    """Seconds as ``MM:SS``, or ``H:MM:SS`` from an hour on.

    >>> clock_text(75.4), clock_text(3725)
    ('01:15', '1:02:05')
    """
    minutes, secs = divmod(int(max(seconds, 0.0)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class FitProgress:
    """One fit's progress display and callback, driven from the task queue's coordinating thread.

    The fit tells it of its (fold, map) tasks (:meth:`add`, each with its weight, the training rows),
    of each one finished (:meth:`task_done`, with the tasks racing discarded since), of each result
    once its metric is known (:meth:`result`), and calls :meth:`tick` while it waits. As a context
    manager it closes the display when the fit ends, with a last line when it succeeded.

    >>> now = [0.0]
    >>> progress = FitProgress(True, None, "rmse", larger_is_better=False, clock=lambda: now[0])
    >>> progress.add([100.0, 100.0])
    >>> now[0] = 10.0
    >>> progress.task_done(100.0)
    >>> progress.result(0, 1, {}, 0.5, 1.0, 0.1, str)
    >>> progress.status()
    '1/2 tasks (50%), 00:10 elapsed, ~00:10 left, best rmse 0.5 (map 1)'
    """

    def __init__(
        self,
        show: Union[bool, str],
        callback: Optional[Callable[[TaskResult], Any]],
        metric: Optional[str] = "metric",
        larger_is_better: bool = True,
        where: Optional[Callable[[int], tuple[Optional[int], int]]] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show, self._callback = to_progress(show), to_callback(callback)
        #: the metric's name for "best <name> <value>"; None shows no best (nested folds differ in data)
        self._metric, self._larger = metric, larger_is_better
        self._where = where or (lambda fold: (None, fold))
        self._clock = clock
        self._start = clock()
        self._delay = AUTO_DELAY_SECONDS if self._show == "auto" else 0.0
        # Print only where asked for: forced on, or stderr a terminal (or a notebook) under "auto".
        self._may_print = self._show is True or (self._show == "auto" and _interactive())
        self.done = self.total = self.given = 0
        self._weight_done = self._weight_total = 0.0
        self._sums: dict[int, list[float]] = {}  # map -> [sum, folds, NaN folds]
        self.best: Optional[tuple[int, float]] = None  # (map, mean metric)
        self._display: Optional[Union[_Bar, _Lines]] = None
        self._drawn = self._start  # when the display was last refreshed

    # -- what the fit reports ------------------------------------------------------------------
    def add(self, weights: Sequence[float]) -> None:
        """Count tasks in, each with its weight for the time left (its training rows)."""
        self.total += len(weights)
        self._weight_total += float(sum(weights))

    def task_done(self, weight: float, discarded: Sequence[float] = ()) -> None:
        """A task finished; ``discarded`` are the weights of tasks that will never run (racing)."""
        self.done += 1
        self._weight_done += weight
        self.total -= len(discarded)
        self._weight_total -= float(sum(discarded))

    def result(
        self, fold: int, index: int, params: dict[str, Any], metric: float, fit_seconds: float,
        score_seconds: float, about: Callable[[], str],
    ) -> None:
        """Map ``index``'s metric on ``fold`` is known: count it in the best mean, give it to the
        callback. ``about()`` names the (fold, map) for an error from the callback."""
        self.given += 1
        metric = float(metric)
        if self._metric is not None:
            self._note(index, metric)
        if self._callback is None:
            return
        outer, inner = self._where(fold)
        record = TaskResult(
            fold=inner, paramMapIndex=index, params=dict(params), metric=metric, fitSeconds=float(fit_seconds),
            scoreSeconds=float(score_seconds), done=self.given, total=self.total, outerFold=outer,
        )
        try:
            self._callback(record)
        except Exception as error:
            raise TaskFailed(
                f"the callback {_name(self._callback)} raised on the result of {about()}: {error_summary(error)}\n"
                "It stopped the fit as a failed task does. The callback's error is chained above.",
                Task(fold, index),
            ) from error

    def tick(self) -> None:
        """The queue is waiting: show the display once it is due, move its clock on (once a second)."""
        if self._clock() - self._drawn >= 1.0:
            self.refresh()

    def refresh(self) -> None:
        self._drawn = self._clock()
        if self._display is None:
            if self._show is False or self._clock() - self._start < self._delay:
                return
            self._display = _open(self._may_print, self)
        self._display.update(self)

    def close(self, succeeded: bool) -> None:
        if succeeded and self._show is not False:
            self.refresh()
        if self._display is not None:
            self._display.close(self, succeeded)
            self._display = None

    def __enter__(self) -> "FitProgress":
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self.close(kind is None)

    # -- what it shows ---------------------------------------------------------------------------
    def _note(self, index: int, metric: float) -> None:
        sums = self._sums.setdefault(index, [0.0, 0, 0])
        if math.isnan(metric):
            sums[2] += 1
        else:
            sums[0] += metric
            sums[1] += 1
        if self.best is not None and self.best[0] != index:
            mean = self._mean(index)  # only this map's mean moved: compare it with the best
            if mean is not None and self._better(mean, self.best[1]):
                self.best = (index, mean)
            return
        found = [(j, mean) for j in sorted(self._sums) if (mean := self._mean(j)) is not None]
        self.best = None
        for j, mean in found:
            if self.best is None or self._better(mean, self.best[1]):
                self.best = (j, mean)

    def _mean(self, index: int) -> Optional[float]:
        total, folds, nans = self._sums[index]
        # A map with a NaN fold can never be chosen (splitcv.selection): it is no best so far.
        return total / folds if folds and not nans else None

    def _better(self, a: float, b: float) -> bool:
        return a > b if self._larger else a < b

    def elapsed(self) -> float:
        return self._clock() - self._start

    def left(self) -> Optional[float]:
        """Seconds left, weighing the tasks by their training rows; None before any task is done."""
        if self.done >= self.total:
            return 0.0
        if self._weight_done <= 0:
            return None
        return self.elapsed() * max(self._weight_total - self._weight_done, 0.0) / self._weight_done

    def status(self, final: bool = False) -> str:
        """``done/total tasks (percent), elapsed, time left, best``: the line's text."""
        percent = 100 * self.done // self.total if self.total else 100
        parts = [f"{self.done}/{self.total} tasks ({percent}%)"]
        if final:
            parts[0] += f" in {clock_text(self.elapsed())}"
        else:
            left = self.left()
            parts += [f"{clock_text(self.elapsed())} elapsed", f"~{clock_text(left)} left" if left is not None else "? left"]
        parts += self._best_text()
        return ", ".join(parts)

    def bar_text(self) -> str:
        """What follows a tqdm bar's ``done/total``: elapsed, time left (until all are done), best."""
        left = self.left()
        parts = [f"{clock_text(self.elapsed())} elapsed"]
        if self.done < self.total:
            parts.append(f"~{clock_text(left)} left" if left is not None else "? left")
        return ", ".join(parts + self._best_text())

    def _best_text(self) -> list[str]:
        if self._metric is None or self.best is None:
            return []
        return [f"best {self._metric} {self.best[1]:.4g} (map {self.best[0]})"]


def _interactive() -> bool:
    """Whether a line may be printed under ``progress="auto"``: stderr is a terminal, or this runs
    in a notebook's kernel (whose stderr is no terminal; tqdm.auto draws a widget there)."""
    if "ipykernel.zmqshell" in sys.modules:
        return True
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except Exception:  # a stream without isatty, or a closed one
        return False


def _name(function: Callable[..., Any]) -> str:
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    return repr(name) if name else repr(function)


def _open(may_print: bool, progress: FitProgress) -> Union["_Bar", "_Lines"]:
    if may_print:
        try:
            # Imported only now, when a bar is shown: a fit without one never imports tqdm.
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            return _Bar(tqdm, progress)
    return _Lines(may_print)


class _Bar:
    """One tqdm line (or notebook widget), redrawn on each finished task and each tick."""

    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} tasks{postfix}"

    def __init__(self, tqdm: type, progress: FitProgress) -> None:
        self._total = progress.total
        self._bar = tqdm(
            total=progress.total, initial=progress.done, desc="splitcv", unit="task", bar_format=self.FORMAT,
            postfix=progress.bar_text(), file=sys.stderr, leave=True, dynamic_ncols=True,
        )

    def update(self, progress: FitProgress) -> None:
        if progress.total != self._total:  # racing dropped tasks (a notebook widget needs a reset)
            self._bar.reset(total=progress.total)
            self._total = progress.total
        self._bar.n = progress.done
        self._bar.set_postfix_str(progress.bar_text(), refresh=False)
        self._bar.refresh()

    def close(self, progress: FitProgress, succeeded: bool) -> None:
        self._bar.close()


class _Lines:
    """INFO lines through ``logging``, one each time the tasks done pass another 5% and one at the
    end; printed to stderr instead where printing is allowed and logging would not show them."""

    def __init__(self, may_print: bool) -> None:
        self._may_print = may_print
        self._step = 0

    def update(self, progress: FitProgress) -> None:
        if not progress.total or progress.done >= progress.total:
            return  # the last line is close's
        step = progress.done * _LOG_STEPS // progress.total
        if step > self._step:
            self._step = step
            self._emit("splitcv: " + progress.status())

    def close(self, progress: FitProgress, succeeded: bool) -> None:
        if succeeded:
            self._emit("splitcv: " + progress.status(final=True))

    def _emit(self, line: str) -> None:
        _logger.info(line)
        if self._may_print and not (_logger.isEnabledFor(logging.INFO) and _logger.hasHandlers()):
            print(line, file=sys.stderr, flush=True)
