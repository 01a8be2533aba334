"""Pictures of folds: one horizontal band per fold over the time axis.

Training is drawn in blue, validation in orange, and time that a fold leaves out (its gap, or the
data after an expanding window's validation) in light grey. The time splitters are drawn from their
plan (one Spark job over the distinct time values); any other splitter, :class:`KFoldSplitter` and
your own included, from its real fold conditions evaluated on a collected sample of rows.

matplotlib is an optional dependency: ``pip install 'splitcv[plot]'``. Figures are drawn on
matplotlib's Agg canvas directly, so plotting never changes the pyplot backend of a notebook or an
application that imported splitcv.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
from dataclasses import dataclass
from typing import Any, Optional, Sequence

__all__ = ["plot_folds", "plot_splitters", "fold_bands", "FoldBands"]

#: Codes of what a time point (or row) is in one fold.
UNUSED, TRAIN, VALIDATION, MIXED, BOTH = 0, 1, 2, 3, 4

COLORS = {
    UNUSED: "#e3e3e3",
    TRAIN: "#3a6ea5",
    VALIDATION: "#f08a24",
    MIXED: "#9c7fc2",
    BOTH: "#d62728",
}
LABELS = {
    UNUSED: "not used (gap, purge, embargo or later data)",
    TRAIN: "training",
    VALIDATION: "validation",
    MIXED: "rows of this time on both sides",
    BOTH: "a row in training and validation (leak)",
}

DEFAULT_PATH = "splitcv-folds.png"


@dataclass
class FoldBands:
    """What a picture of folds shows, computed from the data (and nothing else from Spark).

    The x axis is cut into slots (one per distinct time value, or per sampled row): slot ``j`` spans
    ``edges[j]..edges[j + 1]``. ``runs[i]`` covers fold ``i``'s slots with ``(start, stop, code)``
    runs, so a long time axis costs a few runs per fold, not a cell per time value.
    """

    runs: list  # per fold: [(start slot, stop slot, code), ...], in order, covering every slot
    edges: Sequence[Any]  # slot edges: dates, datetimes or numbers
    xlabel: str
    is_time: bool
    note: str = ""

    @property
    def num_folds(self) -> int:
        return len(self.runs)

    @property
    def codes(self):
        """A dense numpy array, folds x slots, of what each slot is in each fold (for inspection)."""
        import numpy as np

        codes = np.zeros((len(self.runs), len(self.edges) - 1), dtype=np.int8)
        for i, runs in enumerate(self.runs):
            for start, stop, code in runs:
                codes[i, start:stop] = code
        return codes


def _runs_of(row) -> list[tuple[int, int, int]]:
    """Run-length encode one fold's codes."""
    import numpy as np

    change = np.flatnonzero(np.diff(row)) + 1
    starts = [0, *change.tolist()]
    stops = [*change.tolist(), len(row)]
    return [(a, b, int(row[a])) for a, b in zip(starts, stops)]


def _plan_runs(fold, n: int) -> list[tuple[int, int, int]]:
    """A planned fold's runs over ``n`` time points, straight from its index ranges."""
    marked = sorted([(a, b, TRAIN) for a, b in fold.train if a < b] + [(a, b, VALIDATION) for a, b in fold.segments])
    runs, at = [], 0
    for start, stop, code in marked:
        if at < start:
            runs.append((at, start, UNUSED))
        runs.append((start, stop, code))
        at = stop
    if at < n:
        runs.append((at, n, UNUSED))
    return runs


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "splitcv.plot needs matplotlib, which is not installed: pip install 'splitcv[plot]'"
        ) from error
    return Figure, FigureCanvasAgg


def _edges(values: Sequence[Any]) -> list:
    """Slot edges for sorted distinct values: each value to the next, the last one spacing wide."""
    if len(values) == 1:
        one = values[0]
        step = 1 if isinstance(one, (int, float)) else _unit_step(one)
        return [one, one + step]
    spacing = min(b - a for a, b in zip(values, values[1:]))
    return [*values, values[-1] + spacing]


