"""The rules for splitter parameter values and fold invariants, with their messages: one copy each.

The Spark splitters declare their Params with these converters, and the scikit-learn adapters
(:mod:`splitcv.sklearn`) check their arguments with the same ones, so a bad value gets the same
message on both paths. Nothing here imports pyspark.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from splitcv.durations import parse_duration

__all__ = [
    "to_whole_number",
    "whole_number",
    "to_size",
    "to_column_name",
    "to_boolean",
    "CONVERTERS",
    "OPTIONAL_NUM_FOLDS",
    "convert_params",
    "invalid_param",
    "check_fold",
    "check_not_empty",
    "check_fold_numbers",
    "check_group_count",
    "missing_groups_error",
]


def to_whole_number(value: Any, name: str, minimum: Optional[int] = None, alternative: str = "") -> int:
    """The one rule for every count and size Param (``numFolds``, ``seed``, ``horizon``, ``gap``,
    ``parallelism``...): a whole number, given as one (an ``int`` or a numpy integer).

    Floats are refused, whole or not (``horizon=7.0`` is a mistake that would pass silently for
    one Param and fail for another), and so are bools (``True`` is an ``int`` to Python). The
    message names the value, the Param and the fix; ``alternative`` adds what else the Param
    takes ("or a duration such as '7 days'").

    >>> to_whole_number(7, "horizon")
    7
    >>> to_whole_number(7.0, "horizon")
    Traceback (most recent call last):
    ...
    TypeError: 7.0 is a float, not a whole number: write horizon=7
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        number = int(value)
    else:
        raise TypeError(_not_whole(value, name, minimum) + alternative)
    if minimum is not None and number < minimum:
        raise ValueError(f"{number} is too small; give a whole number >= {minimum}{alternative}")
    return number


def _not_whole(value: Any, name: str, minimum: Optional[int]) -> str:
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        if float(value).is_integer():
            return f"{value!r} is a float, not a whole number: write {name}={int(value)}"
        low, high = math.floor(value), math.ceil(value)
        fixes = [f"{name}={n}" for n in (low, high) if minimum is None or n >= minimum]
        return f"{value!r} is not a whole number: write {' or '.join(fixes)}"
    example = max(minimum, 1) if minimum is not None else 42
    return f"{value!r} is a {type(value).__name__}, not a whole number: write a whole number such as {name}={example}"


def whole_number(name: str, minimum: Optional[int] = None) -> Callable[[Any], int]:
    """A Param type converter applying :func:`to_whole_number`."""
    return lambda value: to_whole_number(value, name, minimum)


#: What a size Param takes besides a count, in every message about one.
_OR_DURATION = ", or a duration such as '7 days'"


def to_size(name: str, minimum: int) -> Callable[[Any], Union[int, str]]:
    """A converter for window sizes: a whole number of time points >= ``minimum``, or a duration."""

    def convert(value: Any) -> Union[int, str]:
        if isinstance(value, str):
            duration = parse_duration(value, "")
            if duration.is_zero and minimum > 0:
                raise ValueError(f"{value!r} is an empty duration; give a positive one such as '7 days'")
            return value.strip()
        return to_whole_number(value, name, minimum, _OR_DURATION)

    return convert


