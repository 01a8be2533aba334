"""Columns a cross-validation reads that the dataset lacks, found from the schema before any Spark job.

A typo in an evaluator's ``labelCol`` otherwise surfaces after every fold's fit, as a Spark error
that does not say which Param named the column (Spark's ``CrossValidator`` fails the same way). The
check must never refuse a column a stage will write: a Pipeline may make its label with a
``StringIndexer``. So it refuses a column only when it can see every column the estimator's stages
might write. Spark ML's stages name every column they read or write in a Param ending in ``Col`` or
``Cols`` (``outputCol``, ``labelCol`` of an ``RFormula``, ``predictionCol``); the union of those
values is a superset of what they write. A stage outside ``pyspark.ml`` and splitcv, or an
``SQLTransformer`` (its statement names what it writes), makes the set unknown, and nothing is
refused.

Spark resolves column names case-insensitively by default, and a dotted name may be a nested
field, so only a name that matches no column in any case, and has no dot or backtick, is missing.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Optional, Sequence

from pyspark.ml.param import Params

from splitcv.param_maps import stage_uids

__all__ = ["check_columns", "missing_column_error", "written_columns"]

_KNOWN_MODULES = ("pyspark.ml.", "splitcv.")


def _column_values(stage: Params) -> set[str]:
    found: set[str] = set()
    for param in stage.params:
        if param.name.endswith(("Col", "Cols")) and stage.isDefined(param):
            found |= _names(stage.getOrDefault(param))
    return found


def _names(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, (list, tuple)):
        return {item for item in value if isinstance(item, str)}
    return set()


def written_columns(estimator: Params, maps: Sequence[dict]) -> Optional[set[str]]:
    """Every column the estimator's stages might write (with the columns they read: a superset), or
    ``None`` when a stage's columns cannot be known from its Params.

    >>> from pyspark.ml import Pipeline
    >>> from pyspark.ml.feature import SQLTransformer, StringIndexer
    >>> from pyspark.ml.classification import LogisticRegression
    >>> indexer = StringIndexer(inputCol="species", outputCol="y")
    >>> sorted(written_columns(Pipeline(stages=[indexer, LogisticRegression(labelCol="y")]), []))[:4]
    ['features', 'prediction', 'probability', 'rawPrediction']
    >>> "y" in written_columns(Pipeline(stages=[indexer, LogisticRegression(labelCol="y")]), [])
    True
    >>> written_columns(Pipeline(stages=[SQLTransformer(statement="SELECT *, 1.0 AS y FROM __THIS__")]), []) is None
    True
    """
    stages = dict(stage_uids(estimator))
    for param_map in maps:
        for value in param_map.values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Params):
                    stages.update(stage_uids(item))
    from pyspark.ml.feature import SQLTransformer

    written: set[str] = set()
    for stage in stages.values():
        if not type(stage).__module__.startswith(_KNOWN_MODULES) or isinstance(stage, SQLTransformer):
            return None
        written |= _column_values(stage)
    for param_map in maps:
        for param, value in param_map.items():
            if getattr(param, "name", "").endswith(("Col", "Cols")):
                written |= _names(value)
    return written


def _missing(name: str, columns: Iterable[str]) -> bool:
    if "." in name or "`" in name:
        return False
    return name.lower() not in {column.lower() for column in columns}


def missing_column_error(
    owner: str, param: str, value: Any, columns: Sequence[str], written: Optional[set[str]], consequence: str,
    after_stages: bool = True,
) -> Optional[str]:
    """The message for ``owner``'s ``param=value`` naming a column neither in ``columns`` nor in
    ``written`` (``None``: unknown, so never missing), or ``None`` if it is not missing.
    ``after_stages``: the column is read after the estimator's stages ran (so they could have made it).

    >>> print(missing_column_error("the evaluator", "labelCol", "lable", ["x", "label"], set(),
    ...                            "every score would fail after its fit"))
    the evaluator's labelCol='lable' is not a column of the dataset, and no stage of the estimator writes it, so every score would fail after its fit. The dataset's columns: ['x', 'label']. Set labelCol to the column that holds it, e.g. labelCol='label'
    """
    if not isinstance(value, str) or not value or written is None or not _missing(value, columns) or not _missing(value, written):
        return None
    close = difflib.get_close_matches(value, list(columns), n=1)
    example = f", e.g. {param}={close[0]!r}" if close else ""
    stages = ", and no stage of the estimator writes it" if after_stages else ""
    return (
        f"{owner}'s {param}={value!r} is not a column of the dataset{stages}, "
        f"so {consequence}. The dataset's columns: {list(columns)}. Set {param} to the column that holds it{example}"
    )


def check_columns(estimator: Params, evaluator: Params, maps: Sequence[dict], columns: Sequence[str]) -> None:
    """Raise a ``ValueError`` naming the first column the fit would read and cannot find: the
    evaluator's label and weight, and, for an estimator that is a single Spark ML stage, its
    features, label and weight (unless a param map sets them)."""
    written = written_columns(estimator, maps)
    for name in ("labelCol", "weightCol"):
        if evaluator.hasParam(name) and evaluator.isDefined(name):
            message = missing_column_error("the evaluator", name, evaluator.getOrDefault(name), columns, written,
                                           "every score would fail after its fit")
            if message:
                raise ValueError(message)
    from pyspark.ml.feature import RFormula

    alone = written is not None and len(stage_uids(estimator)) == 1 and not isinstance(estimator, RFormula)
    if not alone or any(isinstance(v, Params) for m in maps for v in m.values()):
        return
    in_maps = {getattr(param, "name", None) for m in maps for param in m}
    for name in ("featuresCol", "labelCol", "weightCol"):
        if estimator.hasParam(name) and estimator.isDefined(name) and name not in in_maps:
            # nothing runs before a lone stage, so only the dataset can hold what it reads
            message = missing_column_error(f"the estimator ({type(estimator).__name__})", name,
                                           estimator.getOrDefault(name), columns, set(), "every fit would fail",
                                           after_stages=False)
            if message:
                raise ValueError(message)
