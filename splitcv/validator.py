"""ParallelCrossValidator: every (fold x param map) pair from one queue."""

from __future__ import annotations

import time
from typing import Any, Optional, Sequence

import numpy as np
from pyspark import keyword_only
from pyspark.ml.base import Estimator, Model
from pyspark.ml.evaluation import Evaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasCollectSubModels, HasParallelism
from pyspark.ml.util import MLReadable, MLWritable
from pyspark.sql import DataFrame

from splitcv.queue import LongestFirst, SessionControl, Task, is_cached, run_tasks
from splitcv.splitters.base import FoldInfo, FoldSplitter, measure_folds

__all__ = ["ParallelCrossValidator", "ParallelCrossValidatorModel"]

ParamMap = dict


def _to_parallelism(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is a bool; give a whole number of threads >= 1")
    number = TypeConverters.toInt(value)
    if number < 1:
        raise ValueError(f"{number} threads cannot run anything; give parallelism >= 1")
    return number


class _ValidatorParams(HasParallelism, HasCollectSubModels):
    estimator: "Param[Estimator]" = Param(Params._dummy(), "estimator", "estimator to be cross-validated")
    estimatorParamMaps: "Param[list[ParamMap]]" = Param(
        Params._dummy(), "estimatorParamMaps", "estimator param maps (the grid)", typeConverter=TypeConverters.toList
    )
    evaluator: "Param[Evaluator]" = Param(
        Params._dummy(), "evaluator", "evaluator whose metric picks the best param map"
    )
    splitter: "Param[FoldSplitter]" = Param(Params._dummy(), "splitter", "the FoldSplitter that makes the folds")
    refit: "Param[bool]" = Param(
        Params._dummy(), "refit", "refit the best param map on the whole dataset as bestModel",
        typeConverter=TypeConverters.toBoolean,
    )

    def getEstimator(self) -> Estimator:
        return self.getOrDefault(self.estimator)

    def getEstimatorParamMaps(self) -> list[ParamMap]:
        return self.getOrDefault(self.estimatorParamMaps)

    def getEvaluator(self) -> Evaluator:
        return self.getOrDefault(self.evaluator)

    def getSplitter(self) -> FoldSplitter:
        return self.getOrDefault(self.splitter)

    def getRefit(self) -> bool:
        return self.getOrDefault(self.refit)


def _stage_uids(stage: Params) -> dict[str, Params]:
    """The estimator and every stage nested in it (Pipelines, OneVsRest classifiers), by uid."""
    found = {stage.uid: stage}
    children: list[Any] = []
    if hasattr(stage, "getStages"):
        children = list(stage.getStages())
    for name in ("classifier", "estimator"):
        if stage.hasParam(name) and stage.isDefined(name):
            children.append(stage.getOrDefault(name))
    for child in children:
        if isinstance(child, Params):
            found.update(_stage_uids(child))
    return found


class ParallelCrossValidator(Estimator, _ValidatorParams, MLReadable, MLWritable):
    """Cross-validation that runs all (fold x param map) tasks from one queue.

    Spark's ``CrossValidator`` runs folds one after another with at most one thread per param map;
    here ``parallelism`` threads take tasks from one queue (longest first), so folds and grid points
    run at the same time. The input is cached once (unless it already is) and every fold is a filter
    over that cache. Per fold, the estimator's ``fitMultiple`` fits the param maps.

    Memory: one cached copy of the input, plus what each fit in flight caches of its own (for
    LogisticRegression or l-bfgs solvers about one training set per fit), so that part grows with
    ``parallelism``; see docs/validator.md.

    Examples
    --------
    >>> from pyspark.ml.regression import LinearRegression
    >>> from pyspark.ml.evaluation import RegressionEvaluator
    >>> from pyspark.ml.linalg import Vectors
    >>> from splitcv import ExpandingWindowSplitter
    >>> df = spark.createDataFrame(
    ...     [(d, Vectors.dense([float(d)]), 2.0 * d + (d % 3)) for d in range(40)], ["day", "features", "label"])
    >>> lr = LinearRegression()
    >>> cv = ParallelCrossValidator(
    ...     estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 10.0}],
    ...     evaluator=RegressionEvaluator(), splitter=ExpandingWindowSplitter(timeCol="day", horizon=5, numFolds=3),
    ...     parallelism=4)
    >>> model = cv.fit(df)
    >>> model.bestIndex, len(model.foldMetrics), len(model.foldMetrics[0])
    (0, 3, 2)
    """

    @keyword_only
    def __init__(
        self,
        *,
        estimator: Optional[Estimator] = None,
        estimatorParamMaps: Optional[list[ParamMap]] = None,
        evaluator: Optional[Evaluator] = None,
        splitter: Optional[FoldSplitter] = None,
        parallelism: int = 1,
        collectSubModels: bool = False,
        refit: bool = True,
    ) -> None:
        super().__init__()
        self._setDefault(parallelism=1, collectSubModels=False, refit=True)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        estimator: Optional[Estimator] = None,
        estimatorParamMaps: Optional[list[ParamMap]] = None,
        evaluator: Optional[Evaluator] = None,
        splitter: Optional[FoldSplitter] = None,
        parallelism: int = 1,
        collectSubModels: bool = False,
        refit: bool = True,
    ) -> "ParallelCrossValidator":
        return self._set(**self._input_kwargs)

    def _set(self, **kwargs: Any) -> "ParallelCrossValidator":
        if "parallelism" in kwargs and kwargs["parallelism"] is not None:
            try:
                kwargs["parallelism"] = _to_parallelism(kwargs["parallelism"])
            except (TypeError, ValueError) as error:
                raise type(error)(f"ParallelCrossValidator: parallelism={kwargs['parallelism']!r} is not valid: {error}") from None
        return super()._set(**kwargs)

    def setEstimator(self, value: Estimator) -> "ParallelCrossValidator":
        return self._set(estimator=value)

    def setEstimatorParamMaps(self, value: list[ParamMap]) -> "ParallelCrossValidator":
        return self._set(estimatorParamMaps=value)

    def setEvaluator(self, value: Evaluator) -> "ParallelCrossValidator":
        return self._set(evaluator=value)

    def setSplitter(self, value: FoldSplitter) -> "ParallelCrossValidator":
        return self._set(splitter=value)

    def setParallelism(self, value: int) -> "ParallelCrossValidator":
        return self._set(parallelism=value)

    def setCollectSubModels(self, value: bool) -> "ParallelCrossValidator":
        return self._set(collectSubModels=value)

    def setRefit(self, value: bool) -> "ParallelCrossValidator":
        return self._set(refit=value)

    # -- validation before any Spark job ---------------------------------------------------------
    def _check_config(self, dataset: Optional[DataFrame] = None) -> None:
        def need(name: str, kind: type, example: str) -> Any:
            if not self.isDefined(name) or self.getOrDefault(name) is None:
                raise ValueError(f"ParallelCrossValidator needs {name}: set it, e.g. {example}")
            value = self.getOrDefault(name)
            if not isinstance(value, kind):
                raise TypeError(f"{name}={value!r} is a {type(value).__name__}, not a {kind.__name__}")
            return value

        estimator = need("estimator", Estimator, "estimator=LogisticRegression()")
        need("evaluator", Evaluator, "evaluator=BinaryClassificationEvaluator()")
        splitter = need("splitter", FoldSplitter, "splitter=KFoldSplitter(numFolds=3)")
        maps = self.getOrDefault(self.estimatorParamMaps) if self.isDefined(self.estimatorParamMaps) else None
        if not maps:
            raise ValueError(
                f"estimatorParamMaps={maps!r} holds no param map; give at least one, e.g. "
                "ParamGridBuilder().addGrid(lr.regParam, [0.01, 0.1]).build(), or [{}] for the defaults"
            )
        owners = _stage_uids(estimator)
        for index, param_map in enumerate(maps):
            if not isinstance(param_map, dict):
                raise TypeError(f"estimatorParamMaps[{index}]={param_map!r} is not a param map (a dict of Param to value)")
            for param in param_map:
                if not isinstance(param, Param) or param.parent not in owners:
                    name = getattr(param, "name", param)
                    parent = getattr(param, "parent", "?")
                    raise ValueError(
                        f"estimatorParamMaps[{index}] sets {parent}.{name}, which belongs to no stage of the "
                        f"estimator {estimator.uid}; build the grid from the estimator's own Params"
                    )
        splitter.check(dataset)

    # -- fit -------------------------------------------------------------------------------------
    def _fit(self, dataset: DataFrame) -> "ParallelCrossValidatorModel":
        self._check_config(dataset)
        estimator, evaluator, splitter = self.getEstimator(), self.getEvaluator(), self.getSplitter()
        maps = list(self.getEstimatorParamMaps())
        parallelism, collect, refit = self.getParallelism(), self.getCollectSubModels(), self.getRefit()
        control = SessionControl(dataset.sparkSession)
        owns_cache = not is_cached(dataset)
        rdds_before = control.persistent_rdds()
        data = dataset.cache() if owns_cache else dataset
        succeeded = False
        try:
            folds = splitter.prepare(data)
            infos = folds.infos if folds.infos is not None else measure_folds(
                data, folds.conditions, splitter._time_column()
            )
            splits = [(data.filter(t), data.filter(v)) for t, v in folds.conditions]
            outcome = _run_grid(estimator, evaluator, maps, splits, infos, parallelism, collect, control)
            metrics = outcome["metrics"]
            avg = [float(np.mean([metrics[f][j] for f in range(len(splits))])) for j in range(len(maps))]
            std = [float(np.std([metrics[f][j] for f in range(len(splits))])) for j in range(len(maps))]
            larger = evaluator.isLargerBetter()
            best = int(np.argmax(avg) if larger else np.argmin(avg))
            best_model = estimator.fit(data, maps[best]) if refit else None
            model = ParallelCrossValidatorModel(
                bestModel=best_model,
                avgMetrics=avg,
                stdMetrics=std,
                foldMetrics=metrics,
                subModels=outcome["models"] if collect else None,
                bestIndex=best,
                folds=infos,
                cvResults=_cv_results(maps, metrics, outcome["fit_seconds"], outcome["score_seconds"], larger),
            )
            succeeded = True
            return self._copyValues(model)
        finally:
            if owns_cache:
                data.unpersist()
            if not succeeded:
                # Estimators cache their own data and may leave it cached when cancelled mid-fit.
                control.unpersist_rdds(control.persistent_rdds() - rdds_before)

    def copy(self, extra: Optional[ParamMap] = None) -> "ParallelCrossValidator":
        extra = dict(extra or {})
        that = Params.copy(self, extra)
        # Like Spark's validators, ``extra`` reaches the nested estimator and evaluator.
        for name in ("estimator", "evaluator", "splitter"):
            if self.isDefined(name) and self.getOrDefault(name) is not None:
                that._set(**{name: self.getOrDefault(name).copy(extra)})
        return that

    def write(self) -> "MLWriter":  # noqa: F821
        from splitcv.persistence import ValidatorWriter

        return ValidatorWriter(self)

    @classmethod
    def read(cls) -> "MLReader":  # noqa: F821
        from splitcv.persistence import ValidatorReader

        return ValidatorReader(cls)


