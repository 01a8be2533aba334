"""MLflow tracking for :class:`~splitcv.ParallelCrossValidator` fits: ``splitcv.mlflow.autolog()``.

After ``autolog()``, every ``ParallelCrossValidator.fit`` in the process is logged, as MLflow's own
``autolog()`` functions log their fits: into the active run if there is one, else into a new run that
ends with the fit (``FINISHED``, or ``FAILED`` when the fit raises). What is logged follows MLflow's
autologging of Spark's ``CrossValidator`` (``mlflow.pyspark.ml.autolog``), and adds what splitcv knows:

- **parent run, params**: the validator's Params by name (``parallelism``, ``refit``, ``racing``, ...);
  ``estimator``, ``evaluator`` and ``splitter`` as class names, and their Params as
  ``<Class>.<param>`` (``ExpandingWindowSplitter.horizon``, ``RegressionEvaluator.metricName``,
  ``LinearRegression.maxIter``; the estimator's Params that a param map sets are left out, their
  values are per child run); the best param map as ``best_<param>`` (``best_regParam``), named as in
  ``model.bestParams``.
- **parent run, metrics**: ``best_avg_<metric>`` and ``best_std_<metric>``, the chosen map's mean and
  std over the scored folds (``best_avg_rmse``).
- **one child run per param map** (``map-<index>``): the map's params (named as in the results table),
  ``avg_<metric>`` and ``std_<metric>`` (MLflow's names for ``CrossValidator``), ``fold_<metric>`` once
  per fold with the fold index as its step (a time splitter's folds are in time order: MLflow draws
  the metric over time, one line per map), ``mean_fit_time`` and ``mean_score_time`` (seconds); with
  racing, a dropped map's ``dropped_after_fold`` metric and ``dropped_reason`` tag.
- **artifacts** on the parent run: ``cv_results.csv`` (``model.summary(wide=True)``, one row per map,
  the map index in column ``map``), ``best_parameters.json``, ``folds.png`` (the folds picture of
  :func:`splitcv.plot.plot_folds`, when matplotlib is installed), and the best model through
  ``mlflow.spark.log_model`` as ``best_model`` (``log_models=True``, and the fit had ``refit=True``).

Logging never changes a fit: what fails to log is named in one :class:`MlflowLoggingWarning` per fit,
and the fit returns its model as it would have. A fit that starts inside another logged fit (a
validator tuned by a validator) is part of that one and is not logged on its own. Without mlflow
installed nothing changes, and ``import splitcv`` never imports mlflow.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import logging
import math
import os
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from splitcv.listeners import add_fit_listener, remove_fit_listener
from splitcv.queue import THREAD_PREFIX
from splitcv.summary import plain_value

__all__ = ["autolog", "MlflowLoggingWarning", "AUTOLOGGING_NAME"]

_logger = logging.getLogger(__name__)

#: The value of the ``mlflow.autologging`` tag on the runs this module creates.
AUTOLOGGING_NAME = "splitcv"
MIN_MLFLOW = (2, 14)
INSTALL_HINT = "pip install 'splitcv[mlflow]'"

# MLflow's limits on one log_batch call and on a param value (mlflow.utils.validation has them too;
# these are the values of every MLflow from 2.14 on).
_MAX_PARAMS_PER_BATCH = 100
_MAX_METRICS_PER_BATCH = 1000
_MAX_PARAM_VALUE = 6000


class MlflowLoggingWarning(UserWarning):
    """Something of a fit could not be logged to MLflow; the fit itself was not affected."""


@dataclass(frozen=True)
class _Settings:
    log_models: bool
    log_plot: bool
    silent: bool


_settings: Optional[_Settings] = None  # None: autologging is off
_fits = threading.local()  # .depth: logged fits running in this thread


def autolog(log_models: bool = True, log_plot: bool = True, disable: bool = False, silent: bool = False) -> None:
    """Log every :class:`~splitcv.ParallelCrossValidator` fit in this process to MLflow.

    Like MLflow's ``autolog()`` functions: a fit logs into the active run (``mlflow.start_run()``) if
    there is one, else into a new run in the current experiment, which ends with the fit; runs go
    to the tracking URI MLflow is set to. What is logged: the parent run has the validator's,
    estimator's, evaluator's and splitter's Params, ``best_<param>`` and ``best_avg_<metric>``; a
    child run per param map has its params, ``avg_<metric>``, ``std_<metric>`` and ``fold_<metric>``
    (step: the fold); the artifacts are ``cv_results.csv``, ``best_parameters.json``, ``folds.png``
    and ``best_model`` (see docs/mlflow.md).

    Parameters
    ----------
    log_models : bool
        Log the best model (``bestModel``) with ``mlflow.spark.log_model`` as ``best_model``.
    log_plot : bool
        Log the folds picture ``folds.png`` (needs matplotlib, the ``plot`` extra; one more Spark
        job over the input after the fit). Without matplotlib it is skipped with a debug log.
    disable : bool
        Turn autologging off (the other arguments are then ignored); fits are not logged any more.
    silent : bool
        Suppress this module's warnings and MLflow's own warnings and event logs while logging.

    Raises
    ------
    ImportError
        When mlflow is not installed, or older than 2.14 (``pip install 'splitcv[mlflow]'``).
    """
    global _settings
    for name, value in (("log_models", log_models), ("log_plot", log_plot), ("disable", disable), ("silent", silent)):
        if not isinstance(value, bool):
            raise TypeError(f"autolog({name}={value!r}): give True or False")
    if disable:
        _settings = None
        remove_fit_listener(_listener)
        return
    _require_mlflow()
    _settings = _Settings(log_models, log_plot, silent)
    add_fit_listener(_listener)


def _require_mlflow() -> Any:
    try:
        import mlflow
    except ImportError as error:
        raise ImportError(f"splitcv.mlflow.autolog needs mlflow, which is not installed: {INSTALL_HINT}") from error
    version = tuple(int(part) for part in mlflow.__version__.split(".")[:2] if part.isdigit())
    if version < MIN_MLFLOW:
        raise ImportError(
            f"splitcv.mlflow.autolog needs mlflow >= {'.'.join(map(str, MIN_MLFLOW))}; mlflow {mlflow.__version__} "
            f"is installed: {INSTALL_HINT}"
        )
    return mlflow


# -- the fit listener -------------------------------------------------------------------------------
def _listener(validator: Any, dataset: Any) -> Any:
    """Called as a fit starts: open (or join) its run and log what is known before fitting."""
    settings = _settings
    if settings is None or _inside_logged_fit():
        return None
    problems = _Problems(settings.silent)
    with _quiet(settings.silent):
        opened = problems.attempt("the run", _open_run)
    if opened is None:
        problems.report()
        return None
    run_id, owned = opened
    _fits.depth = getattr(_fits, "depth", 0) + 1
    with _quiet(settings.silent):
        problems.attempt("the validator's params", _log_validator, run_id, validator)

    def finish(model: Any, error: Optional[BaseException]) -> None:
        try:
            with _quiet(settings.silent):
                if error is None:
                    problems.attempt("the results", _log_results, run_id, validator, dataset, model, settings, problems)
        finally:
            _fits.depth -= 1
            with _quiet(settings.silent):
                if owned:
                    problems.attempt("the end of the run", _end_run, run_id, "FINISHED" if error is None else "FAILED")
            problems.report()

    return finish


def _inside_logged_fit() -> bool:
    # A fit in one of splitcv's task threads is part of a fit (a validator tuned by a validator),
    # and so is one in a thread that is running a logged fit (the outer fit's refit).
    return getattr(_fits, "depth", 0) > 0 or threading.current_thread().name.startswith(THREAD_PREFIX)


def _open_run() -> tuple[str, bool]:
    """The active run's id (not ours to end), or a new run's (ours)."""
    import mlflow

    active = mlflow.active_run()
    if active is not None:
        return active.info.run_id, False
    run = mlflow.start_run(tags={"mlflow.autologging": AUTOLOGGING_NAME})
    return run.info.run_id, True


def _end_run(run_id: str, status: str) -> None:
    import mlflow

    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        mlflow.end_run(status)
    else:  # someone else's run became the active one meanwhile: end ours, leave theirs
        mlflow.MlflowClient().set_terminated(run_id, status)


class _Problems:
    """What one fit could not log: each step is tried on its own, and one warning names the failures."""

    def __init__(self, silent: bool) -> None:
        self.silent = silent
        self.failed: list[str] = []

    def attempt(self, what: str, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except Exception as error:  # logging must never fail the fit; a KeyboardInterrupt still stops it
            _logger.debug("splitcv.mlflow could not log %s", what, exc_info=True)
            self.failed.append(f"{what} ({type(error).__name__}: {_first_line(error)})")
            return None

    def report(self) -> None:
        if self.failed and not self.silent:
            warnings.warn(
                f"splitcv.mlflow autologging could not log {'; '.join(self.failed)}. The fit itself is not affected.",
                MlflowLoggingWarning,
                stacklevel=2,
            )
        self.failed = []


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else ""


@contextmanager
def _quiet(silent: bool) -> Iterator[None]:
    """With ``silent``: no warnings and no MLflow log records below ERROR while logging."""
    if not silent:
        yield
        return
    mlflow_logger = logging.getLogger("mlflow")
    level = mlflow_logger.level
    mlflow_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        mlflow_logger.setLevel(level)


# -- what is logged ---------------------------------------------------------------------------------
def _log_validator(run_id: str, validator: Any) -> None:
    """Before the fit: the validator's Params and the nested objects' (a failed fit keeps them)."""
    import mlflow

    client = mlflow.MlflowClient()
    names = _indexed_names(validator)
    maps = validator.getEstimatorParamMaps() if validator.isDefined("estimatorParamMaps") else []
    tuned = {(param.parent, param.name) for param_map in maps or [] for param in param_map}
    params = _flat_params(validator, names, "", tuned, skip={"estimatorParamMaps"})
    _log_params(client, run_id, params)
    client.set_tag(run_id, "estimator_name", type(validator).__name__)
    client.set_tag(run_id, "estimator_class", f"{type(validator).__module__}.{type(validator).__qualname__}")


def _log_results(run_id: str, validator: Any, dataset: Any, model: Any, settings: _Settings, problems: _Problems) -> None:
    """After a successful fit: best params and metric, one child run per map, the artifacts, the model."""
    import mlflow

    client = mlflow.MlflowClient()
    metric = _metric_name(model)
    rows = list(model.cvResults.get("params", []))
    best = model.bestIndex
    best_row = rows[best] if best < len(rows) else {}
    problems.attempt("the best params", _log_params, client, run_id, {f"best_{k}": v for k, v in best_row.items()})
    problems.attempt("the best metric", _log_metrics, client, run_id, [
        (f"best_avg_{metric}", model.avgMetrics[best], 0), (f"best_std_{metric}", model.stdMetrics[best], 0),
    ])
    problems.attempt("the best param map's index", client.set_tag, run_id, "best_param_map_index", str(best))
    problems.attempt("the child runs", _log_children, client, run_id, validator, model, metric)
    problems.attempt("cv_results.csv", _log_table, client, run_id, model)
    problems.attempt("best_parameters.json", client.log_dict, run_id, _jsonable(best_row), "best_parameters.json")
    if settings.log_plot:
        problems.attempt("folds.png", _log_folds_picture, client, run_id, validator, dataset)
    if settings.log_models:
        if model.bestModel is None:
            _logger.debug("splitcv.mlflow: the fit had refit=False, so there is no best model to log")
        else:
            problems.attempt("the best model", _log_model, run_id, model.bestModel)


def _log_children(client: Any, parent_id: str, validator: Any, model: Any, metric: str) -> None:
    """One finished child run per param map, under the parent run (MLflow's layout for CrossValidator)."""
    parent = client.get_run(parent_id)
    start, end = parent.info.start_time, _now_ms()
    results = model.cvResults
    rows = results.get("params", [])
    skipped = set(model.skippedFolds)
    dropped_after = results.get("dropped_after_fold")
    reasons = results.get("dropped_reason")
    estimator = validator.getEstimator()
    for j, row in enumerate(rows):
        chosen = _chosen_estimator(estimator, validator.getEstimatorParamMaps()[j])
        tags = {
            "mlflow.parentRunId": parent_id,
            "mlflow.autologging": AUTOLOGGING_NAME,
            "estimator_name": type(chosen).__name__,
            "estimator_class": f"{type(chosen).__module__}.{type(chosen).__qualname__}",
            "param_map_index": str(j),
        }
        dropped = dropped_after[j] if dropped_after is not None else None
        if dropped is not None and reasons is not None and reasons[j]:
            tags["dropped_reason"] = str(reasons[j])[:_MAX_PARAM_VALUE]
        child = client.create_run(parent.info.experiment_id, start_time=start, tags=tags, run_name=f"map-{j}")
        child_id = child.info.run_id
        metrics = [(f"avg_{metric}", model.avgMetrics[j], 0), (f"std_{metric}", model.stdMetrics[j], 0)]
        for fold, row_of_fold in enumerate(model.foldMetrics):
            value = row_of_fold[j]
            # A skipped fold, and a fold a dropped map never ran, have no metric; a NaN the
            # evaluator returned is a result, and is logged.
            if fold in skipped or (dropped is not None and math.isnan(value)):
                continue
            metrics.append((f"fold_{metric}", value, fold))
        for name in ("mean_fit_time", "mean_score_time"):
            if name in results and not math.isnan(results[name][j]):
                metrics.append((name, results[name][j], 0))
        if dropped is not None:
            metrics.append(("dropped_after_fold", float(dropped), 0))
        _log_params(client, child_id, row, new_run=True)
        _log_metrics(client, child_id, metrics, timestamp=end)
        client.set_terminated(child_id, "FINISHED", end_time=end)


def _chosen_estimator(estimator: Any, param_map: dict) -> Any:
    """The estimator a map fits: a OneOf's candidate when the map chooses one, else the estimator."""
    from splitcv.one_of import OneOf

    if isinstance(estimator, OneOf) and estimator.candidate in param_map:
        return estimator.getCandidates()[estimator.candidate.typeConverter(param_map[estimator.candidate])]
    return estimator


def _log_table(client: Any, run_id: str, model: Any) -> None:
    table = model.summary(wide=True)
    client.log_text(run_id, table.to_csv(index_label="map"), "cv_results.csv")


def _log_folds_picture(client: Any, run_id: str, validator: Any, dataset: Any) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        _logger.debug("splitcv.mlflow: matplotlib is not installed, so folds.png is not logged (pip install 'splitcv[plot]')")
        return
    from splitcv.plot import plot_folds

    with tempfile.TemporaryDirectory(prefix="splitcv-mlflow-") as folder:
        path = os.path.join(folder, "folds.png")
        plot_folds(validator.getSplitter(), dataset, path)
        client.log_artifact(run_id, path)


def _log_model(run_id: str, best_model: Any) -> None:
    import mlflow
    import mlflow.spark

    active = mlflow.active_run()
    if active is None or active.info.run_id != run_id:
        raise RuntimeError("the fit's run is not the active run in the fitting thread")
    # Requirements given, not inferred: MLflow infers them by loading the model in a subprocess,
    # which starts a second Spark for every fit. A Spark model needs pyspark, and the packages of
    # any stage classes of its own.
    requirements = [*mlflow.spark.get_default_pip_requirements(), *_stage_packages(best_model)]
    mlflow.spark.log_model(best_model, "best_model", pip_requirements=requirements)


def _stage_packages(model: Any) -> list[str]:
    """``name==version`` of the installed distributions that the model's stage classes come from,
    pyspark aside (a Pipeline with a transformer of the user's package needs that package)."""
    from importlib import metadata

    modules, stack = set(), [model]
    while stack:
        stage = stack.pop()
        modules.add(type(stage).__module__.split(".")[0])
        stack += list(getattr(stage, "stages", None) or []) + list(getattr(stage, "models", None) or [])
    modules -= {"pyspark", "builtins", "__main__"}
    if not modules:
        return []
    found = metadata.packages_distributions()
    names = sorted({dist for module in modules for dist in found.get(module, [])})
    return [f"{name}=={metadata.version(name)}" for name in names]


# -- params and metrics as MLflow takes them ----------------------------------------------------------
def _indexed_names(root: Any) -> dict[str, str]:
    """A name for every Params object under ``root``: its class, or ``<Class>_<n>`` (n from 1, depth
    first) when the class occurs more than once, as MLflow names pyspark.ml stages."""
    from pyspark.ml.param import Params

    found: dict[str, Any] = {}

    def visit(obj: Any) -> None:
        if obj.uid in found:
            return
        found[obj.uid] = obj
        for param in obj.params:
            if obj.isDefined(param):
                for value in _params_in(obj.getOrDefault(param), Params):
                    visit(value)

    visit(root)
    counts: dict[str, int] = {}
    for obj in found.values():
        counts[type(obj).__name__] = counts.get(type(obj).__name__, 0) + 1
    seen: dict[str, int] = {}
    names = {}
    for uid, obj in found.items():
        cls = type(obj).__name__
        seen[cls] = seen.get(cls, 0) + 1
        names[uid] = f"{cls}_{seen[cls]}" if counts[cls] > 1 else cls
    return names


def _params_in(value: Any, kind: type) -> list:
    """The Params objects a Param value holds: itself, or the items of a list of them (Pipeline stages)."""
    if isinstance(value, kind):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, kind) for item in value):
        return list(value)
    return []


