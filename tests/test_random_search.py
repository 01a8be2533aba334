"""Random search (splitcv.search): reproducible draws, ranges, crossing with fixed axes, typed values,
bad input refused with a message that names it; one Spark test runs the maps through both validators."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, strategies as st
from pyspark.ml.param import Param, Params, TypeConverters

import splitcv
from splitcv import RandomParamGridBuilder, choice, loguniform, randint, uniform


class Toy(Params):
    """Params of every converter kind, without a JVM: pure tests need no SparkContext."""

    maxIter = Param(Params._dummy(), "maxIter", "maximum iterations", typeConverter=TypeConverters.toInt)
    regParam = Param(Params._dummy(), "regParam", "regularization", typeConverter=TypeConverters.toFloat)
    solver = Param(Params._dummy(), "solver", "the solver", typeConverter=TypeConverters.toString)
    fitIntercept = Param(Params._dummy(), "fitIntercept", "fit an intercept", typeConverter=TypeConverters.toBoolean)
    layers = Param(Params._dummy(), "layers", "layer sizes", typeConverter=TypeConverters.toListInt)
    anything = Param(Params._dummy(), "anything", "no converter")

    def __init__(self) -> None:
        super().__init__()


toy = Toy()


def by_name(maps):
    return [{p.name: v for p, v in m.items()} for m in maps]


def search(seed=None, num_maps=5, extra=()):
    builder = RandomParamGridBuilder(numMaps=num_maps) if seed is None else RandomParamGridBuilder(numMaps=num_maps, seed=seed)
    builder.addDistribution(toy.regParam, loguniform(1e-4, 10.0)).addDistribution(toy.maxIter, randint(1, 100))
    builder.addDistribution(toy.solver, choice(["l-bfgs", "normal", "auto"]))
    for param, distribution in extra:
        builder.addDistribution(param, distribution)
    return builder.build()


seeds = st.integers(min_value=-(2**63), max_value=2**64 - 1)


# -- reproducibility -------------------------------------------------------------------------------


@given(seed=seeds, num_maps=st.integers(1, 30))
def test_the_same_seed_draws_the_same_maps(seed, num_maps):
    first = search(seed, num_maps)
    assert first == search(seed, num_maps)
    assert len(first) == num_maps
    assert by_name(first) != by_name(search(seed + 1, num_maps))  # loguniform floats: a collision is ~2**-50


@given(seed=seeds, fewer=st.integers(1, 20), more=st.integers(0, 20))
def test_more_maps_extend_fewer_and_a_later_distribution_changes_no_earlier_draw(seed, fewer, more):
    few = by_name(search(seed, fewer))
    many = by_name(search(seed, fewer + more, extra=[(toy.fitIntercept, choice([True, False]))]))
    assert [{k: v for k, v in m.items() if k != "fitIntercept"} for m in many[:fewer]] == few


def test_fixed_axes_change_no_draw():
    drawn = by_name(search(3, 4))
    crossed = by_name(
        RandomParamGridBuilder(numMaps=4, seed=3).addGrid(toy.fitIntercept, [True, False])
        .addDistribution(toy.regParam, loguniform(1e-4, 10.0)).addDistribution(toy.maxIter, randint(1, 100))
        .addDistribution(toy.solver, choice(["l-bfgs", "normal", "auto"])).build()
    )
    assert [{k: v for k, v in m.items() if k != "fitIntercept"} for m in crossed[::2]] == drawn


def test_pinned_draws_of_the_default_seed():
    # The stream is PCG64's raw words turned into values by our own arithmetic: these numbers stay
    # the same across numpy versions. If this fails, every search rebuilt from its seed changes.
    maps = by_name(search(num_maps=3))
    assert [m["maxIter"] for m in maps] == PINNED_MAX_ITER
    assert [m["solver"] for m in maps] == PINNED_SOLVER
    assert [m["regParam"] for m in maps] == pytest.approx(PINNED_REG_PARAM, rel=1e-12)
    assert maps == by_name(search(splitcv.search.DEFAULT_SEED, 3))


PINNED_MAX_ITER = [60, 6, 77]
PINNED_SOLVER = ["l-bfgs", "auto", "l-bfgs"]
PINNED_REG_PARAM = [3.8346063558480505, 3.588668463184984, 2.415252403979372]

_SCRIPT = """
import json
from pyspark.ml.param import Param, Params, TypeConverters
from splitcv import RandomParamGridBuilder, choice, loguniform, randint, uniform

