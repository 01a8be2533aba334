"""ParallelCrossValidator: every (fold x param map) pair from one queue."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import numpy as np
from pyspark import keyword_only
from pyspark.ml.base import Estimator, Model
from pyspark.ml.evaluation import Evaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasCollectSubModels, HasParallelism
from pyspark.ml.util import MLReadable, MLWritable
from pyspark.sql import DataFrame

from splitcv.budget import budget_bytes, fit_bytes, to_budget
from splitcv.checks import describe_param_key, wrong_kind
from splitcv.one_of import OneOf
from splitcv.compat import SplitterGetters
from splitcv.listeners import run_fit
from splitcv.columns import check_columns
from splitcv.persistence import ValidatorModelReader, ValidatorModelWriter, ValidatorReader, ValidatorWriter
from splitcv.param_maps import apply_map, dropped_values, stage_uids
from splitcv.progress import FitProgress, HasProgress, metric_name, to_callback, to_progress
from splitcv.prefix import (
    estimator_after, fit_after_prefix, fit_prefix, fit_with_prefix, prefix_stages, shared_prefix_length, transform_by,
)
from splitcv.queue import LongestFirst, SessionControl, Task, is_cached, run_tasks
from splitcv.quiet import error_summary
from splitcv.summary import plain_value
from splitcv.racing import (
    CONFIDENCE_RANGE,
    KEEP_RANGE,
    Halving,
    PairedT,
    RaceRule,
    RacingScheduler,
    in_open_interval,
    keeps_every_map,
)
from splitcv.lean_fit import fit_for
from splitcv.scoring import one_pass_metric, predicts_into, score_in_one_pass
from splitcv.selection import Selection, select_best
from splitcv.splitters.base import FoldInfo, FoldSplitter, measure_folds
from splitcv.splitters.params import to_whole_number

if TYPE_CHECKING:  # names of annotations only: pandas is imported where a table is made
    import pandas
    from pyspark.ml.util import MLReader, MLWriter

__all__ = ["ParallelCrossValidator", "ParallelCrossValidatorModel", "SingleClassFoldWarning", "param_labels"]

ParamMap = dict


def _to_parallelism(value: Any) -> int:
    return to_whole_number(value, "parallelism", 1)


SINGLE_CLASS_CHOICES = ("error", "skip", "score")


def _to_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(repr(c) for c in choices)}")
    return value


RACING_RULES = ("paired-t", "halving")

# The defaults of _ValidatorParams, set by the validator and by its model: a model saved before a
# Param existed loads with that Param's default instead of failing in its getter.
_PARAM_DEFAULTS: dict[str, Any] = dict(
    parallelism=1, collectSubModels=False, refit=True, singleClassFolds="error", sharePipelinePrefix=True,
    racing=False, racingConfidence=0.95, racingRule="paired-t", racingKeep=0.5, memoryBudget="auto",
    scoreInOnePass=True, cachePrefixOutput=True, leanFits=True,
)


class SingleClassFoldWarning(UserWarning):
    """Folds whose training or validation rows are all of one class were skipped or scored anyway."""


class _ValidatorParams(HasParallelism, HasCollectSubModels, SplitterGetters):
    parallelism: "Param[int]" = Param(
        Params._dummy(), "parallelism", "the number of threads that run (fold, param map) tasks (>= 1)",
        typeConverter=lambda value: _to_parallelism(value),
    )
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
    singleClassFolds: "Param[str]" = Param(
        Params._dummy(),
        "singleClassFolds",
        "with a classification evaluator, what a fold whose training or validation rows are all of one class "
        "does: 'error' (default: fail before fitting, naming the folds), 'skip' (leave them out of the "
        "scores, with a warning) or 'score' (score them anyway, with a warning)",
        typeConverter=lambda value: _to_choice(value, "singleClassFolds", SINGLE_CLASS_CHOICES),
    )

    sharePipelinePrefix: "Param[bool]" = Param(
        Params._dummy(),
        "sharePipelinePrefix",
        "when the estimator is a Pipeline, fit the stages before the first stage a param map sets once per "
        "fold instead of once per (fold, map); results are the same (see splitcv.prefix)",
        typeConverter=TypeConverters.toBoolean,
    )

    cachePrefixOutput: "Param[bool]" = Param(
        Params._dummy(),
        "cachePrefixOutput",
        "with a shared pipeline prefix, keep each fold's rows through the fitted prefix on local disk "
        "(DISK_ONLY, so never in storage memory) while the fold's maps fit and score, instead of running "
        "the prefix's transforms again in each of their Spark jobs; results are the same (see splitcv.prefix)",
        typeConverter=TypeConverters.toBoolean,
    )

    racing: "Param[bool]" = Param(
        Params._dummy(),
        "racing",
        "stop evaluating param maps that racingRule finds worse than the best after the first folds (a "
        "paired test, or successive halving; see splitcv.racing); their remaining (fold, map) tasks never run",
        typeConverter=TypeConverters.toBoolean,
    )
    racingConfidence: "Param[float]" = Param(
        Params._dummy(),
        "racingConfidence",
        "with racing, how sure the paired test must be that a map is worse before it is dropped, in (0.5, 1)",
        typeConverter=lambda value: in_open_interval(
            value, "racingConfidence", CONFIDENCE_RANGE, "0.95 (0.99 drops fewer maps)"
        ),
    )

    racingRule: "Param[str]" = Param(
        Params._dummy(),
        "racingRule",
        "with racing, which maps leave after each fold: 'paired-t' (those a paired t-test finds worse than "
        "the best, see racingConfidence) or 'halving' (all but the best racingKeep share by mean metric)",
        typeConverter=lambda value: _to_choice(value, "racingRule", RACING_RULES),
    )
    racingKeep: "Param[float]" = Param(
        Params._dummy(),
        "racingKeep",
        "with racingRule='halving', the share of the maps still in the race that stay after each fold, "
        "in (0, 1), rounded up to a whole map (so with r maps, a share above (r - 1) / r drops none)",
        typeConverter=lambda value: in_open_interval(
            value, "racingKeep", KEEP_RANGE, "0.5 (half the maps stay after each fold)"
        ),
    )

    scoreInOnePass: "Param[bool]" = Param(
        Params._dummy(),
        "scoreInOnePass",
        "score all param maps of a fold in one Spark job once they are fitted, where the evaluator allows "
        "it (RegressionEvaluator: rmse, mse, mae, unweighted r2; 3 or more maps; with racing, the maps still in the race); metrics agree with the "
        "evaluator's to the last bits (see splitcv.scoring)",
        typeConverter=TypeConverters.toBoolean,
    )

    leanFits: "Param[bool]" = Param(
        Params._dummy(),
        "leanFits",
        "fit the (fold, map) models without work whose result nothing reads, where that gives the same model "
        "to the bit: today LinearRegression's training summary on its normal-equation path (alone, chosen by a "
        "OneOf or as a Pipeline stage; classic session, Spark 4.3.0), left out unless collectSubModels keeps "
        "the models; bestModel keeps its summary (see splitcv.lean_fit)",
        typeConverter=TypeConverters.toBoolean,
    )

    memoryBudget: "Param[Any]" = Param(
        Params._dummy(),
        "memoryBudget",
        "how much the fits in flight may cache together: 'auto' (default: the storage memory execution "
        "cannot take back, less the cached input; none on Connect), 'off', or a size such as '2g' "
        "(see splitcv.budget)",
        typeConverter=lambda value: to_budget(value),
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

    def getSingleClassFolds(self) -> str:
        return self.getOrDefault(self.singleClassFolds)

    def getSharePipelinePrefix(self) -> bool:
        return self.getOrDefault(self.sharePipelinePrefix)

    def getCachePrefixOutput(self) -> bool:
        return self.getOrDefault(self.cachePrefixOutput)

    def getMemoryBudget(self) -> Any:
        return self.getOrDefault(self.memoryBudget)

    def getRacing(self) -> bool:
        return self.getOrDefault(self.racing)

    def getScoreInOnePass(self) -> bool:
        return self.getOrDefault(self.scoreInOnePass)

    def getLeanFits(self) -> bool:
        return self.getOrDefault(self.leanFits)

    def getRacingConfidence(self) -> float:
        return self.getOrDefault(self.racingConfidence)

    def getRacingRule(self) -> str:
        return self.getOrDefault(self.racingRule)

    def getRacingKeep(self) -> float:
        return self.getOrDefault(self.racingKeep)


class ParallelCrossValidator(Estimator, _ValidatorParams, HasProgress, MLReadable, MLWritable):
    """Cross-validation that runs all (fold x param map) tasks from one queue.

    Spark's ``CrossValidator`` runs folds one after another with at most one thread per param map;
    here ``parallelism`` threads take tasks from one queue (longest first), so folds and grid points
    run at the same time. The input is cached once (unless it already is) and every fold is a filter
    over that cache. Per fold, the estimator's ``fitMultiple`` fits the param maps; for a Pipeline, the
    stages before the first one a param map sets are fitted once per fold (``sharePipelinePrefix``).

    Memory: one cached copy of the input, plus what each fit in flight caches of its own (for
    LogisticRegression or l-bfgs solvers about one training set per fit), so that part grows with
    ``parallelism``; see docs/validator.md.

    A long fit shows its progress (``progress``), and ``callback`` is given each (fold, map) result as
    it comes (:mod:`splitcv.progress`).

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
        singleClassFolds: str = "error",
        sharePipelinePrefix: bool = True,
        racing: bool = False,
        racingConfidence: float = 0.95,
        racingRule: str = "paired-t",
        racingKeep: float = 0.5,
        memoryBudget: Any = "auto",
        scoreInOnePass: bool = True,
        cachePrefixOutput: bool = True,
        leanFits: bool = True,
        progress: Any = "auto",
        callback: Optional[Callable[..., Any]] = None,
    ) -> None:
        super().__init__()
        self._setDefault(**_PARAM_DEFAULTS, progress="auto", callback=None)
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
        singleClassFolds: str = "error",
        sharePipelinePrefix: bool = True,
        racing: bool = False,
        racingConfidence: float = 0.95,
        racingRule: str = "paired-t",
        racingKeep: float = 0.5,
        memoryBudget: Any = "auto",
        scoreInOnePass: bool = True,
        cachePrefixOutput: bool = True,
        leanFits: bool = True,
        progress: Any = "auto",
        callback: Optional[Callable[..., Any]] = None,
    ) -> "ParallelCrossValidator":
        return self._set(**self._input_kwargs)

    def _set(self, **kwargs: Any) -> "ParallelCrossValidator":
        if "parallelism" in kwargs and kwargs["parallelism"] is not None:
            try:
                kwargs["parallelism"] = _to_parallelism(kwargs["parallelism"])
            except (TypeError, ValueError) as error:
                raise type(error)(f"ParallelCrossValidator: parallelism={kwargs['parallelism']!r} is not valid: {error}") from None
        if "progress" in kwargs:  # pyspark converts no None: progress=None gets the converter's error too
            kwargs["progress"] = to_progress(kwargs["progress"])
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

    def setSingleClassFolds(self, value: str) -> "ParallelCrossValidator":
        return self._set(singleClassFolds=value)

    def setSharePipelinePrefix(self, value: bool) -> "ParallelCrossValidator":
        return self._set(sharePipelinePrefix=value)

    def setCachePrefixOutput(self, value: bool) -> "ParallelCrossValidator":
        return self._set(cachePrefixOutput=value)

    def setMemoryBudget(self, value: Any) -> "ParallelCrossValidator":
        return self._set(memoryBudget=value)

    def setRacing(self, value: bool) -> "ParallelCrossValidator":
        return self._set(racing=value)

    def setScoreInOnePass(self, value: bool) -> "ParallelCrossValidator":
        return self._set(scoreInOnePass=value)

    def setLeanFits(self, value: bool) -> "ParallelCrossValidator":
        return self._set(leanFits=value)

    def setRacingConfidence(self, value: float) -> "ParallelCrossValidator":
        return self._set(racingConfidence=value)

    def setRacingRule(self, value: str) -> "ParallelCrossValidator":
        return self._set(racingRule=value)

    def setRacingKeep(self, value: float) -> "ParallelCrossValidator":
        return self._set(racingKeep=value)

    def setProgress(self, value: Any) -> "ParallelCrossValidator":
        return self._set(progress=value)

    def setCallback(self, value: Optional[Callable[..., Any]]) -> "ParallelCrossValidator":
        return self._set(callback=value)

    # -- validation before any Spark job ---------------------------------------------------------
    def _check_config(self, dataset: Optional[DataFrame] = None) -> None:
        def need(name: str, kind: type, example: str) -> Any:
            if not self.isDefined(name) or self.getOrDefault(name) is None:
                raise ValueError(f"ParallelCrossValidator needs {name}: set it, e.g. {example}")
            value = self.getOrDefault(name)
            if not isinstance(value, kind):
                raise TypeError(wrong_kind(name, value, kind, example.split("=", 1)[1]))
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
        owners = stage_uids(estimator)
        for index, param_map in enumerate(maps):
            if not isinstance(param_map, dict):
                raise TypeError(f"estimatorParamMaps[{index}]={param_map!r} is not a param map (a dict of Param to value)")
            for param, value in param_map.items():
                if not isinstance(param, Param) or param.parent not in owners:
                    raise ValueError(
                        f"estimatorParamMaps[{index}] sets {describe_param_key(param)}, which belongs to no stage "
                        f"of the estimator {estimator.uid}; build the grid from the estimator's own Params, "
                        "e.g. {lr.regParam: 0.1} for lr = LinearRegression()"
                    )
                try:  # what fit would do when it copies the map into the estimator, before any job
                    param.typeConverter(value)
                except (TypeError, ValueError) as error:
                    raise TypeError(
                        f"estimatorParamMaps[{index}] sets {param.parent}.{param.name} to {value!r}, which that Param "
                        f"does not take ({error}); give values of the Param's type ({param.doc})"
                    ) from None
        choices = [stage for stage in owners.values() if isinstance(stage, OneOf)]
        for index, param_map in enumerate(maps):
            for choice in choices:
                choice.check_map(param_map, f"estimatorParamMaps[{index}]")
        to_progress(self.getProgress()), to_callback(self.getCallback())  # copy(extra) converts nothing
        halving = dataset is not None and self.getRacing() and self.getRacingRule() == "halving"  # at fit, not at save
        idle = keeps_every_map(self.getRacingKeep(), len(maps)) if halving else None
        if idle:
            warnings.warn(idle, UserWarning, stacklevel=2)
        if dataset is not None:
            check_columns(estimator, self.getEvaluator(), maps, dataset.columns)
        splitter.check(dataset)

    def _race_rule(self, larger_is_better: bool) -> RaceRule:
        if self.getRacingRule() == "halving":
            return Halving(larger_is_better, self.getRacingKeep())
        return PairedT(larger_is_better, self.getRacingConfidence())

    # -- fit -------------------------------------------------------------------------------------
    def _fit(self, dataset: DataFrame) -> "ParallelCrossValidatorModel":
        # Fit listeners (splitcv.mlflow.autolog) are told of the fit's start and end; none by default.
        return run_fit(self, dataset, self._fit_grid)

    def _fit_grid(self, dataset: DataFrame) -> "ParallelCrossValidatorModel":
        self._check_config(dataset)
        estimator, evaluator, splitter = self.getEstimator(), self.getEvaluator(), self.getSplitter()
        maps = list(self.getEstimatorParamMaps())
        parallelism, collect, refit = self.getParallelism(), self.getCollectSubModels(), self.getRefit()
        control = SessionControl(dataset.sparkSession)
        # Some splitters place rows with helper columns (a seeded rank): that frame is the one cached,
        # so the ranking runs once, when the planning job fills the cache.
        frame = splitter._with_fold_columns(dataset)
        owns_cache = not is_cached(frame)
        rdds_before = control.persistent_rdds()
        data = frame.cache() if owns_cache else frame
        succeeded = False
        try:
            classes = _class_column(evaluator, data)
            folds = splitter._prepare_frame(data, classes)
            infos = folds.infos if folds.infos is not None else measure_folds(
                folds.frame, folds.conditions, splitter._time_column(), classes
            )
            skipped = _single_class_folds(infos, evaluator, self.getSingleClassFolds()) if classes else []
            splits = folds.splits()
            larger = evaluator.isLargerBetter()
            race = self._race_rule(larger) if self.getRacing() else None
            # The planning job above has filled the input's cache: measure it for the budget.
            input_bytes = (
                control.cached_bytes(control.persistent_rdds() - rdds_before, data) if owns_cache
                else control.dataset_bytes(data)  # the user's cache: not the session's other caches
            )
            budget = budget_bytes(self.getMemoryBudget(), control.storage_memory(), control.storage_fraction(), input_bytes)
            needs = fit_bytes(input_bytes, [i.train_rows for i in infos], [i.train_rows + i.validation_rows for i in infos])
            with FitProgress(self.getProgress(), self.getCallback(), metric_name(evaluator), larger) as watch:
                outcome = _run_grid(
                    estimator, evaluator, maps, splits, infos, parallelism, collect, control, skipped,
                    self.getSharePipelinePrefix(), race, (budget, needs), self.getScoreInOnePass(),
                    self.getCachePrefixOutput(), watch=watch, lean=self.getLeanFits(),
                )
            metrics = outcome["metrics"]
            chosen = select_best(metrics, larger, skipped, outcome["unrun"])
            best_model = apply_map(estimator, maps[chosen.best]).fit(data.drop(*folds.helpers)) if refit else None
            model = ParallelCrossValidatorModel(
                bestModel=best_model,
                avgMetrics=chosen.avg,
                stdMetrics=chosen.std,
                foldMetrics=metrics,
                subModels=outcome["models"] if collect else None,
                bestIndex=chosen.best,
                folds=infos,
                cvResults=_cv_results(maps, metrics, outcome, chosen, estimator),
                skippedFolds=skipped,
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
        return ValidatorWriter(self)

    @classmethod
    def read(cls) -> "MLReader":  # noqa: F821
        return ValidatorReader(cls)


def param_labels(maps: Sequence[ParamMap]) -> dict[Param, str]:
    """A name for every Param the maps set: its own name, or ``<stage uid>.<name>`` where two
    stages' Params share a name (a grid over ``lr1.regParam`` and ``lr2.regParam``)."""
    params = {param for param_map in maps for param in param_map}
    owners: dict[str, set[str]] = {}
    for param in params:
        owners.setdefault(param.name, set()).add(param.parent)
    return {param: param.name if len(owners[param.name]) == 1 else f"{param.parent}.{param.name}" for param in params}


def readable_value(value: Any) -> Any:
    """A param map value as the results table keeps it: a Params object (a classifier, a stage) as
    its class and the Params set on it, e.g. ``LogisticRegression(regParam=0.1)``, so that the
    table reads well and saves as JSON; any other value as it is.

    >>> from pyspark.ml.feature import Binarizer
    >>> readable_value([Binarizer(threshold=0.5), 3])
    ['Binarizer(threshold=0.5)', 3]
    """
    if isinstance(value, Params):
        params = value.extractParamMap()
        shown = ", ".join(
            f"{p.name}={readable_value(params[p])!r}" if not isinstance(params[p], Params)
            else f"{p.name}={readable_value(params[p])}"
            for p in sorted(params, key=lambda p: p.name) if value.isSet(p)
        )
        return f"{type(value).__name__}({shown})"
    if isinstance(value, (list, tuple)):
        return [readable_value(item) for item in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # numpy scalars and arrays as Python numbers and lists (saved as JSON)
    return value


def own_plan(train: DataFrame, task: Task, maps: int) -> DataFrame:
    """The fold's training rows under a plan of the task's own: a filter that is always true and
    names the task. Spark's cache manager shares one cache entry among equal plans, so estimators
    that persist their training DataFrame (pyspark's OneVsRest does) in concurrent fits of one fold
    would share an entry, one fit's unpersist would drop it under the others, and their next jobs
    would cache the data again outside any entry, an RDD nobody unpersists. The optimizer folds the
    filter away: the rows, their order and the physical plan are the fold's."""
    return train.where(f"{task.fold * maps + task.param_map} >= 0")


def _one_ofs(estimator: Estimator) -> list[OneOf]:
    """The OneOf stages in the estimator's tree (their choice is shown as the row's estimator)."""
    return [stage for stage in stage_uids(estimator).values() if isinstance(stage, OneOf)]


def _row_params(param_map: ParamMap, labels: dict[Param, str], choices: Sequence[OneOf]) -> dict[str, Any]:
    """A map as a row of the results table: a OneOf's choice as ``estimator`` (the candidate's class),
    then the Params the map sets, Params objects described by :func:`readable_value`."""
    row: dict[str, Any] = {}
    for choice in choices:
        if choice.candidate in param_map:
            key = "estimator" if len(choices) == 1 else f"{choice.uid}.estimator"
            row[key] = type(choice.getCandidates()[choice.candidate.typeConverter(param_map[choice.candidate])]).__name__
    for param, value in param_map.items():
        if not any(param == choice.candidate for choice in choices):
            row[labels[param]] = readable_value(value)
    return row


def _describe_map(param_map: ParamMap, labels: dict[Param, str]) -> str:
    return "{" + ", ".join(f"{labels[p]}: {plain_value(v)!r}" for p, v in param_map.items()) + "}"


def _classification_evaluators() -> tuple[type, ...]:
    """Evaluators whose metric needs two classes on each side of a fold."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator, MulticlassClassificationEvaluator

    return BinaryClassificationEvaluator, MulticlassClassificationEvaluator


def _class_column(evaluator: Evaluator, dataset: DataFrame) -> Optional[str]:
    """The label column to count classes of: a classification evaluator's, when the input has it
    (a Pipeline that makes its label, with a StringIndexer say, cannot be checked up front)."""
    if not isinstance(evaluator, _classification_evaluators()):
        return None
    label = evaluator.getOrDefault(evaluator.getParam("labelCol"))
    return label if label in dataset.columns else None


def _single_class_folds(infos: Sequence[FoldInfo], evaluator: Evaluator, mode: str) -> list[int]:
    """Apply ``singleClassFolds`` to folds with one class on a side; return the folds to skip."""
    found = []
    for info in infos:
        sides = [
            side
            for side, counts in (("training", info.train_classes), ("validation", info.validation_classes))
            if counts is not None and len([c for c in counts if c is not None]) < 2
        ]
        if sides:
            found.append((info, sides))
    if not found:
        return []
    metric = evaluator.getOrDefault(evaluator.getParam("metricName"))
    listing = "; ".join(
        f"fold {info.fold}: {' and '.join(sides)} all one class "
        f"(training {_class_text(info.train_classes)}, validation {_class_text(info.validation_classes)})"
        for info, sides in found
    )
    what = (
        f"{type(evaluator).__name__}'s {metric} is meaningless on a validation set of one class (Spark reports "
        "it as if perfect), and a model trained on one class cannot score two"
    )
    if mode == "error":
        raise ValueError(
            f"{len(found)} of {len(infos)} folds have a side with a single class: {listing}. {what}. Use folds "
            "that hold every class (a longer horizon, fewer folds, or a stratified split), or set "
            "singleClassFolds='skip' to leave these folds out of the scores, or 'score' to score them anyway."
        )
    warnings.warn(
        f"singleClassFolds={mode!r}: {'skipping' if mode == 'skip' else 'scoring'} {len(found)} of {len(infos)} "
        f"folds with a side of a single class: {listing}. {what}.",
        SingleClassFoldWarning,
        stacklevel=4,
    )
    if mode == "skip":
        if len(found) == len(infos):
            raise ValueError(f"singleClassFolds='skip' leaves no fold to score: every fold has a side of one class ({listing})")
        return [info.fold for info, _ in found]
    return []


def _class_text(counts: Optional[dict]) -> str:
    if not counts:
        return "no rows"
    return ", ".join(f"{label!r}: {rows}" for label, rows in sorted(counts.items(), key=lambda kv: str(kv[0])))


def _run_grid(
    estimator: Estimator,
    evaluator: Evaluator,
    maps: Sequence[ParamMap],
    splits: Sequence[tuple[DataFrame, DataFrame]],
    infos: Sequence[FoldInfo],
    parallelism: int,
    collect: bool,
    control: SessionControl,
    skipped: Sequence[int] = (),
    share_prefix: bool = False,
    race: Optional[RaceRule] = None,
    memory: tuple[Optional[float], Sequence[float]] = (None, ()),
    one_pass: bool = False,
    cache_prefix: bool = False,
    fold_name: Optional[Callable[[int], str]] = None,
    watch: Optional[FitProgress] = None,
    lean: bool = False,
) -> dict[str, Any]:
    """Fit and score every (fold, map) task; ``race`` (a rule of splitcv.racing) races the maps;
    ``one_pass`` scores a fold's maps in one job once the last of them is fitted (with racing, the
    maps still in the race on that fold); ``cache_prefix`` keeps each fold's rows through its shared
    prefix on disk while its maps run; ``watch`` is told of each task and result; ``lean`` fits a
    map's model with splitcv.lean_fit when the models are not collected (nothing else can read what
    it leaves out).

    A task's result is ``{map: metric}`` for the maps it scored: its own, or none but the fold's
    last, which scores the fold's maps together."""
    import threading

    k, m = len(splits), len(maps)
    # Folds count from 0 everywhere (foldMetrics, describe()); "of folds 0-11" says so, and how many.
    name_fold = fold_name or (lambda f: f"fold {f} of folds 0-{k - 1}" if k > 1 else f"fold {f} (the only fold)")
    prefix_length = shared_prefix_length(estimator, maps) if share_prefix else 0
    # Estimator.fitMultiple's own iterator fits map by map, each as fit(dataset, map): that is done
    # here per task, on a plan of the task's own. Only an estimator that fits several maps its own
    # way gets the fold's iterator.
    one_by_one = type(estimator).fitMultiple is Estimator.fitMultiple
    # An estimator with a fitMultiple of its own is handed the maps as they are, unless a map holds
    # values its copy would not apply (one estimator copy per map, only to decide this).
    forced = not one_by_one and race is None and any(dropped_values(estimator, param_map) for param_map in maps)
    # A model that is scored and let go: nothing reads its training summary. A collected one, the
    # user may.
    fit = fit_for(lean and not collect)
    prefixes: dict[int, list[Any]] = {}
    metrics = [[float("nan")] * m for _ in range(k)]
    fit_seconds = [[float("nan")] * m for _ in range(k)]
    score_seconds = [[float("nan")] * m for _ in range(k)]
    models: list[list[Any]] = [[None] * m for _ in range(k)]  # a fresh list per fold: no aliasing
    iterators: dict[int, Any] = {}
    lock = threading.Lock()
    labels = param_labels(maps)
    together = (
        # with 2 maps one aggregation is as many jobs (2 under adaptive execution) as 2 evaluations
        one_pass and m > 2 and one_pass_metric(evaluator) is not None
        and predicts_into(estimator, maps, evaluator)
    )
    fitted_of_fold: dict[int, dict[int, Any]] = {}  # with ``together``: the fold's models not yet scored

    # With ``cache_prefix``: each fold's training and validation rows through its fitted prefix,
    # cached on local disk while the fold's maps fit and score (see "Shared pipeline prefix" in
    # docs/validator.md for why disk).
    outputs: dict[int, tuple[DataFrame, DataFrame]] = {}
    persisted: dict[int, DataFrame] = {}  # by id: every frame this fit persisted and has not let go of
    ran: dict[int, int] = {}  # tasks of a fold finished, while its prefix output is kept
    cache_prefix = cache_prefix and prefix_length > 0
    fits_after = cache_prefix and estimator_after(estimator, prefix_length)

    def on_disk(frame: DataFrame) -> DataFrame:
        from pyspark import StorageLevel

        frame = frame.persist(StorageLevel.DISK_ONLY)
        with lock:  # known at once, so a failure right after still lets go of it
            persisted[id(frame)] = frame
        return frame

    def let_go(frames: Sequence[DataFrame]) -> None:
        for frame in frames:
            with lock:
                if persisted.pop(id(frame), None) is None:
                    continue
            try:
                frame.unpersist()
            except Exception:  # a session already gone: nothing left to free, and the fit's own error stays
                pass

    def keep_prefix_output(fold: int) -> None:
        train = transform_by(prefixes[fold], splits[fold][0])
        # Only a stage after the prefix that fits reads the training rows' output.
        train = on_disk(train) if fits_after else train
        validation = on_disk(transform_by(prefixes[fold], splits[fold][1]))
        with lock:
            outputs[fold] = (train, validation)

    def validation_of(fold: int) -> DataFrame:
        return outputs[fold][1] if fold in outputs else splits[fold][1]

    def model_iterator(fold: int) -> Any:
        # fitMultiple once per fold, shared by that fold's tasks, created on first use.
        with lock:
            if fold not in iterators:
                iterators[fold] = estimator.fitMultiple(splits[fold][0], maps)
            return iterators[fold]

    def work(task: Task) -> dict[int, float]:
        result = fit_and_score(task)
        if task.fold in outputs and task.param_map is not None:
            done_of_fold(task.fold)
        return result

    def done_of_fold(fold: int) -> None:
        # The fold's last task, once it has scored, lets go of the fold's prefix output.
        with lock:
            ran[fold] = ran.get(fold, 0) + 1
            last = ran[fold] == maps_run(fold)
            frames = outputs.pop(fold) if last else ()
        let_go(frames)

    def fit_and_score(task: Task) -> dict[int, float]:
        train = splits[task.fold][0]
        scorer = None  # with a cached prefix output: the model that scores it (the prefix stands aside)
        if task.param_map is None:  # the fold's shared prefix, before its maps' tasks
            prefixes[task.fold] = fit_prefix(estimator, train, prefix_length)
            if cache_prefix:
                keep_prefix_output(task.fold)
            return {}
        if prefix_length:
            start = time.perf_counter()  # after the prefix: that is its own task
            index = task.param_map
            if task.fold in outputs:
                through = own_plan(outputs[task.fold][0], task, m)
                model, scorer = fit_after_prefix(estimator, maps[index], through, prefixes[task.fold], fit)
            else:
                model = fit_with_prefix(estimator, maps[index], own_plan(train, task, m), prefixes[task.fold], fit)
        elif race is not None or forced or one_by_one:
            # Each task fits its own map on its own plan. Racing runs some maps of a fold only, never
            # a fitMultiple pass over maps that may leave the race; a map whose values the
            # estimator's copy drops is applied by apply_map, which fitMultiple cannot do.
            start = time.perf_counter()
            index, model = task.param_map, fit(apply_map(estimator, maps[task.param_map]), own_plan(train, task, m))
        else:
            models_of_fold = model_iterator(task.fold)
            # The fit time starts here, once the task has its thread and the fold's iterator:
            # waiting for a thread or for the lock above is not fitting.
            start = time.perf_counter()
            fit_single = getattr(models_of_fold, "fitSingleModel", None)
            if fit_single is not None:  # the default lazy iterator: fit the task's own param map
                index, model = task.param_map, fit_single(task.param_map)
            else:  # an estimator that fits many maps in one pass hands them out in its own order
                index, model = next(models_of_fold)
        fitted = time.perf_counter()
        scorer = model if scorer is None else scorer
        fit_seconds[task.fold][index] = fitted - start
        if collect:
            models[task.fold][index] = model
        if together:
            return score_together(task.fold, index, scorer)
        metric = evaluator.evaluate(scorer.transform(validation_of(task.fold), maps[index]))
        metrics[task.fold][index] = float(metric)
        score_seconds[task.fold][index] = time.perf_counter() - fitted
        return {index: metrics[task.fold][index]}

    def score_together(fold: int, index: int, model: Any) -> dict[int, float]:
        # The task that fits a fold's last map scores them all; the others end with their fit.
        with lock:
            waiting = fitted_of_fold.setdefault(fold, {})
            waiting[index] = model
            if len(waiting) < maps_run(fold):
                return {}
            del fitted_of_fold[fold]
        start = time.perf_counter()
        order = sorted(waiting)
        validation = validation_of(fold)
        try:
            scores = score_in_one_pass(evaluator, validation, [(waiting[j], maps[j]) for j in order])
        except Exception:
            # A model that fails inside the shared query: score map by map, so the error that
            # stops the fit names its map (a cancelled fit cancels those jobs too).
            scores = None
        if scores is None:  # what one pass cannot reproduce: the evaluator's own result or error
            scores = []
            for j in order:
                try:
                    scores.append(evaluator.evaluate(waiting[j].transform(validation, maps[j])))
                except Exception as error:
                    described = f"param map {j} {_describe_map(maps[j], labels)}"
                    raise RuntimeError(
                        f"scoring {fold_name(fold) if fold_name else f'fold {fold}'}'s param maps together, "
                        f"{described}: {error_summary(error)}"
                    ) from error
        each = (time.perf_counter() - start) / len(order)
        for j, score in zip(order, scores):
            metrics[fold][j] = float(score)
            score_seconds[fold][j] = each
        return {j: metrics[fold][j] for j in order}

    scored = [f for f in range(k) if f not in skipped]
    tasks = []
    for f in scored:
        cost = float(infos[f].train_rows)
        # A fold's prefix goes before its maps' tasks (a touch more costly), and they wait for it.
        prefix = Task(f, None, cost + 0.5) if prefix_length else None
        tasks += [prefix] if prefix else []
        tasks += [Task(f, j, cost, after=prefix) for j in range(m)]

    def describe(task: Task) -> str:
        fold = name_fold(task.fold)
        if task.param_map is None:
            names = ", ".join(stage.uid for stage in prefix_stages(estimator, prefix_length))
            return f"{fold}, its shared pipeline prefix ({names})"
        return f"{fold} with param map {task.param_map} {_describe_map(maps[task.param_map], labels)}"

    scheduler = LongestFirst(tasks) if race is None else RacingScheduler(tasks, scored, m, race)
    # How many maps a fold's tasks fit: all of them, or with racing those still in the race when
    # the fold started (no map leaves the race while one of its folds runs).
    maps_run = (lambda fold: m) if race is None else (lambda fold: len(scheduler.maps_of(fold)))  # noqa: E731
    budget, needs = memory
    # A prefix task fits estimators too (one that caches, say KMeans, holds as much as a map's fit):
    # it is counted like the fold's map tasks.
    need = lambda task: needs[task.fold]  # noqa: E731
    rows = [_row_params(pm, labels, _one_ofs(estimator)) for pm in maps] if watch is not None else []
    seen = [0]  # racing's discarded tasks told to ``watch`` so far

    def finished(task: Task, result: dict[int, float]) -> None:  # on the queue's coordinating thread
        discarded = getattr(scheduler, "discarded", [])
        if task.param_map is not None:
            watch.task_done(task.cost, [t.cost for t in discarded[seen[0]:]])
            seen[0] = len(discarded)
            for j in result:
                about = lambda j=j: describe(Task(task.fold, j))  # noqa: E731
                watch.result(task.fold, j, rows[j], metrics[task.fold][j], fit_seconds[task.fold][j],
                             score_seconds[task.fold][j], about)
        watch.refresh()

    if watch is not None:
        watch.add([t.cost for t in tasks if t.param_map is not None])
    hooks = (finished, watch.tick) if watch is not None else (None, None)
    try:
        results = run_tasks(scheduler, work, parallelism, control, describe, budget, need, *hooks)
    finally:
        let_go(list(persisted.values()))  # a failed or interrupted fit's folds
    done = {(t.fold, t.param_map) for t in results if t.param_map is not None}
    dropped = getattr(scheduler, "dropped", {})
    unrun = [(f, j) for f in scored for j in range(m) if (f, j) not in done]
    stuck = [(f, j) for f, j in unrun if j not in dropped]
    if stuck:
        # Only racing may leave tasks unrun, and only those of maps it dropped: anything else would
        # be averaged over fewer folds without a word.
        raise RuntimeError(
            f"the scheduler stopped with {len(stuck)} (fold, map) tasks never run, e.g. {stuck[:3]}; "
            "this is a bug in splitcv, please report it"
        )
    return {
        "metrics": metrics, "models": models, "fit_seconds": fit_seconds, "score_seconds": score_seconds,
        "unrun": unrun,
        "dropped_after_fold": [scored[dropped[j]] if j in dropped else None for j in range(m)],
        "dropped_reason": [getattr(scheduler, "reasons", {}).get(j) for j in range(m)],
        "raced": race is not None,
    }


