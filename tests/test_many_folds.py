"""A window splitter without numFolds or initialWindow on the weekly CO2 series: one fold per week.

Planning warns (TooManyFoldsWarning) with the count, once, before anything is fitted.
"""

from __future__ import annotations

import warnings

import pytest
from pyspark.ml.evaluation import RegressionEvaluator

from estimators import Watched
from splitcv import ExpandingWindowSplitter, ParallelCrossValidator, SlidingWindowSplitter, TooManyFoldsWarning


@pytest.fixture(scope="module")
def co2(spark):
    from splitcv.data import co2_rows, load_co2

    return load_co2(spark), len({week for week, _ in co2_rows()})


@pytest.fixture(scope="module")
def recent(co2):
    """The CO2 weeks from 1995 on: still hundreds of one-week folds (the whole series makes 2,283,
    and building each fold's filters is what these tests would spend their time on)."""
    import datetime as dt

    from splitcv.data import co2_rows

    data, _ = co2
    return data.where("week >= date'1995-01-01'"), len({w for w, _ in co2_rows() if w >= dt.date(1995, 1, 1)})


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in caught if issubclass(w.category, TooManyFoldsWarning)]


@pytest.mark.parametrize("splitter", [ExpandingWindowSplitter(timeCol="week"), SlidingWindowSplitter(timeCol="week", windowSize=52)],
                         ids=lambda s: type(s).__name__)
def test_planning_warns_once_with_the_count(recent, splitter):
    data, weeks = recent
    name = type(splitter).__name__
    count, caught = _caught(lambda: splitter.countFolds(data))  # the plan's length, one summary job
    assert count == weeks - 1 and len(caught) == 1
    message = str(caught[0].message)
    assert f"{name} makes {weeks - 1} folds" in message and "numFolds=" in message and "initialWindow=" in message
    assert caught[0].filename == __file__, "the warning points at the caller's line"
    (_, _, folds), caught = _caught(lambda: splitter.plan(data))
    assert len(folds) == weeks - 1 and len(caught) == 1


def test_quiet_with_numfolds_or_a_calendar_horizon(co2):
    data, _ = co2
    _, caught = _caught(lambda: ExpandingWindowSplitter(timeCol="week", numFolds=5).countFolds(data))
    assert not caught
    count, caught = _caught(lambda: ExpandingWindowSplitter(timeCol="week", horizon="1 year").countFolds(data))
    assert count == 43 and not caught


def test_the_validator_warns_before_fitting_anything(recent):
    data, weeks = recent
    watched = Watched()
    Watched.reset()
    cv = ParallelCrossValidator(
        estimator=watched, estimatorParamMaps=[{watched.hold: 0.0}],
        evaluator=RegressionEvaluator(labelCol="co2_ppm"),
        splitter=ExpandingWindowSplitter(timeCol="week"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", TooManyFoldsWarning)  # the warning stops the fit where it is raised
        with pytest.raises(TooManyFoldsWarning, match=rf"ExpandingWindowSplitter makes {weeks - 1} folds"):
            cv.fit(data)
    assert Watched.calls == 0, "the warning comes from planning, before any model is fitted"
