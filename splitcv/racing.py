"""Racing: stop evaluating param maps that are clearly worse than the best after the first folds.

Two rules decide which maps leave, after each complete fold: a paired test (the default,
``PairedT``) and successive halving (``Halving``).

**Paired test.** After each fold, from the second on, every map still in the race is compared
with the map of the best mean so far, on the folds both have run:
with ``d_f`` the best map's metric minus this map's on fold ``f`` (oriented so that larger is
better), the map is dropped when the one-sided lower confidence bound of the mean difference,

    mean(d) - t(1 - alpha / (r - 1), n - 1) * sd(d) / sqrt(n),   alpha = 1 - confidence,

is above zero, that is when it is worse on average with the given confidence (Bonferroni-corrected
over the ``r - 1`` maps compared at that fold). A paired test suits cross-validation: every map
sees the same folds, so the differences between two maps vary far less from fold to fold than the
metrics do, and a clearly worse map is recognized after two or three folds. A map whose metric is
NaN on a fold, or with +inf and -inf on different folds (an undefined mean), can never be chosen,
so it leaves the race at the next decision, under either rule.

Known failure mode: folds are not independent samples (their training sets overlap), so the test
is optimistic, and a map that is worse on the first folds but better on the later ones is dropped
wrongly. Time-series folds whose later periods behave differently are the typical case. Racing is
therefore off by default, and every decision is reported (``dropped_after_fold`` in the summary).

**Successive halving.** After each fold, from the first on, the maps still in the race are ranked by
their mean metric over the folds run so far, and the best ``ceil(keep * r)`` of the ``r`` stay (at
least one; a map tied with the last one kept stays too). With 12 maps and ``keep=0.5``, 12, 6, 3, 2
and 1 maps run the 5 folds: 24 tasks instead of 60, whatever the evidence. That is its reason (a
known cost, where the paired test saves little on few folds: it needs 3-4 folds to be sure of
anything) and its failure mode: it asks no question of the spread, so a map whose lead is smaller
than the differences one fold makes can leave after the first fold.

No decision is taken after the last fold: every map still in the race has then run every fold, so
dropping one would save no task. Decisions are taken in fold order, on complete folds only, so the
same input drops the same maps after the same folds at every ``parallelism`` and in every task
order: a fold's tasks start only once the decision after the previous fold is taken (the folds
before the rule's first decision run freely: two for the paired test, one for halving). That is
as repeatable as the metrics: Spark's ``BinaryClassificationEvaluator`` gives slightly different
AUCs on every call (docs/validator.md, Determinism).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Optional, Protocol, Sequence

from splitcv.queue import Task

__all__ = ["Halving", "PairedT", "RaceRule", "RacingScheduler", "clearly_worse", "halved", "keeps_every_map", "kept_by_halving",
           "t_quantile"]


#: the open intervals a paired test's confidence and halving's kept share lie in
CONFIDENCE_RANGE = (0.5, 1.0)
KEEP_RANGE = (0.0, 1.0)


def in_open_interval(value: Any, name: str, bounds: tuple[float, float], example: str) -> float:
    """``value`` as a float strictly inside ``bounds``, or an error naming ``name``, the value and a fix.

    >>> in_open_interval(1.5, "racingConfidence", CONFIDENCE_RANGE, "0.95")
    Traceback (most recent call last):
    ...
    ValueError: racingConfidence=1.5 is outside (0.5, 1); give e.g. 0.95
    """
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} is not a number; give one in ({low:g}, {high:g}), e.g. {example}")
    # a numpy float32 0.1 is 0.10000000149 as a Python float; the number its user wrote is its str
    number = float(str(value)) if hasattr(value, "dtype") else float(value)
    if not low < number < high:
        raise ValueError(f"{name}={value!r} is outside ({low:g}, {high:g}); give e.g. {example}")
    return number


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


def _nan_drops_and_means(
    metrics: dict[int, Sequence[float]], sign: float
) -> tuple[dict[int, str], list[int], dict[int, float]]:
    """The maps that can never be chosen (dropped: a NaN metric, or +inf and -inf on different folds,
    whose mean is undefined), the others, and the others' mean metrics oriented so that larger is better."""
    drops = {j: "its metric is NaN on a fold" for j, values in metrics.items() if any(math.isnan(v) for v in values)}
    means = {j: sum(sign * v for v in values) / len(values) for j, values in metrics.items() if j not in drops}
    for j, mean in means.items():
        if math.isnan(mean):
            drops[j] = "its mean is undefined: +inf and -inf on different folds"
    alive = [j for j in metrics if j not in drops]
    return drops, alive, {j: means[j] for j in alive}