def _describe_map(param_map: ParamMap) -> str:
    return "{" + ", ".join(f"{p.name}: {v!r}" for p, v in param_map.items()) + "}"


def _run_grid(
    estimator: Estimator,
    evaluator: Evaluator,
    maps: Sequence[ParamMap],
    splits: Sequence[tuple[DataFrame, DataFrame]],
    infos: Sequence[FoldInfo],
    parallelism: int,
    collect: bool,
    control: SessionControl,
) -> dict[str, Any]:
    import threading

    k, m = len(splits), len(maps)
    metrics = [[float("nan")] * m for _ in range(k)]
    fit_seconds = [[0.0] * m for _ in range(k)]
    score_seconds = [[0.0] * m for _ in range(k)]
    models: list[list[Any]] = [[None] * m for _ in range(k)]  # a fresh list per fold: no aliasing
    iterators: dict[int, Any] = {}
    lock = threading.Lock()

    def model_iterator(fold: int) -> Any:
        # fitMultiple once per fold, shared by that fold's tasks, created on first use.
        with lock:
            if fold not in iterators:
                iterators[fold] = estimator.fitMultiple(splits[fold][0], maps)
            return iterators[fold]

    def work(task: Task) -> None:
        models_of_fold = model_iterator(task.fold)
        start = time.perf_counter()
        fit_single = getattr(models_of_fold, "fitSingleModel", None)
        if fit_single is not None:  # the default lazy iterator: fit the task's own param map
            index, model = task.param_map, fit_single(task.param_map)
        else:  # an estimator that fits many maps in one pass hands them out in its own order
            index, model = next(models_of_fold)
        fitted = time.perf_counter()
        metric = evaluator.evaluate(model.transform(splits[task.fold][1], maps[index]))
        metrics[task.fold][index] = float(metric)
        fit_seconds[task.fold][index] = fitted - start
        score_seconds[task.fold][index] = time.perf_counter() - fitted
        if collect:
            models[task.fold][index] = model

    tasks = [Task(f, j, float(infos[f].train_rows)) for f in range(k) for j in range(m)]

    def describe(task: Task) -> str:
        return f"fold {task.fold} with param map {task.param_map} {_describe_map(maps[task.param_map])}"

    run_tasks(LongestFirst(tasks), work, parallelism, control, describe)
    return {"metrics": metrics, "models": models, "fit_seconds": fit_seconds, "score_seconds": score_seconds}


