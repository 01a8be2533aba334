"""Racing (issue 11, part 2): the paired test, successive halving, the scheduler's determinism, and
races on Spark against the exhaustive search. The t quantiles are checked against scipy; halving
against a count of the maps that beat each one; the scheduler against a sequential reference race,
under random task orders and parallelism."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from splitcv.queue import Task
from splitcv.racing import Halving, PairedT, RacingScheduler, clearly_worse, halved, kept_by_halving, t_quantile


@given(st.integers(1, 80), st.floats(0.5, 0.99999))
def test_t_quantile_matches_scipy(df, p):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9, abs=1e-12)


def test_clearly_worse_drops_only_what_the_paired_test_says():
    # the same difference on every fold: no spread, certainly worse
    assert set(clearly_worse({0: [1.0, 2.0], 1: [0.5, 1.5]}, True, 0.95)) == {1}
    # a tie is never dropped
    assert clearly_worse({0: [1.0, 2.0], 1: [1.0, 2.0]}, True, 0.95) == {}
    # smaller is better (rmse): the larger one goes
    assert set(clearly_worse({0: [1.0, 2.0, 1.5], 1: [1.2, 2.2, 1.7]}, False, 0.95)) == {1}
    # noisy differences of either sign: kept
    assert clearly_worse({0: [1.0, 2.0, 1.5], 1: [1.3, 1.6, 1.5]}, True, 0.95) == {}
    # one fold is no evidence; a NaN metric leaves the race at once (it can never be chosen)
    assert clearly_worse({0: [1.0], 1: [0.0]}, True, 0.95) == {}
    assert clearly_worse({0: [1.0], 1: [float("nan")]}, True, 0.95) == {1: "its metric is NaN on a fold"}
    # infinities give no spread to test with: kept
    assert clearly_worse({0: [1.0, 2.0], 1: [float("-inf"), 1.0]}, True, 0.95) == {}
    # +inf and -inf on different folds: an undefined mean, never chosen, so it leaves
    assert clearly_worse({0: [1.0, 2.0], 1: [float("inf"), float("-inf")]}, True, 0.95) == {
        1: "its mean is undefined: +inf and -inf on different folds"}


def test_higher_confidence_drops_no_more_maps():
    rng = np.random.default_rng(0)
    for _ in range(200):
        table = {j: list(rng.normal(j * 0.1, 0.2, size=3)) for j in range(5)}
        assert set(clearly_worse(table, True, 0.99)) <= set(clearly_worse(table, True, 0.9))


# -- successive halving ------------------------------------------------------------------------------

KEEPS = st.sampled_from([Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(9, 10)])


@given(
    st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, float("nan"), float("-inf"), float("inf")]),
                      min_size=3, max_size=3),
             min_size=1, max_size=9),
    KEEPS, st.booleans(),
)
def test_halving_drops_a_map_when_enough_maps_beat_it(rows, keep, larger):
    """The oracle counts: of the r maps with a defined mean (no NaN, not +inf and -inf together),
    ceil(keep * r) stay (exact fractions), and a map leaves when at least that many maps have a
    strictly better mean; ties with it therefore stay. Few distinct values make ties and infinities
    common."""
    table = dict(enumerate(rows))
    drops = halved(table, larger, float(keep))
    with np.errstate(invalid="ignore"):
        means = {j: float(np.mean(values)) for j, values in table.items()}
    nan = {j for j in table if math.isnan(means[j])}
    alive = [j for j in table if j not in nan]
    kept = max(1, math.ceil(keep * len(alive)))
    mean = {j: means[j] for j in alive}
    better = {j: sum(1 for i in alive if (mean[i] > mean[j] if larger else mean[i] < mean[j])) for j in alive}
    expected = nan | ({j for j in alive if better[j] >= kept} if len(alive) > 1 else set())
    assert set(drops) == expected
    assert len(alive) - len(set(drops) - nan) >= min(kept, len(alive))  # never fewer than it keeps
    for j in set(drops) - nan:
        assert f"halving keeps {kept}," in drops[j]


def test_halving_keeps_the_rounded_up_share_and_reports_the_rank():
    assert set(halved({j: [float(j)] for j in range(12)}, True, 0.5)) == set(range(6))
    assert set(halved({j: [float(j)] for j in range(30)}, False, 0.1)) == set(range(3, 30))  # 0.1 * 30 is 3
    assert halved({0: [1.0, 3.0], 1: [2.0, 4.0]}, False, 0.5) == {
        1: "ranked 2 of 2 by its mean 3 over 2 folds; halving keeps 1, the last kept has 2"}
    assert halved({0: [1.0], 1: [1.0]}, True, 0.5) == {}  # a tie for the one place: both stay


# -- the scheduler: the same race whatever the order tasks finish in -------------------------------


def _reference_race(table, folds, maps, rule):
    """The race run fold by fold, one task at a time: the drops and the (fold, map) tasks run."""
    alive, dropped, ran = list(range(maps)), {}, set()
    for position, fold in enumerate(folds):
        ran |= {(fold, j) for j in alive}
        if position + 1 >= rule.folds_before_deciding and position < len(folds) - 1:
            history = {j: [table[f][j] for f in folds[: position + 1]] for j in alive}
            for j in rule(history):
                dropped[j] = position
            alive = [j for j in alive if j not in dropped]
    return dropped, ran


@st.composite
def races(draw):
    k, m = draw(st.integers(2, 6)), draw(st.integers(1, 6))
    # a NaN base makes a map NaN on every fold: it leaves the race at the first decision
    base = [draw(st.one_of(st.floats(0, 1), st.just(float("nan")))) for _ in range(m)]
    noise = draw(st.floats(0, 0.3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    table = [[b + rng.normal(0, noise) for b in base] for _ in range(k)]
    skipped = draw(st.sets(st.integers(0, k - 1), max_size=k - 2))
    return table, [f for f in range(k) if f not in skipped], m, draw(st.booleans()), draw(st.integers(1, 8)), seed


@given(races(), st.booleans(), st.booleans(), st.one_of(st.none(), KEEPS))
def test_the_race_is_the_same_at_every_parallelism_and_task_order(case, with_prefix, together, keep):
    """``together``: a fold's maps are scored in one pass by whichever of its tasks ends last, as
    scoreInOnePass does; the others report no metric. ``keep``: halving, or None for the paired test."""
    table, folds, m, larger, parallelism, seed = case
    rule = PairedT(larger, 0.95) if keep is None else Halving(larger, float(keep))
    tasks = []
    for f in folds:
        prefix = Task(f, None) if with_prefix else None
        tasks += ([prefix] if prefix else []) + [Task(f, j, after=prefix) for j in range(m)]
    scheduler = RacingScheduler(tasks, folds, m, rule)
    rng = random.Random(seed)
    in_flight, ran, prefixes, fitted = [], set(), set(), {}
    while True:  # what run_tasks does, finishing a random task in flight each time
        while len(in_flight) < parallelism:
            task = scheduler.next_task()
            if task is None:
                break
            assert task.param_map is None or task.param_map not in scheduler.dropped
            in_flight.append(task)
        if not in_flight:
            break
        task = in_flight.pop(rng.randrange(len(in_flight)))
        result = {}
        if task.param_map is not None:
            ran.add((task.fold, task.param_map))
            waiting = fitted.setdefault(task.fold, set()) if together else set()
            waiting.add(task.param_map)
            if not together or waiting == scheduler.maps_of(task.fold):
                result = {j: table[task.fold][j] for j in waiting}
        else:
            prefixes.add(task.fold)
        scheduler.task_done(task, result)
    expected_dropped, expected_ran = _reference_race(table, folds, m, rule)
    assert scheduler.dropped == expected_dropped
    assert ran == expected_ran
    # a fold's shared prefix is fitted only if some map still runs on that fold
    assert prefixes == ({f for f, _ in expected_ran} if with_prefix else set())
    if not all(math.isnan(b) for b in table[0]):
        assert len(scheduler.dropped) < m  # the best so far is never dropped
    # a map that ran every fold was not dropped: no decision comes after the last fold
    assert all(position < len(folds) - 1 for position in scheduler.dropped.values())


@given(st.integers(1, 16), st.integers(1, 8), KEEPS, st.integers(0, 2**32 - 1))
def test_halving_runs_the_arithmetic_count_of_tasks(maps, folds, keep, seed):
    """Without NaN or ties, fold f runs r_f maps, r_0 = maps and r_(f+1) = ceil(keep * r_f): the
    tasks run are counted from the scheduler, the expected ones from that sequence alone."""
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(folds, maps))  # continuous: no ties
    scheduler = RacingScheduler([Task(f, j) for f in range(folds) for j in range(maps)], list(range(folds)), maps,
                                Halving(True, float(keep)))
    ran, alive = 0, maps
    while (task := scheduler.next_task()) is not None:
        ran += 1
        scheduler.task_done(task, {task.param_map: table[task.fold][task.param_map]})
    expected = 0
    for _ in range(folds):
        expected += alive
        alive = max(1, math.ceil(keep * alive))
    assert ran == expected


# -- on Spark: the race against the exhaustive search ----------------------------------------------


@pytest.fixture(scope="module")
def regression(spark):
    from pyspark.ml.linalg import Vectors

    rng = random.Random(1)
    rows = []
    for _ in range(300):
        x = rng.gauss(0, 1)
        rows.append((Vectors.dense([x, rng.gauss(0, 1)]), 3 * x + rng.gauss(0, 0.5)))
    return spark.createDataFrame(rows, ["features", "label"])


def _five_ridges(regression, racing: bool, parallelism: int, one_pass: bool = True):
    """Four folds of five ridge maps, of which the last three are clearly worse than the first two."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression

    from splitcv import KFoldSplitter, ParallelCrossValidator

    lr = LinearRegression()
    grid = [{lr.regParam: r} for r in (0.0, 0.01, 1.0, 3.0, 10.0)]
    return ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), refit=False,
        splitter=KFoldSplitter(numFolds=4, seed=3), parallelism=parallelism, racing=racing,
        scoreInOnePass=one_pass, collectSubModels=True,
    ).fit(regression)