def _unit_step(value: Any) -> Any:
    return dt.timedelta(days=1) if _is_calendar(value) else 1


def _is_calendar(value: Any) -> bool:
    """Dates and datetimes go on a date axis; numbers on a plain one."""
    return isinstance(value, (dt.date, dt.datetime))


def fold_bands(splitter, dataset, *, timeCol: Optional[str] = None, max_rows: int = 5000) -> FoldBands:
    """The picture's data for ``splitter`` on ``dataset``, in one Spark job (two for k-fold).

    Time splitters (anything with a ``plan(dataset)`` method) are described on their axis of
    distinct time values. Other splitters, and time splitters that purge or embargo (what they drop
    depends on each row's label end), are evaluated row by row on up to ``max_rows`` collected
    rows, laid out along ``timeCol`` (default: the splitter's own time column, if it has one) or,
    without one, in the order Spark returns them.
    """
    purges = getattr(splitter, "_purges", None)
    if hasattr(splitter, "plan") and not (purges is not None and purges()):
        values, _counts, folds = splitter.plan(dataset)
        runs = [_plan_runs(fold, len(values)) for fold in folds]
        return FoldBands(runs, _edges(values), splitter.getTimeCol(), _is_calendar(values[0]))
    return _sampled_bands(splitter, dataset, timeCol, max_rows)


def _sampled_bands(splitter, dataset, time_col: Optional[str], max_rows: int) -> FoldBands:
    import numpy as np
    from pyspark.sql import functions as F

    if max_rows < 1:
        raise ValueError(f"max_rows={max_rows!r}: give a whole number >= 1")
    time_col = time_col or splitter._time_column()
    if time_col is not None and time_col not in dataset.columns:
        raise ValueError(f"timeCol={time_col!r} is not a column of the dataset; its columns are {dataset.columns}")
    folds = splitter.prepare(dataset)
    conditions = folds.conditions
    columns = [] if time_col is None else [F.col(time_col).alias("_t")]
    for i, (train, validation) in enumerate(conditions):
        columns += [
            F.coalesce(train, F.lit(False)).alias(f"_t{i}"),
            F.coalesce(validation, F.lit(False)).alias(f"_v{i}"),
        ]
    rows = folds.frame.select(*columns).limit(max_rows + 1).collect()
    note = ""
    if len(rows) > max_rows:
        rows = rows[:max_rows]
        note = f"first {max_rows} rows"
    if not rows:
        raise ValueError("the dataset is empty: there are no folds to draw")
    k = len(conditions)
    offset = 0 if time_col is None else 1
    flags = np.array([[bool(v) for v in r[offset:]] for r in rows], dtype=bool).reshape(len(rows), k, 2)
    in_train, in_validation = flags[:, :, 0], flags[:, :, 1]
    per_row = np.select(  # rows x folds
        [in_train & in_validation, in_train, in_validation], [BOTH, TRAIN, VALIDATION], UNUSED
    ).astype(np.int8)
    if time_col is None:
        positions = list(range(len(rows) + 1))
        xlabel = "row" + (f" ({note})" if note else "")
        return FoldBands([_runs_of(row) for row in per_row.T], positions, xlabel, False, note)
    times = [r["_t"] for r in rows]
    if any(t is None for t in times):
        raise ValueError(f"timeCol={time_col!r} has null values; drop or fill them to draw the folds along it")
    if not (_is_calendar(times[0]) or isinstance(times[0], numbers.Number)):
        raise TypeError(
            f"timeCol={time_col!r} holds {type(times[0]).__name__} values; draw along a numeric, DATE, "
            "TIMESTAMP or TIMESTAMP_NTZ column, or leave timeCol unset to draw rows in order"
        )
    distinct = sorted(set(times))
    slot = {t: j for j, t in enumerate(distinct)}
    codes = np.full((k, len(distinct)), -1, dtype=np.int8)
    for row_index, t in enumerate(times):
        j = slot[t]
        for i in range(k):
            code = per_row[row_index, i]
            seen = codes[i, j]
            if seen == -1 or seen == code:
                codes[i, j] = code
            elif BOTH in (seen, code):
                codes[i, j] = BOTH
            elif {seen, code} == {TRAIN, VALIDATION} or MIXED in (seen, code):
                codes[i, j] = MIXED
            else:  # one side and unused rows at the same time: show the side
                codes[i, j] = max(seen, code)
    xlabel = time_col + (f" ({note})" if note else "")
    return FoldBands([_runs_of(row) for row in codes], _edges(distinct), xlabel, _is_calendar(distinct[0]), note)