def _rank(values: Sequence[float], larger_is_better: bool) -> list[int]:
    """1 for the best; ties share the better rank (scikit-learn's 'min' method)."""
    keys = [(-v if larger_is_better else v) for v in values]
    return [1 + sum(1 for other in keys if other < key) for key in keys]


def _cv_results(
    maps: Sequence[ParamMap],
    metrics: list[list[float]],
    fit_seconds: list[list[float]],
    score_seconds: list[list[float]],
    larger_is_better: bool,
) -> dict[str, list[Any]]:
    """A table in the shape of scikit-learn's ``cv_results_``: one entry per param map."""
    k, m = len(metrics), len(maps)
    per_map = lambda table: [[table[f][j] for f in range(k)] for j in range(m)]  # noqa: E731
    scores, fits, scorings = per_map(metrics), per_map(fit_seconds), per_map(score_seconds)
    results: dict[str, list[Any]] = {"params": [{p.name: v for p, v in pm.items()} for pm in maps]}
    for f in range(k):
        results[f"split{f}_test_score"] = [scores[j][f] for j in range(m)]
    mean = [float(np.mean(s)) for s in scores]
    results["mean_test_score"] = mean
    results["std_test_score"] = [float(np.std(s)) for s in scores]
    results["rank_test_score"] = _rank(mean, larger_is_better)
    results["mean_fit_time"] = [float(np.mean(s)) for s in fits]
    results["std_fit_time"] = [float(np.std(s)) for s in fits]
    results["mean_score_time"] = [float(np.mean(s)) for s in scorings]
    results["std_score_time"] = [float(np.std(s)) for s in scorings]
    return results


