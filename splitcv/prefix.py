"""A Pipeline's shared prefix: stages no param map touches are fitted once per fold, not once per map.

``Pipeline.fit`` fits its stages in order, each on the data transformed by every stage before it
(nested Pipelines included: their stages are visited in the same depth-first order). The stages
before the first one a param map sets are therefore fitted on the same rows with the same Params
for every map, and give the same models, provided their fit is deterministic. So per fold:

1. :func:`fit_prefix` fits those stages once (a task of its own in the queue);
2. :func:`fit_with_prefix` fits each map's copy of the pipeline with the prefix stages replaced by
   their fitted models, through ``Pipeline.fit`` itself (or ``splitcv.lean_fit``, which fits a
   Pipeline as it does), so the result has the exact shape and stages of a whole fit (nested
   ``PipelineModel`` s included);
3. or, when the fold's data went through the prefix once and was cached (what
   ``ParallelCrossValidator`` does), :func:`fit_after_prefix` fits each map's later stages on that
   output, again through ``Pipeline.fit`` (or ``lean_fit``), with the prefix stages standing aside,
   and gives both the whole model and the model of the later stages that scores the cached
   validation output.

Which estimators may be shared: ``pyspark.ml``'s own, which draw any randomness from a ``seed``
Param whose default is fixed within a process, so refitting one per map (what the whole fit does)
gives the model fitted once. An estimator from elsewhere (a user's Python estimator) may draw
unseeded randomness, and sharing its one fit would change results: the prefix ends before it.
Transformers have no fit and never end the prefix.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from pyspark.ml import Estimator, Pipeline, PipelineModel, Transformer
from splitcv.param_maps import apply_map, stage_uids

__all__ = ["shared_prefix_length", "prefix_stages", "fit_prefix", "fit_with_prefix", "fit_after_prefix",
           "estimator_after", "transform_by", "leaves", "plain_fit"]

ParamMap = dict
# fits an estimator on a DataFrame: plain_fit, or splitcv.lean_fit.lean_fit
Fit = Callable[[Any, Any], Any]


def plain_fit(estimator: Any, dataset: Any) -> Any:
    """``estimator.fit(dataset)``, as a :data:`Fit`."""
    return estimator.fit(dataset)


def leaves(pipeline: Pipeline) -> Iterator[Any]:
    """The pipeline's stages depth first, nested Pipelines opened."""
    for stage in pipeline.getStages():
        if isinstance(stage, Pipeline):
            yield from leaves(stage)
        else:
            yield stage


def _pipelines(pipeline: Pipeline) -> Iterator[tuple[Pipeline, int]]:
    """Each Pipeline in the tree with the depth-first position of its first leaf."""
    position = 0

    def walk(node: Pipeline) -> Iterator[tuple[Pipeline, int]]:
        nonlocal position
        yield node, position
        for stage in node.getStages():
            if isinstance(stage, Pipeline):
                yield from walk(stage)
            else:
                position += 1

    yield from walk(pipeline)


def _deterministic(stage: Any) -> bool:
    """A transformer, or a pyspark.ml estimator all of whose nested stages are too (a OneVsRest
    around a user's Python classifier is not)."""
    return all(
        isinstance(part, Transformer) or type(part).__module__.startswith("pyspark.ml.")
        for part in stage_uids(stage).values()
    )


def shared_prefix_length(estimator: Estimator, maps: Sequence[ParamMap]) -> int:
    """How many leading stages (depth first) every map fits alike; 0 when sharing saves nothing.

    A stage ends the prefix when a map sets one of its Params (or a Pipeline around it), or when it
    is an estimator whose fit may not be deterministic. Sharing needs a Pipeline (pyspark's own, with
    no subclass of it anywhere in the tree), two maps or more, and an estimator in the prefix (a
    prefix of transformers costs nothing to redo).
    """
    if not isinstance(estimator, Pipeline) or len(maps) < 2:
        return 0
    if any(type(pipeline) is not Pipeline for pipeline, _ in _pipelines(estimator)):
        # A Pipeline subclass may fit its stages its own way (override fit or _fit): fitting its
        # stages here instead would not be the same fit, so it is fitted whole, map by map.
        return 0
    touched = {param.parent for param_map in maps for param in param_map}
    stages = list(leaves(estimator))
    # A map that sets a Pipeline's own Param (its stages, say) touches every stage inside it.
    end = len(stages)
    for pipeline, first in _pipelines(estimator):
        if pipeline.uid in touched:
            end = min(end, first)
    length = 0
    for stage in stages[:end]:
        if set(stage_uids(stage)) & touched or not _deterministic(stage):
            break
        length += 1
    if not any(isinstance(stage, Estimator) for stage in stages[:length]):
        return 0
    return length


def prefix_stages(pipeline: Any, length: int) -> list[Any]:
    """The first ``length`` stages, depth first."""
    return list(leaves(pipeline))[:length] if length else []