def _short_title(splitter) -> str:
    params = [
        f"{p.name}={v!r}"
        for p, v in splitter.extractParamMap().items()
        if splitter.isSet(p) and p.name != "timeCol"
    ]
    return f"{type(splitter).__name__}({', '.join(params)})"


def _draw(ax, bands: FoldBands, title: Optional[str], legend: bool = True) -> None:
    if bands.is_time:
        from matplotlib import dates as mdates

        first = bands.edges[0]
        tz = getattr(first, "tzinfo", None)

        def x(slot: int) -> float:
            return float(mdates.date2num(bands.edges[slot]))

        locator = mdates.AutoDateLocator(tz=tz)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    else:

        def x(slot: int) -> float:
            return float(bands.edges[slot])

    k = bands.num_folds
    present = set()
    for i, fold_runs in enumerate(bands.runs):
        spans: dict[int, list] = {}
        for start, stop, code in fold_runs:
            left = x(start)
            spans.setdefault(code, []).append((left, x(stop) - left))
        for code, pieces in spans.items():
            ax.broken_barh(pieces, (i - 0.38, 0.76), facecolors=COLORS[code], linewidth=0)
            present.add(code)
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_yticks(range(k))
    ax.set_yticklabels([f"fold {i}" for i in range(k)] if k <= 30 else [str(i) if i % 5 == 0 else "" for i in range(k)])
    ax.tick_params(axis="y", length=0, labelsize="small")
    ax.tick_params(axis="x", labelsize="small")
    ax.set_xlim(x(0), x(len(bands.edges) - 1))
    ax.set_xlabel(bands.xlabel, fontsize="small")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize="medium", loc="left")
    if legend:
        from matplotlib.patches import Patch

        order = [c for c in (TRAIN, VALIDATION, UNUSED, MIXED, BOTH) if c in present]
        ax.legend(
            handles=[Patch(facecolor=COLORS[c], label=LABELS[c]) for c in order],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize="small",
            frameon=False,
        )


