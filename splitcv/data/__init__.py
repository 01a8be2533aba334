"""A small real time series shipped with splitcv: weekly atmospheric CO2 at Mauna Loa, 1958-2001.

The demo and the docs split it with every splitter. See ``SOURCE.md`` next to the CSV for where it
comes from. The file is package data, read through :mod:`importlib.resources`, so it loads from an
installed wheel or a zip as well as from a source checkout; the rows reach Spark through
``spark.createDataFrame`` with an explicit schema, so nothing depends on the driver's file system
being visible to the cluster and it works on Spark Connect too.

Examples
--------
>>> df = load_co2(spark)
>>> df.count()
2284
>>> features = co2_features(df)
>>> features.orderBy("week").select("week", "week_index", "label", "co2_lag_1", "co2_lag_52").first()
Row(week=datetime.date(1959, 4, 4), week_index=53, label=317.7, co2_lag_1=316.7, co2_lag_52=317.3)
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from importlib import resources
from typing import Optional, Sequence

__all__ = ["CO2_CSV", "CO2_FEATURE_COLUMNS", "co2_rows", "co2_schema", "load_co2", "co2_features"]

#: The CSV file's name inside the ``splitcv.data`` package.
CO2_CSV = "mauna_loa_co2_weekly.csv"

#: The columns :func:`co2_features` adds besides the lags, in the order they enter ``features``.
CO2_FEATURE_COLUMNS = ("week_index", "season_sin", "season_cos")


def co2_rows() -> list[tuple[_dt.date, Optional[float]]]:
    """The CSV's rows as ``(week, co2_ppm)`` Python values, in file (time) order; no Spark needed.

    >>> rows = co2_rows()
    >>> rows[0], len(rows)
    ((datetime.date(1958, 3, 29), 316.1), 2284)
    """
    text = resources.files(__name__).joinpath(CO2_CSV).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if [h.strip() for h in header] != ["week", "co2_ppm"]:
        raise ValueError(f"{CO2_CSV} has columns {header}; expected ['week', 'co2_ppm']")
    rows = []
    for line, (week, value) in enumerate(reader, start=2):
        try:
            rows.append((_dt.date.fromisoformat(week.strip()), float(value) if value.strip() else None))
        except ValueError as error:
            raise ValueError(f"{CO2_CSV}, line {line}: cannot read {week!r}, {value!r}: {error}") from None
    return rows


def co2_schema():
    """The schema of :func:`load_co2`: ``week DATE NOT NULL, co2_ppm DOUBLE`` (nullable)."""
    from pyspark.sql import types as T

    return T.StructType(
        [
            T.StructField("week", T.DateType(), nullable=False),
            T.StructField("co2_ppm", T.DoubleType(), nullable=True),
        ]
    )


def load_co2(spark):
    """The weekly Mauna Loa CO2 series as a DataFrame with columns ``week`` and ``co2_ppm``.

    2284 weeks, one row each, from 1958-03-29 to 2001-12-29, every 7 days; ``co2_ppm`` (parts per
    million, dry air mole fraction) is null for the 59 weeks without a measurement.
    """
    return spark.createDataFrame(co2_rows(), schema=co2_schema())


def co2_features(df, lags: Sequence[int] = (1, 2, 52)):
    """Add simple regression features to the CO2 series from :func:`load_co2`.

    Columns added:

    * ``co2_lag_<k>`` for each ``k`` in ``lags``: ``co2_ppm`` ``k`` weeks (``7 * k`` days) earlier,
      so ``co2_lag_52`` is a year back; null when that week is not in the input;
    * ``week_index``: whole weeks since the input's first week (0, 1, 2, ...), an integer trend;
      on the weekly series it is the week's position, counted before any row is dropped;
    * ``season_sin`` and ``season_cos``: the day of the year on a circle, the yearly cycle;
    * ``features``: a vector of the trend, the two seasonal terms and the lags, in that order
      (VectorAssembler);
    * ``label``: ``co2_ppm``.

    Rows where ``co2_ppm`` or a lag is null are dropped: the first ``max(lags)`` weeks, and the
    weeks at and just after a missing measurement. The result is one partition in week order
    whatever the input's partitioning, so a model fitted on it adds its rows up in the same order
    in every run (metrics repeat to the last bit). Each lag is a join on the week ``k`` weeks back
    and the index counts days from the first week: no window, for which Spark would log a
    warning each time it runs one over the whole series.

    The lags are of the observed series, so a model on them forecasts one week ahead: in a fold
    whose validation window is a year long, a validation week's ``co2_lag_1`` is the observed week
    before it, as it would be when forecasting week by week.
    """
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    lags = list(lags)
    if not lags or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in lags):
        raise ValueError(f"lags={lags!r}: give one or more whole numbers >= 1, such as (1, 2, 52)")
    if len(set(lags)) != len(lags):
        raise ValueError(f"lags={lags!r} repeats a lag; give each once")
    missing = [c for c in ("week", "co2_ppm") if c not in df.columns]
    if missing:
        raise ValueError(f"co2_features needs the columns week and co2_ppm (see load_co2); {missing} are missing")

    value = F.col("co2_ppm").cast("double")
    lag_cols = [f"co2_lag_{k}" for k in lags]
    angle = 2 * math.pi * (F.dayofyear(F.col("week")) - 1) / F.lit(365.25)
    # The first week comes from a one-row aggregate joined to every row: a global aggregate needs
    # no ordering, where row_number() over the whole series needed a window of one partition.
    first = df.agg(F.min(F.col("week").cast("date")).alias("_first_week"))
    out = df.crossJoin(first)
    for k, name in zip(lags, lag_cols):
        # Each week's value, moved k weeks later: joined on week, it is that week's lag k.
        later = df.select(F.date_add(F.col("week").cast("date"), 7 * k).alias("_lag_week"), value.alias(name))
        # Broadcast: the series is small, and a shuffle per lag would cost more than the join.
        out = out.join(F.broadcast(later), F.col("week").cast("date") == F.col("_lag_week"), "left").drop("_lag_week")
    out = out.select(
        *[F.col(c) for c in df.columns],
        F.floor(F.datediff(F.col("week").cast("date"), F.col("_first_week")) / 7).cast("int").alias("week_index"),
        F.sin(angle).alias("season_sin"),
        F.cos(angle).alias("season_cos"),
        *[F.col(c) for c in lag_cols],
        value.alias("label"),
    ).dropna(subset=["label", *lag_cols])
    out = out.coalesce(1).sortWithinPartitions("week")  # one partition in week order, as the window left it
    assembler = VectorAssembler(inputCols=[*CO2_FEATURE_COLUMNS, *lag_cols], outputCol="features")
    return assembler.transform(out)