class ParallelCrossValidatorModel(Model, _ValidatorParams, MLReadable, MLWritable):
    """The result of :class:`ParallelCrossValidator`: ``transform`` uses ``bestModel``.

    ``foldMetrics[f][j]`` is param map ``j``'s metric on fold ``f``; ``subModels[f][j]`` its model
    when ``collectSubModels`` was set; ``cvResults`` a table like scikit-learn's ``cv_results_``
    (``summary()`` gives it as a pandas DataFrame); ``folds`` each fold's description.
    """

    def __init__(
        self,
        bestModel: Optional[Model] = None,
        avgMetrics: Optional[list[float]] = None,
        stdMetrics: Optional[list[float]] = None,
        foldMetrics: Optional[list[list[float]]] = None,
        subModels: Optional[list[list[Model]]] = None,
        bestIndex: int = 0,
        folds: Optional[list[FoldInfo]] = None,
        cvResults: Optional[dict[str, list[Any]]] = None,
    ) -> None:
        super().__init__()
        self.bestModel = bestModel
        self.avgMetrics = list(avgMetrics or [])
        self.stdMetrics = list(stdMetrics or [])
        self.foldMetrics = [list(row) for row in (foldMetrics or [])]
        self.subModels = subModels
        self.bestIndex = bestIndex
        self.folds = list(folds or [])
        self.cvResults = dict(cvResults or {})

    def _transform(self, dataset: DataFrame) -> DataFrame:
        if self.bestModel is None:
            raise ValueError("this model was fitted with refit=False and has no bestModel to transform with; fit with refit=True")
        return self.bestModel.transform(dataset)

    @property
    def bestParams(self) -> dict[str, Any]:
        return {p.name: v for p, v in self.getEstimatorParamMaps()[self.bestIndex].items()}

    def summary(self) -> "pandas.DataFrame":  # noqa: F821
        """``cvResults`` as a pandas DataFrame, best first."""
        import pandas as pd

        table = pd.DataFrame(self.cvResults)
        return table.sort_values("rank_test_score", kind="stable")

    def copy(self, extra: Optional[ParamMap] = None) -> "ParallelCrossValidatorModel":
        extra = dict(extra or {})
        sub_models = None
        if self.subModels is not None:
            sub_models = [[m.copy() if m is not None else None for m in row] for row in self.subModels]
        that = ParallelCrossValidatorModel(
            bestModel=self.bestModel.copy(extra) if self.bestModel is not None else None,
            avgMetrics=self.avgMetrics,
            stdMetrics=self.stdMetrics,
            foldMetrics=self.foldMetrics,
            subModels=sub_models,
            bestIndex=self.bestIndex,
            folds=self.folds,
            cvResults=self.cvResults,
        )
        that = self._copyValues(that, extra)
        that.uid = self.uid
        return that

    def write(self) -> "MLWriter":  # noqa: F821
        from splitcv.persistence import ValidatorModelWriter

        return ValidatorModelWriter(self)

    @classmethod
    def read(cls) -> "MLReader":  # noqa: F821
        from splitcv.persistence import ValidatorModelReader

        return ValidatorModelReader(cls)
