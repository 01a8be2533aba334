"""Pictures of folds: what each band holds, and the files written."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pytest
from pyspark.sql import functions as F

from custom_splitters import EveryOtherDay
from splitcv import BlockedKFoldSplitter, ExpandingWindowSplitter, FoldSplitter, KFoldSplitter, SlidingWindowSplitter
from splitcv.plot import BOTH, MIXED, TRAIN, UNUSED, VALIDATION, fold_bands, plot_folds, plot_splitters

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def days(spark):
    return spark.createDataFrame([(d, float(d)) for d in range(10)], ["day", "y"])


def test_time_splitter_bands_follow_the_plan(days):
    bands = fold_bands(SlidingWindowSplitter(timeCol="day", windowSize=3, horizon=2, gap=1), days)
    assert bands.edges == list(range(11)) and not bands.is_time
    G, T, V = UNUSED, TRAIN, VALIDATION
    assert bands.codes.tolist() == [
        [T, G, V, V, G, G, G, G, G, G],
        [T, T, T, G, V, V, G, G, G, G],
        [G, G, T, T, T, G, V, V, G, G],
        [G, G, G, G, T, T, T, G, V, V],
    ]


def test_blocked_bands_train_on_both_sides(days):
    bands = fold_bands(BlockedKFoldSplitter(timeCol="day", numFolds=2, gap=1), days)
    assert bands.codes[0].tolist() == [VALIDATION] * 5 + [UNUSED] + [TRAIN] * 4
    assert bands.codes[1].tolist() == [TRAIN] * 4 + [UNUSED] + [VALIDATION] * 5


def test_calendar_axis_is_drawn_in_dates(spark):
    df = spark.createDataFrame([(dt.date(2024, 1, 1) + dt.timedelta(days=d), 1.0) for d in range(60)], ["date", "y"])
    bands = fold_bands(ExpandingWindowSplitter(timeCol="date", horizon="2 weeks", numFolds=2), df)
    assert bands.is_time and bands.edges[0] == dt.date(2024, 1, 1) and bands.edges[-1] == dt.date(2024, 3, 1)
    assert (bands.codes[-1] == VALIDATION).sum() == 14


def test_custom_splitter_is_drawn_from_its_real_folds(days):
    bands = fold_bands(EveryOtherDay(period=2), days, timeCol="day")
    assert bands.codes.tolist() == [[VALIDATION, TRAIN] * 5, [TRAIN, VALIDATION] * 5]
    in_row_order = fold_bands(EveryOtherDay(period=2), days)
    assert in_row_order.codes.shape == (2, 10) and in_row_order.xlabel == "row"


def test_a_leaking_row_is_shown_and_shared_times_are_mixed(spark):
    class Leaky(FoldSplitter):
        def _fold_conditions(self, dataset):
            yield F.col("day") <= 2, F.col("day") >= 2

    panel = spark.createDataFrame([(d, s) for d in range(4) for s in "ab"], ["day", "series"])
    assert fold_bands(Leaky(), panel, timeCol="day").codes.tolist() == [[TRAIN, TRAIN, BOTH, VALIDATION]]
    by_series = panel.withColumn("f", (F.col("series") == "a").cast("int"))
    by_series = fold_bands(KFoldSplitter(numFolds=2, foldCol="f"), by_series, timeCol="day")
    assert set(np.unique(by_series.codes)) == {MIXED}


def test_sampled_bands_say_when_rows_were_cut_and_refuse_text_axes(days):
    bands = fold_bands(EveryOtherDay(period=2), days, timeCol="day", max_rows=4)
    assert bands.codes.shape == (2, 4) and bands.xlabel == "day (first 4 rows)"
    with pytest.raises(TypeError, match="timeCol='name'"):
        fold_bands(KFoldSplitter(numFolds=2), days.withColumn("name", F.col("day").cast("string")), timeCol="name")
    with pytest.raises(ValueError, match="timeCol='nope'"):
        fold_bands(KFoldSplitter(numFolds=2), days, timeCol="nope")


def test_plot_folds_writes_a_png_and_draws_on_a_given_axes(days, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    splitter = ExpandingWindowSplitter(timeCol="day", horizon=2, numFolds=3)
    assert plot_folds(splitter, days) == "splitcv-folds.png"
    assert (tmp_path / "splitcv-folds.png").read_bytes()[:8] == PNG
    assert plot_folds(splitter, days, tmp_path / "named.png", title="three folds") == str(tmp_path / "named.png")
    assert (tmp_path / "named.png").read_bytes()[:8] == PNG

    figure = Figure()
    ax = figure.add_subplot()
    assert plot_folds(splitter, days, ax=ax, title="mine") is None
    assert ax.get_title(loc="left") == "mine"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fold 0", "fold 1", "fold 2"]
    assert plot_folds(splitter, days, tmp_path / "ax.png", ax=ax) == str(tmp_path / "ax.png")


def test_plot_splitters_one_file_with_a_panel_each(days, tmp_path):
    path = plot_splitters(
        [ExpandingWindowSplitter(timeCol="day", horizon=2), KFoldSplitter(numFolds=2)],
        days,
        tmp_path / "all.png",
        timeCol="day",
    )
    assert path == str(tmp_path / "all.png") and (tmp_path / "all.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="titles"):
        plot_splitters([KFoldSplitter()], days, tmp_path / "x.png", titles=["a", "b"])


def test_missing_matplotlib_names_the_extra(days, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'splitcv\[plot\]'"):
        plot_folds(KFoldSplitter(), days, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
