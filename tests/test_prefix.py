"""A Pipeline's shared prefix (issue 11, part 1): which stages are shared, and that sharing changes
nothing but the number of fits. The oracle is the whole fit per map (``sharePipelinePrefix=False``)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression, OneVsRest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import ParamGridBuilder

from estimators import Watched, count_fits
from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator
from splitcv.prefix import shared_prefix_length
from splitcv.queue import THREAD_PREFIX, TaskFailed


# -- which stages are shared (no Spark job) --------------------------------------------------------


@pytest.fixture()
def stages(spark):
    return {
        "si": StringIndexer(inputCol="firm", outputCol="firm_i"),
        "ohe": OneHotEncoder(inputCols=["firm_i"], outputCols=["firm_v"]),
        "va": VectorAssembler(inputCols=["firm_v", "value", "capital"], outputCol="raw"),
        "sc": StandardScaler(inputCol="raw", outputCol="features"),
        "lr": LinearRegression(maxIter=10),
    }


def _length(pipeline, grid):
    return shared_prefix_length(pipeline, grid)


def test_prefix_ends_before_the_first_stage_a_map_sets(stages):
    s = stages
    flat = Pipeline(stages=[s["si"], s["ohe"], s["va"], s["sc"], s["lr"]])
    assert _length(flat, ParamGridBuilder().addGrid(s["lr"].regParam, [0.0, 1.0]).build()) == 4
    both = ParamGridBuilder().addGrid(s["sc"].withMean, [False, True]).addGrid(s["lr"].regParam, [0.0, 1.0]).build()
    assert _length(flat, both) == 3
    assert _length(flat, ParamGridBuilder().addGrid(s["si"].stringOrderType, ["frequencyDesc", "alphabetAsc"]).build()) == 0


def test_nested_pipelines_are_read_depth_first(stages):
    s = stages
    inner = Pipeline(stages=[s["va"], s["sc"], s["lr"]])
    nested = Pipeline(stages=[Pipeline(stages=[s["si"], s["ohe"]]), inner])
    assert _length(nested, [{s["lr"].regParam: 0.0}, {s["lr"].regParam: 1.0}]) == 4
    # a map that sets a Pipeline's own Param touches every stage inside it
    assert _length(nested, [{inner.stages: [s["va"], s["lr"]]}, {}]) == 2


def test_a_param_of_a_pipeline_nested_in_a_stage_touches_that_stage(stages):
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.tuning import TrainValidationSplit

    s = stages
    inner_lr = LinearRegression()
    tvs = TrainValidationSplit(estimator=Pipeline(stages=[inner_lr]), estimatorParamMaps=[{}], evaluator=RegressionEvaluator())
    grid = [{inner_lr.regParam: 0.0}, {inner_lr.regParam: 100.0}]
    assert _length(Pipeline(stages=[s["va"], s["sc"], tvs]), grid) == 2
    # a pyspark.ml stage around a Python estimator may not fit the same way twice either
    assert _length(Pipeline(stages=[s["si"], OneVsRest(classifier=Watched()), s["lr"]]), [{s["lr"].regParam: 0.0}, {}]) == 1


class LoggedPipeline(Pipeline):
    """A Pipeline subclass that fits its own way (here: it logs each fit first)."""

    def _fit(self, dataset):
        print(f"fitting {self.uid}")
        return super()._fit(dataset)


def test_a_pipeline_subclass_anywhere_in_the_tree_is_fitted_whole(stages):
    # Sharing fits the prefix stages itself; a subclass that overrides fit would be bypassed.
    s = stages
    grid = [{s["lr"].regParam: 0.0}, {s["lr"].regParam: 1.0}]
    assert _length(LoggedPipeline(stages=[s["si"], s["ohe"], s["va"], s["sc"], s["lr"]]), grid) == 0
    nested = Pipeline(stages=[LoggedPipeline(stages=[s["si"], s["ohe"]]), s["va"], s["sc"], s["lr"]])
    assert _length(nested, grid) == 0
    assert _length(Pipeline(stages=[Pipeline(stages=[s["si"], s["ohe"]]), s["va"], s["sc"], s["lr"]]), grid) == 4


def test_nothing_is_shared_when_it_would_save_nothing_or_might_change_results(stages):
    s = stages
    grid = [{s["lr"].regParam: 0.0}, {s["lr"].regParam: 1.0}]
    assert _length(Pipeline(stages=[s["va"], s["lr"]]), grid) == 0  # transformers only: nothing to fit
    assert _length(Pipeline(stages=[s["si"], s["ohe"], s["va"], s["lr"]]), grid[:1]) == 0  # one map
    assert _length(s["lr"], grid) == 0  # not a Pipeline
    # an estimator from outside pyspark.ml may fit differently each time: the prefix ends before it
    assert _length(Pipeline(stages=[s["si"], Watched(), s["ohe"], s["lr"]]), grid) == 1
    # a map that sets a Param nested in a stage (OneVsRest's classifier) touches that stage
    lr = LogisticRegression()
    ovr = OneVsRest(classifier=lr)
    assert _length(Pipeline(stages=[s["si"], ovr]), [{lr.regParam: 0.0}, {lr.regParam: 1.0}]) == 1
    assert _length(Pipeline(stages=[s["si"], s["ohe"], ovr]), [{lr.regParam: 0.0}, {lr.regParam: 1.0}]) == 2


# -- sharing changes nothing but the number of fits ------------------------------------------------


@pytest.fixture(scope="module")
def grunfeld(spark):
    """statsmodels' Grunfeld investment panel: 11 firms (a categorical column) x 20 years."""
    import statsmodels.api as sm

    data = sm.datasets.grunfeld.load_pandas().data
    rows = [(str(r.firm), int(r.year), float(r.value), float(r.capital), float(r.invest)) for r in data.itertuples()]
    return spark.createDataFrame(rows, ["firm", "year", "value", "capital", "label"])


