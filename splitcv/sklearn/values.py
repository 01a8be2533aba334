"""Per-row values for the scikit-learn splitters, as the planners take them: time values as integer
time points (days for dates, microseconds for timestamps: Spark's ``unix_date`` and ``unix_micros``),
fold numbers, and groups as the keys Spark's group k-fold packs by.

Values come from the splitter (``time=df["date"]``) or from a column of ``X`` (``timeCol="date"``);
either way they are one per row of ``X``, in ``X``'s row order, and the folds are positions in ``X``.
"""

from __future__ import annotations

import datetime as dt
import numbers
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from splitcv.durations import Calendar, DateCalendar, TimestampCalendar, WallClockCalendar
from splitcv.plan.checks import missing_groups_error
from splitcv.sklearn.sparkhash import xxhash64_double, xxhash64_int, xxhash64_long, xxhash64_string

__all__ = ["TimeValues", "row_values", "count_rows", "time_values", "fold_numbers", "group_keys"]

_EPOCH = dt.date(1970, 1, 1)


def count_rows(X: Any) -> int:
    """The number of rows (samples) of ``X``, as scikit-learn counts them."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(X)


def row_values(
    owner: str, X: Any, values: Any, column: Optional[str], values_param: str, column_param: str
) -> tuple[Any, str]:
    """The per-row values a splitter reads, and how messages name them.

    ``values`` (given to the splitter) must have one value per row of ``X``; ``column`` names a column
    of ``X`` (a pandas DataFrame) instead. ``X=None`` (counting folds without data) takes ``values``.
    """
    if column is not None:
        subject = f"{column_param}={column!r}"
        if X is None:
            raise ValueError(f"{owner}: {subject} names a column of X; pass X")
        columns = getattr(X, "columns", None)
        if columns is None:
            raise TypeError(
                f"{owner}: {subject} names a column of X, but X is {type(X).__name__}, which has no columns: "
                f"pass X as a pandas DataFrame, or the values themselves as {values_param}=..."
            )
        if column not in columns:
            raise ValueError(f"{subject} is not a column of X; its columns are {sorted(map(str, columns))}")
        return X[column], subject
    if X is not None and len(values) != count_rows(X):
        raise ValueError(
            f"{owner}: {values_param} holds {len(values)} values but X has {count_rows(X)} rows; give one value per row "
            f"of X, in X's order (where X is a subset, as in nested cross-validation, name a column of X with "
            f"{column_param}=... instead)"
        )
    return values, values_param


@dataclass(frozen=True)
class TimeValues:
    """Time values as integer time points, one per row (0 where ``null``)."""

    points: np.ndarray
    null: np.ndarray
    #: 'integer', 'date', 'timestamp' (aware: a time zone) or 'timestamp_ntz' (naive: a wall clock)
    kind: str
    calendar: Optional[Calendar]
    #: the values' type as the user has it, for messages: 'int64', 'datetime64[ns]'...
    type_name: str

    def to_python(self, point: int) -> Any:
        return int(point) if self.calendar is None else self.calendar.to_python(int(point))


def time_values(values: Any, subject: str) -> TimeValues:
    """Integer time points from integers, dates or timestamps (numpy ``datetime64``, pandas
    Timestamps, ``datetime.date``/``datetime.datetime``), naive or with a time zone.

    >>> import numpy as np
    >>> t = time_values(np.array(["2024-01-01", "2024-01-08"], dtype="datetime64[D]"), "time")
    >>> t.kind, t.points.tolist(), t.to_python(19723)
    ('date', [19723, 19730], datetime.date(2024, 1, 1))
    >>> time_values([3.0, 1.0], "time")
    Traceback (most recent call last):
    ...
    TypeError: time has type float64, which is not a time/order column; use integers, dates or timestamps. Whole numbers such as years can be cast: time.astype(int), or made dates: pd.to_datetime(time.astype(int).astype(str), format='%Y')
    """
    import pandas as pd

    if isinstance(values, str):
        raise TypeError(f"{subject}={values!r} is a string, not time values: to read a column of X, name it with timeCol=")
    type_name = str(getattr(values, "dtype", "object"))
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _aware(pd.DatetimeIndex(values), subject, type_name)
    if isinstance(dtype, pd.PeriodDtype):
        raise TypeError(
            f"{subject} has type {type_name}, which is not a time/order column; use integers, dates or timestamps: "
            "convert periods to their start with .dt.to_timestamp()"
        )
    if isinstance(values, (pd.Series, pd.Index)) and isinstance(dtype, pd.api.extensions.ExtensionDtype):
        null = np.asarray(pd.isna(values))
        array = np.asarray(values.astype(object) if null.any() else values.to_numpy())
    else:
        array = np.asarray(values)
        null = None
        if dtype is None:  # a list: name the type numpy gives it
            type_name = str(array.dtype)
    if array.dtype == object:
        return _objects(array, subject, type_name)
    if null is None:
        null = np.isnat(array) if np.issubdtype(array.dtype, np.datetime64) else np.zeros(len(array), bool)
    if np.issubdtype(array.dtype, np.datetime64):
        unit = np.datetime_data(array.dtype)[0]
        safe = np.where(null, np.datetime64(0, unit), array)
        if unit in ("Y", "M", "W", "D"):
            return TimeValues(safe.astype("datetime64[D]").astype(np.int64), null, "date", DateCalendar(), type_name)
        return TimeValues(safe.astype("datetime64[us]").astype(np.int64), null, "timestamp_ntz", WallClockCalendar(), type_name)
    if np.issubdtype(array.dtype, np.integer):
        return TimeValues(array.astype(np.int64), null, "integer", None, type_name)
    raise TypeError(_not_time(subject, type_name, array.dtype.kind))


def _not_time(subject: str, type_name: str, kind: str) -> str:
    """The wrong type of time values, and the conversion that makes them time values."""
    text = (
        f"{subject} has type {type_name}, which is not a time/order column; use integers, dates or timestamps"
    )
    if kind == "f":
        return text + (
            f". Whole numbers such as years can be cast: {subject}.astype(int), or made dates: "
            f"pd.to_datetime({subject}.astype(int).astype(str), format='%Y')"
        )
    if kind in "USO":
        return text + f". Parse strings: pd.to_datetime({subject}) (with format= the pattern your data is written in)"
    return text


def _aware(index: Any, subject: str, type_name: str) -> TimeValues:
    """Timestamps with a time zone: microseconds since the epoch, moved on that zone's wall clock."""
    tz = index.tz
    name = getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)
    try:
        calendar = TimestampCalendar(name)
    except Exception:
        raise TypeError(
            f"{subject} is in the time zone {tz!r}, which has no IANA name (such as 'Europe/Paris'); convert the "
            f"values to one: {subject}.dt.tz_convert('UTC')"
        ) from None
    null = np.asarray(index.isna())
    points = np.where(null, 0, index.as_unit("us").asi8)
    return TimeValues(points.astype(np.int64), null, "timestamp", calendar, type_name)


