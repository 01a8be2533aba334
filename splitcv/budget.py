"""How much the fits in flight may cache: ``ParallelCrossValidator``'s ``memoryBudget``.

An estimator that caches its own training data (LogisticRegression, l-bfgs LinearRegression) holds
about its fold's share of the input while it fits, so ``parallelism`` fits hold that much each.
When storage memory runs out, Spark makes room for a new block by evicting blocks of other RDDs,
the cached input among them, and every later fold then recomputes the input from its source.

The budget bounds what the tasks in flight may add:

* ``"auto"`` (the default): the part of storage memory that execution cannot take back
  (``spark.memory.storageFraction`` of the unified memory Spark reports), less the input's cached
  copy. Small data runs unthrottled; large data never pushes the input out. On Spark Connect the
  client cannot read storage status, so ``"auto"`` sets no budget there.
* a size (``"512m"``, ``"2g"`` or a whole number of bytes): that much, on any session;
* ``"off"``: no budget.

Each (fold, map) task is taken to need its fold's training share of the input's cached bytes
(rows per byte measured on the folds, without another job), whether or not the estimator caches:
an estimate on the safe side for estimators that cache nothing. A task that does not fit waits
for others to finish; a task that cannot fit even alone still runs, alone.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence, Union

__all__ = ["to_budget", "budget_bytes", "fit_bytes"]

Budget = Union[str, int]
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def to_budget(value: Any) -> Budget:
    """``"auto"``, ``"off"``, or bytes from an int or a size string like ``"512m"`` or ``"1.5g"``.

    >>> to_budget("512m"), to_budget("auto"), to_budget(1024)
    (536870912, 'auto', 1024)
    """
    if isinstance(value, bool):
        raise TypeError(f"memoryBudget={value!r} is a bool; give 'auto', 'off' or a size such as '2g'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"memoryBudget={value!r} is negative; give a size in bytes >= 0, 'auto' or 'off'")
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("auto", "off"):
            return text
        found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", text)
        if found:
            return int(float(found.group(1)) * _UNITS[found.group(2)])
    raise ValueError(
        f"memoryBudget={value!r} is not a size: give 'auto' (the default), 'off', a whole number of bytes, "
        "or a size such as '512m' or '2g'"
    )


def budget_bytes(
    setting: Budget, storage_memory: Optional[int], storage_fraction: float, input_bytes: int
) -> Optional[float]:
    """The budget in bytes for ``setting``, or None for no budget.

    >>> budget_bytes("auto", storage_memory=1000, storage_fraction=0.5, input_bytes=200)
    300.0
    >>> budget_bytes("auto", storage_memory=None, storage_fraction=0.5, input_bytes=200) is None  # Connect
    True
    """
    if setting == "off":
        return None
    if setting == "auto":
        if storage_memory is None:
            return None
        return max(0.0, storage_fraction * storage_memory - input_bytes)
    return float(setting)


def fit_bytes(input_bytes: int, train_rows: Sequence[int], fold_rows: Sequence[int]) -> list[float]:
    """Each fold's estimated bytes per fit: its training share of the cached input. Bytes per row
    are taken over the largest fold (training and validation rows), which is the whole input for
    k-fold and less for time windows: on the safe side.

    >>> fit_bytes(1000, train_rows=[60, 80], fold_rows=[80, 100])
    [600.0, 800.0]
    """
    per_row = input_bytes / max(max(fold_rows, default=0), 1)
    return [rows * per_row for rows in train_rows]