def _flat_params(obj: Any, names: dict[str, str], prefix: str, tuned: set, skip: frozenset | set = frozenset()) -> dict[str, Any]:
    """``obj``'s defined Params as MLflow params: a Params value as its name, then its own Params
    under ``<name>.``; Params that a param map sets (``tuned``) are left to the child runs."""
    from pyspark.ml.param import Params

    flat: dict[str, Any] = {}
    for param in obj.params:
        if param.name in skip or not obj.isDefined(param) or (obj.uid, param.name) in tuned:
            continue
        value = obj.getOrDefault(param)
        nested = _params_in(value, Params)
        if nested:
            flat[prefix + param.name] = names[nested[0].uid] if isinstance(value, Params) else [names[n.uid] for n in nested]
            for inner in nested:
                flat.update(_flat_params(inner, names, names[inner.uid] + ".", tuned))
        else:
            flat[prefix + param.name] = value
    return flat


def _param_text(value: Any) -> str:
    value = plain_value(value)
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (list, tuple, dict)) else str(value)
    return text if len(text) <= _MAX_PARAM_VALUE else text[: _MAX_PARAM_VALUE - 3] + "..."


def _log_params(client: Any, run_id: str, params: dict[str, Any], new_run: bool = False) -> None:
    """Log params the run does not have yet: MLflow params are write-once, and the run may be the
    user's, or MLflow's pyspark.ml autolog's, with some of these names already logged."""
    from mlflow.entities import Param

    have = {} if new_run else client.get_run(run_id).data.params
    new = [(str(key), _param_text(value)) for key, value in params.items() if str(key) not in have]
    for key, _ in ((k, v) for k, v in params.items() if str(k) in have and have[str(k)] != _param_text(v)):
        _logger.debug("splitcv.mlflow: run %s already has param %s; not logged again", run_id, key)
    for start in range(0, len(new), _MAX_PARAMS_PER_BATCH):
        chunk = new[start:start + _MAX_PARAMS_PER_BATCH]
        client.log_batch(run_id, params=[Param(key, value) for key, value in chunk])


def _log_metrics(client: Any, run_id: str, metrics: list[tuple[str, float, int]], timestamp: Optional[int] = None) -> None:
    from mlflow.entities import Metric

    timestamp = timestamp or _now_ms()
    entities = [Metric(key, float(value), timestamp, step) for key, value, step in metrics]
    for start in range(0, len(entities), _MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=entities[start:start + _MAX_METRICS_PER_BATCH])


def _metric_name(model: Any) -> str:
    name, _ = model._metric()
    return str(name) if name else "metric"


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """The best map's row as JSON: values that are not JSON (a date, say) as their text."""
    def plain(value: Any) -> Any:
        value = plain_value(value)
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, (_dt.date, _dt.datetime)):
            return value.isoformat()
        return str(value)

    return json.loads(json.dumps({str(k): plain(v) for k, v in row.items()}))


def _now_ms() -> int:
    return int(time.time() * 1000)