def clearly_worse(
    metrics: dict[int, Sequence[float]], larger_is_better: bool, confidence: float
) -> dict[int, str]:
    """The maps to drop, each with the reason, from ``metrics[map]`` on the same folds, in order.

    >>> clearly_worse({0: [0.90, 0.91, 0.89], 1: [0.80, 0.80, 0.79], 2: [0.91, 0.88, 0.90]}, True, 0.95)
    {1: 'worse than map 0 by 0.1033 on average over 3 folds (lower 95% bound 0.0890)'}
    """
    sign = 1.0 if larger_is_better else -1.0
    drops, alive, means = _nan_drops_and_means(metrics, sign)
    if len(alive) < 2:
        return drops
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


def kept_by_halving(keep: float, maps: int) -> int:
    """How many of ``maps`` maps halving keeps: ``ceil(keep * maps)``, at least one.

    >>> kept_by_halving(0.5, 12), kept_by_halving(0.5, 3), kept_by_halving(0.1, 30), kept_by_halving(0.5, 1)
    (6, 2, 3, 1)
    """
    # keep * maps can land a rounding error above a whole number (0.1 * 30): that is the whole number
    return max(1, math.ceil(round(keep * maps, 9)))


def keeps_every_map(keep: float, maps: int) -> Optional[str]:
    """Why halving with ``keep`` would drop none of ``maps`` maps, and the fix; None if it drops one.

    >>> keeps_every_map(0.7, 3)
    'racingKeep=0.7 keeps all 3 param maps after each fold, so halving drops none; give a racingKeep of at most 0.666 (e.g. 0.5) for it to drop any'
    """
    if maps < 2 or kept_by_halving(keep, maps) < maps:
        return None
    # halving drops a map once keep <= (maps - 1) / maps: shown rounded down, so the number shown drops one
    most = math.floor((maps - 1) / maps * 1000) / 1000
    return (
        f"racingKeep={keep} keeps all {maps} param maps after each fold, so halving drops none; "
        f"give a racingKeep of at most {most:g} (e.g. {min(0.5, most):g}) for it to drop any"
    )


def halved(metrics: dict[int, Sequence[float]], larger_is_better: bool, keep: float) -> dict[int, str]:
    """The maps successive halving drops, each with the reason, from ``metrics[map]`` on the same
    folds: all but the best ``ceil(keep * r)`` of the ``r`` maps by mean metric (ties with the last
    one kept stay), and any map with a NaN metric.

    >>> halved({0: [0.90], 1: [0.80], 2: [0.91], 3: [0.85]}, True, 0.5)
    {1: 'ranked 4 of 4 by its mean 0.8 over 1 fold; halving keeps 2, the last kept has 0.9', 3: 'ranked 3 of 4 by its mean 0.85 over 1 fold; halving keeps 2, the last kept has 0.9'}
    """
    sign = 1.0 if larger_is_better else -1.0
    drops, alive, means = _nan_drops_and_means(metrics, sign)
    if len(alive) < 2:
        return drops
    kept = kept_by_halving(keep, len(alive))
    ranked = sorted(alive, key=lambda j: (-means[j], j))
    last = means[ranked[kept - 1]]
    n = len(metrics[ranked[0]])
    for rank, j in enumerate(ranked[kept:], start=kept + 1):
        if means[j] < last:
            drops[j] = (
                f"ranked {rank} of {len(alive)} by its mean {sign * means[j]:.4g} over {n} fold{'s' if n > 1 else ''}; "
                f"halving keeps {kept}, the last kept has {sign * last:.4g}"
            )
    return dict(sorted(drops.items()))


