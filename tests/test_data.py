"""The shipped CO2 series: what load_co2 reads and what co2_features adds."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from splitcv.data import CO2_CSV, co2_features, co2_rows, load_co2


@pytest.fixture(scope="module")
def co2(spark):
    return load_co2(spark)


def test_load_co2_has_every_week_and_the_missing_values(co2):
    assert [(f.name, f.dataType.simpleString(), f.nullable) for f in co2.schema.fields] == [
        ("week", "date", False),
        ("co2_ppm", "double", True),
    ]
    rows = co2.orderBy("week").collect()
    assert len(rows) == 2284
    assert sum(r["co2_ppm"] is None for r in rows) == 59
    weeks = [r["week"] for r in rows]
    assert weeks[0] == dt.date(1958, 3, 29) and weeks[-1] == dt.date(2001, 12, 29)
    assert {(b - a).days for a, b in zip(weeks, weeks[1:])} == {7}
    values = [r["co2_ppm"] for r in rows if r["co2_ppm"] is not None]
    assert 300 < min(values) < max(values) < 400


def test_rows_come_in_time_order_without_spark():
    rows = co2_rows()
    assert len(rows) == 2284
    assert [w for w, _ in rows] == sorted(w for w, _ in rows)
    assert sum(v is None for _, v in rows) == 59


def test_co2_features_has_no_nulls_and_the_expected_columns(co2):
    features = co2_features(co2)
    lags = ["co2_lag_1", "co2_lag_2", "co2_lag_52"]
    added = ["week_index", "season_sin", "season_cos", *lags, "label", "features"]
    assert set(features.columns) == {"week", "co2_ppm", *added}
    assert dict(features.dtypes)["week_index"] == "int"
    assert features.filter(" OR ".join(f"{c} IS NULL" for c in ["week", "co2_ppm", *added])).count() == 0
    rows = features.orderBy("week").collect()
    # 52 weeks need a lag-52 value; every missing week removes itself and the two weeks after it, at most.
    assert 2284 - 52 - 3 * 59 <= len(rows) < 2284 - 52 - 59
    assert len(rows[0]["features"]) == 3 + len(lags)
    assert [r["week_index"] for r in rows] == sorted({r["week_index"] for r in rows})


def test_co2_features_lags_are_the_values_k_weeks_before(co2):
    by_week = {w: v for w, v in co2_rows()}
    for row in co2_features(co2, lags=(1, 52)).collect():
        assert row["label"] == by_week[row["week"]] == row["co2_ppm"]
        assert row["co2_lag_1"] == by_week[row["week"] - dt.timedelta(weeks=1)]
        assert row["co2_lag_52"] == by_week[row["week"] - dt.timedelta(weeks=52)]
        assert row["week_index"] == (row["week"] - dt.date(1958, 3, 29)).days // 7
        assert list(row["features"]) == pytest.approx(
            [row["week_index"], row["season_sin"], row["season_cos"], row["co2_lag_1"], row["co2_lag_52"]]
        )


def test_co2_features_does_not_depend_on_partitioning(co2):
    one = co2_features(co2.coalesce(1)).orderBy("week").collect()
    many = co2_features(co2.repartition(7, F.col("co2_ppm"))).orderBy("week").collect()
    assert one == many


def test_co2_features_plans_no_window(co2):
    """Spark warns 'No Partition Defined for Window operation! Moving all data to a single
    partition' for every window over the whole series (21 lines per demo run): the features are
    built without a window at all, so there is nothing to warn about."""
    plan = co2_features(co2)._jdf.queryExecution().executedPlan().toString()
    assert "Window" not in plan, plan


@pytest.mark.parametrize("lags", [(), (0,), (1, 1), (1.5,), (True,)])
def test_co2_features_rejects_bad_lags(co2, lags):
    with pytest.raises(ValueError, match="lags="):
        co2_features(co2, lags=lags)


def test_the_csv_loads_from_a_zipped_package(tmp_path):
    """The data is read as package data, so it works when splitcv is imported from a zip."""
    package = Path(__file__).resolve().parent.parent / "splitcv"
    archive = tmp_path / "splitcv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in package.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, Path("splitcv") / path.relative_to(package))
    code = (
        "import splitcv.data as d; assert '.zip' in d.__file__, d.__file__; "
        "rows = d.co2_rows(); print(len(rows), sum(v is None for _, v in rows))"
    )
    env = {**os.environ, "PYTHONPATH": str(archive)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2284", "59"]
    assert CO2_CSV.endswith(".csv")
