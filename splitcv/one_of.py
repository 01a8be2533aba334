"""Several estimator types in one tuning run: :class:`OneOf` fits the candidate a Param names.

Spark ML tunes one estimator per ``CrossValidator``. To compare, say, LogisticRegression, a random
forest and gradient-boosted trees with a grid each, put a ``OneOf`` where the estimator goes (alone,
or as the last stage of a Pipeline) and build the param maps with :meth:`OneOf.grid`: every map
chooses one candidate (``OneOf.candidate``) and sets that candidate's Params only. All (fold, map)
tasks then run from the validator's one queue, a Pipeline's stages before the ``OneOf`` are fitted
once per fold for every estimator type (the shared prefix), and ``bestModel`` is the winner refit:
the chosen candidate's own model (a ``PipelineModel`` ending in it when the ``OneOf`` is a stage).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence

from pyspark import keyword_only
from pyspark.ml.base import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader, MLWritable, MLWriter

from splitcv.param_maps import stage_uids
from splitcv.writing import clear_for_overwrite, refusing_existing_save, save_stage

__all__ = ["OneOf"]

ParamMap = dict


def _to_candidates(value: Any) -> list:
    if not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"candidates={value!r} is not a non-empty list of estimators; give e.g. [lr, rf]")
    for index, item in enumerate(value):
        if not isinstance(item, Estimator):
            raise TypeError(
                f"candidates[{index}]={item!r} is a {type(item).__name__}, not an Estimator; give estimators "
                "such as LogisticRegression() or a Pipeline"
            )
    if len({item.uid for item in value}) < len(value):
        raise ValueError(
            f"candidates {[item.uid for item in value]} hold one estimator twice; give each candidate once "
            "(tune its settings in the grid instead)"
        )
    return list(value)


class OneOf(Estimator, MLReadable, MLWritable):
    """An estimator that fits one of its ``candidates``: the one at index ``candidate``.

    Examples
    --------
    >>> from pyspark.ml.regression import DecisionTreeRegressor, LinearRegression
    >>> from pyspark.ml.tuning import ParamGridBuilder
    >>> lr, tree = LinearRegression(), DecisionTreeRegressor()
    >>> choice = OneOf(candidates=[lr, tree])
    >>> maps = choice.grid({lr: ParamGridBuilder().addGrid(lr.regParam, [0.0, 1.0]).build(),
    ...                     tree: ParamGridBuilder().addGrid(tree.maxDepth, [2, 4]).build()})
    >>> [choice.describe(m) for m in maps]
    ['LinearRegression(regParam=0.0)', 'LinearRegression(regParam=1.0)', 'DecisionTreeRegressor(maxDepth=2)', 'DecisionTreeRegressor(maxDepth=4)']
    """

    candidates: "Param[list]" = Param(
        Params._dummy(), "candidates", "the estimators to choose from", typeConverter=_to_candidates
    )
    candidate: "Param[int]" = Param(
        Params._dummy(), "candidate", "the index in candidates of the estimator to fit", typeConverter=TypeConverters.toInt
    )

    @keyword_only
    def __init__(self, *, candidates: Optional[Sequence[Estimator]] = None, candidate: int = 0) -> None:
        super().__init__()
        self._setDefault(candidate=0)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, candidates: Optional[Sequence[Estimator]] = None, candidate: int = 0) -> "OneOf":
        return self._set(**self._input_kwargs)

    def getCandidates(self) -> list[Estimator]:
        if not self.isDefined(self.candidates):
            raise ValueError("OneOf needs candidates: set them, e.g. OneOf(candidates=[lr, rf])")
        return list(self.getOrDefault(self.candidates))

    def setCandidates(self, value: Sequence[Estimator]) -> "OneOf":
        return self._set(candidates=value)

    def getCandidate(self) -> int:
        return self.getOrDefault(self.candidate)

    def setCandidate(self, value: int) -> "OneOf":
        return self._set(candidate=value)

    def chosen(self) -> Estimator:
        """The candidate ``candidate`` names."""
        candidates, index = self.getCandidates(), self.getCandidate()
        if not 0 <= index < len(candidates):
            raise ValueError(
                f"candidate={index} is not an index of the {len(candidates)} candidates "
                f"({', '.join(type(c).__name__ for c in candidates)}); give 0 to {len(candidates) - 1}"
            )
        return candidates[index]

    def _fit(self, dataset: Any) -> Model:
        return self.chosen().fit(dataset)

    def copy(self, extra: Optional[ParamMap] = None) -> "OneOf":
        # As Pipeline.copy: the candidates are copied with ``extra`` too, so a map's values for a
        # candidate's Params reach it.
        extra = dict(extra or {})
        that = Params.copy(self, extra)
        if that.isDefined(that.candidates):
            that._set(candidates=[candidate.copy(extra) for candidate in that.getCandidates()])
        return that

    # -- param maps --------------------------------------------------------------------------------
    def grid(self, grids: Mapping[Estimator, Sequence[ParamMap]]) -> list[ParamMap]:
        """Param maps that try each candidate with its own grid, in the candidates' order.

        ``grids`` maps a candidate to its param maps (``ParamGridBuilder().build()``, whose maps set
        that candidate's Params only); a candidate left out is tried once, as it is. Each map is
        ``{self.candidate: index, **candidate_map}``.
        """
        candidates = self.getCandidates()
        positions = {id(c): i for i, c in enumerate(candidates)}
        for key in grids:
            if id(key) not in positions:
                raise ValueError(
                    f"grids has a key {key!r} that is not one of the candidates "
                    f"({', '.join(c.uid for c in candidates)}); key each grid by a candidate object"
                )
        maps: list[ParamMap] = []
        for index, candidate in enumerate(candidates):
            for position, param_map in enumerate(grids.get(candidate, [{}]) or [{}]):
                maps.append({self.candidate: index, **param_map})
                self.check_map(maps[-1], f"grids[{candidate.uid}][{position}]")
        return maps

    def check_map(self, param_map: ParamMap, where: str) -> None:
        """Refuse a map that sets Params of a candidate it does not choose: they would be ignored."""
        candidates = self.getCandidates()
        index = param_map.get(self.candidate, self.getCandidate())
        try:  # as fit will store it: 1.0 and numpy's 1 are index 1
            index = self.candidate.typeConverter(index)
        except (TypeError, ValueError):
            pass
        if not isinstance(index, int) or not 0 <= index < len(candidates):
            raise ValueError(
                f"{where} sets {self.uid}.candidate to {index!r}, which is not an index of the "
                f"{len(candidates)} candidates; give 0 to {len(candidates) - 1}"
            )
        chosen = set(stage_uids(candidates[index]))
        for other, candidate in enumerate(candidates):
            if other == index:
                continue
            foreign = [p for p in param_map if p.parent in set(stage_uids(candidate)) - chosen]
            if foreign:
                raise ValueError(
                    f"{where} chooses candidate {index} ({type(candidates[index]).__name__}) but sets "
                    f"{', '.join(f'{p.parent}.{p.name}' for p in foreign)} of candidate {other} "
                    f"({type(candidate).__name__}), which it does not fit; build the maps with OneOf.grid, "
                    "one grid per candidate"
                )

    def describe(self, param_map: ParamMap) -> str:
        """The map's candidate and its Params, e.g. ``RandomForestClassifier(maxDepth=5)``."""
        candidates = self.getCandidates()
        index = self.candidate.typeConverter(param_map.get(self.candidate, self.getCandidate()))
        own = set(stage_uids(candidates[index]))
        shown = ", ".join(f"{p.name}={v!r}" for p, v in param_map.items() if p.parent in own)
        return f"{type(candidates[index]).__name__}({shown})"

    # -- persistence -------------------------------------------------------------------------------
    def write(self) -> MLWriter:
        return _OneOfWriter(self)

    @classmethod
    def read(cls) -> MLReader:
        return _OneOfReader(cls)


class _OneOfWriter(MLWriter):
    """``metadata/`` (pyspark's Params metadata: the candidate index) and ``candidates/<i>/``, each
    candidate saved by its own writer."""

    def __init__(self, instance: OneOf) -> None:
        super().__init__()
        self.instance = instance

    def save(self, path: str) -> None:
        if self.shouldOverwrite:
            clear_for_overwrite(self, path)
        self.saveImpl(path)

    def saveImpl(self, path: str) -> None:
        instance = self.instance
        candidates = instance.getCandidates()
        params = DefaultParamsWriter.extractJsonParams(instance, ["candidates"])
        with refusing_existing_save(path, instance):
            DefaultParamsWriter.saveMetadata(instance, path, self.sparkSession, {"numCandidates": len(candidates)}, params)
        for index, candidate in enumerate(candidates):
            save_stage(candidate, os.path.join(path, "candidates", str(index)), self.shouldOverwrite)


class _OneOfReader(MLReader):
    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> OneOf:
        metadata = DefaultParamsReader.loadMetadata(path, self.sparkSession, f"{self.cls.__module__}.{self.cls.__name__}")
        candidates = [
            DefaultParamsReader.loadParamsInstance(os.path.join(path, "candidates", str(i)), self.sparkSession)
            for i in range(metadata["numCandidates"])
        ]
        instance = self.cls()
        instance._resetUid(metadata["uid"])
        DefaultParamsReader.getAndSetParams(instance, metadata)
        return instance._set(candidates=candidates)
