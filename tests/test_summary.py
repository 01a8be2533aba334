"""What ``print(model.summary())`` and ``print(model.bestParams)`` show: every param map's mean, std,
rank and fit time in a table that fits the terminal whatever pandas' display options, while the
summary stays a DataFrame and the wide per-fold table stays available."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import ParamGridBuilder

from splitcv import ParallelCrossValidatorModel

FOLDS, WIDTH = 12, 80


def _model(spark, grid, means, *, nan_folds=None, dropped=None, best=0) -> ParallelCrossValidatorModel:
    """A fitted model's fields, made up: summary() and bestParams only read them."""
    m = len(grid)
    labels = {p: p.name for pm in grid for p in pm}
    results = {"params": [{labels[p]: v for p, v in pm.items()} for pm in grid]}
    for f in range(FOLDS):
        results[f"split{f}_test_score"] = [means[j] + 0.001 * f for j in range(m)]
    order = sorted(range(m), key=lambda j: means[j])
    results["mean_test_score"] = list(means)
    results["std_test_score"] = [0.0123 * (j + 1) for j in range(m)]
    results["rank_test_score"] = [order.index(j) + 1 for j in range(m)]
    results["nan_folds"] = nan_folds or [[] for _ in range(m)]
    if dropped is not None:
        results["dropped_after_fold"] = dropped
        results["dropped_reason"] = ["worse than map 0" if d is not None else None for d in dropped]
    for name in ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"):
        results[name] = [1.5 + j for j in range(m)]
    model = ParallelCrossValidatorModel(avgMetrics=list(means), cvResults=results, bestIndex=best)
    return model._set(estimatorParamMaps=grid, evaluator=RegressionEvaluator(metricName="rmse"))


@pytest.fixture
def narrow_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", str(WIDTH))  # shutil.get_terminal_size reads it first


def _grid():
    lr = LinearRegression()
    return lr, ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.1, 1.0]).addGrid(lr.elasticNetParam, [0.0, 1.0]).build()


def test_printed_summary_shows_every_map_s_mean_std_rank_and_fit_time(spark, narrow_terminal):
    _, grid = _grid()
    means = [0.44051, 0.44063, 0.5387, 0.5603, 0.9789, 1.9057]
    model = _model(spark, grid, means)
    with pd.option_context("display.max_columns", 4, "display.width", 40, "display.max_colwidth", 10):
        text = str(model.summary())
        assert repr(model.summary()) == text
    lines = text.splitlines()
    assert "..." not in text and "columns]" not in text, text
    assert max(len(line) for line in lines) <= WIDTH, text
    assert lines[0].split() == ["map", "rank", "mean", "std", "fit", "s", "params"]
    rows = lines[1:1 + len(grid)]
    # Best first; each row: the map's index, its rank, mean, std, fit time and params in full.
    assert [int(row.split()[0]) for row in rows] == [0, 1, 2, 3, 4, 5]
    # Mean and std in one format (the metric's unit), with the digits that tell maps 0 and 1 apart.
    assert rows[0].split()[:5] == ["0", "1", "0.4405", "0.0123", "1.500"]
    assert rows[1].split()[:3] == ["1", "2", "0.4406"]
    assert rows[0].endswith("regParam=0.0, elasticNetParam=0.0")
    assert rows[5].split()[:5] == ["5", "6", "1.9057", "0.0738", "6.500"]
    assert f"6 param maps x {FOLDS} folds" in text and "rmse" in text and "smaller is better" in text
    assert "summary(wide=True)" in text


def test_summary_is_still_a_dataframe_and_the_wide_table_is_there(spark):
    _, grid = _grid()
    model = _model(spark, grid, [0.9, 0.4, 0.5, 0.6, 0.7, 0.8])
    table = model.summary()
    assert isinstance(table, pd.DataFrame)
    assert table["rank_test_score"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table.iloc[0]["params"] == {"regParam": 0.0, "elasticNetParam": 1.0}
    assert table.sort_values("mean_fit_time").index.tolist() == [0, 1, 2, 3, 4, 5]
    assert type(table[["params", "mean_test_score"]]) is pd.DataFrame  # a slice prints as pandas does
    wide = model.summary(wide=True)
    assert type(wide) is pd.DataFrame
    assert f"split{FOLDS - 1}_test_score" in wide and wide.equals(pd.DataFrame(table))


def test_nan_folds_and_dropped_maps_are_marked(spark, narrow_terminal):
    _, grid = _grid()
    model = _model(
        spark, grid[:3], [0.4, 0.5, float("nan")], nan_folds=[[], [], [1, 2]], dropped=[None, 3, None]
    )
    lines = str(model.summary()).splitlines()
    assert lines[0].split()[:7] == ["map", "rank", "mean", "std", "fit", "s", "nan"]
    assert "dropped" in lines[0]
    by_map = {int(line.split()[0]): line for line in lines[1:] if line.split()[0].isdigit()}
    assert "after fold 3" in by_map[1] and "1, 2" in by_map[2] and "nan" in by_map[2].split()


def test_long_params_wrap_within_the_width_and_none_is_lost(spark, narrow_terminal):
    lr = LinearRegression()
    grid = [
        {lr.regParam: 0.1, lr.elasticNetParam: 0.5, lr.maxIter: 100, lr.tol: 1e-6, lr.aggregationDepth: 3,
         lr.solver: "l-bfgs", lr.standardization: False, lr.fitIntercept: True},
    ]
    text = str(_model(spark, grid, [0.5]).summary())
    assert max(len(line) for line in text.splitlines()) <= WIDTH, text
    flat = " ".join(text.split())
    for shown in ("regParam=0.1", "elasticNetParam=0.5", "maxIter=100", "tol=1e-06", "aggregationDepth=3",
                  "solver='l-bfgs'", "standardization=False", "fitIntercept=True"):
        assert shown in flat, shown


def test_best_params_prints_as_the_python_values_of_the_grid(spark):
    lr = LinearRegression()
    grid = ParamGridBuilder().addGrid(lr.regParam, np.array([0.1, 1.0])).build()  # a numpy grid, as is common
    model = _model(spark, grid, [0.3, 0.4])
    assert type(model.bestParams) is dict
    assert repr(model.bestParams) == "{'regParam': 0.1}"  # not {'regParam': np.float64(0.1)}
    assert "np.float64" not in str(model.summary()) and "regParam=0.1\n" in str(model.summary())
    assert not math.isnan(model.summary()["mean_test_score"].iloc[0])