@pytest.fixture(scope="module")
def raced(spark, regression):
    """The race at parallelism 4 with one-pass scoring (the default), and the Spark jobs it ran."""
    from estimators import jobs_of

    return jobs_of(spark, lambda: _five_ridges(regression, racing=True, parallelism=4))


def test_racing_drops_clearly_worse_maps_and_keeps_the_exhaustive_winner(regression, raced):
    exhaustive, (raced, _) = _five_ridges(regression, racing=False, parallelism=4), raced
    assert raced.bestIndex == exhaustive.bestIndex
    table = raced.summary()
    dropped = raced.cvResults["dropped_after_fold"]
    assert dropped[exhaustive.bestIndex] is None
    assert [d is not None for d in dropped] == [False, False, True, True, True]
    for j, after in enumerate(dropped):
        for f in range(4):
            never_ran = after is not None and f > after
            assert (raced.subModels[f][j] is None) == never_ran  # never fitted, counted from the tasks run
            assert math.isnan(raced.foldMetrics[f][j]) == never_ran
            if not never_ran:
                assert raced.foldMetrics[f][j] == exhaustive.foldMetrics[f][j]
        if after is not None:
            assert raced.avgMetrics[j] == pytest.approx(np.mean([exhaustive.foldMetrics[f][j] for f in range(after + 1)]))
            assert "worse than map" in raced.cvResults["dropped_reason"][j]
    ranks = raced.cvResults["rank_test_score"]
    assert max(ranks[j] for j in range(5) if dropped[j] is None) < min(ranks[j] for j in range(5) if dropped[j] is not None)
    assert str(table["dropped_after_fold"].dtype) == "Int64"