def _objects(array: np.ndarray, subject: str, type_name: str) -> TimeValues:
    """Python objects: dates, datetimes (pandas Timestamps too) or integers, with None/NaN/NaT as nulls."""
    import pandas as pd

    null = np.asarray(pd.isna(array), dtype=bool)
    present = [v for v, missing in zip(array, null) if not missing]
    if all(isinstance(v, dt.datetime) for v in present) and present:
        try:
            index = pd.DatetimeIndex(pd.to_datetime(list(array)))
        except (TypeError, ValueError):
            raise TypeError(
                f"{subject} mixes timestamps with and without time zones, or of several zones; convert them to one "
                "zone first (pd.to_datetime(values, utc=True))"
            ) from None
        if index.tz is not None:
            return _aware(index, subject, type_name)
        safe = np.where(null, np.datetime64(0, "us"), index.as_unit("us").to_numpy())
        return TimeValues(safe.astype(np.int64), null, "timestamp_ntz", WallClockCalendar(), type_name)
    if all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in present) and present:
        points = np.array([0 if missing else (v - _EPOCH).days for v, missing in zip(array, null)], dtype=np.int64)
        return TimeValues(points, null, "date", DateCalendar(), type_name)
    if all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in present):
        points = np.array([0 if missing else int(v) for v, missing in zip(array, null)], dtype=np.int64)
        return TimeValues(points, null, "integer", None, type_name)
    kinds = sorted({type(v).__name__ for v in present})
    kind = "f" if kinds == ["float"] else "O" if "str" in kinds else "x"
    raise TypeError(_not_time(subject, f"{type_name} ({', '.join(kinds)})", kind))


def fold_numbers(values: Any, subject: str, k: int) -> np.ndarray:
    """Fold numbers: integers, checked for nulls and type (the range is :func:`check_fold_numbers`'s)."""
    import pandas as pd

    null = np.asarray(pd.isna(values), dtype=bool) if len(values) else np.zeros(0, bool)
    if null.any():
        raise ValueError(
            f"{subject} has {int(null.sum())} null values; every row needs one. Drop those rows of X (and y), or fill "
            "them, before splitting"
        )
    array = np.asarray(values)
    if array.dtype == object and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in array):
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        raise TypeError(f"{subject} has type {array.dtype}; it must hold integer fold numbers 0..{k - 1}")
    return array.astype(np.int64)


def group_keys(values: Any, subject: str) -> np.ndarray:
    """Each row's group as the key Spark's group k-fold packs by: ``xxhash64`` of the group as Spark
    hashes a column of that type (:mod:`splitcv.sklearn.sparkhash`). Groups are integers, floats,
    booleans or strings; a null or NaN group is an error."""
    import pandas as pd

    null = np.asarray(pd.isna(values), dtype=bool) if len(values) else np.zeros(0, bool)
    if null.any():
        raise missing_groups_error(subject, int(null.sum()), "X[mask], y[mask], groups[mask] with mask = the non-null rows")
    array = np.asarray(values)
    try:
        uniques, inverse = np.unique(array, return_inverse=True)
    except TypeError:  # objects that do not compare: several types mixed
        types = sorted({type(v).__name__ for v in array.tolist()})
        raise TypeError(f"{subject} mixes values of types {types}; give groups of one type (groups.astype(str), say)") from None
    hasher = _hasher(array.dtype, uniques, subject)
    keys = np.array([hasher(v) for v in uniques.tolist()], dtype=np.int64)
    return keys[inverse.reshape(-1)]


def _hasher(dtype: np.dtype, uniques: np.ndarray, subject: str) -> Any:
    if dtype == bool:
        return lambda v: xxhash64_int(1 if v else 0)
    if np.issubdtype(dtype, np.signedinteger):
        return xxhash64_long if dtype.itemsize == 8 else xxhash64_int
    if np.issubdtype(dtype, np.floating):
        return xxhash64_double
    if dtype.kind == "U" or (dtype == object and all(isinstance(v, str) for v in uniques.tolist())):
        return xxhash64_string
    if dtype == object and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in uniques.tolist()):
        return xxhash64_long
    raise TypeError(
        f"{subject} has type {dtype}; groups must be integers (int64 for Spark's LONG, int32 or narrower for INT), "
        "floats, booleans or strings, so that they pack into the same folds as on Spark: convert them "
        "(groups.astype(str), say), and give Spark the same values"
    )