def _pipeline(nested: bool):
    si = StringIndexer(inputCol="firm", outputCol="firm_i", handleInvalid="keep")
    ohe = OneHotEncoder(inputCols=["firm_i"], outputCols=["firm_v"])
    va = VectorAssembler(inputCols=["firm_v", "value", "capital"], outputCol="raw")
    sc = StandardScaler(inputCol="raw", outputCol="features", withMean=True)
    lr = LinearRegression(maxIter=10)
    stages = [Pipeline(stages=[si, ohe]), Pipeline(stages=[va, sc, lr])] if nested else [si, ohe, va, sc, lr]
    # two maps: enough for a prefix to be shared, and the whole path fits every stage once per map
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 5.0]).build()
    return Pipeline(stages=stages), grid


def _shape(model):
    return [(type(s).__name__, _shape(s) if isinstance(s, PipelineModel) else s.uid) for s in model.stages]


def _storage(sc) -> list[tuple[int, int, int]]:
    """(id, bytes in memory, bytes on disk) of each cached RDD of the session."""
    return [(int(i.id()), int(i.memSize()), int(i.diskSize())) for i in sc._jsc.sc().getRDDStorageInfo()]


def _on_disk_only(storage: list[list[tuple[int, int, int]]]) -> set[int]:
    """The RDDs seen on disk and never in memory, over a fit's callbacks."""
    disk = {rdd for seen in storage for rdd, mem, size in seen if size > 0}
    return disk - {rdd for seen in storage for rdd, mem, size in seen if mem > 0}


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_a_cached_prefix_output_gives_the_uncached_results_and_transforms_each_side_once(spark, grunfeld, monkeypatch, nested):
    """A shared prefix is fitted once per fold and gives the whole fit's results. With cachePrefixOutput
    (the default), each fold's rows go through the prefix once per side (counted on the first stage's
    transform, in Python) and are kept on disk only; the results are those of the uncached shared
    path and of the whole fit."""
    from pyspark.ml.feature import StringIndexerModel

    pipeline, grid = _pipeline(nested)
    splitter = ExpandingWindowSplitter(timeCol="year", horizon=4, numFolds=2)
    transforms: list[int] = []
    original = StringIndexerModel._transform

    def counted(self, dataset):
        transforms.append(1)
        return original(self, dataset)

    monkeypatch.setattr(StringIndexerModel, "_transform", counted)
    fits = count_fits(monkeypatch, StringIndexer)
    storage: list[list[tuple[int, int, int]]] = []
    models, counts, on_disk = {}, {}, {}
    for share, cache in ((False, False), (True, False), (True, True)):
        transforms.clear()
        storage.clear()
        fits.clear()
        models[share, cache] = ParallelCrossValidator(
            estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), splitter=splitter,
            parallelism=4, collectSubModels=True, sharePipelinePrefix=share, cachePrefixOutput=cache,
            callback=lambda result: storage.append(_storage(spark.sparkContext)),
        ).fit(grunfeld)
        counts[share, cache] = len(transforms)
        on_disk[share, cache] = _on_disk_only(storage)
        # k x m fits of each prefix stage on the whole path, k on the shared one; plus the refit
        assert len(fits) == (2 if share else 2 * 2) + 1
    # k folds, m maps. Pipeline.fit transforms by the first stage once, or twice when it sits in a
    # nested Pipeline (the inner fit, then the outer one through the inner model): per map's fit
    # uncached, and in the refit. Uncached, each map's fit and score run the prefix again.
    k, m, per_fit = 2, 2, 2 if nested else 1
    assert counts[True, False] == k * (1 + (per_fit + 1) * m) + per_fit
    # per fold: the plan the prefix's own stages fit on, then the training and validation rows'
    # outputs that are cached (plans built in Python; the fold's Spark jobs read the cache)
    assert counts[True, True] == k * 3 + per_fit
    # While a fold's maps ran, its training and validation output were on disk, never in storage
    # memory (seen by the callback after each fold's first map, m = 2 tasks scored one by one); the
    # only RDD in memory was the validator's cached input.
    assert len(on_disk[True, True]) == 2 * k
    assert on_disk[True, False] == on_disk[False, False] == set()
    assert all(sum(1 for _, mem, _ in seen if mem > 0) <= 1 for seen in storage)
    whole, uncached, cached = models[False, False], models[True, False], models[True, True]
    assert cached.foldMetrics == uncached.foldMetrics == whole.foldMetrics  # bit for bit
    assert cached.bestIndex == whole.bestIndex
    assert _shape(cached.bestModel) == _shape(whole.bestModel)
    for f in range(k):
        for j in range(m):
            assert _shape(cached.subModels[f][j]) == _shape(whole.subModels[f][j])
            pred = lambda model: model.transform(grunfeld).select("prediction").toPandas().to_numpy()  # noqa: E731
            assert np.array_equal(pred(cached.subModels[f][j]), pred(whole.subModels[f][j]))
        # the fold's one fitted prefix, a copy per sub-model (as without the cache)
        first_stage = lambda model: model.stages[0].stages[0] if nested else model.stages[0]  # noqa: E731
        assert len({first_stage(model).uid for model in cached.subModels[f]}) == 1
        assert len({id(first_stage(model)) for model in cached.subModels[f]}) == m
        assert not any(type(stage).__name__ == "_StandAside" for model in cached.subModels[f] for stage in _leaves_of(model))
        # each sub-model holds its own copy, as in a whole fit: changing a Param of one sub-model's
        # stage must not change the others'
        first_stage(cached.subModels[f][0]).setHandleInvalid("error")
        assert [first_stage(model).getHandleInvalid() for model in cached.subModels[f]] == ["error", "keep"]


