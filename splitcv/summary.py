"""The table :meth:`ParallelCrossValidatorModel.summary` returns: every column of ``cvResults`` as a
pandas DataFrame, which prints as a short table that fits the terminal.

pandas prints a wide frame as ``...`` and ``[2 rows x 20 columns]`` once it is wider than its display
options allow, and a grid's per-fold columns make it wide: the mean, the std and the rank were the
columns hidden. The table printed here is rendered by hand from a few columns (rank, mean, std, fit
time, the marks of NaN folds and racing, the params), so pandas' options do not apply, and long
params wrap instead of being cut. Everything else is the DataFrame it always was.
"""

from __future__ import annotations

import html
import math
import shutil
import textwrap
from typing import Any, Optional, Sequence

import pandas as pd

__all__ = ["CVSummary", "plain_value", "format_params"]

# A params column narrower than this wraps too much to read: the table is wider than the terminal then.
_MIN_PARAMS_WIDTH = 24


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (numpy 2 prints ``np.float64(0.1)``), else ``value``."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):  # an array, not a scalar
            return value
    return value


def format_params(params: dict) -> str:
    """``regParam=0.1, elasticNetParam=0.0``: a param map as it is written in Python."""
    return ", ".join(f"{name}={plain_value(value)!r}" for name, value in params.items()) if params else "(defaults)"


class CVSummary(pd.DataFrame):
    """``cvResults`` as a DataFrame, best first, that prints as a short table.

    Indexing, sorting and every other DataFrame method work as on any DataFrame and return plain
    DataFrames; ``to_text()`` is what ``print`` shows, ``to_string()`` the whole frame.
    """

    # Set by the validator for the footer; not carried to frames derived from this one.
    _metadata = ["metric_name", "larger_is_better"]
    metric_name: Optional[str] = None
    larger_is_better: Optional[bool] = None

    @property
    def _constructor(self):
        # A slice or a sorted copy is a plain DataFrame: the compact printing belongs to this table.
        return pd.DataFrame

    def to_text(self, width: Optional[int] = None) -> str:
        """The table ``print`` shows, at most ``width`` characters wide (the terminal's by default).

        One row per param map, best first: ``map`` (its index in ``estimatorParamMaps``), ``rank``,
        ``mean`` and ``std`` of the metric over the scored folds, ``fit s`` (mean seconds per fit),
        ``nan folds`` and ``dropped`` when any map has them, and ``params``, wrapped to fit.
        """
        width = width or shutil.get_terminal_size((100, 24)).columns
        if self.empty:
            return "no results: this model holds no cvResults"
        columns: list[tuple[str, list[str], bool]] = []  # header, cells, right-aligned
        columns.append(("map", [str(j) for j in self.index], True))
        if "rank_test_score" in self:
            columns.append(("rank", [str(r) for r in self["rank_test_score"]], True))
        # The mean and the std are in the metric's unit: one format for both, precise enough that
        # means that differ print differently (two maps of different rank must not look tied).
        scores = {header: name for name, header in (("mean_test_score", "mean"), ("std_test_score", "std")) if name in self}
        means = list(self["mean_test_score"]) if "mean_test_score" in self else []
        formatted = iter(_format_numbers([v for name in scores.values() for v in self[name]], tell_apart=means))
        for header in scores:
            columns.append((header, [next(formatted) for _ in range(len(self))], True))
        if "mean_fit_time" in self:
            columns.append(("fit s", _format_numbers(list(self["mean_fit_time"])), True))
        if "nan_folds" in self and any(len(f) for f in self["nan_folds"]):
            columns.append(("nan folds", [", ".join(map(str, f)) for f in self["nan_folds"]], False))
        if "dropped_after_fold" in self and self["dropped_after_fold"].notna().any():
            columns.append(
                ("dropped", ["" if pd.isna(f) else f"after fold {int(f)}" for f in self["dropped_after_fold"]], False)
            )
        widths = [max(len(header), *(len(c) for c in cells)) for header, cells, _ in columns]
        fixed = sum(widths) + 2 * len(columns)
        room = max(_MIN_PARAMS_WIDTH, width - fixed)
        params = [format_params(p) for p in self["params"]] if "params" in self else [""] * len(self)

        def line(cells: Sequence[str], last: str) -> str:
            parts = [
                cell.rjust(w) if right else cell.ljust(w)
                for cell, w, (_, _, right) in zip(cells, widths, columns)
            ]
            return ("  ".join(parts) + "  " + last).rstrip()

        lines = [line([header for header, _, _ in columns], "params")]
        for row, text in enumerate(params):
            wrapped = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
            lines.append(line([cells[row] for _, cells, _ in columns], wrapped[0]))
            lines += [line([""] * len(columns), more) for more in wrapped[1:]]
        lines += textwrap.wrap(self._footer(), width)
        return "\n".join(lines)

    def _footer(self) -> str:
        folds = sum(1 for c in self.columns if str(c).startswith("split") and str(c).endswith("_test_score"))
        metric = self.metric_name or "the metric"
        better = self.larger_is_better
        direction = "" if better is None else (", larger is better" if better else ", smaller is better")
        return (
            f"{len(self)} param maps x {folds} folds, best first; mean and std of {metric} over the scored "
            f"folds{direction}; fit s: mean seconds per fit; every column, each fold's score among them: "
            "summary(wide=True)"
        )

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        # Notebooks show the same table as a terminal: the wide one is summary(wide=True).
        return f"<pre>{html.escape(self.to_text(width=120))}</pre>"


def _format_numbers(values: list, tell_apart: Sequence[float] = ()) -> list[str]:
    """One format for a column, so the points line up: 4 significant digits on the smallest value
    of ``tell_apart`` (else of ``values``), more where needed (up to 10 decimals) for the distinct
    values of ``tell_apart`` to print distinctly.

    >>> _format_numbers([0.44051, 1.9057, float("nan")])
    ['0.4405', '1.9057', 'nan']
    >>> _format_numbers([0.44051, 0.44052], tell_apart=[0.44051, 0.44052])
    ['0.44051', '0.44052']
    >>> _format_numbers([12345.6, 234.5]), _format_numbers([2e-05, 0.0])
    (['12345.6', '234.5'], ['2.000e-05', '0.000e+00'])
    """
    values = [float("nan") if v is None else float(v) for v in values]
    distinct = {float(v) for v in tell_apart if v is not None and math.isfinite(float(v))}
    finite = [abs(v) for v in values if math.isfinite(v)]
    smallest = min((abs(v) for v in (distinct or finite) if v), default=0.0)
    largest = max(finite, default=0.0)
    if largest >= 1e6 or 0 < smallest < 1e-4:
        digits = 3
        render = lambda v, d: f"{v:.{d}e}"  # noqa: E731
    else:
        digits = min(max(4 - (math.floor(math.log10(smallest)) + 1 if smallest else 1), 0), 8)
        render = lambda v, d: f"{v:.{d}f}"  # noqa: E731
    while digits < 10 and len({render(v, digits) for v in distinct}) < len(distinct):
        digits += 1
    return [render(v, digits) for v in values]
