"""Saving and loading ParallelCrossValidator and its model, with every field intact.

Layout under ``path``::

    metadata/       pyspark's Params metadata (DefaultParamsWriter.saveMetadata): class, uid,
                    every JSON Param, plus the param maps, metrics and folds
    estimator/      the estimator, saved by its own writer
    evaluator/      the evaluator
    splitter/       the splitter (built-in or a user's class), as a Params directory
    epm_<n>/        each Params object a param map holds (a classifier, a Pipeline's stages), once
    bestModel/      (model) the refit best model
    subModels/fold-F/model-J/   (model) sub-models, when collected, unless the writer's option
                    ``persistSubModels`` is "false"

pyspark's own validator reader assumes Spark's validators and misreads a third-party one, and its
writer drops ``stdMetrics``, aliases sub-models across folds and cannot save a meta-estimator (a
Pipeline, a OneVsRest) or a list of stages in a param map; this one is written for ours. The Params
themselves go through pyspark's public helpers (``extractJsonParams``, ``saveMetadata``,
``getAndSetParams``), so a new Param is saved without being listed here.

The validator's ``callback`` is not saved: a function is no JSON, and code is not data to store
with a model. A validator saved with a callback loads without one (set it again with
``setCallback``); its ``progress`` is saved like any Param.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Callable, Optional

from pyspark.ml.param import Params
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReader, MLWritable, MLWriter

from splitcv.param_maps import stage_uids
from splitcv.splitters.base import FoldInfo
from splitcv.writing import clear_for_overwrite, refusing_existing_save, save_stage

__all__ = ["ValidatorWriter", "ValidatorReader", "ValidatorModelWriter", "ValidatorModelReader"]

#: Params saved in directories of their own, not in the metadata's JSON.
_STAGE_PARAMS = ("estimator", "evaluator", "splitter", "estimatorParamMaps")
#: Params never saved: a callable (see the module's docstring).
_UNSAVED_PARAMS = ("callback",)
FORMAT_VERSION = 1


def _encode_value(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"__date__": value.isoformat()}
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # numpy scalars (not ml Vectors)
        return value.tolist()
    if isinstance(value, dict):  # class counts: JSON keys would turn class values into strings
        return {"__pairs__": [[_encode_value(k), _encode_value(v)] for k, v in value.items()]}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "__datetime__" in value:
        return _dt.datetime.fromisoformat(value["__datetime__"])
    if isinstance(value, dict) and "__date__" in value:
        return _dt.date.fromisoformat(value["__date__"])
    if isinstance(value, dict) and "__pairs__" in value:
        return {_decode_value(k): _decode_value(v) for k, v in value["__pairs__"]}
    return value


def _stages_in(value: Any) -> Optional[list[Params]]:
    """The Params objects a param map value holds (one, or a list such as a Pipeline's stages), or
    None for a JSON value."""
    if isinstance(value, Params):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, Params) for item in value):
        return list(value)
    return None


def _encode_param_maps(
    maps: list[dict], save: Optional[Callable[[Params, str], None]] = None
) -> list[list[dict[str, Any]]]:
    """The param maps as JSON entries. A value that holds Params objects (an estimator, a list of
    stages) is written by ``save`` to a directory of its own, ``epm_<n>``, once per object, and the
    entry names that directory (``isJson: false``), as Spark's validators do; without ``save``
    only checks that everything can be saved."""
    directories: dict[int, str] = {}
    kept: list[Params] = []  # keeps each object alive, so that its id() stays its own

    def directory(stage: Params) -> str:
        if id(stage) not in directories:
            directories[id(stage)] = f"epm_{len(directories)}"
            kept.append(stage)
            if save is not None:
                save(stage, directories[id(stage)])
        return directories[id(stage)]

    encoded = []
    for index, param_map in enumerate(maps):
        entries = []
        for param, value in param_map.items():
            where = f"estimatorParamMaps[{index}] sets {param.name} to {value!r}"
            stages = _stages_in(value)
            if stages is not None:
                for stage in stages:
                    if not isinstance(stage, MLWritable):
                        raise ValueError(
                            f"{where}: a {type(stage).__name__}, which has no write() and cannot be saved; make "
                            "it MLWritable (pyspark.ml.util.DefaultParamsWritable for a Python estimator)"
                        )
                paths: Any = [directory(stage) for stage in stages]
                entries.append({
                    "parent": param.parent, "name": param.name, "isJson": False,
                    "value": paths[0] if isinstance(value, Params) else paths,
                })
                continue
            try:
                text = json.dumps(_encode_value(value), allow_nan=True)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: a {type(value).__name__}, which cannot be saved; a param map value must be JSON "
                    "(numbers, strings, booleans, lists of them) or Params objects (estimators, transformers, "
                    "lists of stages)"
                ) from None
            entries.append({"parent": param.parent, "name": param.name, "value": text, "isJson": True})
        encoded.append(entries)
    return encoded


def _decode_param_maps(
    encoded: list[list[dict[str, Any]]], estimator: Params, load: Callable[[str], Params]
) -> list[dict]:
    # Stages by uid through the whole tree, validators nested in a Pipeline included: pyspark's
    # MetaAlgorithmReadWrite.getUidMap refuses those ("does not support nested validator").
    owners = stage_uids(estimator)
    loaded: dict[str, Params] = {}  # an object shared by several maps comes back shared

    def stage(directory: str) -> Params:
        if directory not in loaded:
            loaded[directory] = load(directory)
        return loaded[directory]

    maps = []
    for entries in encoded:
        param_map = {}
        for entry in entries:
            owner = owners.get(entry["parent"])
            if owner is None:
                raise ValueError(
                    f"a saved param map sets {entry['parent']}.{entry['name']}, but the saved estimator has no "
                    "stage with that uid; the saved directory is damaged"
                )
            value = entry["value"]
            if entry.get("isJson", True):
                decoded = _decode_value(json.loads(value))
            else:
                decoded = stage(value) if isinstance(value, str) else [stage(v) for v in value]
            param_map[owner.getParam(entry["name"])] = decoded
        maps.append(param_map)
    return maps


def _persist_sub_models(writer: MLWriter) -> bool:
    """The writer option Spark's tuning models take: ``write().option("persistSubModels", "false")``
    leaves collected sub-models out of the save; unset, they are saved when there are any."""
    option = writer.optionMap.get("persistsubmodels")  # MLWriter.option lowercases the key
    has = writer.instance.subModels is not None
    if option is None:
        return has
    text = str(option).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f'option("persistSubModels", {option!r}) is not "true" or "false"')
    if text == "true" and not has:
        raise ValueError(
            'option("persistSubModels", "true") asks to save sub-models, but this model has none: fit with '
            "collectSubModels=True to keep them"
        )
    return text == "true"


class _Writer(MLWriter):
    def __init__(self, instance: Params) -> None:
        super().__init__()
        self.instance = instance

    def save(self, path: str) -> None:
        # Refuse what cannot be saved before an overwrite deletes the earlier save.
        self._check()
        if self.shouldOverwrite:
            clear_for_overwrite(self, path)
        self.saveImpl(path)

    def _check(self) -> None:
        _encode_param_maps(list(self.instance.getEstimatorParamMaps()))

    def _metadata(self, path: str, extra: dict[str, Any]) -> None:
        instance = self.instance
        save = lambda stage, directory: save_stage(stage, os.path.join(path, directory), self.shouldOverwrite)  # noqa: E731
        extra = {"splitcvFormat": FORMAT_VERSION, **extra}
        params = DefaultParamsWriter.extractJsonParams(instance, _STAGE_PARAMS + _UNSAVED_PARAMS)
        # The metadata first: the first write, refused before anything is written when an earlier
        # save is there. The param maps' stages go in their own directories after it.
        maps = list(instance.getEstimatorParamMaps())
        extra["estimatorParamMaps"] = _encode_param_maps(maps)
        with refusing_existing_save(path, instance):
            DefaultParamsWriter.saveMetadata(instance, path, self.sparkSession, extra, params)
        _encode_param_maps(maps, save)

    def _stages(self, path: str) -> None:
        for name in ("estimator", "evaluator", "splitter"):
            save_stage(self.instance.getOrDefault(name), os.path.join(path, name), self.shouldOverwrite)


class ValidatorWriter(_Writer):
    def _check(self) -> None:
        self.instance._check_config()
        super()._check()

    def saveImpl(self, path: str) -> None:
        self._metadata(path, {})
        self._stages(path)


class ValidatorModelWriter(_Writer):
    def _check(self) -> None:
        super()._check()
        try:  # the metadata is written after an overwrite deletes the earlier save: try it first
            json.dumps(self._extra(), allow_nan=True)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"this model's results cannot be saved as JSON ({error}); nothing was written"
            ) from None

    def _extra(self) -> dict[str, Any]:
        model = self.instance
        sub_models = model.subModels if _persist_sub_models(self) else None
        shape = [len(row) for row in sub_models] if sub_models is not None else None
        return {
            "bestIndex": model.bestIndex,
            "avgMetrics": model.avgMetrics,
            "stdMetrics": model.stdMetrics,
            "foldMetrics": model.foldMetrics,
            "cvResults": model.cvResults,
            "folds": [{k: _encode_value(v) for k, v in vars(info).items()} for info in model.folds],
            "skippedFolds": model.skippedFolds,
            "hasBestModel": model.bestModel is not None,
            "subModelShape": shape,
            # folds skipped or maps dropped by racing leave no sub-model: say which were saved
            "subModelsSaved": [[f, j] for f, row in enumerate(sub_models) for j, sub in enumerate(row) if sub is not None]
            if sub_models is not None else None,
        }

    def saveImpl(self, path: str) -> None:
        model = self.instance
        sub_models = model.subModels if _persist_sub_models(self) else None
        self._metadata(path, self._extra())
        self._stages(path)
        if model.bestModel is not None:
            save_stage(model.bestModel, os.path.join(path, "bestModel"), self.shouldOverwrite)
        if sub_models is not None:
            for f, row in enumerate(sub_models):
                for j, sub in enumerate(row):
                    if sub is None:  # a skipped fold (singleClassFolds='skip') was never fitted
                        continue
                    save_stage(sub, os.path.join(path, "subModels", f"fold-{f}", f"model-{j}"), self.shouldOverwrite)


class _Reader(MLReader):
    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls

    def _load(self, path: str) -> Params:
        return DefaultParamsReader.loadParamsInstance(path, self.sparkSession)

    def _load_common(self, path: str) -> tuple[dict[str, Any], dict[str, Params]]:
        expected = f"{self.cls.__module__}.{self.cls.__name__}"
        try:
            metadata = DefaultParamsReader.loadMetadata(path, self.sparkSession)
        except Exception as error:
            raise ValueError(
                f"{path!r} holds no saved {self.cls.__name__}: its metadata could not be read ({type(error).__name__}). "
                f"Save one with {self.cls.__name__}.write().save(path)"
            ) from error
        if metadata.get("class") != expected or "splitcvFormat" not in metadata:
            raise ValueError(
                f"{path!r} holds a saved {metadata.get('class')!r}, not a {expected}; load it with its own class"
            )
        stages = {name: self._load(os.path.join(path, name)) for name in ("estimator", "evaluator", "splitter")}
        return metadata, stages

    def _apply(self, instance: Params, metadata: dict[str, Any], stages: dict[str, Params], path: str) -> Params:
        instance._resetUid(metadata["uid"])
        DefaultParamsReader.getAndSetParams(instance, metadata, skipParams=list(_STAGE_PARAMS))
        load = lambda directory: self._load(os.path.join(path, directory))  # noqa: E731
        maps = _decode_param_maps(metadata["estimatorParamMaps"], stages["estimator"], load)
        instance._set(estimatorParamMaps=maps, **stages)
        return instance


class ValidatorReader(_Reader):
    def load(self, path: str) -> Params:
        metadata, stages = self._load_common(path)
        return self._apply(self.cls(), metadata, stages, path)


class ValidatorModelReader(_Reader):
    def load(self, path: str) -> Params:
        metadata, stages = self._load_common(path)
        best: Optional[Params] = self._load(os.path.join(path, "bestModel")) if metadata["hasBestModel"] else None
        sub_models = None
        if metadata["subModelShape"] is not None:
            shape = metadata["subModelShape"]
            saved = metadata.get("subModelsSaved")  # absent in saves from before it was written: all saved
            present = {(f, j) for f, j in saved} if saved is not None else {(f, j) for f, w in enumerate(shape) for j in range(w)}
            sub_models = [
                [self._load(os.path.join(path, "subModels", f"fold-{f}", f"model-{j}")) if (f, j) in present else None
                 for j in range(width)]
                for f, width in enumerate(shape)
            ]
        model = self.cls(
            bestModel=best,
            avgMetrics=metadata["avgMetrics"],
            stdMetrics=metadata["stdMetrics"],
            foldMetrics=metadata["foldMetrics"],
            subModels=sub_models,
            bestIndex=metadata["bestIndex"],
            folds=[FoldInfo(**{k: _decode_value(v) for k, v in info.items()}) for info in metadata["folds"]],
            cvResults=metadata["cvResults"],
            skippedFolds=metadata.get("skippedFolds", []),
        )
        return self._apply(model, metadata, stages, path)
