"""Deterministic panel data for the benchmarks: many series on one daily time axis.

Each series is an AR(2) process with a weekly pattern; the label is the day's value, the features are
its lags (1, 2 and 7 days), the day of the week (sine and cosine) and three noise columns. Rows are
scaled by the number of series, so the time axis (and so every time-series fold) is the same at every
size: 20 series x 500 days = 10^4 rows, 200 series = 10^5, 2,000 series = 10^6.

The data is written once to Parquet (4 files), and the benchmarks read it from there: an uncached,
file-backed input, as a user's would usually be. Columns ``fold2`` ... ``fold100`` hold a seeded
random fold number (``fold10`` is 0..9) for the random k-fold comparisons, given to both Spark's
``CrossValidator`` (``foldCol``) and ``KFoldSplitter(foldCol=...)``.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd

DAYS = 500
FOLD_COLUMNS = (2, 3, 5, 10, 20, 50, 100)
FEATURES = ["lag1", "lag2", "lag7", "dow_sin", "dow_cos", "noise1", "noise2", "noise3"]


def panel_frame(series: int, days: int = DAYS, seed: int = 7) -> pd.DataFrame:
    """``series`` x ``days`` rows, deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    warm = 14
    total = days + warm
    level = rng.normal(0.0, 3.0, size=(series, 1))
    season = np.sin(2 * np.pi * np.arange(total) / 7.0)[None, :] * rng.uniform(0.5, 2.0, size=(series, 1))
    shocks = rng.normal(0.0, 1.0, size=(series, total))
    y = np.zeros((series, total))
    for t in range(2, total):
        y[:, t] = 0.55 * y[:, t - 1] + 0.25 * y[:, t - 2] + shocks[:, t]
    y = y + level + season
    day = np.arange(days)
    cut = y[:, warm:]
    frame = pd.DataFrame(
        {
            "series": np.repeat(np.arange(series, dtype=np.int32), days),
            "day": np.tile(day.astype(np.int32), series),
            "lag1": y[:, warm - 1 : total - 1].ravel(),
            "lag2": y[:, warm - 2 : total - 2].ravel(),
            "lag7": y[:, warm - 7 : total - 7].ravel(),
            "dow_sin": np.tile(np.sin(2 * np.pi * day / 7.0), series),
            "dow_cos": np.tile(np.cos(2 * np.pi * day / 7.0), series),
            "noise1": rng.normal(size=series * days),
            "noise2": rng.normal(size=series * days),
            "noise3": rng.normal(size=series * days),
            "label": cut.ravel(),
        }
    )
    for k in FOLD_COLUMNS:
        frame[f"fold{k}"] = rng.integers(0, k, size=len(frame)).astype(np.int32)
    return frame


#: where the probes and the suite keep the panel's Parquet files between runs (``--data-dir``)
DATA_DIR = os.path.join(tempfile.gettempdir(), "splitcv-benchmark-data")


def read_panel(spark, directory: str, rows: int):
    """The panel of about ``rows`` rows as a DataFrame, written first if it is not on disk yet."""
    return spark.read.parquet(write_panel(spark, directory, rows))


def write_panel(spark, directory: str, rows: int) -> str:
    """Write the panel of about ``rows`` rows (a multiple of 500) to Parquet; return its path."""
    from pyspark.ml.feature import VectorAssembler

    series = max(1, rows // DAYS)
    path = os.path.join(directory, f"panel_{series * DAYS}_v4")
    if os.path.exists(os.path.join(path, "_SUCCESS")):
        return path
    frame = panel_frame(series)
    df = spark.createDataFrame(frame)
    df = VectorAssembler(inputCols=FEATURES, outputCol="features").transform(df)
    df = df.select("series", "day", "features", "label", *[f"fold{k}" for k in FOLD_COLUMNS])
    df.repartition(4, "series").write.mode("overwrite").parquet(path)
    return path


def sparse_regression_frame(seed: int, rows: int = 300, features: int = 40, informative: int = 6) -> pd.DataFrame:
    """A regression where regularization matters, for racing's agreement check: ``rows`` rows of
    ``features`` standard normal features, of which the first ``informative`` have coefficients of
    0.3-1 in size (random signs) and the rest none; noise of standard deviation 1. With 300 rows and
    40 features, the 12-map elastic-net grid's best map is an inner one that leads the second by
    0.25-1.6% of RMSE (scikit-learn's ElasticNet on seeds 1-10), unlike the panel data, where the
    least regularization wins by less than 0.1%. Columns ``x0``... and ``label``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    coefficients = np.zeros(features)
    coefficients[:informative] = rng.uniform(0.3, 1.0, informative) * rng.choice([-1.0, 1.0], informative)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(features)])
    frame["label"] = x @ coefficients + rng.normal(0.0, 1.0, rows)
    return frame