def to_column_name(value: Any) -> str:
    """A column name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{value!r} is not a column name; give the name of a column as a string")
    return value


def to_boolean(name: str) -> Callable[[Any], bool]:
    """A converter for flags: ``True`` or ``False`` (numpy's too), nothing that merely looks true."""

    def convert(value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise TypeError(f"{value!r} is a {type(value).__name__}, not True or False: write {name}=True or {name}=False")

    return convert


#: Every splitter Param's converter, by name: the Spark splitters declare their Params with these,
#: and the scikit-learn adapters convert their arguments with them.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "timeCol": to_column_name,
    "labelEndCol": to_column_name,
    "foldCol": to_column_name,
    "labelCol": to_column_name,
    "groupCol": to_column_name,
    "horizon": to_size("horizon", 1),
    "step": to_size("step", 1),
    "gap": to_size("gap", 0),
    "initialWindow": to_size("initialWindow", 1),
    "windowSize": to_size("windowSize", 1),
    "embargo": to_size("embargo", 0),
    "keepPartialWindow": to_boolean("keepPartialWindow"),
    "numFolds": whole_number("numFolds", 2),
    "numGroups": whole_number("numGroups", 2),
    "numTestGroups": whole_number("numTestGroups", 1),
    "seed": whole_number("seed"),
}

#: ``numFolds`` of the window splitters: keep the last ``numFolds`` windows, one or more.
OPTIONAL_NUM_FOLDS = whole_number("numFolds", 1)


def convert_params(owner: str, values: dict[str, Any], converters: Optional[dict[str, Callable[[Any], Any]]] = None) -> dict[str, Any]:
    """Convert every value that is not ``None`` with its Param's converter (``converters`` first,
    then :data:`CONVERTERS`), raising :func:`invalid_param`'s error for the first one refused."""
    out = {}
    for name, value in values.items():
        if value is None:
            out[name] = None
            continue
        convert = (converters or {}).get(name) or CONVERTERS[name]
        try:
            out[name] = convert(value)
        except (TypeError, ValueError) as error:
            raise invalid_param(owner, name, value, error) from None
    return out


def invalid_param(owner: str, name: str, value: Any, error: Exception) -> Exception:
    """The error for a value a converter refused, naming the splitter, the Param and the value:
    ``ExpandingWindowSplitter: horizon=0 is not valid: 0 is too small; ...``. The error keeps its
    class (``TypeError`` for the wrong kind of value, ``ValueError`` for a wrong value)."""
    kind = TypeError if isinstance(error, TypeError) else ValueError
    return kind(f"{owner}: {name}={value!r} is not valid: {error}")


def check_not_empty(rows: int, owner: str) -> None:
    """The dataset a splitter plans from has rows: an empty one is named as such, not as an empty fold."""
    if rows == 0:
        raise ValueError(f"the dataset is empty: {owner} has no rows to split into folds")


def check_fold(index: int, train_rows: int, validation_rows: int, both: int = 0) -> None:
    """The invariant every fold keeps: rows on both sides, and none on both at once."""
    if train_rows == 0 or validation_rows == 0:
        side = "training" if train_rows == 0 else "validation"
        raise ValueError(
            f"fold {index} has no {side} rows ({train_rows} training, {validation_rows} validation); "
            "the data is too small or too sparse for these parameters"
        )
    if both:
        raise ValueError(f"fold {index} puts {both} rows in both training and validation; they must be disjoint")


def check_fold_numbers(subject: str, values: Sequence[Any], k: int) -> None:
    """Fold numbers given by the user (``foldCol``) are ``0..k-1``; ``values`` are the distinct ones."""
    outside = [v for v in values if not 0 <= v < k]
    if outside:
        raise ValueError(
            f"{subject} holds {outside[:5]}{'...' if len(outside) > 5 else ''}, outside "
            f"0..{k - 1}; with numFolds={k} every row's fold must be one of 0..{k - 1}"
        )


def check_group_count(subject: str, groups: int, k: int) -> None:
    """Group k-fold needs a group to validate on in every fold."""
    if groups < k:
        raise ValueError(
            f"{subject} has {groups} groups, fewer than numFolds={k}: every fold needs a group "
            f"to validate on. Lower numFolds to at most {groups}, or use a finer group column"
        )


def missing_groups_error(subject: str, rows: int, drop: str) -> ValueError:
    """Rows without a group (null or NaN); ``drop`` says how to drop them on this path."""
    return ValueError(
        f"{subject} has {rows} null or NaN values; every row needs a group. Drop those rows "
        f"({drop}) or give them a group before splitting"
    )
