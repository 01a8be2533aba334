"""Forward-chaining windows: one planner for expanding and sliding training windows.

Each fold has a cut-off ``c``. Validation is ``[c, c + horizon)``; training is every time point
that clears ``gap`` before ``c`` (:func:`~splitcv.plan.axis.clears_gap`), and for a sliding window
only those within ``windowSize`` of that edge. Where the cut-offs sit:

* with ``initialWindow``, the first training window is ``initialWindow`` long and cut-offs march
  forward by ``step``; a last window that runs past the data is dropped unless ``keep_partial``;
* without it, cut-offs are laid back from the end of the data by ``step`` so that the last
  validation window ends with the data (scikit-learn's ``TimeSeriesSplit`` convention), for as
  long as at least one time point is left to train on.

``numFolds`` keeps the last ``numFolds`` folds. On a calendar axis, a window that holds no time
point on one side (a hole in irregular data) is skipped rather than yielded empty, and cut-offs
that select the same time points as the fold before them (several in one hole, when ``step`` is
shorter than it) make that fold once.
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

from splitcv.durations import Duration
from splitcv.plan.advice import advise, warn_if_many_folds
from splitcv.plan.axis import Scale, count_clear_before
from splitcv.plan.folds import Fold

__all__ = ["plan_windows"]

SizeLike = Union[int, Duration]


def _cutoffs(
    scale: Scale,
    horizon: SizeLike,
    step: SizeLike,
    gap: SizeLike,
    initial_window: Optional[SizeLike],
    keep_partial: bool,
) -> Iterator[tuple[int, int]]:
    """Yield ``(cut-off, validation end)`` positions in time order.

    Every boundary is one move from the same anchor (the first cut-off, or the end of the data),
    never a move from another boundary: month arithmetic clips (Jan 31 + 1 month is
    Feb 28), and chained moves would carry the clipped day on, so that windows with
    ``step == horizon`` overlapped or left days out.
    """
    if initial_window is not None:
        first = scale.shift(scale.shift(scale.origin, initial_window), gap)
        i = 0
        while True:
            cut = scale.shift(first, _times(step, i))
            stop = scale.shift(first, _plus(_times(step, i), horizon))
            if cut >= scale.end or (stop > scale.end and not keep_partial):
                return
            yield cut, stop
            i += 1
    backwards = []
    j = 0
    while True:
        stop = scale.shift(scale.end, _times(step, j), -1)
        cut = scale.shift(scale.end, _plus(_times(step, j), horizon), -1)
        if count_clear_before(scale, cut, gap) == 0:
            break
        backwards.append((cut, stop))
        j += 1
    yield from reversed(backwards)


def _times(size: SizeLike, k: int) -> SizeLike:
    if isinstance(size, Duration):
        return Duration(size.months * k, size.days * k, size.micros * k, f"{k} x {size.text}")
    return size * k


def _settle_count(
    scale: Scale,
    available: int,
    num_folds: Optional[int],
    horizon: SizeLike,
    step: SizeLike,
    gap: SizeLike,
    initial_window: Optional[SizeLike],
    owner: str,
) -> int:
    """How many folds to keep, or an error naming the parameters and only the changes that help;
    warns (:class:`~splitcv.plan.advice.TooManyFoldsWarning`) when, without ``numFolds``, that is
    a great many."""
    context = _context(scale, horizon, step, gap, initial_window)
    if available == 0:
        # Whether a first fold exists does not depend on step.
        sizes = [("horizon", horizon, 1), ("gap", gap, 0), ("initialWindow", initial_window, 1)]
        raise ValueError(
            f"these parameters make no fold: {context} leave no validation window with data to "
            f"train on before it. {advise(scale, lower=sizes)}"
        )
    if num_folds is not None and available < num_folds:
        sizes = [
            (f"numFolds (to {available} at most)", num_folds, 1),
            ("horizon", horizon, 1),
            ("step", step, 1),
            ("gap", gap, 0),
            ("initialWindow", initial_window, 1),
        ]
        raise ValueError(
            f"numFolds={num_folds} asks for more folds than the data holds: {context} give "
            f"{available}. {advise(scale, lower=sizes)}"
        )
    if num_folds is None:
        warn_if_many_folds(available, owner, context, initial_window)
    return available if num_folds is None else num_folds


def _context(scale: Scale, horizon: SizeLike, step: SizeLike, gap: SizeLike, initial_window: Optional[SizeLike]) -> str:
    parts = [f"horizon={scale.describe_size(horizon)}", f"step={scale.describe_size(step)}", f"gap={scale.describe_size(gap)}"]
    if initial_window is not None:
        parts.append(f"initialWindow={scale.describe_size(initial_window)}")
    return f"{scale.n} distinct time points with {', '.join(parts)}"


def plan_windows(
    scale: Scale,
    *,
    horizon: SizeLike,
    step: Optional[SizeLike] = None,
    gap: SizeLike = 0,
    initial_window: Optional[SizeLike] = None,
    window_size: Optional[SizeLike] = None,
    num_folds: Optional[int] = None,
    keep_partial: bool = False,
    owner: str = "plan_windows",
) -> list[Fold]:
    """Plan forward-chaining folds; ``window_size=None`` is an expanding window.

    >>> from splitcv.plan import CountScale
    >>> [f.train for f in plan_windows(CountScale(6), horizon=1, num_folds=3)]
    [((0, 3),), ((0, 4),), ((0, 5),)]
    >>> [f.validation for f in plan_windows(CountScale(6), horizon=2, window_size=2, gap=1)]
    [(2, 4), (4, 6)]
    """
    step = horizon if step is None else step
    folds = []
    for cut, stop in _cutoffs(scale, horizon, step, gap, initial_window, keep_partial):
        train_stop = count_clear_before(scale, cut, gap)
        train_start = 0 if window_size is None else count_clear_before(scale, cut, _plus(gap, window_size))
        validation = (scale.first_at_or_after(cut), scale.first_at_or_after(stop))
        fold = Fold(((train_start, train_stop),), validation)
        # Cut-offs in one hole of irregular data can select the same time points: one fold, not copies.
        if train_start < train_stop and validation[0] < validation[1] and (not folds or folds[-1] != fold):
            folds.append(fold)
    keep = _settle_count(scale, len(folds), num_folds, horizon, step, gap, initial_window, owner)
    return folds[len(folds) - keep :]


def _plus(a: SizeLike, b: SizeLike) -> SizeLike:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if isinstance(a, int) and a == 0:
        return b
    if isinstance(b, int) and b == 0:
        return a
    if isinstance(a, Duration) and isinstance(b, Duration):
        return a + b
    raise TypeError(f"cannot add the count and the duration {a!r} + {b!r}")
