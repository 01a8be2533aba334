"""Random search: param maps drawn from distributions, crossed with fixed grid axes.

Spark ML tunes over grids only (``ParamGridBuilder``). :class:`RandomParamGridBuilder` builds the same
kind of list, ``list[dict[Param, value]]``, from ``numMaps`` random draws, so it serves as the
``estimatorParamMaps`` of :class:`~splitcv.ParallelCrossValidator` and of Spark's own ``CrossValidator``
alike. The rules:

* **Draws cross the grid.** ``numMaps`` maps are drawn from the distributions; every fixed axis added
  with :meth:`~RandomParamGridBuilder.addGrid` is crossed with them as ``ParamGridBuilder`` crosses its
  axes, so ``build()`` returns ``numMaps * len(values_1) * ... * len(values_k)`` maps: each drawn point
  is tried with every combination of fixed values (the comparison between fixed values is paired).
* **Reproducible everywhere.** The same seed, distributions (in the order they were added) and
  ``numMaps`` give the same draws in every process and Python version: each distribution draws from
  its own PCG64 stream, spawned from the seed by its position, and the built-in distributions turn
  the stream's raw 64-bit words into values with arithmetic of their own (numpy promises PCG64's words
  across versions, not its ``Generator`` methods' values). ``uniform``, ``randint`` and ``choice`` use
  exact integer and IEEE arithmetic only; ``loguniform`` calls the platform's ``exp`` and ``log``, which
  may differ in the last bit between math libraries. Nothing depends on Python's ``hash()``, and the
  default seed is a constant, not derived from a class name. scipy distributions are as reproducible
  as scipy makes them from the ``Generator`` they are given.
  Consequences: ``numMaps=20`` draws the first 10 maps of ``numMaps=10`` and ten more; a distribution
  added last leaves the earlier ones' draws unchanged; fixed axes change no draw.
* **Values are typed and plain.** Every value goes through its Param's ``typeConverter`` (a draw of
  ``12.0`` for ``maxIter`` becomes ``12``), numpy scalars become Python ones (param maps are saved as
  JSON), and a value the Param refuses is an error naming the Param, the value and what to draw
  instead, raised by ``addGrid``, ``addDistribution`` or ``build`` before any model is fitted.

Any object with a scipy-style ``rvs(random_state=...)`` is a distribution: scipy.stats frozen
distributions, or your own. Each receives a ``numpy.random.Generator`` and is asked for one value per
map. scipy is not needed for the built-in ones.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Any, Optional, Sequence, Union

import numpy as np
from pyspark.ml.param import Param

from splitcv.checks import describe_param_key
from splitcv.splitters.kfold import DEFAULT_SEED

__all__ = ["RandomParamGridBuilder", "Distribution", "uniform", "loguniform", "randint", "choice"]

# A fixed seed for the trial draws addDistribution makes: they are never part of the maps.
_TRIAL_SEED = 0


# -- the random stream ---------------------------------------------------------------------------


def _generator(random_state: Any) -> np.random.Generator:
    """A ``Generator`` from what scipy's ``random_state`` accepts: a Generator, a seed or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:  # not the global state, as scipy would: a draw must be reproducible
        random_state = DEFAULT_SEED
    return np.random.Generator(np.random.PCG64(_seed("random_state", random_state)))


def _unit(rng: np.random.Generator) -> float:
    """A float in [0, 1) from the top 53 bits of one raw word of the stream."""
    return (int(rng.bit_generator.random_raw()) >> 11) * 2.0**-53