def test_racing_scores_the_maps_still_in_the_race_in_one_pass_per_fold(spark, regression, raced):
    """With one-pass scoring (the default), each fold's maps still in the race are scored by one
    aggregation: the same race and metrics as scoring map by map, with fewer Spark jobs. The race
    scored map by map runs at parallelism 1, so this is also the same race at another parallelism
    (job counts do not depend on it: it only sizes the thread pool)."""
    from estimators import jobs_of

    apart, apart_jobs = jobs_of(spark, lambda: _five_ridges(regression, racing=True, parallelism=1, one_pass=False))
    together, together_jobs = raced
    dropped = together.cvResults["dropped_after_fold"]
    assert dropped == apart.cvResults["dropped_after_fold"] == [None, None, 2, 2, 2]
    for row_apart, row_together in zip(apart.foldMetrics, together.foldMetrics):
        assert row_together == pytest.approx(row_apart, rel=1e-12, nan_ok=True)
    # per fold, one aggregation (2 jobs under adaptive execution) instead of one job per map run
    runs = [sum(1 for j in range(5) if dropped[j] is None or f <= dropped[j]) for f in range(4)]
    assert runs == [5, 5, 5, 2]
    assert apart_jobs - together_jobs == sum(r - 2 for r in runs)


def test_racing_confidence_is_checked_and_persists(spark, tmp_path):
    from splitcv import ParallelCrossValidator

    with pytest.raises(ValueError, match=r"racingConfidence=1.5 is outside \(0.5, 1\)"):
        ParallelCrossValidator(racingConfidence=1.5)
    with pytest.raises(TypeError, match="racingConfidence='high'"):
        ParallelCrossValidator(racingConfidence="high")
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression

    from splitcv import KFoldSplitter

    lr = LinearRegression()
    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=2), racing=True, racingConfidence=0.99,
    )
    cv.write().save(str(tmp_path / "cv"))
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv"))
    assert (loaded.getRacing(), loaded.getRacingConfidence()) == (True, 0.99)
    assert (loaded.getRacingRule(), loaded.getRacingKeep()) == ("paired-t", 0.5)  # the defaults
    cv.setRacingRule("halving").setRacingKeep(0.25).write().overwrite().save(str(tmp_path / "cv"))
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv"))
    assert (loaded.getRacingRule(), loaded.getRacingKeep()) == ("halving", 0.25)


