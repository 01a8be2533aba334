"""What every scikit-learn splitter of splitcv does: ``split``, ``get_n_splits``, ``describe``.

A subclass plans its folds once per call (:meth:`SplitterCV._plan`): the folds' rows as positions
into ``X``, each fold's description, checked as the Spark splitter checks it. ``split`` yields the
positions; ``describe`` returns the descriptions; ``get_n_splits`` counts from the plan's
arithmetic, without building index arrays. Nothing is kept between calls, so a splitter splits the
same way every time, in any process (it pickles: ``GridSearchCV(n_jobs=...)``).
"""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np

from splitcv.plan.describe import FoldInfo

__all__ = ["SplitterCV", "Plan", "rows_in"]


class Plan(NamedTuple):
    """A splitter's folds on one ``X``: each fold's (training, validation) masks over the rows,
    made when they are asked for, and the folds' descriptions."""

    count: int
    masks: Any  # a callable returning an iterator of (train mask, validation mask)
    infos: list[FoldInfo]


def rows_in(row_index: np.ndarray, ranges: Sequence[tuple[int, int]], size: int) -> np.ndarray:
    """A mask of the rows whose axis index (``row_index``, into an axis of ``size`` points) is in
    one of the half-open ``ranges``: the numpy counterpart of the Spark splitters' range filters."""
    on_axis = np.zeros(size, dtype=bool)
    for start, stop in ranges:
        on_axis[start:stop] = True
    return on_axis[row_index]


class SplitterCV:
    """The base of the scikit-learn splitters: a scikit-learn cross-validation splitter (``cv=``)."""

    #: The Spark splitter this one gives the folds of.
    spark_splitter = ""

    def _plan(self, X: Any, y: Any, groups: Any) -> Plan:
        raise NotImplementedError

    def _count(self, X: Any, y: Any, groups: Any) -> int:
        """The number of folds; by default, planned without building index arrays."""
        return self._plan(X, y, groups).count

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, validation)`` arrays of row positions in ``X``, one pair per fold, in the
        Spark splitter's fold order. Bad input raises here, before the first fold."""
        plan = self._plan(X, y, groups)
        return self._positions(plan)

    @staticmethod
    def _positions(plan: Plan) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for train, validation in plan.masks():
            yield np.flatnonzero(train), np.flatnonzero(validation)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds ``split`` yields, from the parameters where they fix it, else from the
        plan of ``X``'s time axis (no index arrays are built)."""
        return self._count(X, y, groups)

    def describe(self, X: Any = None, y: Any = None, groups: Any = None) -> list[FoldInfo]:
        """One :class:`~splitcv.FoldInfo` per fold (row counts, first and last time value of each
        side), as the Spark splitter's ``describe`` gives it; ``format_folds`` prints them."""
        return self._plan(X, y, groups).infos

    def _params(self) -> dict[str, Any]:
        """The parameters to show in ``repr``, as given."""
        return {}

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={_short(value)}" for name, value in self._params().items())
        return f"{type(self).__name__}({shown})"


def _short(value: Any) -> str:
    """A parameter for ``repr``: per-row values by their length, not every one of them."""
    if value is None or isinstance(value, (str, int, float, bool, np.integer)):
        return repr(value)
    try:
        return f"<{len(value)} values>"
    except TypeError:
        return repr(value)