def _below(rng: np.random.Generator, n: int) -> int:
    """An integer in [0, n), every one equally likely (rejection sampling on raw words, any size of n)."""
    bits = (n - 1).bit_length()
    words = -(-bits // 64)
    while True:
        x = 0
        for _ in range(words):
            x = (x << 64) | int(rng.bit_generator.random_raw())
        x >>= 64 * words - bits
        if x < n:
            return x


# -- parameter checks: one place -----------------------------------------------------------------


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def _whole(name: str, value: Any, fix: str, minimum: Optional[int] = None) -> int:
    if not _is_whole(value):
        raise TypeError(f"{name}={value!r} is not a whole number; {fix}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value} is below {minimum}; {fix}")
    return value


def _seed(name: str, value: Any) -> int:
    # A negative seed (a Java long, as Spark's seeds are) means its 64-bit two's complement.
    seed = _whole(name, value, f"give a whole number, e.g. {name}={DEFAULT_SEED}")
    return seed % 2**64 if seed < 0 else seed


def _bounds(maker: str, low: Any, high: Any, positive: bool = False) -> tuple[float, float]:
    """``low`` and ``high`` of a continuous distribution as floats, ``low < high`` (and ``0 < low``)."""
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise TypeError(f"{maker}(low, high): {name}={value!r} is not a finite number; give one, e.g. {maker}(0.1, 1.0)")
    low, high = float(low), float(high)
    call = f"{maker}(low={low!r}, high={high!r})"
    if positive and not low > 0:
        example = f"{maker}(1e-06, {high!r})" if high > 1e-6 else f"{maker}(1e-06, 1.0)"
        raise ValueError(f"{call}: low must be above 0 (a logarithm is taken); give a small positive low, e.g. {example}")
    if not low < high:
        example = f"{maker}({high!r}, {low!r})" if low > high else f"{maker}({low!r}, {low + max(1.0, abs(low))!r})"
        raise ValueError(f"{call}: low must be below high; give two different ends, e.g. {example}")
    return low, high


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values, so that param maps save as JSON."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _hint(param: Param) -> str:
    kind = getattr(param.typeConverter, "__name__", "")
    if kind in ("toInt", "toListInt"):
        return f"{param.name} takes whole numbers: draw them with randint(low, high) (high excluded) or choice([...])"
    if kind == "toBoolean":
        return f"{param.name} takes True or False: draw them with choice([True, False])"
    if kind in ("toString", "toListString"):
        return f"{param.name} takes strings: draw them with choice([...])"
    if kind in ("toFloat", "toListFloat"):
        return f"{param.name} takes numbers: draw them with uniform(low, high) or loguniform(low, high)"
    return f"give values {param.name} accepts ({param.doc})"


def _convert(param: Param, value: Any, source: str) -> Any:
    """``value`` as ``param`` holds it, or a TypeError naming the Param, the value and the fix."""
    value = _plain(value)
    try:
        return _plain(param.typeConverter(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{describe_param_key(param)} cannot take {value!r} {source}: {error}. {_hint(param)}") from error


def _describe(distribution: Any) -> str:
    """A distribution as its maker wrote it: ``uniform(low=0.0, high=1.0)``, ``scipy.stats.norm(0, 1)``."""
    maker = getattr(distribution, "dist", None)  # a scipy.stats frozen distribution
    if maker is not None and hasattr(maker, "name") and hasattr(distribution, "args"):
        words = [repr(a) for a in distribution.args] + [f"{k}={v!r}" for k, v in getattr(distribution, "kwds", {}).items()]
        return f"scipy.stats.{maker.name}({', '.join(words)})"
    return repr(distribution)


# -- the distributions ---------------------------------------------------------------------------


class Distribution:
    """What :func:`uniform`, :func:`loguniform`, :func:`randint` and :func:`choice` return: scipy's
    ``rvs(random_state=...)`` over the raw PCG64 stream."""

    def rvs(self, random_state: Any = None) -> Any:
        """One value, drawn from ``random_state`` (a ``numpy.random.Generator``, a seed, or None for
        splitcv's default seed)."""
        return self._draw(_generator(random_state))

    def _draw(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError


class _Uniform(Distribution):
    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def _draw(self, rng: np.random.Generator) -> float:
        u = _unit(rng)
        # (1 - u) * low + u * high cannot overflow, as high - low can; rounding is clamped into [low, high)
        return min(max((1.0 - u) * self.low + u * self.high, self.low), math.nextafter(self.high, -math.inf))

    def __repr__(self) -> str:
        return f"uniform(low={self.low!r}, high={self.high!r})"


class _LogUniform(Distribution):
    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self._log = _Uniform(math.log(low), math.log(high))

    def _draw(self, rng: np.random.Generator) -> float:
        return min(max(math.exp(self._log._draw(rng)), self.low), math.nextafter(self.high, -math.inf))

    def __repr__(self) -> str:
        return f"loguniform(low={self.low!r}, high={self.high!r})"


class _RandInt(Distribution):
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def _draw(self, rng: np.random.Generator) -> int:
        return self.low + _below(rng, self.high - self.low)

    def __repr__(self) -> str:
        return f"randint(low={self.low!r}, high={self.high!r})"


class _Choice(Distribution):
    def __init__(self, values: list) -> None:
        self.values = values

    def _draw(self, rng: np.random.Generator) -> Any:
        return self.values[_below(rng, len(self.values))]

    def __repr__(self) -> str:
        return f"choice({self.values!r})"


def uniform(low: float, high: float) -> Distribution:
    """Floats spread evenly over ``[low, high)``.

    Note the bounds: scipy's ``uniform(loc, scale)`` covers ``[loc, loc + scale]``; this one takes the
    ends, as ``numpy``'s ``Generator.uniform`` does.

    >>> d = uniform(0.0, 0.5)
    >>> d
    uniform(low=0.0, high=0.5)
    >>> x = d.rvs(random_state=1)
    >>> 0.0 <= x < 0.5, type(x).__name__
    (True, 'float')
    >>> uniform(1.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: uniform(low=1.0, high=1.0): low must be below high; give two different ends, e.g. uniform(1.0, 2.0)
    """
    return _Uniform(*_bounds("uniform", low, high))


def loguniform(low: float, high: float) -> Distribution:
    """Floats in ``[low, high)`` whose logarithm is spread evenly: as many draws between 0.001 and 0.01
    as between 0.1 and 1. The usual choice for a regularization strength or a learning rate.
    ``0 < low < high``; the same distribution as ``scipy.stats.loguniform(low, high)``.

    >>> x = loguniform(1e-4, 1.0).rvs(random_state=1)
    >>> 1e-4 <= x < 1.0
    True
    >>> loguniform(0.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: loguniform(low=0.0, high=1.0): low must be above 0 (a logarithm is taken); give a small positive low, e.g. loguniform(1e-06, 1.0)
    """
    return _LogUniform(*_bounds("loguniform", low, high, positive=True))


def randint(low: int, high: int) -> Distribution:
    """Whole numbers ``low, low + 1, ..., high - 1``, each equally likely: ``high`` is excluded, as in
    ``scipy.stats.randint``, ``numpy`` and ``range``.

    >>> d = randint(1, 4)
    >>> sorted({d.rvs(random_state=seed) for seed in range(30)})
    [1, 2, 3]
    >>> randint(5, 5)
    Traceback (most recent call last):
    ...
    ValueError: randint(low=5, high=5) has no value to draw: high is excluded (as in scipy.stats.randint); for 5 alone use randint(5, 6)
    """
    fix = "randint takes whole numbers, e.g. randint(1, 11) for 1 to 10"
    low, high = _whole("randint: low", low, fix), _whole("randint: high", high, fix)
    if not low < high:
        raise ValueError(
            f"randint(low={low}, high={high}) has no value to draw: high is excluded (as in scipy.stats.randint); "
            f"for {low} alone use randint({low}, {low + 1})" + ("" if low == high else f", for {high} to {low} randint({high}, {low + 1})")
        )
    return _RandInt(low, high)


def choice(values: Iterable[Any]) -> Distribution:
    """One of ``values``, each position equally likely (repeat a value to weight it).

    The values are returned as given, so they may be of any kind a Param takes: strings, booleans,
    lists (for ``MultilayerPerceptronClassifier.layers``).

    >>> choice(["l1", "l2"]).rvs(random_state=3) in ("l1", "l2")
    True
    >>> choice([])
    Traceback (most recent call last):
    ...
    ValueError: choice([]) has nothing to draw; give at least one value, e.g. choice(['auto', 'l-bfgs'])
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"choice({values!r}) takes a list of values, not {type(values).__name__}: e.g. choice([{values!r}])")
    values = list(values)
    if not values:
        raise ValueError("choice([]) has nothing to draw; give at least one value, e.g. choice(['auto', 'l-bfgs'])")
    return _Choice(values)


# -- the builder ---------------------------------------------------------------------------------


class RandomParamGridBuilder:
    """Param maps drawn at random, in the style of ``ParamGridBuilder``, for random search.

    ``numMaps`` maps are drawn from the distributions given to :meth:`addDistribution`; fixed axes
    given to :meth:`addGrid` (or :meth:`baseOn`) are crossed with them, as ``ParamGridBuilder`` crosses
    its axes. :meth:`build` returns ``numMaps * len(values_1) * ... * len(values_k)`` maps: for each
    drawn point in draw order, every combination of fixed values in ``ParamGridBuilder``'s order. Each
    map lists its Params in the order they were added. The result is a plain ``list[dict[Param, value]]``
    for ``estimatorParamMaps``.

    ``seed`` fixes the draws: the same seed, distributions and ``numMaps`` give the same maps in every
    process (see :mod:`splitcv.search`). Its default is a constant.

    >>> from pyspark.ml.classification import LogisticRegression
    >>> lr = LogisticRegression()
    >>> maps = (RandomParamGridBuilder(numMaps=3, seed=7)
    ...         .addGrid(lr.fitIntercept, [True, False])
    ...         .addDistribution(lr.regParam, loguniform(1e-4, 1.0))
    ...         .addDistribution(lr.maxIter, randint(10, 101))
    ...         .build())
    >>> len(maps)  # 3 draws x 2 fixed values
    6
    >>> [p.name for p in maps[0]]
    ['fitIntercept', 'regParam', 'maxIter']
    >>> [m[lr.fitIntercept] for m in maps]
    [True, False, True, False, True, False]
    >>> maps[0][lr.regParam] == maps[1][lr.regParam], type(maps[0][lr.maxIter]).__name__
    (True, 'int')
    >>> maps == RandomParamGridBuilder(numMaps=3, seed=7).addGrid(lr.fitIntercept, [True, False]) \\
    ...     .addDistribution(lr.regParam, loguniform(1e-4, 1.0)).addDistribution(lr.maxIter, randint(10, 101)).build()
    True

    A draw its Param refuses fails before any fit, naming the Param, the value and the fix:

    >>> RandomParamGridBuilder(numMaps=5).addDistribution(lr.maxIter, uniform(10, 100))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: LogisticRegression_....maxIter cannot take ... (a trial draw from uniform(low=10.0, high=100.0)): Could not convert ... to int. maxIter takes whole numbers: draw them with randint(low, high) (high excluded) or choice([...])
    """

    def __init__(self, *, numMaps: int, seed: int = DEFAULT_SEED) -> None:
        self._numMaps = _whole("numMaps", numMaps, "give the number of maps to draw, e.g. numMaps=20", minimum=1)
        self._seed = _seed("seed", seed)
        self._grid: dict[Param, list] = {}
        self._distributions: dict[Param, Any] = {}
        self._order: list[Param] = []  # every Param, in the order it was added

    def __repr__(self) -> str:
        return f"RandomParamGridBuilder(numMaps={self._numMaps}, seed={self._seed})"

    def _claim(self, param: Any, call: str) -> None:
        """Refuse a key that is not an estimator's Param, or a Param already given values."""
        if not isinstance(param, Param):
            raise TypeError(f"{call}: {describe_param_key(param)}; pass the estimator's Param, e.g. lr.regParam for lr = LogisticRegression()")
        if param.parent == "undefined":
            raise ValueError(f"{call}: {describe_param_key(param)}; pass an instance's Param, e.g. lr.{param.name} for lr = LogisticRegression()")
        if param in self._grid or param in self._distributions:
            earlier = "addGrid" if param in self._grid else "addDistribution"
            raise ValueError(
                f"{call}: {describe_param_key(param)} already takes its values from {earlier}; a Param takes values from "
                "one place: remove one of the two calls"
            )

    def addGrid(self, param: Param, values: Iterable[Any]) -> RandomParamGridBuilder:
        """Give ``param`` a fixed axis of ``values``, crossed with every drawn map (as in ``ParamGridBuilder``).

        The values are converted by the Param's type converter now, so a bad one fails here.
        """
        call = f"addGrid({getattr(param, 'name', param)!r}, ...)"
        self._claim(param, call)
        if callable(getattr(values, "rvs", None)):
            raise TypeError(f"{call}: {_describe(values)} is a distribution; draw from it with addDistribution(param, distribution)")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"{call}: values={values!r} is not a list of values; give one, e.g. [{values!r}]")
        values = list(values)
        if not values:
            raise ValueError(f"{call}: values=[] leaves no map to build; give at least one value, or leave the Param out")
        self._grid[param] = [_convert(param, v, "(a value given to addGrid)") for v in values]
        self._order.append(param)
        return self

    def baseOn(self, *args: Union[dict[Param, Any], tuple[Param, Any]]) -> RandomParamGridBuilder:
        """Fix Params to one value each, in every map: a dict ``{param: value}`` or ``(param, value)`` pairs."""
        pairs: Sequence = list(args[0].items()) if len(args) == 1 and isinstance(args[0], dict) else args
        for param, value in pairs:
            self.addGrid(param, [value])
        return self

    def addDistribution(self, param: Param, distribution: Any) -> RandomParamGridBuilder:
        """Draw ``param`` from ``distribution``, one value per map.

        ``distribution`` is :func:`uniform`, :func:`loguniform`, :func:`randint`, :func:`choice`, or anything
        with ``rvs(random_state=...)`` (a scipy.stats frozen distribution). Two trial draws from a
        fixed seed, outside the maps, check now that the distribution honours ``random_state`` and that
        the Param takes what it draws; every choice value is checked.
        """
        call = f"addDistribution({getattr(param, 'name', param)!r}, ...)"
        self._claim(param, call)
        rvs = getattr(distribution, "rvs", None)
        if isinstance(distribution, (list, tuple)):
            raise TypeError(
                f"{call}: {distribution!r} is a list, not a distribution; draw from it with choice({distribution!r}), "
                f"or try every value with addGrid"
            )
        if isinstance(distribution, type) or not callable(rvs) or not _takes_random_state(rvs):
            raise TypeError(
                f"{call}: {distribution!r} is not a distribution: it needs a method rvs(random_state=...) as scipy.stats "
                "frozen distributions have; use uniform(low, high), loguniform(low, high), randint(low, high) or choice([...])"
            )
        if isinstance(distribution, _Choice):  # its values are known: check every one, not only those drawn
            for value in distribution.values:
                _convert(param, value, f"(one of {distribution!r})")
        first, second = (distribution.rvs(random_state=_generator(_TRIAL_SEED)) for _ in range(2))
        if repr(_plain(first)) != repr(_plain(second)):
            raise ValueError(
                f"{call}: {_describe(distribution)} ignores random_state: two draws from the same seed gave {first!r} and "
                f"{second!r}, so the maps would differ from build to build; draw from the Generator it is given"
            )
        _convert(param, first, f"(a trial draw from {_describe(distribution)})")
        self._distributions[param] = distribution
        self._order.append(param)
        return self

    def build(self) -> list[dict[Param, Any]]:
        """The param maps: ``numMaps`` draws, each crossed with every combination of the fixed axes.

        A ``UserWarning`` says when drawn maps repeat (distributions with few values, such as
        ``choice`` alone): those maps would be fitted more than once.
        """
        if not self._distributions:
            raise ValueError(
                f"{self!r} has no distribution to draw from; add one with addDistribution(param, distribution), "
                "or use pyspark's ParamGridBuilder for a grid alone"
            )
        draws = self._draw()
        keys = [repr(list(draw.values())) for draw in draws]
        repeats = len(keys) - len(set(keys))
        if repeats:
            warnings.warn(
                f"{repeats} of the {len(draws)} drawn maps repeat an earlier one, so they would be fitted again; "
                "draw fewer maps, or give Params with few values to addGrid to try each once",
                UserWarning,
                stacklevel=2,
            )
        axes = list(self._grid)
        points = [dict(zip(axes, combination)) for combination in itertools.product(*self._grid.values())]
        maps = []
        for draw in draws:
            for point in points:
                merged = {**point, **draw}
                maps.append({param: merged[param] for param in self._order})
        return maps

    def _draw(self) -> list[dict[Param, Any]]:
        # One stream per distribution, spawned from the seed by its position: a distribution that
        # draws more or fewer words (scipy's) cannot shift another's values.
        streams = np.random.SeedSequence(self._seed).spawn(len(self._distributions))
        columns = {}
        for (param, distribution), stream in zip(self._distributions.items(), streams):
            rng = np.random.Generator(np.random.PCG64(stream))
            columns[param] = [
                _convert(param, distribution.rvs(random_state=rng), f"(drawn from {_describe(distribution)} for draw {i})")
                for i in range(self._numMaps)
            ]
        return [{param: column[i] for param, column in columns.items()} for i in range(self._numMaps)]


def _takes_random_state(rvs: Any) -> bool:
    try:
        parameters = inspect.signature(rvs).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): let the call decide
        return True
    return any(p.name == "random_state" or p.kind is p.VAR_KEYWORD for p in parameters)