class RaceRule(Protocol):
    """Which maps leave the race, from the metrics of the maps still in it on the folds run so far."""

    #: complete folds the rule needs before its first decision (those folds run freely)
    folds_before_deciding: ClassVar[int]

    def __call__(self, metrics: dict[int, Sequence[float]]) -> dict[int, str]: ...


@dataclass(frozen=True)
class PairedT:
    """The paired one-sided t-test of :func:`clearly_worse`, from the second fold on."""

    larger_is_better: bool
    confidence: float = 0.95
    folds_before_deciding: ClassVar[int] = 2

    def __post_init__(self) -> None:
        in_open_interval(self.confidence, "PairedT confidence", CONFIDENCE_RANGE, "0.95")

    def __call__(self, metrics: dict[int, Sequence[float]]) -> dict[int, str]:
        return clearly_worse(metrics, self.larger_is_better, self.confidence)


@dataclass(frozen=True)
class Halving:
    """Successive halving (:func:`halved`): after every fold, the best ``keep`` share of the maps stay."""

    larger_is_better: bool
    keep: float = 0.5
    folds_before_deciding: ClassVar[int] = 1

    def __post_init__(self) -> None:
        in_open_interval(self.keep, "Halving keep", KEEP_RANGE, "0.5")

    def __call__(self, metrics: dict[int, Sequence[float]]) -> dict[int, str]:
        return halved(metrics, self.larger_is_better, self.keep)


class RacingScheduler:
    """Runs the folds in order (``folds``, the scored ones), those before ``rule``'s first decision
    freely, each later one only for the maps still in the race once the decision after the fold
    before it is taken.

    ``task_done`` expects a task's result to be ``{map: metric}`` for the maps it scored (its own;
    or, when a fold's maps are scored together, none but the fold's last task, which scores every
    map of :meth:`maps_of` that fold). ``dropped[j]`` is the position in
    ``folds`` after which map ``j`` left the race (its folds after that never run); ``discarded``
    lists those never-run (fold, map) tasks, in the order they left the queue (a progress count's
    total shrinks by them).
    """

    def __init__(self, tasks: Iterable[Task], folds: Sequence[int], maps: int, rule: RaceRule) -> None:
        self._folds = list(folds)
        self._position = {fold: p for p, fold in enumerate(self._folds)}
        self._pending = sorted(tasks, key=lambda t: (self._position[t.fold], -1 if t.param_map is None else t.param_map))
        self._done: set[Task] = set()
        self._metrics: dict[tuple[int, int], float] = {}
        self._rule = rule
        self._maps = maps
        self.dropped: dict[int, int] = {}
        self.reasons: dict[int, str] = {}
        self.discarded: list[Task] = []
        self._released = min(rule.folds_before_deciding, len(self._folds))  # folds [0, released) may start
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
            # after the last fold there is nothing left to save: every map still in the race ran it all
            if self._rule.folds_before_deciding <= position + 1 < len(self._folds):
                folds = self._folds[: position + 1]
                table = {j: [self._metrics[(f, j)] for f in folds] for j in self._alive()}
                for j, reason in self._rule(table).items():
                    self.dropped[j], self.reasons[j] = position, reason
            self._released = max(self._released, min(self._decided + 1, len(self._folds)))
        alive = bool(self._alive())
        self.discarded += [t for t in self._pending if t.param_map is not None and t.param_map in self.dropped]
        self._pending = [
            t for t in self._pending if (alive if t.param_map is None else t.param_map not in self.dropped)
        ]