def _leaves_of(model):
    for stage in model.stages:
        yield from (_leaves_of(stage) if isinstance(stage, PipelineModel) else [stage])


def test_racing_lets_go_of_each_folds_cached_prefix_output_when_the_fold_ends(spark, grunfeld):
    """With racing a fold runs the maps still in the race; its last one lets go of the fold's prefix
    output. One thread: folds run one after another, so at most one fold's two outputs are on disk.
    (How many maps a fold runs comes from the scheduler whatever the rule: halving drops for sure.)"""
    rule = "halving"
    si = StringIndexer(inputCol="firm", outputCol="firm_i", handleInvalid="keep")
    va = VectorAssembler(inputCols=["firm_i", "value", "capital"], outputCol="features")
    lr = LinearRegression(maxIter=10)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 300.0, 3000.0]).build()
    storage: list[list[tuple[int, int, int]]] = []
    models = {}
    for cache in (False, True):
        storage.clear()
        models[cache] = ParallelCrossValidator(
            estimator=Pipeline(stages=[si, va, lr]), estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
            splitter=ExpandingWindowSplitter(timeCol="year", horizon=3, numFolds=3), parallelism=1, refit=False,
            racing=True, racingRule=rule, cachePrefixOutput=cache,
            callback=lambda result: storage.append(_storage(spark.sparkContext)),
        ).fit(grunfeld)
    dropped = {
        cache: [None if pd.isna(d) else int(d) for d in models[cache].summary(wide=True)["dropped_after_fold"]]
        for cache in models
    }
    assert dropped[True] == dropped[False]
    assert any(d is not None for d in dropped[True])
    assert np.array_equal(np.array(models[True].foldMetrics), np.array(models[False].foldMetrics), equal_nan=True)
    assert len(_on_disk_only(storage)) > 2  # several folds' outputs came and went
    assert max(sum(1 for _, mem, disk in seen if disk > 0 and mem == 0) for seen in storage) <= 2


