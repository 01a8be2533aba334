"""Saving over an earlier save without overwrite(): our FileExistsError, naming the path and the fix,
raised before anything is written (not Spark's [PATH_ALREADY_EXISTS] halfway through)."""

from __future__ import annotations

import os
import re

import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.regression import LinearRegression

from splitcv import (
    ExpandingWindowSplitter,
    FoldInfo,
    KFoldSplitter,
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
)


def _validator():
    lr = LinearRegression()
    return ParallelCrossValidator(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}], evaluator=RegressionEvaluator(),
                                  splitter=KFoldSplitter(numFolds=2))


def _model():
    model = ParallelCrossValidatorModel(avgMetrics=[1.0], stdMetrics=[0.0], foldMetrics=[[1.0], [2.0]],
                                        folds=[FoldInfo(0, 5, 5), FoldInfo(1, 5, 5)])
    return _validator()._copyValues(model)


def _tree(path):
    """Every file under ``path`` with its size and modification time."""
    found = {}
    for root, _, files in os.walk(path):
        for name in files:
            stat = os.stat(os.path.join(root, name))
            found[os.path.relpath(os.path.join(root, name), path)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.mark.parametrize("make", [_validator, _model, lambda: ExpandingWindowSplitter(timeCol="day", horizon=3)],
                         ids=["validator", "model", "splitter"])
def test_saving_over_a_save_names_the_path_and_the_fix(spark, tmp_path, make):
    path = str(tmp_path / "saved")
    make().write().save(path)
    before = _tree(path)
    with pytest.raises(FileExistsError) as info:
        make().write().save(path)
    message = str(info.value)
    assert f"{path!r} already exists" in message
    assert f"write().overwrite().save({path!r})" in message
    assert "PATH_ALREADY_EXISTS" not in message
    assert _tree(path) == before, "nothing was written"
    make().write().overwrite().save(path)  # the fix works
    type(make()).load(path)


def test_an_existing_directory_without_a_save_is_used_as_before(spark, tmp_path):
    # e.g. a fresh tempfile.mkdtemp(): pyspark's Python writers accept it, and so do we
    splitter = ExpandingWindowSplitter(timeCol="day", horizon=3)
    splitter.write().save(str(tmp_path))
    assert ExpandingWindowSplitter.load(str(tmp_path)).getHorizon() == 3
    with pytest.raises(FileExistsError, match=re.escape(f"write().overwrite().save({str(tmp_path)!r})")):
        splitter.write().save(str(tmp_path))