class Toy(Params):
    a = Param(Params._dummy(), "a", "", typeConverter=TypeConverters.toFloat)
    b = Param(Params._dummy(), "b", "", typeConverter=TypeConverters.toInt)
    c = Param(Params._dummy(), "c", "", typeConverter=TypeConverters.toString)
    d = Param(Params._dummy(), "d", "", typeConverter=TypeConverters.toFloat)
    def __init__(self):
        super().__init__()

t = Toy()
for seed in (None, 7):
    builder = RandomParamGridBuilder(numMaps=6) if seed is None else RandomParamGridBuilder(numMaps=6, seed=seed)
    maps = (builder.addGrid(t.c, ["x", "y"]).addDistribution(t.a, loguniform(1e-3, 1e3))
            .addDistribution(t.b, randint(0, 10**6)).addDistribution(t.d, uniform(-1.0, 1.0)).build())
    print(json.dumps([[[p.name, v] for p, v in m.items()] for m in maps]))
"""


def test_maps_are_the_same_in_every_process():
    root = str(Path(splitcv.__file__).resolve().parent.parent)  # this checkout's splitcv, not an installed one
    outputs = []
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": root}
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=True)
        outputs.append(done.stdout)
    here = io.StringIO()
    with contextlib.redirect_stdout(here):
        exec(_SCRIPT, {})
    assert outputs[0] == outputs[1] == here.getvalue()
    default, seven = [json.loads(line) for line in outputs[0].splitlines()]
    assert len(default) == 12 and default != seven


# -- what each distribution draws ---------------------------------------------------------------------


finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=5e-324, max_value=1e308)


@pytest.mark.parametrize("make, numbers", [(uniform, finite), (loguniform, positive)], ids=["uniform", "loguniform"])
@given(data=st.data(), seed=seeds)
def test_continuous_draws_fall_in_low_inclusive_high_exclusive(make, numbers, data, seed):
    low, high = data.draw(st.tuples(numbers, numbers).filter(lambda b: b[0] < b[1]), label="bounds")
    rng = np.random.Generator(np.random.PCG64(seed % 2**64))
    for _ in range(20):
        x = make(low, high).rvs(random_state=rng)
        assert type(x) is float and low <= x < high


def _draws(distribution, n, seed=11):
    rng = np.random.Generator(np.random.PCG64(seed))
    return [distribution.rvs(random_state=rng) for _ in range(n)]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (uniform(-2.0, 3.0), scipy.stats.uniform(-2.0, 5.0)),  # scipy's (loc, scale)
        (loguniform(1e-4, 1e2), scipy.stats.loguniform(1e-4, 1e2)),
    ],
    ids=["uniform", "loguniform"],
)
def test_continuous_draws_follow_scipys_distribution(ours, theirs):
    # A fixed seed makes the test deterministic; scipy's CDF is an oracle independent of our arithmetic.
    draws = _draws(ours, 4000)
    assert scipy.stats.kstest(draws, theirs.cdf).pvalue > 0.01
    if isinstance(theirs.dist, type(scipy.stats.loguniform)):  # the log of a loguniform draw is uniform
        logs = np.log(draws)
        assert scipy.stats.kstest(logs, scipy.stats.uniform(math.log(1e-4), math.log(1e6)).cdf).pvalue > 0.01


def test_randint_excludes_high_as_scipy_does_and_draws_each_value_alike():
    draws = _draws(randint(3, 9), 6000)
    first, last = scipy.stats.randint(3, 9).support()  # scipy's support is inclusive: 3 to 8
    assert set(draws) == set(range(int(first), int(last) + 1)) == set(range(3, 9))
    counts = [draws.count(v) for v in range(3, 9)]
    assert scipy.stats.chisquare(counts).pvalue > 0.01
    assert all(type(x) is int for x in draws)


@given(low=st.integers(-(2**70), 2**70), span=st.integers(1, 2**80), seed=seeds)
def test_randint_stays_in_range_for_any_span(low, span, seed):
    rng = np.random.Generator(np.random.PCG64(seed % 2**64))
    for _ in range(10):
        assert low <= randint(low, low + span).rvs(random_state=rng) < low + span


@given(values=st.lists(st.one_of(st.integers(), st.text(max_size=3), st.booleans()), min_size=1, max_size=5, unique_by=repr), seed=seeds)
def test_every_choice_is_drawn(values, seed):
    rng = np.random.Generator(np.random.PCG64(seed % 2**64))
    drawn = [choice(values).rvs(random_state=rng) for _ in range(200)]  # a value missed: p < 5 * (4/5)**200 ~ 2e-19
    assert {repr(v) for v in drawn} == {repr(v) for v in values}


def test_rvs_takes_a_seed_or_none_and_none_is_the_default_seed():
    d = uniform(0.0, 1.0)
    assert d.rvs(random_state=5) == d.rvs(random_state=5) != d.rvs(random_state=6)
    assert d.rvs() == d.rvs(random_state=splitcv.search.DEFAULT_SEED)


# -- crossing with fixed axes ----------------------------------------------------------------------


@given(num_maps=st.integers(1, 6), sizes=st.lists(st.integers(1, 4), max_size=3), seed=seeds)
def test_fixed_axes_cross_every_draw(num_maps, sizes, seed):
    params = [toy.solver, toy.maxIter, toy.anything][: len(sizes)]
    builder = RandomParamGridBuilder(numMaps=num_maps, seed=seed)
    for param, size in zip(params, sizes):
        builder.addGrid(param, list(range(size)) if param is toy.maxIter else [f"v{i}" for i in range(size)])
    maps = builder.addDistribution(toy.regParam, uniform(0.0, 1.0)).build()
    per_draw = math.prod(sizes)
    assert len(maps) == num_maps * per_draw
    assert len({m[toy.regParam] for m in maps}) == num_maps
    for d in range(num_maps):  # each drawn point, in draw order, with every combination of fixed values
        block = maps[d * per_draw:(d + 1) * per_draw]
        assert len({m[toy.regParam] for m in block}) == 1
        assert len({tuple(m[p] for p in params) for m in block}) == per_draw
        assert all(list(m) == params + [toy.regParam] for m in block)  # Params in the order they were added


def test_base_on_fixes_a_param_in_every_map():
    maps = RandomParamGridBuilder(numMaps=3).baseOn({toy.solver: "normal"}).baseOn((toy.maxIter, 5)) \
        .addDistribution(toy.regParam, uniform(0.0, 1.0)).build()
    assert [(m[toy.solver], m[toy.maxIter]) for m in maps] == [("normal", 5)] * 3


# -- typed, plain values ---------------------------------------------------------------------------


def test_values_pass_through_the_params_converter_and_come_out_plain():
    maps = (
        RandomParamGridBuilder(numMaps=4)
        .addGrid(toy.fitIntercept, [np.bool_(True)])
        .addDistribution(toy.maxIter, choice([12.0, np.float64(30.0)]))  # whole floats: ints, as toInt makes them
        .addDistribution(toy.regParam, scipy.stats.loguniform(1e-3, 1.0))
        .addDistribution(toy.anything, scipy.stats.norm(0, 1))  # no converter: still no numpy scalar
        .addDistribution(toy.solver, choice(np.array(["a", "b"])))
        .addDistribution(toy.layers, choice([[4, np.int64(3), 2.0]]))
        .build()
    )
    for m in maps:
        assert m[toy.fitIntercept] is True and m[toy.maxIter] in (12, 30) and type(m[toy.maxIter]) is int
        assert type(m[toy.regParam]) is float and type(m[toy.anything]) is float
        assert type(m[toy.solver]) is str and m[toy.layers] == [4, 3, 2]
    json.dumps(by_name(maps))  # the validator saves maps as JSON
    # numpy scalars pyspark's converters refuse (float32 is not among toFloat's types) pass once plain
    assert RandomParamGridBuilder(numMaps=1).addGrid(toy.regParam, [np.float32(0.5)]) \
        .addDistribution(toy.maxIter, randint(1, 2)).build() == [{toy.regParam: 0.5, toy.maxIter: 1}]


def test_scipy_distributions_are_reproducible_too():
    def build(seed):
        return RandomParamGridBuilder(numMaps=5, seed=seed).addDistribution(toy.maxIter, scipy.stats.randint(1, 10**6)).build()

    assert build(1) == build(1) and all(1 <= m[toy.maxIter] < 10**6 for m in build(1))


def test_repeated_draws_are_warned_about():
    builder = RandomParamGridBuilder(numMaps=10).addDistribution(toy.solver, choice(["a", "b"]))
    with pytest.warns(UserWarning, match=r"of the 10 drawn maps repeat an earlier one.*addGrid"):
        builder.build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RandomParamGridBuilder(numMaps=10).addDistribution(toy.regParam, uniform(0, 1)).build()


# -- bad input, before any fit ---------------------------------------------------------------------


class NoRandomState:
    def rvs(self, size=None):
        return 1.0


class IgnoresRandomState:
    def __init__(self):
        self.rng = np.random.default_rng()

    def rvs(self, random_state=None):
        return float(self.rng.random())


class WholeThenNot:
    """Draws 12.0 twice (the trial draws pass), then 12.7: caught by build, naming the draw."""

    def __init__(self):
        self.calls = 0

    def rvs(self, random_state=None):
        self.calls += 1
        return 12.0 if self.calls <= 2 else 12.7

    def __repr__(self):
        return "WholeThenNot()"


def builder():
    return RandomParamGridBuilder(numMaps=3)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: uniform(1.0, 1.0), ValueError, r"uniform\(low=1.0, high=1.0\): low must be below high; give two different ends, e.g. uniform\(1.0, 2.0\)"),
        (lambda: uniform(2.0, 1.0), ValueError, r"low must be below high.*uniform\(1.0, 2.0\)"),
        (lambda: uniform(-2.0, -2.0), ValueError, r"e.g. uniform\(-2.0, 0.0\)"),
        (lambda: uniform(0.0, math.inf), TypeError, r"uniform\(low, high\): high=inf is not a finite number; give one, e.g. uniform\(0.1, 1.0\)"),
        (lambda: uniform(True, 2.0), TypeError, r"low=True is not a finite number"),
        (lambda: loguniform(0.0, 1.0), ValueError, r"low must be above 0.*loguniform\(1e-06, 1.0\)"),
        (lambda: loguniform(-1.0, 5.0), ValueError, r"loguniform\(low=-1.0, high=5.0\): low must be above 0"),
        (lambda: loguniform(2.0, 1.0), ValueError, r"loguniform\(low=2.0, high=1.0\): low must be below high"),
        (lambda: randint(5, 5), ValueError, r"randint\(low=5, high=5\) has no value to draw: high is excluded.*randint\(5, 6\)"),
        (lambda: randint(10, 1), ValueError, r"for 1 to 10 randint\(1, 11\)"),
        (lambda: randint(1.5, 4), TypeError, r"randint: low=1.5 is not a whole number"),
        (lambda: choice([]), ValueError, r"choice\(\[\]\) has nothing to draw"),
        (lambda: choice("l1"), TypeError, r"choice\('l1'\) takes a list of values.*choice\(\['l1'\]\)"),
        (lambda: choice(3), TypeError, r"choice\(3\) takes a list of values"),
        (lambda: RandomParamGridBuilder(numMaps=0), ValueError, r"numMaps=0 is below 1; give the number of maps"),
        (lambda: RandomParamGridBuilder(numMaps=-3), ValueError, r"numMaps=-3 is below 1"),
        (lambda: RandomParamGridBuilder(numMaps=2.5), TypeError, r"numMaps=2.5 is not a whole number.*numMaps=20"),
        (lambda: RandomParamGridBuilder(numMaps=True), TypeError, r"numMaps=True is not a whole number"),
        (lambda: RandomParamGridBuilder(numMaps="10"), TypeError, r"numMaps='10' is not a whole number"),
        (lambda: RandomParamGridBuilder(numMaps=3, seed=0.5), TypeError, r"seed=0.5 is not a whole number"),
        (lambda: builder().addDistribution("regParam", uniform(0, 1)), TypeError,
         r"addDistribution\('regParam', ...\): the key 'regParam', a str, not a Param; pass the estimator's Param"),
        (lambda: builder().addDistribution(Toy.regParam, uniform(0, 1)), ValueError,
         r"the Param 'regParam' of no estimator.*lr.regParam for lr = LogisticRegression\(\)"),
        (lambda: builder().addGrid("solver", ["a"]), TypeError, r"addGrid\('solver', ...\): the key 'solver', a str, not a Param"),
        (lambda: builder().addDistribution(toy.regParam, object()), TypeError, r"is not a distribution: it needs a method rvs\(random_state=...\)"),
        (lambda: builder().addDistribution(toy.regParam, scipy.stats.rv_continuous), TypeError, r"is not a distribution"),
        (lambda: builder().addDistribution(toy.regParam, NoRandomState()), TypeError, r"NoRandomState.*is not a distribution"),
        (lambda: builder().addDistribution(toy.regParam, [0.1, 1.0]), TypeError,
         r"\[0.1, 1.0\] is a list, not a distribution; draw from it with choice\(\[0.1, 1.0\]\), or try every value with addGrid"),
        (lambda: builder().addDistribution(toy.regParam, IgnoresRandomState()), ValueError,
         r"ignores random_state: two draws from the same seed gave"),
        (lambda: builder().addGrid(toy.regParam, [1.0]).addDistribution(toy.regParam, uniform(0, 1)), ValueError,
         r"Toy_\w+\.regParam already takes its values from addGrid; a Param takes values from one place"),
        (lambda: builder().addDistribution(toy.regParam, uniform(0, 1)).addGrid(toy.regParam, [1.0]), ValueError,
         r"already takes its values from addDistribution"),
        (lambda: builder().addDistribution(toy.regParam, uniform(0, 1)).addDistribution(toy.regParam, uniform(0, 2)), ValueError,
         r"already takes its values from addDistribution"),
        (lambda: builder().addGrid(toy.solver, ["a"]).baseOn({toy.solver: "b"}), ValueError, r"already takes its values from addGrid"),
        (lambda: builder().addGrid(toy.solver, []), ValueError, r"addGrid\('solver', ...\): values=\[\] leaves no map"),
        (lambda: builder().addGrid(toy.solver, "normal"), TypeError, r"values='normal' is not a list of values.*\['normal'\]"),
        (lambda: builder().addGrid(toy.regParam, uniform(0, 1)), TypeError, r"is a distribution; draw from it with addDistribution"),
        (lambda: builder().addGrid(toy.solver, ["a", "b"]).build(), ValueError, r"has no distribution to draw from.*ParamGridBuilder"),
        # values the Param refuses: the Param, the value, where it came from and what to draw instead
        (lambda: builder().addDistribution(toy.maxIter, uniform(1, 20)), TypeError,
         r"Toy_\w+\.maxIter cannot take \d+\.\d+ \(a trial draw from uniform\(low=1.0, high=20.0\)\): Could not convert .* to int\. "
         r"maxIter takes whole numbers: draw them with randint\(low, high\)"),
        (lambda: builder().addDistribution(toy.maxIter, scipy.stats.uniform(1, 20)), TypeError,
         r"cannot take .* \(a trial draw from scipy.stats.uniform\(1, 20\)\).*randint"),
        (lambda: builder().addDistribution(toy.maxIter, WholeThenNot()).build(), TypeError,
         r"Toy_\w+\.maxIter cannot take 12.7 \(drawn from WholeThenNot\(\) for draw 0\).*randint"),
        (lambda: builder().addDistribution(toy.solver, choice(["auto", 3])), TypeError,
         r"Toy_\w+\.solver cannot take 3 \(one of choice\(\['auto', 3\]\)\).*choice\(\[...\]\)"),
        (lambda: builder().addGrid(toy.fitIntercept, [1]), TypeError,
         r"\.fitIntercept cannot take 1 \(a value given to addGrid\).*choice\(\[True, False\]\)"),
        (lambda: builder().addDistribution(toy.regParam, choice(["a"])), TypeError, r"regParam takes numbers: draw them with uniform"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(make, error, message):
    with pytest.raises(error, match=message):
        make()


# -- Spark: both validators, and persistence -------------------------------------------------------


def test_random_maps_run_in_both_validators_and_save(spark, tmp_path):
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.linalg import Vectors
    from pyspark.ml.regression import LinearRegression
    from pyspark.ml.tuning import CrossValidator

    from splitcv import KFoldSplitter, ParallelCrossValidator

    # Small on purpose: Spark's CrossValidator fits one map at a time (its foldCol check is a Python
    # UDF, so it deals its own random folds here). That the two agree on identical folds is
    # test_validator's business; this test is about the maps reaching the JVM typed.
    rows = [(Vectors.dense([float(d), float(d % 7)]), 2.0 * d + (d % 5), d % 2) for d in range(40)]
    df = spark.createDataFrame(rows, ["features", "label", "fold"])
    lr = LinearRegression(solver="normal")
    maps = (
        RandomParamGridBuilder(numMaps=2, seed=5)
        .addDistribution(lr.regParam, loguniform(1e-3, 10.0)).addDistribution(lr.maxIter, randint(5, 50)).build()
    )
    evaluator = RegressionEvaluator()
    theirs = CrossValidator(estimator=lr, estimatorParamMaps=maps, evaluator=evaluator, numFolds=2, parallelism=2, seed=1).fit(df)
    assert len(theirs.avgMetrics) == 2
    best = maps[int(np.argmin(theirs.avgMetrics))]
    assert theirs.bestModel.getRegParam() == best[lr.regParam] and theirs.bestModel.getMaxIter() == best[lr.maxIter]

    cv = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=maps, evaluator=evaluator, splitter=KFoldSplitter(numFolds=2, foldCol="fold"),
        parallelism=2, collectSubModels=True, refit=False,
    )
    ours = cv.fit(df)
    assert all(math.isfinite(m) for m in ours.avgMetrics)
    assert [sub.getRegParam() for sub in ours.subModels[0]] == [m[lr.regParam] for m in maps]

    cv.write().save(str(tmp_path / "cv"))
    loaded = ParallelCrossValidator.load(str(tmp_path / "cv")).getEstimatorParamMaps()
    assert loaded == maps and [type(m[lr.maxIter]) for m in loaded] == [int] * 2

    other = LinearRegression()  # a map from another estimator's Params is refused before any job
    stray = RandomParamGridBuilder(numMaps=1).addDistribution(other.regParam, uniform(0, 1)).build()
    with pytest.raises(ValueError, match=r"LinearRegression_\w+\.regParam, which belongs to no stage"):
        cv.copy({cv.estimatorParamMaps: stray}).fit(df)
