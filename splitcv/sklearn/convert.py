"""A Spark splitter's scikit-learn twin: the same Params, so the same folds on the same data."""

from __future__ import annotations

from typing import Any

from splitcv.sklearn import splitters
from splitcv.sklearn.base import SplitterCV

__all__ = ["from_splitter"]

# The values a scikit-learn splitter can take instead of reading a column of X.
_VALUES_FOR = {"time": "timeCol", "labelEnd": "labelEndCol", "folds": "foldCol"}


def from_splitter(splitter: Any, **values: Any) -> SplitterCV:
    """The scikit-learn splitter that gives ``splitter``'s folds (a built-in Spark splitter's):
    every Param carried over, so ``timeCol``, ``labelEndCol``, ``foldCol`` and ``groupCol`` name
    columns of ``X``. Give ``time=``, ``labelEnd=`` or ``folds=`` to pass those values instead.

    Needs no pyspark itself: it reads the splitter's Params, so it works on a splitter loaded in a
    process that has pyspark, and the result pickles to one that does not.

    Examples
    --------
    >>> from splitcv import ExpandingWindowSplitter
    >>> from_splitter(ExpandingWindowSplitter(timeCol="week", horizon="4 weeks", numFolds=3))
    ExpandingWindowCV(timeCol='week', horizon='4 weeks', numFolds=3)
    """
    names = [cls.__name__ for cls in type(splitter).__mro__]
    spark_name = next((name for name in names if name in _ADAPTERS), None)
    if spark_name is None:
        if "StratifiedKFoldSplitter" in names:
            k, seed = splitter.getOrDefault("numFolds"), splitter.getOrDefault("seed")
            raise ValueError(
                "StratifiedKFoldSplitter's folds depend on a hash of every column of the Spark DataFrame, which X does "
                f"not determine: use scikit-learn's StratifiedKFold(n_splits={k}, shuffle=True, random_state={seed}), "
                "which keeps the same promise (each class's fold sizes within one row)"
            )
        raise TypeError(
            f"{type(splitter).__name__} has no scikit-learn twin; the built-in splitters that have one are "
            f"{', '.join(sorted(_ADAPTERS))}"
        )
    params = {param.name: value for param, value in splitter.extractParamMap().items()}
    params.pop("seed", None)  # KFoldSplitter's: only its random folds use it, which have no twin
    for value_name, column_name in _VALUES_FOR.items():
        if value_name in values:
            params.pop(column_name, None)
    return _ADAPTERS[spark_name](**params, **values)


_ADAPTERS: dict[str, Any] = {
    cls.spark_splitter: cls
    for cls in (
        splitters.ExpandingWindowCV,
        splitters.SlidingWindowCV,
        splitters.BlockedKFoldCV,
        splitters.CombinatorialPurgedCV,
        splitters.GroupKFoldCV,
        splitters.KFoldCV,
    )
}