@pytest.mark.parametrize("name, value, error, message", [
    ("racingRule", "ttest", ValueError, r"racingRule='ttest' is not one of 'paired-t', 'halving'"),
    ("racingKeep", 1.0, ValueError, r"racingKeep=1.0 is outside \(0, 1\); give e.g. 0.5"),
    ("racingKeep", 0, ValueError, r"racingKeep=0 is outside \(0, 1\)"),
    ("racingKeep", True, TypeError, r"racingKeep=True is not a number"),
    ("racingKeep", "half", TypeError, r"racingKeep='half' is not a number; give one in \(0, 1\), e.g. 0.5"),
])
def test_racing_rule_and_keep_are_checked_when_set(name, value, error, message):
    from splitcv import ParallelCrossValidator

    with pytest.raises(error, match=message):
        ParallelCrossValidator(**{name: value})


def test_the_rules_check_their_own_shares():
    with pytest.raises(ValueError, match=r"Halving keep=1.0 is outside \(0, 1\)"):
        Halving(True, 1.0)
    with pytest.raises(ValueError, match=r"PairedT confidence=0.4 is outside \(0.5, 1\)"):
        PairedT(True, 0.4)


def test_numpy_numbers_are_taken_for_racing_shares():
    from splitcv import ParallelCrossValidator

    cv = ParallelCrossValidator(racingKeep=np.float32(0.25), racingConfidence=np.float64(0.9))
    assert (cv.getRacingKeep(), cv.getRacingConfidence()) == (0.25, 0.9)
    # float32's 0.1 is 0.10000000149 as a Python float, which would keep 4 of 30 maps, not 3
    assert ParallelCrossValidator(racingKeep=np.float32(0.1)).getRacingKeep() == 0.1


