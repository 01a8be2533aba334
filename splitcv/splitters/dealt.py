"""Rows dealt to folds in a seeded order: the Spark side of :mod:`splitcv.plan.assign`.

Every row gets two helper columns with no Spark job: a hash bucket (one of :data:`BUCKETS`, from a
seeded 64-bit hash of the row's content) and its rank inside its (class, bucket) block, ordered by
two seeded hashes of the content. A summary job counts the rows of every block; the driver lays
the blocks end to end (:func:`~splitcv.plan.assign.deal_starts`) and a row's fold is
``(start of its block + rank - 1) mod k``.

Why this keeps our promises:

- The rank only depends on content, so any partitioning or order of the same rows, in any
  process, gives the same folds. Identical rows tie; they get consecutive ranks in some order, and
  since they are indistinguishable the multiset of (row, fold) is the same every time, so training
  and validation built from two different evaluations of the frame still cover the data exactly.
- Identical rows are dealt to different folds like any others (Spark's tuning data, 4 distinct
  rows 10 times each, gets 3 folds of 13 or 14 rows).
- Blocks are small pieces of the data (64 per class), so the ranking window runs in parallel
  however few classes there are.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from splitcv.plan.assign import deal_starts
from splitcv.splitters.base import FoldInfo, check_fold, check_not_empty, quote

__all__ = ["BUCKETS", "BUCKET", "RANK", "with_ranks", "DealtFolds", "deal", "TooManyClasses"]


class TooManyClasses(ValueError):
    """The key column has more distinct values than a class column should (found while collecting)."""

    def __init__(self, most: int) -> None:
        super().__init__(f"more than {most} distinct values")
        self.most = most

#: Hash buckets per class: enough blocks to rank in parallel, few enough to look starts up in a literal.
BUCKETS = 64
BUCKET, RANK = "__splitcv_bucket", "__splitcv_rank"
_HASH, _TIEBREAK = "__splitcv_hash", "__splitcv_tiebreak"


def content(dataset: DataFrame) -> list[Column]:
    """Every column, as something Spark can hash: map columns (unhashable) as JSON text."""
    columns = []
    for field in dataset.schema.fields:
        column = F.col(quote(field.name))
        columns.append(F.to_json(F.struct(column)) if isinstance(field.dataType, T.MapType) else column)
    return columns


def with_ranks(dataset: DataFrame, seed: int, key: Optional[Column] = None) -> DataFrame:
    """``dataset`` plus its rows' bucket and rank inside their (``key``, bucket) block; no job runs.

    The tie-break hashes the row as JSON text: ``xxhash64`` skips nulls, so ``(1, NULL)`` and
    ``(NULL, 1)`` hash alike, and so do ``[1, 2], [3]`` and ``[1], [2, 3]``; their JSON differs.
    Two rows that still tie are identical, and interchangeable."""
    values = content(dataset)
    whole = F.to_json(F.struct(*[F.col(quote(name)) for name in dataset.columns]))
    hashed = dataset.withColumn(_HASH, F.xxhash64(F.lit(seed), *values)).withColumn(
        _TIEBREAK, F.xxhash64(F.lit(seed), F.lit("tiebreak"), whole)
    )
    bucket = F.pmod(F.col(_HASH), F.lit(BUCKETS)).cast("int")
    block = Window.partitionBy(*([key] if key is not None else []), F.col(BUCKET)).orderBy(_HASH, _TIEBREAK)
    return (
        hashed.withColumn(BUCKET, bucket)
        .withColumn(RANK, F.row_number().over(block))
        .drop(_HASH, _TIEBREAK)
    )


class DealtFolds:
    """The plan from one summary job: the fold of every row, and the rows of every fold.

    The summary counts rows by (key, bucket, ``(rank - 1) mod k``, class): rows of a block with
    residue ``r`` go to fold ``(start + r) mod k``, so rows per fold and per class follow from the
    counts with no second job, whatever column the classes are."""

    def __init__(self, keys: Sequence[Any], counts: dict[tuple[Any, int, int, Any], int], k: int) -> None:
        self.keys = list(keys)  # sorted key values; [None] without a key
        self.k = k
        self.counts = counts
        sizes: dict[tuple[Any, int], int] = {}
        for (key, bucket, _, _), rows in counts.items():
            sizes[(key, bucket)] = sizes.get((key, bucket), 0) + rows
        order = [(key, bucket) for key in self.keys for bucket in range(BUCKETS)]
        self.starts = deal_starts([sizes.get(block, 0) for block in order], k)
        self._start = dict(zip(order, self.starts))

    def fold_expr(self, key: Optional[Column], key_type: Optional[T.DataType]) -> Column:
        """``(start of the row's block + rank - 1) mod k``, the starts as a literal array."""
        starts = F.array(*[F.lit(s) for s in self.starts])
        index = F.col(BUCKET)
        if key is not None:
            assert key_type is not None
            pairs = [item for i, value in enumerate(self.keys) for item in (F.lit(value).cast(key_type), F.lit(i))]
            index = F.element_at(F.create_map(*pairs), key) * F.lit(BUCKETS) + index
        return F.pmod(F.element_at(starts, index + 1) + F.col(RANK) - 1, F.lit(self.k))

    def rows(self) -> list[dict[Any, int]]:
        """Per fold, rows per class (the summary's class column; the key when it had none)."""
        folds: list[dict[Any, int]] = [{} for _ in range(self.k)]
        for (key, bucket, residue, label), rows in self.counts.items():
            fold = (self._start[(key, bucket)] + residue) % self.k
            name = key if label is _NO_CLASS else label
            folds[fold][name] = folds[fold].get(name, 0) + rows
        return [dict(sorted(by_class.items(), key=_class_order)) for by_class in folds]

    def infos(self, with_classes: bool) -> list[FoldInfo]:
        """Descriptions of the folds, with class counts when ``with_classes``."""
        per_fold = self.rows()
        everything: dict[Any, int] = {}
        for by_class in per_fold:
            for name, rows in by_class.items():
                everything[name] = everything.get(name, 0) + rows
        total = sum(everything.values())
        infos = []
        for fold, by_class in enumerate(per_fold):
            validation = sum(by_class.values())
            check_fold(fold, total - validation, validation)
            classes: list[Optional[dict]] = [None, None]
            if with_classes:
                train = {name: rows - by_class.get(name, 0) for name, rows in everything.items()}
                classes = [{n: r for n, r in train.items() if r}, {n: r for n, r in by_class.items() if r}]
            infos.append(FoldInfo(fold, total - validation, validation, None, None, None, None, *classes))
        return infos

    def class_rows(self) -> dict[Any, int]:
        """Rows per key."""
        totals: dict[Any, int] = {}
        for (key, _, _, _), rows in self.counts.items():
            totals[key] = totals.get(key, 0) + rows
        return totals


_NO_CLASS = object()


def _class_order(item: tuple[Any, int]) -> tuple[bool, Any]:
    """Classes in order (a null class last), so descriptions do not depend on how rows came back."""
    return (item[0] is None, item[0])


def deal(
    frame: DataFrame,
    k: int,
    owner: str,
    key: Optional[Column] = None,
    key_param: str = "",
    key_column: str = "",
    classes: Optional[str] = None,
    max_keys: int = 1024,
) -> DealtFolds:
    """Count the rows of a ranked frame by (key, bucket, rank residue[, ``classes``]): one Spark job.

    A null or NaN key is an error naming the Param and column (``labelCol='y'``): such a row has no class."""
    columns = [
        (key if key is not None else F.lit(None)).alias("key"),
        F.col(BUCKET).alias("bucket"),
        F.pmod(F.col(RANK) - 1, F.lit(k)).alias("residue"),
    ]
    if classes is not None:
        columns.append(F.col(quote(classes)).alias("class"))
    summary = frame.groupBy(*columns).count()
    # A continuous label would send a summary row per value to the driver: stop past what max_keys can fill.
    most = max_keys * BUCKETS * k + 1 if key is not None and classes is None else None
    rows = (summary.limit(most) if most is not None else summary).collect()
    if most is not None and len(rows) >= most:
        raise TooManyClasses(max_keys)
    counts = {
        (r["key"], r["bucket"], r["residue"], r["class"] if classes is not None else _NO_CLASS): r["count"] for r in rows
    }
    check_not_empty(sum(counts.values()), owner)
    if key is None:
        return DealtFolds([None], counts, k)
    for bad, word in ((lambda v: v is None, "null"), (lambda v: isinstance(v, float) and v != v, "NaN")):
        number = sum(n for (value, _, _, _), n in counts.items() if bad(value))
        if number:
            raise ValueError(
                f"{key_param}={key_column!r} has {number} {word} values; every row needs a class. Drop those rows "
                f"(dataset.dropna(subset=[{key_column!r}]) drops nulls and NaNs) or give them a class before splitting"
            )
    return DealtFolds(sorted({value for value, _, _, _ in counts}), counts, k)
