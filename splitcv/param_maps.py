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
    """The estimator and every stage nested in it (Pipelines, OneVsRest classifiers, validators'
    estimators, OneOf candidates), by uid."""
    found = {stage.uid: stage}
    children: list[Any] = []
    if hasattr(stage, "getStages"):
        children = list(stage.getStages())
    for name in ("classifier", "estimator", "candidates"):
        if stage.hasParam(name) and stage.isDefined(name):
            value = stage.getOrDefault(name)
            children += value if isinstance(value, (list, tuple)) else [value]
    for child in children:
        if isinstance(child, Params):
            found.update(stage_uids(child))
    return found


def _same(actual: Any, wanted: Any) -> bool:
    """Whether a copy kept ``wanted``: Params objects by uid (a copy keeps it), lists item by item,
    numbers by value (a type converter may turn 1 into 1.0), NaN equal to NaN."""
    if isinstance(wanted, Params):
        return isinstance(actual, Params) and actual.uid == wanted.uid
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(actual, (list, tuple)) and len(actual) == len(wanted)
            and all(_same(a, w) for a, w in zip(actual, wanted))
        )
    if isinstance(wanted, float) and math.isnan(wanted):
        return isinstance(actual, float) and math.isnan(actual)
    return actual == wanted


def _dropped(copied: Params, param_map: ParamMap) -> list[Any]:
    stages = stage_uids(copied)
    return [
        param for param, value in param_map.items()
        if param.parent in stages and not _same(stages[param.parent].getOrDefault(param.name), value)
    ]


def dropped_values(estimator: Params, param_map: ParamMap) -> list[Any]:
    """The Params of ``param_map`` whose values ``estimator.copy(param_map)`` does not keep."""
    return _dropped(estimator.copy(param_map), param_map)


def apply_map(estimator: Params, param_map: ParamMap) -> Any:
    """``estimator.copy(param_map)`` with every value of the map in force: what ``fit(dataset,
    param_map)`` should fit. A Params value is set as a copy of its own, so that concurrent fits
    never share one object."""
    copied = estimator.copy(param_map)
    missing = _dropped(copied, param_map)
    if missing:
        stages = stage_uids(copied)
        for param in missing:
            value = param_map[param]
            if isinstance(value, Params):
                value = value.copy()
            elif isinstance(value, (list, tuple)):
                value = [item.copy() if isinstance(item, Params) else item for item in value]
            stage = stages[param.parent]
            stage.set(stage.getParam(param.name), value)
    return copied