def test_a_race_that_leaves_no_map_says_racing_did_it():
    """Halving leaves one map; if that map's metric is NaN on a later fold, no map ran every fold
    with a defined metric: the error says so and how to keep the others, instead of blaming their
    metrics."""
    from splitcv.selection import select_best

    nan = float("nan")
    metrics = [[1.0, 2.0, 3.0], [1.0, nan, 3.0], [nan, nan, nan]]
    unrun = [(1, 0), (2, 0), (2, 1)]  # map 0 left after fold 0, map 1 after fold 1
    with pytest.raises(ValueError) as caught:
        select_best(metrics, False, unrun=unrun)
    message = str(caught.value)
    assert "map 0: left the race before its last folds; map 1: NaN on folds [1]; map 2: NaN on folds [2]" in message
    assert "racing=False" in message and "larger racingKeep" in message
    # every map NaN on the first fold: all left at once, and racing=False would not help
    with pytest.raises(ValueError) as caught:
        select_best([[nan, nan], [1.0, 2.0]], False, unrun=[(1, 0), (1, 1)])
    assert "map 0: NaN on folds [0]; map 1: NaN on folds [0]" in str(caught.value)
    assert "racing=False" not in str(caught.value)
    # a map that left with +inf and -inf is named for its undefined mean, not as raced out
    inf = float("inf")
    with pytest.raises(ValueError) as caught:
        select_best([[inf, 1.0], [-inf, nan], [nan, nan]], False, unrun=[(2, 0)])
    assert "map 0: average nan: +inf and -inf on different folds; map 1: NaN on folds [1, 2]" in str(caught.value)
    assert "racing=False" not in str(caught.value)


def test_a_share_that_keeps_every_map_warns_and_drops_none(spark):
    from estimators import Constant, MeanPrediction
    from splitcv import KFoldSplitter, ParallelCrossValidator

    est = Constant()
    cv = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=[{est.value: float(v)} for v in range(3)], evaluator=MeanPrediction(),
        splitter=KFoldSplitter(numFolds=3), racing=True, racingRule="halving", racingKeep=0.7, refit=False,
    )
    df = spark.range(30).selectExpr("id as t", "cast(id as double) as label")
    with pytest.warns(UserWarning, match=r"racingKeep=0.7 keeps all 3 param maps .* at most 0.666 \(e.g. 0.5\)"):
        model = cv.fit(df)
    assert model.cvResults["dropped_after_fold"] == [None, None, None]
    assert kept_by_halving(0.666, 3) == 2 and kept_by_halving(0.667, 3) == 3  # the number shown drops one


def test_racing_with_a_one_pass_fit_multiple_scores_each_map_as_its_own(spark):
    """An estimator whose fitMultiple hands out every map's model in its own order: once a map
    leaves the race, a fold has fewer tasks than maps, and each task must still get its own map."""
    from estimators import Constant, MeanPrediction
    from splitcv import KFoldSplitter, ParallelCrossValidator

    class OnePass(Constant):
        def fitMultiple(self, dataset, paramMaps):
            return iter([(i, self.copy(pm)._fit(dataset)) for i, pm in enumerate(paramMaps)])

    df = spark.range(200).selectExpr("id as t", "cast(id % 7 as double) as label")
    est = OnePass()
    grid = [{est.value: 0.0}, {est.value: 10.0}, {est.value: 10.0}]
    model = ParallelCrossValidator(
        estimator=est, estimatorParamMaps=grid, evaluator=MeanPrediction(), refit=False,
        splitter=KFoldSplitter(numFolds=4, seed=3), parallelism=2, racing=True,
    ).fit(df)
    assert model.cvResults["dropped_after_fold"] == [1, None, None]
    assert [row[1:] for row in model.foldMetrics] == [[10.0, 10.0]] * 4
    assert [row[0] for row in model.foldMetrics[:2]] == [0.0, 0.0]
    assert all(math.isnan(row[0]) for row in model.foldMetrics[2:])
    assert model.bestIndex == 1