def test_a_fitted_pipeline_model_as_a_prefix_stage_and_nested_cross_validation(spark, grunfeld):
    """A user's fitted PipelineModel used as a stage stays as it is in each map's model, and nested
    cross-validation (one queue for every outer fold's inner folds) caches and lets go per inner fold:
    both give the results of the whole fit per map."""
    from splitcv import nested_cross_validate

    indexer = Pipeline(stages=[StringIndexer(inputCol="firm", outputCol="firm_i", handleInvalid="keep")]).fit(grunfeld)
    va = VectorAssembler(inputCols=["firm_i", "value", "capital"], outputCol="raw")
    sc = StandardScaler(inputCol="raw", outputCol="features")
    lr = LinearRegression(maxIter=10)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 50.0]).build()
    pipeline = Pipeline(stages=[indexer, va, sc, lr])
    assert _length(pipeline, grid) == 3

    from splitcv.prefix import fit_after_prefix, fit_prefix, transform_by

    prefix = fit_prefix(pipeline, grunfeld, 3)
    through = transform_by(prefix, grunfeld)
    whole = pipeline.fit(grunfeld, grid[1])
    model, scorer = fit_after_prefix(pipeline, grid[1], through, prefix)
    assert _shape(model) == _shape(whole) and isinstance(model.stages[0], PipelineModel)
    pred = lambda frame: frame.select("prediction").toPandas().to_numpy()  # noqa: E731
    assert np.array_equal(pred(model.transform(grunfeld)), pred(whole.transform(grunfeld)))
    assert np.array_equal(pred(scorer.transform(through)), pred(whole.transform(grunfeld)))

    def validator(share: bool) -> ParallelCrossValidator:
        return ParallelCrossValidator(
            estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2, seed=2), parallelism=4, sharePipelinePrefix=share,
        )

    outer = ExpandingWindowSplitter(timeCol="year", horizon=4, numFolds=2)
    results = [nested_cross_validate(validator(share), grunfeld, outer) for share in (False, True)]
    assert results[1].outerMetrics == results[0].outerMetrics
    assert results[1].bestIndex == results[0].bestIndex
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()


