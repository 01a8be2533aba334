"""Messages for a validator configured with the wrong kind of thing, worded for the person who did it."""

from __future__ import annotations

from typing import Any

__all__ = ["article", "wrong_kind", "describe_param_key"]


def article(word: str) -> str:
    """``word`` with its indefinite article: "an Evaluator", "a FoldSplitter".

    >>> article("Evaluator"), article("Estimator"), article("FoldSplitter"), article("str")
    ('an Evaluator', 'an Estimator', 'a FoldSplitter', 'a str')
    """
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def wrong_kind(name: str, value: Any, kind: type, example: str) -> str:
    """Why ``value`` is not a ``kind`` for the Param ``name``, and what to pass instead.

    A class where an instance belongs (``evaluator=BinaryClassificationEvaluator``) is the usual slip:
    the message says to pass an instance of that very class.

    >>> from pyspark.ml.evaluation import Evaluator, BinaryClassificationEvaluator
    >>> wrong_kind("evaluator", BinaryClassificationEvaluator, Evaluator, "BinaryClassificationEvaluator()")
    'evaluator=BinaryClassificationEvaluator is the class, not an Evaluator: pass an instance, e.g. evaluator=BinaryClassificationEvaluator()'
    >>> wrong_kind("evaluator", "areaUnderROC", Evaluator, "BinaryClassificationEvaluator()")
    "evaluator='areaUnderROC' is a str, not an Evaluator: pass one, e.g. evaluator=BinaryClassificationEvaluator()"
    """
    if isinstance(value, type):
        if issubclass(value, kind):
            return (
                f"{name}={value.__name__} is the class, not {article(kind.__name__)}: pass an instance, "
                f"e.g. {name}={value.__name__}()"
            )
        return f"{name}={value.__name__} is a class, not {article(kind.__name__)}: pass one, e.g. {name}={example}"
    return f"{name}={value!r} is {article(type(value).__name__)}, not {article(kind.__name__)}: pass one, e.g. {name}={example}"


def describe_param_key(key: Any) -> str:
    """A param map key as a person would name it, whatever it is.

    >>> describe_param_key("regParam")
    "the key 'regParam', a str, not a Param"
    """
    from pyspark.ml.param import Param

    if not isinstance(key, Param):
        return f"the key {key!r}, {article(type(key).__name__)}, not a Param"
    if key.parent == "undefined":  # a class attribute such as LinearRegression.regParam
        return f"the Param {key.name!r} of no estimator (a class's Param, such as LinearRegression.{key.name})"
    return f"{key.parent}.{key.name}"
