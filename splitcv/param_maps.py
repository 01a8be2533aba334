"""Applying a param map to an estimator so that every value in it takes effect.

``Estimator.fit(dataset, param_map)`` fits ``estimator.copy(param_map)``, and a stage's ``copy``
decides what to keep. pyspark's ``OneVsRest.copy`` keeps its own classifier when one is set and
drops the one a map gives, so a grid over ``ova.classifier`` fits the same classifier for every
map, silently (Spark's ``CrossValidator`` included). :func:`apply_map` copies as ``fit`` does,
then sets again every value the copy dropped.
"""

from __future__ import annotations

import math
from typing import Any

from pyspark.ml.param import Params

__all__ = ["stage_uids", "apply_map", "dropped_values"]

ParamMap = dict


def stage_uids(stage: Params) -> dict[str, Any]:
    """The estimator and every stage nested in it (Pipelines, fitted PipelineModels used as stages,
    OneVsRest classifiers, validators' estimators, OneOf candidates), by uid."""
    found = {stage.uid: stage}
    children: list[Any] = []
    if hasattr(stage, "getStages"):
        children = list(stage.getStages())
    elif isinstance(getattr(stage, "stages", None), (list, tuple)):  # a PipelineModel: a plain attribute
        children = list(stage.stages)
    for name in ("classifier", "estimator", "candidates"):
        if stage.hasParam(name) and stage.isDefined(name):
            value = stage.getOrDefault(name)
            children += value if isinstance(value, (list, tuple)) else [value]
    for child in children:
        if isinstance(child, Params):
            found.update(stage_uids(child))
    return found


def _holds_params(value: Any) -> bool:
    return isinstance(value, Params) or (
        isinstance(value, (list, tuple)) and any(isinstance(item, Params) for item in value)
    )


def _same(actual: Any, wanted: Any) -> bool:
    """Whether a copy kept the (converted) value ``wanted``: lists item by item, NaN equal to NaN; a
    comparison that cannot be made (arrays) counts as not kept, and the value is set again."""
    try:
        if isinstance(wanted, (list, tuple)):
            return (
                isinstance(actual, (list, tuple)) and len(actual) == len(wanted)
                and all(_same(a, w) for a, w in zip(actual, wanted))
            )
        if isinstance(wanted, float) and math.isnan(wanted):
            return isinstance(actual, float) and math.isnan(actual)
        return bool(actual == wanted)
    except (TypeError, ValueError):
        return False


def _converted(param: Any, value: Any) -> Any:
    try:  # what _set stores: a numpy array for a list Param becomes a list, an int a float
        return param.typeConverter(value)
    except (TypeError, ValueError):
        return value


def _unapplied(copied: Params, param_map: ParamMap) -> list[Any]:
    """The map's Params whose values the copy may not hold: every value holding Params objects (a
    copy can keep a stage of its own with the same uid, ``lr.copy({...})`` included, so a uid says
    nothing), and every other value the copy does not equal."""
    stages = stage_uids(copied)
    return [
        param for param, value in param_map.items()
        if param.parent in stages and (
            _holds_params(value)
            or not _same(stages[param.parent].getOrDefault(param.name), _converted(param, value))
        )
    ]


def dropped_values(estimator: Params, param_map: ParamMap) -> list[Any]:
    """The Params of ``param_map`` that ``fit(dataset, param_map)`` may not apply: values
    ``estimator.copy(param_map)`` does not keep, and every Params-valued one (see :func:`apply_map`)."""
    return _unapplied(estimator.copy(param_map), param_map)


def apply_map(estimator: Params, param_map: ParamMap) -> Any:
    """``estimator.copy(param_map)`` with every value of the map in force: what ``fit(dataset,
    param_map)`` should fit. Values the copy did not keep are set again; a Params value always is,
    as a copy of its own, so that concurrent fits never share one object."""
    copied = estimator.copy(param_map)
    missing = _unapplied(copied, param_map)
    if missing:
        stages = stage_uids(copied)
        for param in missing:
            value = param_map[param]
            # Copied with the map, as estimator.copy(map) copies its stages: the map's values for
            # Params of these stages (or of stages nested in them) reach the copies.
            if isinstance(value, Params):
                value = value.copy(param_map)
            elif isinstance(value, (list, tuple)):
                value = [item.copy(param_map) if isinstance(item, Params) else item for item in value]
            stage = stages[param.parent]
            stage.set(stage.getParam(param.name), value)
    return copied
