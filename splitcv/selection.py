"""Model selection from a table of fold metrics: averages, ranks and the best param map.

Plain Python and numpy, no Spark, so the rules are tested on generated tables. The rules:

* **A param map with a NaN metric on any scored fold cannot be best.** An evaluator returns NaN where
  its metric is undefined (a fold with one class, a constant label, a failed prediction); averaging
  it away, or letting ``argmax`` pick it (numpy returns the NaN's index), would choose a model on
  the folds that happened to be defined. Such a map ranks after every other one.
* **If no map is left, it is an error** that names each map's NaN folds: nothing can be chosen.
* **Infinities rank as the values they are**: ``-inf`` is the worst score when larger is better,
  and a map with ``+inf`` and ``-inf`` folds averages to NaN, so it cannot be best either. When the
  best average is itself infinite, the choice among the maps tied there is arbitrary, and a
  :class:`MetricWarning` says so, naming the folds.
* **Skipped folds** (folds the validator did not score, such as single-class folds it was told to
  skip) are left out of every map's average alike; they are not NaN metrics.
* **Maps dropped by racing** (tasks that never ran, ``unrun``) are averaged over the folds they ran,
  cannot be best (the best map ran every scored fold) and rank after the maps that did.
* Ties go to the first param map, as in Spark's validators.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Collection, Sequence

import numpy as np

__all__ = ["MetricWarning", "Selection", "select_best", "rank"]


class MetricWarning(UserWarning):
    """Fold metrics that make the choice of the best param map doubtful (NaN or infinite)."""


@dataclass(frozen=True)
class Selection:
    """What :func:`select_best` decided, per param map."""

    avg: list[float]
    std: list[float]
    best: int
    ranks: list[int]
    #: the scored folds on which each map's metric is NaN
    nan_folds: list[list[int]]
    #: whether each map could be chosen (no NaN fold, a defined average)
    eligible: list[bool]


def select_best(
    metrics: Sequence[Sequence[float]],
    larger_is_better: bool,
    skipped: Collection[int] = (),
    unrun: Collection[tuple[int, int]] = (),
) -> Selection:
    """Average ``metrics[fold][map]`` over the scored folds and choose the best map.

    Map 0's metric is NaN on folds 0 and 1, so map 1 is chosen although map 0 did best on fold 2,
    and a :class:`MetricWarning` says which maps could not be chosen:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     s = select_best([[float("nan"), 39.6], [float("nan"), 53.9], [60.1, 54.9]], larger_is_better=True)
    >>> s.best, s.ranks, s.nan_folds
    (1, [2, 1], [[0, 1], []])
    >>> [w.category.__name__ for w in caught]
    ['MetricWarning']
    """
    table = np.asarray(metrics, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ValueError("no fold metrics to choose from")
    scored = [f for f in range(table.shape[0]) if f not in set(skipped)]
    if not scored:
        raise ValueError("every fold was skipped: there is no metric to choose a param map by")
    width = table.shape[1]
    not_run = set(unrun)
    ran = [[f for f in scored if (f, j) not in not_run] for j in range(width)]
    avg, std = [], []
    for j in range(width):
        values = table[ran[j], j]
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, on purpose
            avg.append(float(np.mean(values)) if len(values) else float("nan"))
            std.append(float(np.std(values)) if len(values) else float("nan"))
    nan_folds = [[f for f in ran[j] if np.isnan(table[f, j])] for j in range(width)]
    complete = [len(ran[j]) == len(scored) for j in range(width)]
    eligible = [complete[j] and not nan_folds[j] and not np.isnan(avg[j]) for j in range(width)]
    if not any(eligible):
        raise ValueError(_no_map_left(nan_folds, avg, complete))
    candidates = [j for j in range(width) if eligible[j]]
    sign = 1.0 if larger_is_better else -1.0
    best = max(candidates, key=lambda j: (sign * avg[j], -j))
    ranks = rank([avg[j] if eligible[j] else float("nan") for j in range(width)], larger_is_better)
    # Maps that left a race were excluded on purpose: only undefined metrics are worth a warning.
    excluded = [j for j in range(width) if not eligible[j] and (complete[j] or nan_folds[j])]
    if excluded:
        warnings.warn(
            "param maps "
            + ", ".join(f"{j} ({_nan_reason(nan_folds[j], avg[j])})" for j in excluded)
            + " cannot be chosen as best: their metric is undefined there. The best is chosen among the others.",
            MetricWarning,
            stacklevel=3,
        )
    if not np.isfinite(avg[best]):
        infinite = [f for f in scored if not np.isfinite(table[f, best])]
        tied = [j for j in candidates if avg[j] == avg[best]]
        warnings.warn(
            f"the best average metric is {avg[best]}: param map {best}'s metric is infinite on folds {infinite}"
            + (f", and maps {tied} tie there, so the first was chosen" if len(tied) > 1 else "")
            + ". An infinite metric usually means a validation fold too small or too uniform for it "
            "(r2 on one row or a constant label); use larger folds or another metric.",
            MetricWarning,
            stacklevel=3,
        )
    return Selection(avg, std, best, ranks, nan_folds, eligible)


def rank(values: Sequence[float], larger_is_better: bool) -> list[int]:
    """1 for the best; ties share the better rank (scikit-learn's 'min' method); NaN ranks last.

    >>> rank([0.5, float("nan"), 0.9, 0.5], larger_is_better=True)
    [2, 4, 1, 2]
    """
    defined = [v for v in values if not np.isnan(v)]
    keys = [(-v if larger_is_better else v) for v in defined]
    ranks = []
    for value in values:
        if np.isnan(value):
            ranks.append(len(defined) + 1)
        else:
            key = -value if larger_is_better else value
            ranks.append(1 + sum(1 for other in keys if other < key))
    return ranks


def _nan_reason(folds: list[int], avg: float) -> str:
    return f"NaN on folds {folds}" if folds else f"average {avg}: +inf and -inf on different folds"


def _no_map_left(nan_folds: list[list[int]], avg: list[float], complete: list[bool]) -> str:
    # a map racing left out while its metric was defined: the only kind racing=False would bring back
    left_defined = [not complete[j] and not folds and not np.isnan(avg[j]) for j, folds in enumerate(nan_folds)]
    per_map = "; ".join(
        f"map {j}: {'left the race before its last folds' if left_defined[j] else _nan_reason(folds, avg[j])}"
        for j, folds in enumerate(nan_folds)
    )
    raced = "" if not any(left_defined) else (
        " Racing left maps out before their last folds, and every map that ran them all is undefined on one: "
        "fit with racing=False (or, with racingRule='halving', a larger racingKeep) to keep the others to the end."
    )
    return (
        f"no param map has a defined metric on every fold, so none can be chosen ({per_map}). The evaluator "
        "returns NaN where its metric is undefined on a fold: look at those folds (describe() shows their "
        "rows), for example a validation set with one class or a constant label, and use larger folds or "
        f"another metric.{raced}"
    )