def fit_prefix(pipeline: Pipeline, dataset: Any, length: int) -> list[Transformer]:
    """Fit the first ``length`` stages (depth first) as ``Pipeline.fit`` would: each on the data
    transformed by every stage before it."""
    fitted: list[Transformer] = []
    for stage in prefix_stages(pipeline, length):
        model = stage.fit(dataset) if isinstance(stage, Estimator) else stage
        fitted.append(model)
        dataset = model.transform(dataset)  # lazy: the plan the next stage fits on
    return fitted


def transform_by(prefix: Sequence[Transformer], dataset: Any) -> Any:
    """``dataset`` through the fitted prefix, stage by stage: the rows the stages after it read."""
    for model in prefix:
        dataset = model.transform(dataset)
    return dataset


def estimator_after(pipeline: Pipeline, length: int) -> bool:
    """Whether a stage after the first ``length`` (depth first) fits: if none does, ``Pipeline.fit``
    never reads the prefix's output of the training rows."""
    return any(isinstance(stage, Estimator) for stage in list(leaves(pipeline))[length:])


class _Fitted(Estimator):
    """Stands in a Pipeline for a stage already fitted on this fold: its fit returns that model."""

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        self.model = model

    def _fit(self, dataset: Any) -> Transformer:
        return self.model


def _replace_prefix(pipeline: Pipeline, prefix: Sequence[Transformer], replace: Callable[[Any, Transformer], Any]) -> None:
    """Replace the first ``len(prefix)`` stages of ``pipeline`` (depth first, in place) by
    ``replace(stage, its fitted model)``."""
    remaining = list(prefix)

    def walk(node: Pipeline) -> None:
        stages = []
        for stage in node.getStages():
            if isinstance(stage, Pipeline):
                walk(stage)
                stages.append(stage)
            else:
                stages.append(replace(stage, remaining.pop(0)) if remaining else stage)
        node.setStages(stages)

    walk(pipeline)


def _in_whole_model(stage: Any, model: Transformer) -> Transformer:
    """What a whole fit of a map's pipeline holds in a prefix stage's place. A copy of the fold's
    model per map (same uid, same fitted state): the sub-models of a fold would otherwise share one
    object, and setting a Param on one would set it on all. A transformer stays the map's own copy,
    as ``Pipeline.fit`` keeps it."""
    return model.copy() if isinstance(stage, Estimator) else stage


def fit_with_prefix(
    pipeline: Pipeline, param_map: ParamMap, dataset: Any, prefix: Sequence[Transformer], fit: Fit = plain_fit
) -> PipelineModel:
    """``pipeline.fit(dataset, param_map)``, with the first ``len(prefix)`` stages already fitted;
    ``fit(pipeline, dataset)`` fits what remains (default: ``Pipeline.fit``)."""
    copy = apply_map(pipeline, param_map)  # fresh nested Pipelines too: replacing their stages is safe
    _replace_prefix(
        copy, prefix,
        lambda stage, model: _Fitted(_in_whole_model(stage, model)) if isinstance(stage, Estimator) else stage,
    )
    return fit(copy, dataset)


class _StandAside(Transformer):
    """Holds a prefix stage's place while the later stages fit on data the prefix already
    transformed: its transform passes the data through."""

    def _transform(self, dataset: Any) -> Any:
        return dataset


def fit_after_prefix(
    pipeline: Pipeline, param_map: ParamMap, transformed: Any, prefix: Sequence[Transformer], fit: Fit = plain_fit
) -> tuple[PipelineModel, PipelineModel]:
    """``pipeline.fit(dataset, param_map)`` when ``transformed`` is ``dataset`` through the fitted
    ``prefix`` already. Returns the whole model (the one ``Pipeline.fit`` gives: ``fit_with_prefix``'s)
    and the same model with the prefix stages passing data through, which scores data the prefix
    transformed already."""
    copy = apply_map(pipeline, param_map)  # fresh nested Pipelines too: replacing their stages is safe
    standing: dict[int, Any] = {}  # id of a stand-in -> the stage of the whole model in its place

    def stand_aside(stage: Any, model: Transformer) -> _StandAside:
        aside = _StandAside()
        standing[id(aside)] = _in_whole_model(stage, model)
        return aside

    _replace_prefix(copy, prefix, stand_aside)
    scoring = fit(copy, transformed)

    def restore(node: PipelineModel) -> PipelineModel:
        stages = [
            restore(stage) if isinstance(stage, PipelineModel) else standing.get(id(stage), stage)
            for stage in node.stages
        ]
        if all(new is old for new, old in zip(stages, node.stages)):
            return node  # no stand-in below (a user's own fitted PipelineModel, say): kept as it is
        whole = PipelineModel(stages)
        whole._resetUid(node.uid)
        return whole

    return restore(scoring), scoring