def test_a_map_may_set_a_param_inside_a_fitted_pipeline_model_stage(spark, grunfeld, tmp_path):
    """Spark's Pipeline copies a map into a fitted PipelineModel's stages, so a grid over one of
    them is a grid like any other: accepted, applied to every fold, and it ends the shared prefix."""
    from pyspark.ml.feature import Binarizer

    binarizer = Binarizer(inputCol="value", outputCol="big", threshold=1000.0)
    fitted = PipelineModel(stages=[binarizer])
    indexer = StringIndexer(inputCol="firm", outputCol="firm_i", handleInvalid="keep")
    va = VectorAssembler(inputCols=["firm_i", "big", "capital"], outputCol="features")
    lr = LinearRegression(maxIter=10)
    pipeline = Pipeline(stages=[indexer, fitted, va, lr])
    grid = [{binarizer.threshold: 500.0}, {binarizer.threshold: 3000.0}]
    assert _length(pipeline, grid) == 1  # the indexer, before the PipelineModel a map sets

    splitter = KFoldSplitter(numFolds=2, seed=2)
    cv = ParallelCrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
                                splitter=splitter, parallelism=2)
    cv.save(str(tmp_path / "cv"))  # the maps find their stage inside the PipelineModel again on load
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv")).getEstimatorParamMaps()
    assert [{(p.parent, p.name): v for p, v in m.items()} for m in loaded] == [
        {(binarizer.uid, "threshold"): 500.0}, {(binarizer.uid, "threshold"): 3000.0}]
    model = cv.fit(grunfeld)
    # the oracle: Spark's own Pipeline.fit with each map, on the same folds (read from split(), whose
    # rows are partitioned otherwise: sums agree to rounding, not to the bit)
    by_hand = [[RegressionEvaluator().evaluate(pipeline.fit(train, param_map).transform(validation))
                for param_map in grid] for train, validation in splitter.split(grunfeld)]
    assert np.allclose(model.foldMetrics, by_hand, rtol=1e-12, atol=0)
    assert model.avgMetrics[0] != model.avgMetrics[1]


def test_a_failure_after_a_cached_prefix_leaves_nothing_cached(spark, grunfeld, monkeypatch):
    pipeline, grid = _pipeline(nested=False)
    original = LinearRegression._fit

    def broken(self, dataset):
        if self.getRegParam() > 0:
            raise RuntimeError("regression broke")
        return original(self, dataset)

    monkeypatch.setattr(LinearRegression, "_fit", broken)
    cache_manager = spark._jsparkSession.sharedState().cacheManager()
    assert cache_manager.isEmpty()
    with pytest.raises(TaskFailed, match="regression broke"):
        ParallelCrossValidator(
            estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=3, seed=1), parallelism=3,
        ).fit(grunfeld)
    assert not [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    assert _storage(spark.sparkContext) == []  # the folds' prefix outputs are gone (conftest checks too)
    # and so are those persisted but never filled (the failing fit ran no job on them): Spark's
    # cache manager would otherwise keep them, out of sight of the storage status
    assert cache_manager.isEmpty()


def test_only_stages_that_fit_read_the_cached_training_output(spark, grunfeld, monkeypatch):
    """A grid on a transformer after the last estimator: nothing fits after the prefix, so only the
    validation rows' output is cached and read; the results are the whole fit's."""
    from pyspark.ml.feature import Bucketizer

    si = StringIndexer(inputCol="firm", outputCol="firm_i")
    va = VectorAssembler(inputCols=["firm_i", "value"], outputCol="features")
    lr = LinearRegression(maxIter=5)
    bucket = Bucketizer(inputCol="prediction", outputCol="bucket", splits=[-float("inf"), 0.0, float("inf")])
    pipeline = Pipeline(stages=[si, va, lr, bucket])
    grid = [{bucket.splits: [-float("inf"), 0.0, float("inf")]}, {bucket.splits: [-float("inf"), 100.0, float("inf")]}]
    assert _length(pipeline, grid) == 3
    storage: list[list[tuple[int, int, int]]] = []
    models = [
        ParallelCrossValidator(
            estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), splitter=KFoldSplitter(numFolds=2, seed=4),
            parallelism=2, refit=False, sharePipelinePrefix=share,
            callback=lambda result: storage.append(_storage(spark.sparkContext)),
        ).fit(grunfeld)
        for share in (False, True)
    ]
    assert models[0].foldMetrics == models[1].foldMetrics
    assert len(_on_disk_only(storage)) == 2  # each fold's validation rows: nothing fits on the training rows' output


