"""Saving and loading ParallelCrossValidator and its model, with every field intact.

Layout under ``path``::

    metadata/       DefaultParamsWriter-style JSON: class, simple Params, param maps, metrics
    estimator/      the estimator, saved by its own writer
    evaluator/      the evaluator
    splitter/       the splitter (built-in or a user's class), as a Params directory
    bestModel/      (model) the refit best model
    subModels/fold-F/model-J/   (model) sub-models, when collected

pyspark's own validator reader assumes Spark's validators and misreads a third-party one, and its
writer drops ``stdMetrics`` and aliases sub-models across folds; this one is written for ours.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from typing import Any, Iterator, Optional

from pyspark.errors import AnalysisException
from pyspark.ml.param import Params
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReader, MLWriter

__all__ = ["ValidatorWriter", "ValidatorReader", "ValidatorModelWriter", "ValidatorModelReader"]

_SIMPLE_PARAMS = ("parallelism", "collectSubModels", "refit", "singleClassFolds", "sharePipelinePrefix", "racing", "racingConfidence", "memoryBudget", "scoreInOnePass")
FORMAT_VERSION = 1


def _is_connect(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def _save_stage(stage: Params, path: str, overwrite: bool) -> None:
    writer = stage.write()
    if overwrite:
        from pyspark.sql.utils import is_remote

        if is_remote() and type(writer).__name__ != "RemoteMLWriter":
            # A Python stage's DefaultParamsWriter deletes the old directory through the JVM
            # gateway, which a Connect client lacks; the Connect server's ML helper deletes it
            # instead (as pyspark does for a Pipeline). Connect's own writers overwrite themselves.
            from pyspark.ml.connect.readwrite import RemoteMLWriter

            RemoteMLWriter.handleOverwrite(path, True)
        else:
            writer = writer.overwrite()
    writer.save(path)


@contextlib.contextmanager
def refusing_existing_save(path: str, instance: Params) -> Iterator[None]:
    """Turn Spark's ``[PATH_ALREADY_EXISTS]`` into a ``FileExistsError`` naming ``path`` and the fix.

    Wraps the first write of a save, ``path/metadata`` (mode "error"): Spark refuses it when an
    earlier save is there, while analysing the write, so nothing has been written yet. Spark
    Connect raises the same error class from the server, so no JVM gateway is needed to check.
    """
    try:
        yield
    except AnalysisException as error:
        condition = getattr(error, "getCondition", error.getErrorClass)()
        if condition != "PATH_ALREADY_EXISTS" and "PATH_ALREADY_EXISTS" not in str(error):
            raise
        raise FileExistsError(
            f"{path!r} already exists and holds a save; {type(instance).__name__}.write().save() does not "
            f"replace it. Replace it with write().overwrite().save({path!r}), or save to another path"
        ) from None


class SplitterWriter(DefaultParamsWriter):
    """A splitter's writer: pyspark's own, refusing an existing save the way the validator's does,
    and overwriting over Spark Connect too (pyspark's deletes the old save through the JVM gateway)."""

    def save(self, path: str) -> None:
        if self.shouldOverwrite and _is_connect(self.sparkSession):
            from pyspark.ml.connect.readwrite import RemoteMLWriter

            RemoteMLWriter.handleOverwrite(path, True)
            self.saveImpl(path)
            return
        with refusing_existing_save(path, self.instance):  # a Params save writes its metadata only
            super().save(path)


def _encode_value(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"__date__": value.isoformat()}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
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


def _encode_param_maps(maps: list[dict]) -> list[list[dict[str, Any]]]:
    encoded = []
    for index, param_map in enumerate(maps):
        entries = []
        for param, value in param_map.items():
            if isinstance(value, Params):
                raise ValueError(
                    f"estimatorParamMaps[{index}] sets {param.name} to a {type(value).__name__}; "
                    "only JSON values (numbers, strings, lists) can be saved in a param map"
                )
            entries.append({"parent": param.parent, "name": param.name, "value": json.dumps(_encode_value(value))})
        encoded.append(entries)
    return encoded


def _decode_param_maps(encoded: list[list[dict[str, Any]]], estimator: Params) -> list[dict]:
    from splitcv.prefix import _stage_uids

    owners = _stage_uids(estimator)
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
            param_map[owner.getParam(entry["name"])] = _decode_value(json.loads(entry["value"]))
        maps.append(param_map)
    return maps


class _Writer(MLWriter):
    def __init__(self, instance: Params) -> None:
        super().__init__()
        self.instance = instance

    def save(self, path: str) -> None:
        # Refuse what cannot be saved before an overwrite deletes the earlier save.
        self._check()
        if self.shouldOverwrite:
            if _is_connect(self.sparkSession):
                # A Connect client has no JVM gateway to delete the old directory with; the
                # server's ML helper deletes it, so no part of an earlier save is left behind.
                from pyspark.ml.connect.readwrite import RemoteMLWriter

                RemoteMLWriter.handleOverwrite(path, True)
            else:
                self._handleOverwrite(path)
        self.saveImpl(path)

    def _check(self) -> None:
        _encode_param_maps(list(self.instance.getEstimatorParamMaps()))

    def _metadata(self, path: str, extra: dict[str, Any]) -> None:
        instance = self.instance
        params = {name: instance.getOrDefault(name) for name in _SIMPLE_PARAMS if instance.isDefined(name)}
        extra = {
            "splitcvFormat": FORMAT_VERSION,
            "estimatorParamMaps": _encode_param_maps(list(instance.getEstimatorParamMaps())),
            **extra,
        }
        text = DefaultParamsWriter._get_metadata_to_save(instance, self.sparkSession, extra, params)
        frame = self.sparkSession.createDataFrame([(text,)], schema="value string").coalesce(1)
        # "error", not its alias "errorifexists": Spark Connect's writer knows only the short name.
        with refusing_existing_save(path, instance):  # the first write: nothing is written before it
            frame.write.mode("overwrite" if self.shouldOverwrite else "error").text(os.path.join(path, "metadata"))

    def _stages(self, path: str) -> None:
        for name in ("estimator", "evaluator", "splitter"):
            _save_stage(self.instance.getOrDefault(name), os.path.join(path, name), self.shouldOverwrite)


class ValidatorWriter(_Writer):
    def _check(self) -> None:
        self.instance._check_config()
        super()._check()

    def saveImpl(self, path: str) -> None:
        self._metadata(path, {})
        self._stages(path)


class ValidatorModelWriter(_Writer):
    def saveImpl(self, path: str) -> None:
        model = self.instance
        sub_models = model.subModels
        shape = [len(row) for row in sub_models] if sub_models is not None else None
        extra = {
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
        self._metadata(path, extra)
        self._stages(path)
        if model.bestModel is not None:
            _save_stage(model.bestModel, os.path.join(path, "bestModel"), self.shouldOverwrite)
        if sub_models is not None:
            for f, row in enumerate(sub_models):
                for j, sub in enumerate(row):
                    if sub is None:  # a skipped fold (singleClassFolds='skip') was never fitted
                        continue
                    _save_stage(sub, os.path.join(path, "subModels", f"fold-{f}", f"model-{j}"), self.shouldOverwrite)


class _Reader(MLReader):
    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls

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
        stages = {}
        for name in ("estimator", "evaluator", "splitter"):
            stages[name] = DefaultParamsReader.loadParamsInstance(os.path.join(path, name), self.sparkSession)
        return metadata, stages

    def _apply(self, instance: Params, metadata: dict[str, Any], stages: dict[str, Params]) -> Params:
        instance._resetUid(metadata["uid"])
        maps = _decode_param_maps(metadata["estimatorParamMaps"], stages["estimator"])
        values = {name: metadata["paramMap"][name] for name in _SIMPLE_PARAMS if name in metadata["paramMap"]}
        instance._set(estimatorParamMaps=maps, **stages, **values)
        return instance


class ValidatorReader(_Reader):
    def load(self, path: str) -> Params:
        metadata, stages = self._load_common(path)
        return self._apply(self.cls(), metadata, stages)


class ValidatorModelReader(_Reader):
    def load(self, path: str) -> Params:
        from splitcv.splitters.base import FoldInfo

        metadata, stages = self._load_common(path)
        load = lambda p: DefaultParamsReader.loadParamsInstance(p, self.sparkSession)  # noqa: E731
        best: Optional[Params] = load(os.path.join(path, "bestModel")) if metadata["hasBestModel"] else None
        sub_models = None
        if metadata["subModelShape"] is not None:
            shape = metadata["subModelShape"]
            saved = metadata.get("subModelsSaved")  # absent in saves from before it was written: all saved
            present = {(f, j) for f, j in saved} if saved is not None else {(f, j) for f, w in enumerate(shape) for j in range(w)}
            sub_models = [
                [load(os.path.join(path, "subModels", f"fold-{f}", f"model-{j}")) if (f, j) in present else None
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
        return self._apply(model, metadata, stages)
