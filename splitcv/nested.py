"""Nested cross-validation: an unbiased estimate of a whole tuning procedure, tuning included.

The best mean metric of a tuning run is optimistic: it is the maximum over the param maps of noisy
estimates, chosen on the same folds it is reported on. Nested cross-validation puts the tuning run
inside an outer split: for each outer fold, the validator tunes on that fold's training rows only
(its own splitter makes the inner folds there), its best map is refit on those rows, and the model
is scored once on the outer validation rows, which no choice has seen. The outer scores estimate how
the procedure does on new data; the maps chosen per outer fold show how stable the choice is.

:func:`nested_cross_validate` runs every inner (fold, map) task of every outer fold from one queue
with the validator's ``parallelism`` (no thread pool inside another), then the outer refits from the
same queue machinery. Time splitters work on both levels: an inner fold lies inside its outer
fold's training rows, so nothing of an outer validation period reaches the tuning of its fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from pyspark.ml.evaluation import Evaluator
from pyspark.sql import DataFrame

from splitcv.budget import budget_bytes
from splitcv.lean_fit import fit_for
from splitcv.param_maps import apply_map
from splitcv.progress import FitProgress
from splitcv.queue import LongestFirst, SessionControl, Task, is_cached, run_tasks
from splitcv.selection import select_best

if TYPE_CHECKING:  # an annotation's name only: pandas is imported where the table is made
    import pandas
from splitcv.splitters.base import FoldInfo, FoldSplitter, measure_folds
from splitcv.validator import (
    ParallelCrossValidator,
    _class_column,
    _one_ofs,
    _describe_map,
    _row_params,
    _run_grid,
    _single_class_folds,
    param_labels,
)

__all__ = ["nested_cross_validate", "NestedResult"]


@dataclass
class NestedResult:
    """What :func:`nested_cross_validate` found, one entry per outer fold.

    ``outerMetrics[o]``: the tuned model's metric on outer fold ``o``'s validation rows;
    ``bestIndex[o]`` / ``bestParams[o]``: the param map the inner search chose on that fold's training
    rows; ``innerAvgMetrics[o][j]``: map ``j``'s mean inner metric there; ``outerFolds`` and
    ``innerFolds[o]``: the folds' descriptions (rows, time ranges). ``mean`` and ``std`` summarize the
    outer metrics: the estimate of the whole procedure and its spread. Outer folds skipped under
    ``singleClassFolds='skip'`` are listed in ``skippedOuterFolds`` and have no entry in the others.
    """

    outerMetrics: list[float]
    bestIndex: list[int]
    bestParams: list[dict[str, Any]]
    innerAvgMetrics: list[list[float]]
    outerFolds: list[FoldInfo]
    innerFolds: list[list[FoldInfo]]
    #: outer folds left out (``singleClassFolds='skip'`` on an outer side of one class)
    skippedOuterFolds: list[int] = field(default_factory=list)
    metricName: str = ""
    mean: float = field(init=False)
    std: float = field(init=False)

    def __post_init__(self) -> None:
        self.mean = float(np.mean(self.outerMetrics))
        self.std = float(np.std(self.outerMetrics))

    def summary(self) -> "pandas.DataFrame":  # noqa: F821
        """One row per outer fold: the chosen map, its inner mean metric and its outer metric."""
        import pandas as pd

        return pd.DataFrame({
            "outer_fold": [info.fold for info in self.outerFolds],
            "params": self.bestParams,
            "inner_mean": [self.innerAvgMetrics[o][j] for o, j in enumerate(self.bestIndex)],
            "outer_metric": self.outerMetrics,
        })


def nested_cross_validate(
    validator: ParallelCrossValidator,
    dataset: DataFrame,
    outerSplitter: FoldSplitter,
    outerEvaluator: Optional[Evaluator] = None,
) -> NestedResult:
    """Run ``validator``'s tuning inside each fold of ``outerSplitter`` and score its choice outside.

    The validator's own splitter makes the inner folds on each outer training set; its estimator,
    param maps, evaluator, ``parallelism``, shared pipeline prefix, one-pass scoring, memory budget and
    ``singleClassFolds`` apply as in ``validator.fit``. ``outerEvaluator`` (default: the validator's)
    scores each refit model on its outer validation rows. Racing is not used inside (a race per outer
    fold would need one scheduler per fold); a validator with ``racing=True`` is refused.

    The validator's ``progress`` shows one progress for the inner tasks of every outer fold (they run
    from one queue; no best metric, as the outer folds tune on different rows), and its ``callback``
    is given each inner result, with ``outerFold`` set and ``fold`` the inner fold within it.

    Examples
    --------
    >>> from pyspark.ml.regression import LinearRegression
    >>> from pyspark.ml.evaluation import RegressionEvaluator
    >>> from pyspark.ml.linalg import Vectors
    >>> from splitcv import ExpandingWindowSplitter, ParallelCrossValidator
    >>> df = spark.createDataFrame(
    ...     [(d, Vectors.dense([float(d)]), 2.0 * d + (d % 3)) for d in range(60)], ["day", "features", "label"])
    >>> lr = LinearRegression()
    >>> inner = ParallelCrossValidator(
    ...     estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 100.0}], evaluator=RegressionEvaluator(),
    ...     splitter=ExpandingWindowSplitter(timeCol="day", horizon=5, numFolds=2), parallelism=4)
    >>> result = nested_cross_validate(inner, df, ExpandingWindowSplitter(timeCol="day", horizon=10, numFolds=2))
    >>> result.bestIndex, len(result.outerMetrics)
    ([0, 0], 2)
    """
    if not isinstance(validator, ParallelCrossValidator):
        raise TypeError(
            f"validator={validator!r} is a {type(validator).__name__}; give a ParallelCrossValidator (the inner "
            "tuning run), e.g. ParallelCrossValidator(estimator=lr, estimatorParamMaps=grid, ...)"
        )
    if not isinstance(outerSplitter, FoldSplitter):
        raise TypeError(
            f"outerSplitter={outerSplitter!r} is a {type(outerSplitter).__name__}, not a FoldSplitter; give e.g. "
            "ExpandingWindowSplitter(timeCol='day', horizon=30, numFolds=3)"
        )
    if outerEvaluator is not None and not isinstance(outerEvaluator, Evaluator):
        raise TypeError(f"outerEvaluator={outerEvaluator!r} is not a pyspark.ml Evaluator")
    if validator.getRacing():
        raise ValueError(
            "nested_cross_validate runs without racing; give a validator with racing=False "
            "(validator.copy().setRacing(False))"
        )
    validator._check_config(dataset)
    outerSplitter.check(dataset)
    estimator, evaluator, inner = validator.getEstimator(), validator.getEvaluator(), validator.getSplitter()
    scorer = outerEvaluator or evaluator
    maps = list(validator.getEstimatorParamMaps())
    parallelism = validator.getParallelism()
    control = SessionControl(dataset.sparkSession)
    rdds_before = control.persistent_rdds()
    cached: list[DataFrame] = []  # what this run caches: unpersisted at the end, whatever happens

    def cache(frame: DataFrame) -> DataFrame:
        if is_cached(frame):
            return frame
        cached.append(frame.cache())
        return frame

    succeeded = False
    try:
        data = cache(outerSplitter._with_fold_columns(dataset))
        classes = _class_column(scorer, data) or _class_column(evaluator, data)
        outer = outerSplitter._prepare_frame(data, classes)
        outer_infos = outer.infos if outer.infos is not None else measure_folds(
            outer.frame, outer.conditions, outerSplitter._time_column(), classes
        )
        # singleClassFolds applies to the outer folds too: an outer validation set of one class
        # would score the tuned model as perfect (or meaningless), inflating the estimate.
        try:
            outer_skipped = set(_single_class_folds(outer_infos, scorer, validator.getSingleClassFolds())) if classes else set()
        except ValueError as error:
            raise ValueError(f"the outer folds: {error}") from None
        outer_splits = outer.splits()
        classes = _class_column(evaluator, data)

        # Inner folds on each outer training set, planned in turn (one summary job each).
        inner_splits: list[tuple[DataFrame, DataFrame]] = []
        inner_infos: list[FoldInfo] = []
        blocks: list[range] = []  # outer fold o's inner folds: inner_splits[blocks[o]]
        skipped: list[int] = []
        for o, (train, _) in enumerate(outer_splits):
            if o in outer_skipped:
                blocks.append(range(len(inner_splits), len(inner_splits)))
                continue
            where = f"outer fold {o} of {len(outer_splits)} ({_rows_text(outer_infos[o])})"
            try:
                inner.check(train)
                # A filter of the cached input needs no cache of its own; a frame with helper
                # columns (k-fold's seeded ranks, a window) does, or every split recomputes them.
                ranked = inner._with_fold_columns(train)
                folds = inner._prepare_frame(ranked if ranked is train else cache(ranked), classes)
                infos = folds.infos if folds.infos is not None else measure_folds(
                    folds.frame, folds.conditions, inner._time_column(), classes
                )
                skip = _single_class_folds(infos, evaluator, validator.getSingleClassFolds()) if classes else []
            except ValueError as error:
                raise ValueError(
                    f"{where}: no usable inner folds on this fold's training rows: {str(error).rstrip('.')}. Give the "
                    "outer splitter fewer or later folds (more training rows each), or change the validator's splitter"
                ) from error
            start = len(inner_splits)
            blocks.append(range(start, start + len(infos)))
            skipped += [start + f for f in skip]
            inner_splits += folds.splits()
            inner_infos += infos

        names = {g: f"outer fold {o}, inner fold {g - block.start}" for o, block in enumerate(blocks) for g in block}
        # The memory budget as in validator.fit: a fit is counted at its training rows' share of the
        # cached input, bytes per row taken over the largest outer fold (on the safe side).
        input_bytes = control.dataset_bytes(data)
        budget = budget_bytes(validator.getMemoryBudget(), control.storage_memory(), control.storage_fraction(), input_bytes)
        per_row = input_bytes / max(max(i.train_rows + i.validation_rows for i in outer_infos), 1)
        needs = [per_row * info.train_rows for info in inner_infos]
        where = {g: (o, g - block.start) for o, block in enumerate(blocks) for g in block}
        with FitProgress(validator.getProgress(), validator.getCallback(), None, where=where.__getitem__) as watch:
            outcome = _run_grid(
                estimator, evaluator, maps, inner_splits, inner_infos, parallelism, False, control, skipped,
                validator.getSharePipelinePrefix(), None, (budget, needs), validator.getScoreInOnePass(),
                validator.getCachePrefixOutput(),
                fold_name=names.__getitem__, watch=watch, lean=validator.getLeanFits(),
            )
        larger = evaluator.isLargerBetter()
        chosen: dict[int, Any] = {}
        for o, block in enumerate(blocks):
            if o not in outer_skipped:
                table = [outcome["metrics"][g] for g in block]
                chosen[o] = select_best(table, larger, [g - block.start for g in skipped if g in block])

        # The outer refits: each outer fold's chosen map on its training rows, scored outside.
        labels = param_labels(maps)
        outer_metrics = [float("nan")] * len(outer_splits)

        def refit(task: Task) -> float:
            train, validation = outer_splits[task.fold]
            # scored and let go, like the inner fits: nothing reads what a lean fit leaves out
            model = fit_for(validator.getLeanFits())(apply_map(estimator, maps[task.param_map]), train)
            outer_metrics[task.fold] = float(scorer.evaluate(model.transform(validation)))
            return outer_metrics[task.fold]

        tasks = [Task(o, choice.best, float(outer_infos[o].train_rows)) for o, choice in chosen.items()]
        run_tasks(
            LongestFirst(tasks), refit, parallelism, control,
            lambda t: f"refitting outer fold {t.fold} with param map {t.param_map} {_describe_map(maps[t.param_map], labels)}",
            budget, lambda t: per_row * outer_infos[t.fold].train_rows,
        )
        scored = sorted(chosen)
        result = NestedResult(
            outerMetrics=[outer_metrics[o] for o in scored],
            bestIndex=[chosen[o].best for o in scored],
            bestParams=[_row_params(maps[chosen[o].best], labels, _one_ofs(estimator)) for o in scored],
            innerAvgMetrics=[chosen[o].avg for o in scored],
            outerFolds=[outer_infos[o] for o in scored],
            innerFolds=[[inner_infos[g] for g in blocks[o]] for o in scored],
            skippedOuterFolds=sorted(outer_skipped),
            metricName=str(scorer.getOrDefault("metricName")) if scorer.hasParam("metricName") else "",
        )
        succeeded = True
        return result
    finally:
        for frame in cached:
            frame.unpersist()
        if not succeeded:
            control.unpersist_rdds(control.persistent_rdds() - rdds_before)


def _rows_text(info: FoldInfo) -> str:
    if info.train_start is not None:
        return f"training rows {info.train_rows}, {info.train_start} to {info.train_end}"
    return f"training rows {info.train_rows}"
