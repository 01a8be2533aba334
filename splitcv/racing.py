"""Racing: stop evaluating param maps that are clearly worse than the best after the first folds.

The rule is a paired test on the folds run so far. After each fold, from the second on, every map
still in the race is compared with the map of the best mean so far, on the folds both have run:
with ``d_f`` the best map's metric minus this map's on fold ``f`` (oriented so that larger is
better), the map is dropped when the one-sided lower confidence bound of the mean difference,

    mean(d) - t(1 - alpha / (r - 1), n - 1) * sd(d) / sqrt(n),   alpha = 1 - confidence,

is above zero, that is when it is worse on average with the given confidence (Bonferroni-corrected
over the ``r - 1`` maps compared at that fold). A paired test suits cross-validation: every map
sees the same folds, so the differences between two maps vary far less from fold to fold than the
metrics do, and a clearly worse map is recognized after two or three folds. A map whose metric is
NaN on a fold can never be chosen, so it leaves the race at once.

Known failure mode: folds are not independent samples (their training sets overlap), so the test
is optimistic, and a map that is worse on the first folds but better on the later ones is dropped
wrongly. Time-series folds whose later periods behave differently are the typical case. Racing is
therefore off by default, and every decision is reported (``dropped_after_fold`` in the summary).

Decisions are taken in fold order, on complete folds only, so the same input drops the same maps
after the same folds at every ``parallelism`` and in every task order: a fold's tasks start only
once the decision after the previous fold is taken (the first two folds run freely).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Sequence

from splitcv.queue import Task

__all__ = ["RacingScheduler", "clearly_worse", "t_quantile"]


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom (closed forms for whole ``df``)."""
    if t < 0:
        return 1.0 - _t_cdf(-t, df)
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2 == 1:
        term, total = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        inside = theta + (math.sin(theta) * math.cos(theta) * total if df > 1 else 0.0)
        within = 2.0 / math.pi * inside
    else:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        within = math.sin(theta) * total
    return 0.5 + within / 2.0


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom, for ``0.5 <= p < 1``.

    >>> round(t_quantile(0.975, 4), 3)
    2.776
    """
    if not 0.5 <= p < 1.0 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 <= p < 1 and df >= 1, got p={p}, df={df}")
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):  # bisection to the last bits
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        low, high = (middle, high) if _t_cdf(middle, df) < p else (low, middle)
    return high


def clearly_worse(
    metrics: dict[int, Sequence[float]], larger_is_better: bool, confidence: float
) -> dict[int, str]:
    """The maps to drop, each with the reason, from ``metrics[map]`` on the same folds, in order.

    >>> clearly_worse({0: [0.90, 0.91, 0.89], 1: [0.80, 0.80, 0.79], 2: [0.91, 0.88, 0.90]}, True, 0.95)
    {1: 'worse than map 0 by 0.1033 on average over 3 folds (lower 95% bound 0.0890)'}
    """
    sign = 1.0 if larger_is_better else -1.0
    drops = {j: "its metric is NaN on a fold" for j, values in metrics.items() if any(math.isnan(v) for v in values)}
    alive = [j for j in metrics if j not in drops]
    if len(alive) < 2:
        return drops
    means = {j: sum(sign * v for v in metrics[j]) / len(metrics[j]) for j in alive}
    best = max(alive, key=lambda j: (means[j], -j))
    n = len(metrics[best])
    if n < 2:
        return drops
    quantile = t_quantile(1.0 - (1.0 - confidence) / (len(alive) - 1), n - 1)
    for j in alive:
        if j == best:
            continue
        diffs = [sign * (a - b) for a, b in zip(metrics[best], metrics[j])]
        if not all(math.isfinite(d) for d in diffs):
            continue  # infinities: no variance to test with; keep the map
        mean = sum(diffs) / n
        sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
        bound = mean - quantile * sd / math.sqrt(n)
        if bound > 0:
            drops[j] = (
                f"worse than map {best} by {mean:.4g} on average over {n} folds "
                f"(lower {confidence:.0%} bound {bound:.4f})"
            )
    return drops


class RacingScheduler:
    """Runs the folds in order (``folds``, the scored ones), the first two freely, each later one
    only for the maps still in the race once the decision after the fold before it is taken.

    ``task_done`` expects a task's result to be ``{map: metric}`` for the maps it scored (its own;
    or, when a fold's maps are scored together, none but the fold's last task, which scores every
    map of :meth:`maps_of` that fold). ``dropped[j]`` is the position in
    ``folds`` after which map ``j`` left the race (its folds after that never run); ``discarded``
    lists those never-run (fold, map) tasks, in the order they left the queue (a progress count's
    total shrinks by them).
    """

    def __init__(
        self, tasks: Iterable[Task], folds: Sequence[int], maps: int, larger_is_better: bool, confidence: float
    ) -> None:
        self._folds = list(folds)
        self._position = {fold: p for p, fold in enumerate(self._folds)}
        self._pending = sorted(tasks, key=lambda t: (self._position[t.fold], -1 if t.param_map is None else t.param_map))
        self._done: set[Task] = set()
        self._metrics: dict[tuple[int, int], float] = {}
        self._larger, self._confidence = larger_is_better, confidence
        self._maps = maps
        self.dropped: dict[int, int] = {}
        self.reasons: dict[int, str] = {}
        self.discarded: list[Task] = []
        self._released = min(2, len(self._folds))  # folds [0, released) may start
        self._runs: dict[int, frozenset[int]] = {}  # the maps each started fold runs
        self._decided = 0  # decisions taken after folds [0, decided)

    def _alive(self) -> list[int]:
        return [j for j in range(self._maps) if j not in self.dropped]

    def maps_of(self, fold: int) -> frozenset[int]:
        """The maps ``fold`` runs, once one of its tasks has been handed out: those in the race then.
        A fold starts only after the decision on the fold before it, and no later decision comes
        before it is complete, so the set does not change while its tasks run."""
        return self._runs[fold]

    def next_task(self) -> Optional[Task]:
        alive = frozenset(self._alive())
        for index, task in enumerate(self._pending):
            if self._position[task.fold] >= self._released:
                break  # sorted by fold: nothing later is released either
            if task.param_map not in alive and (task.param_map is not None or not alive):
                continue  # a dropped map's task, or a prefix no map will use
            if task.after is None or task.after in self._done:
                self._runs.setdefault(task.fold, alive)
                return self._pending.pop(index)
        return None

    def task_done(self, task: Task, result: Any) -> None:
        self._done.add(task)
        for j, metric in (result or {}).items():
            self._metrics[(task.fold, j)] = float(metric)
        self._decide()

    def _complete(self, position: int) -> bool:
        fold = self._folds[position]
        return all((fold, j) in self._metrics for j in self._alive())

    def _decide(self) -> None:
        # Decisions after folds 1, 2, ... in order, each once its folds are complete for every map
        # still in the race, whatever order the tasks finished in.
        while self._decided < len(self._folds) and self._decided < self._released and self._complete(self._decided):
            position = self._decided
            self._decided += 1
            if position >= 1:
                folds = self._folds[: position + 1]
                table = {j: [self._metrics[(f, j)] for f in folds] for j in self._alive()}
                for j, reason in clearly_worse(table, self._larger, self._confidence).items():
                    self.dropped[j], self.reasons[j] = position, reason
            self._released = max(self._released, min(self._decided + 1, len(self._folds)))
        alive = bool(self._alive())
        self.discarded += [t for t in self._pending if t.param_map is not None and t.param_map in self.dropped]
        self._pending = [
            t for t in self._pending if (alive if t.param_map is None else t.param_map not in self.dropped)
        ]