def test_a_raced_model_with_sub_models_saves_and_loads(spark, regression, tmp_path):
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression

    from splitcv import KFoldSplitter, ParallelCrossValidator, ParallelCrossValidatorModel

    lr = LinearRegression()
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: r} for r in (0.0, 10.0)], evaluator=RegressionEvaluator(),
        refit=False, splitter=KFoldSplitter(numFolds=3, seed=3), racing=True, collectSubModels=True,
    ).fit(regression)
    assert model.cvResults["dropped_after_fold"] == [None, 1]
    model.write().save(str(tmp_path / "raced"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "raced"))
    assert [[m is None for m in row] for row in loaded.subModels] == [[False, False], [False, False], [False, True]]
    assert loaded.cvResults["dropped_after_fold"] == [None, 1]
    # a model saved before racingRule and racingKeep existed: their metadata lacks them
    metadata = next((tmp_path / "raced" / "metadata").glob("part-*"))
    saved = json.loads(metadata.read_text())
    for section in ("paramMap", "defaultParamMap"):
        for name in ("racingRule", "racingKeep"):
            saved[section].pop(name, None)
    metadata.write_text(json.dumps(saved))
    for checksum in metadata.parent.glob(".*.crc"):  # Hadoop's checksums of the text as written
        checksum.unlink()
    old = ParallelCrossValidatorModel.load(str(tmp_path / "raced"))
    assert (old.getRacingRule(), old.getRacingKeep(), old.getRacing()) == ("paired-t", 0.5, True)


def test_a_race_on_quarterly_macro_data_is_the_reference_race_on_the_exhaustive_metrics(spark):
    """Real data (statsmodels' US macro quarters, an expanding window of 5 folds): the race run on
    Spark, scored in one pass at parallelism 4, drops exactly the maps a sequential reference race
    drops when fed the exhaustive search's fold metrics, under either rule; the folds it runs have
    those metrics, scored map by map through Spark's RegressionEvaluator as the second oracle."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression

    from estimators import macro_investment
    from splitcv import ExpandingWindowSplitter, ParallelCrossValidator

    macro = macro_investment(spark)
    lr = LinearRegression(solver="normal")  # one or two jobs per fit: the claim is about the race
    grid = [{lr.regParam: r} for r in (0.0, 300.0, 3000.0, 30000.0)]

    def fit(racing, one_pass, parallelism, **rule):
        return ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator(), refit=False,
            splitter=ExpandingWindowSplitter(timeCol="t", horizon=12, numFolds=5), racing=racing,
            scoreInOnePass=one_pass, parallelism=parallelism, **rule,
        ).fit(macro)

    exhaustive = fit(False, False, 4)
    for rule, params in [(PairedT(False, 0.95), {}), (Halving(False, 0.5), {"racingRule": "halving"})]:
        raced = fit(True, True, 4, **params)
        expected, ran = _reference_race(exhaustive.foldMetrics, list(range(5)), len(grid), rule)
        dropped = raced.cvResults["dropped_after_fold"]
        assert {j: f for j, f in enumerate(dropped) if f is not None} == expected, rule
        assert expected, "the reference race drops maps on this data, so the comparison means something"
        for f in range(5):
            for j in range(len(grid)):
                if (f, j) in ran:
                    assert raced.foldMetrics[f][j] == pytest.approx(exhaustive.foldMetrics[f][j], rel=1e-12)
                else:
                    assert math.isnan(raced.foldMetrics[f][j])
        assert raced.bestIndex == exhaustive.bestIndex
    # halving's count: 4 maps, then 2, then 1 for the last three folds
    assert len(ran) == 4 + 2 + 1 + 1 + 1