def test_an_estimator_that_may_not_be_deterministic_is_fitted_per_map(spark, grunfeld, monkeypatch):
    si = StringIndexer(inputCol="firm", outputCol="firm_i")
    va = VectorAssembler(inputCols=["firm_i", "value"], outputCol="features")
    watched, lr = Watched(), LinearRegression(maxIter=5, predictionCol="p")
    Watched.reset()
    fits = count_fits(monkeypatch, StringIndexer)
    ParallelCrossValidator(
        estimator=Pipeline(stages=[si, va, watched, lr]), estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}],
        evaluator=RegressionEvaluator(predictionCol="p"), splitter=KFoldSplitter(numFolds=2, seed=5), refit=False, parallelism=2,
    ).fit(grunfeld)
    assert len(fits) == 2  # the StringIndexer before it is shared
    assert Watched.calls == 2 * 2  # the Python estimator is not: once per (fold, map), as a whole fit does


def test_a_failing_prefix_fails_the_fit_cleanly_naming_it(spark, grunfeld, monkeypatch):
    pipeline, grid = _pipeline(nested=False)

    def broken(self, dataset):
        raise RuntimeError("indexer broke")

    monkeypatch.setattr(StringIndexer, "_fit", broken)
    with pytest.raises(TaskFailed, match=r"shared pipeline prefix \(StringIndexer_\w+, OneHotEncoder_\w+, .*indexer broke") as error:
        ParallelCrossValidator(
            estimator=pipeline, estimatorParamMaps=grid, evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=3, seed=1), parallelism=3,
        ).fit(grunfeld)
    assert error.value.task.param_map is None
    assert not [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    # nothing left cached: checked after every test (conftest.py)


def test_share_pipeline_prefix_is_a_param_that_persists(tmp_path):
    validator = ParallelCrossValidator(sharePipelinePrefix=False)
    assert validator.getSharePipelinePrefix() is False
    assert ParallelCrossValidator().getSharePipelinePrefix() is True
    assert validator.setSharePipelinePrefix(True).getSharePipelinePrefix() is True
    assert ParallelCrossValidator().getCachePrefixOutput() is True
    assert validator.setCachePrefixOutput(False).getCachePrefixOutput() is False
    with pytest.raises(TypeError, match="Boolean"):
        ParallelCrossValidator(cachePrefixOutput="yes")


def test_a_folds_tasks_wait_for_its_prefix_and_other_folds_do_not():
    from splitcv.queue import LongestFirst, Task

    prefixes = {f: Task(f, None, 10.0 * f + 0.5) for f in range(2)}
    tasks = list(prefixes.values()) + [Task(f, j, 10.0 * f, after=prefixes[f]) for f in range(2) for j in range(2)]
    queue = LongestFirst(tasks)
    assert queue.next_task() == prefixes[1]  # the longest fold's prefix first
    assert queue.next_task() == prefixes[0]  # fold 1's maps wait: fold 0's prefix goes instead
    assert queue.next_task() is None  # nothing ready until a prefix finishes
    queue.task_done(prefixes[0], None)
    assert [queue.next_task() for _ in range(3)] == [Task(0, 0, 0.0, prefixes[0]), Task(0, 1, 0.0, prefixes[0]), None]
    queue.task_done(prefixes[1], None)
    assert [t.param_map for t in (queue.next_task(), queue.next_task())] == [0, 1]
    assert queue.next_task() is None