def plot_folds(
    splitter,
    dataset,
    path: Optional[str | os.PathLike] = None,
    ax=None,
    title: Optional[str] = None,
    *,
    timeCol: Optional[str] = None,
    max_rows: int = 5000,
) -> Optional[str]:
    """Draw one horizontal band per fold of ``splitter`` on ``dataset``.

    Each band runs along the time axis: training time in blue, validation time in orange, time the
    fold does not use (its gap, or later data) in light grey. Built-in time splitters are drawn from
    their plan; :class:`~splitcv.KFoldSplitter` and custom splitters from their real folds on up to
    ``max_rows`` collected rows, along ``timeCol`` (default: the splitter's own time column) or in
    row order. Rows of one time value that a fold puts on both sides are drawn in purple; a row
    that is in training and validation at once (a leak) in red.

    Parameters
    ----------
    splitter : FoldSplitter
    dataset : pyspark.sql.DataFrame
    path : str or path-like, optional
        Where to write the PNG. Without ``ax``, defaults to ``splitcv-folds.png``.
    ax : matplotlib Axes, optional
        Draw on this Axes (a panel of a larger figure) instead of a new figure; the figure is then
        saved only if ``path`` is given.
    title : str, optional
        Defaults to the splitter's class and the parameters set on it.
    timeCol : str, optional
        For splitters without a time axis of their own: the column to lay rows out along.
    max_rows : int
        For splitters without a time axis of their own: how many rows to collect at most.

    Returns
    -------
    str or None
        The path written, or None when drawing on ``ax`` without a ``path``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from splitcv import BlockedKFoldSplitter
    >>> from splitcv.data import load_co2
    >>> df = load_co2(spark)
    >>> splitter = BlockedKFoldSplitter(timeCol="week", numFolds=5, gap="8 weeks")
    >>> ax = Figure().add_subplot()
    >>> plot_folds(splitter, df, ax=ax) is None
    True
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['fold 0', 'fold 1', 'fold 2', 'fold 3', 'fold 4']
    >>> plot_folds(splitter, df, "blocked-kfold.png")  # doctest: +SKIP
    'blocked-kfold.png'
    """
    Figure, FigureCanvasAgg = _require_matplotlib()
    bands = fold_bands(splitter, dataset, timeCol=timeCol, max_rows=max_rows)
    title = _short_title(splitter) if title is None else title
    if ax is not None:
        _draw(ax, bands, title)
        if path is None:
            return None
        ax.figure.savefig(os.fspath(path), dpi=100, bbox_inches="tight")
        return os.fspath(path)
    k = bands.num_folds
    figure = Figure(figsize=(10, 1.1 + 0.28 * min(k, 40)), layout="constrained")
    FigureCanvasAgg(figure)
    _draw(figure.add_subplot(), bands, title)
    path = DEFAULT_PATH if path is None else path
    figure.savefig(os.fspath(path), dpi=100)
    return os.fspath(path)


def plot_splitters(
    splitters: Sequence[Any],
    dataset,
    path: str | os.PathLike = DEFAULT_PATH,
    titles: Optional[Sequence[Optional[str]]] = None,
    *,
    timeCol: Optional[str] = None,
    max_rows: int = 5000,
    width: float = 11.0,
) -> str:
    """One PNG with a panel per splitter, stacked on a shared time axis; returns the path.

    Panels are as tall as their number of folds. ``timeCol`` and ``max_rows`` apply to splitters
    without a time axis of their own, as in :func:`plot_folds`.

    >>> from splitcv import KFoldSplitter, SlidingWindowSplitter
    >>> from splitcv.data import load_co2
    >>> df = load_co2(spark)
    >>> splitters = [SlidingWindowSplitter(timeCol="week", windowSize="10 years", horizon="5 years"),
    ...              KFoldSplitter(numFolds=3)]
    >>> plot_splitters(splitters, df, "folds.png", timeCol="week")  # doctest: +SKIP
    'folds.png'
    """
    Figure, FigureCanvasAgg = _require_matplotlib()
    if not splitters:
        raise ValueError("plot_splitters needs at least one splitter")
    if titles is not None and len(titles) != len(splitters):
        raise ValueError(f"titles has {len(titles)} entries for {len(splitters)} splitters")
    all_bands = [fold_bands(s, dataset, timeCol=timeCol, max_rows=max_rows) for s in splitters]
    heights = [b.num_folds + 2.2 for b in all_bands]
    figure = Figure(figsize=(width, 0.6 + 0.24 * sum(heights)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(splitters), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    share = all(b.is_time for b in all_bands) or not any(b.is_time for b in all_bands)
    for index, (ax, splitter, bands) in enumerate(zip(axes, splitters, all_bands)):
        title = titles[index] if titles is not None and titles[index] is not None else _short_title(splitter)
        _draw(ax, bands, title, legend=index == 0)
        if share and index:
            ax.sharex(axes[0])
    figure.savefig(os.fspath(path), dpi=100)
    return os.fspath(path)