def _cv_results(
    maps: Sequence[ParamMap],
    metrics: list[list[float]],
    outcome: dict[str, Any],
    chosen: Selection,
    estimator: Optional[Estimator] = None,
) -> dict[str, list[Any]]:
    """A table in the shape of scikit-learn's ``cv_results_``: one entry per param map.

    Times are per (fold, map) task, averaged over the folds that ran: ``fit_time`` from handing the
    training set to the estimator until the model came back, ``score_time`` the transform and the
    evaluation; neither counts time a task waited for a thread.
    """
    k, m = len(metrics), len(maps)
    per_map = lambda table: [[table[f][j] for f in range(k)] for j in range(m)]  # noqa: E731
    fits, scorings = per_map(outcome["fit_seconds"]), per_map(outcome["score_seconds"])
    labels = param_labels(maps)
    choices = _one_ofs(estimator) if estimator is not None else []
    results: dict[str, list[Any]] = {"params": [_row_params(pm, labels, choices) for pm in maps]}
    for f in range(k):
        results[f"split{f}_test_score"] = [metrics[f][j] for j in range(m)]
    results["mean_test_score"] = chosen.avg
    results["std_test_score"] = chosen.std
    results["rank_test_score"] = chosen.ranks
    results["nan_folds"] = chosen.nan_folds
    if outcome["raced"]:
        results["dropped_after_fold"] = outcome["dropped_after_fold"]
        results["dropped_reason"] = outcome["dropped_reason"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # skipped folds and dropped maps have no times
        results["mean_fit_time"] = [float(np.nanmean(s)) for s in fits]
        results["std_fit_time"] = [float(np.nanstd(s)) for s in fits]
        results["mean_score_time"] = [float(np.nanmean(s)) for s in scorings]
        results["std_score_time"] = [float(np.nanstd(s)) for s in scorings]
    return results


class ParallelCrossValidatorModel(Model, _ValidatorParams, MLReadable, MLWritable):
    """The result of :class:`ParallelCrossValidator`: ``transform`` uses ``bestModel``.

    ``foldMetrics[f][j]`` is param map ``j``'s metric on fold ``f``; ``subModels[f][j]`` its model
    when ``collectSubModels`` was set; ``cvResults`` a table like scikit-learn's ``cv_results_``
    (``summary()`` gives it as a pandas DataFrame); ``folds`` each fold's description;
    ``skippedFolds`` the folds left out of every score (``singleClassFolds='skip'``), whose
    ``foldMetrics`` are NaN.

    ``bestIndex`` is never a map with a NaN metric on a scored fold (see :mod:`splitcv.selection`);
    ``avgMetrics`` and ``stdMetrics`` are over the scored folds.
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
        skippedFolds: Optional[list[int]] = None,
    ) -> None:
        super().__init__()
        self._setDefault(**_PARAM_DEFAULTS)
        self.bestModel = bestModel
        self.avgMetrics = list(avgMetrics or [])
        self.stdMetrics = list(stdMetrics or [])
        self.foldMetrics = [list(row) for row in (foldMetrics or [])]
        self.subModels = subModels
        self.bestIndex = bestIndex
        self.folds = list(folds or [])
        self.cvResults = dict(cvResults or {})
        self.skippedFolds = list(skippedFolds or [])

    def _transform(self, dataset: DataFrame) -> DataFrame:
        if self.bestModel is None:
            raise ValueError("this model was fitted with refit=False and has no bestModel to transform with; fit with refit=True")
        return self.bestModel.transform(dataset)

    @property
    def bestParams(self) -> dict[str, Any]:
        """The best param map by Param name (``<stage uid>.<name>`` where two stages share a name).

        A plain dict, so it prints as Python: ``{'regParam': 0.1}``. Numpy scalars of the grid
        (``addGrid(lr.regParam, np.logspace(-3, 0, 4))``) come back as Python numbers, which numpy 2
        would otherwise print as ``np.float64(0.1)``.
        """
        maps = self.getEstimatorParamMaps()
        labels = param_labels(maps)
        return {labels[p]: plain_value(v) for p, v in maps[self.bestIndex].items()}

    def summary(self, wide: bool = False) -> "pandas.DataFrame":  # noqa: F821
        """``cvResults`` as a pandas DataFrame, best first, that prints as a short table.

        ``print(model.summary())`` shows one row per param map: its index, rank, mean and std of the
        metric, mean fit time, NaN folds and racing drops when there are any, and its params, at the
        terminal's width whatever pandas' display options (:class:`splitcv.summary.CVSummary`).
        Indexing, sorting and the rest work as on any DataFrame; ``wide=True`` returns a plain
        DataFrame, which prints as pandas prints one.

        One row per param map: ``params`` (named as in :attr:`bestParams`), ``split<f>_test_score``
        per fold (NaN where the evaluator returned NaN, or for a skipped fold), ``mean_test_score``
        and ``std_test_score`` over the scored folds, ``rank_test_score`` (1 is best; ties share a
        rank; maps that cannot be chosen, with a NaN fold, rank last), ``nan_folds`` (the scored
        folds whose metric is NaN), and ``mean_fit_time``/``std_fit_time`` (seconds from handing the
        fold's training set to the estimator until its model came back) and
        ``mean_score_time``/``std_score_time`` (transform and evaluate). Times do not count a
        task's wait for a thread; for an estimator whose ``fitMultiple`` fits several maps in one
        pass, a task's fit time is its wait for its model from that pass. With ``racing``,
        ``dropped_after_fold`` (the fold after which a map left the race, None if it ran every
        fold) and ``dropped_reason``; a dropped map's scores are over the folds it ran, and it
        ranks after the maps that ran every fold.
        """
        import pandas as pd

        from splitcv.summary import CVSummary

        table = pd.DataFrame(self.cvResults)
        if "dropped_after_fold" in table:
            table["dropped_after_fold"] = table["dropped_after_fold"].astype("Int64")  # a fold, or <NA>
        if "rank_test_score" in table:
            table = table.sort_values("rank_test_score", kind="stable")
        if wide:
            return table
        compact = CVSummary(table)
        compact.metric_name, compact.larger_is_better = self._metric()
        return compact

    def _metric(self) -> tuple[Optional[str], Optional[bool]]:
        """The evaluator's metric name and direction, for the summary's footer; None where unknown."""
        if not self.isDefined(self.evaluator):
            return None, None
        evaluator = self.getEvaluator()
        try:
            name = evaluator.getOrDefault("metricName") if evaluator.hasParam("metricName") else None
            return name, bool(evaluator.isLargerBetter())
        except Exception:  # an evaluator of the user's that cannot say: the footer says less
            return None, None

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
            skippedFolds=self.skippedFolds,
        )
        that._resetUid(self.uid)  # before copying values: Params are owned by the uid
        return self._copyValues(that, extra)

    def write(self) -> "MLWriter":  # noqa: F821
        return ValidatorModelWriter(self)

    @classmethod
    def read(cls) -> "MLReader":  # noqa: F821
        return ValidatorModelReader(cls)
