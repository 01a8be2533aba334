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

from splitcv.plan.assign import deal_starts, dealt_sizes
from splitcv.splitters.base import FoldInfo, check_fold, check_not_empty, quote

__all__ = ["BUCKETS", "BUCKET", "RANK", "with_ranks", "DealtFolds", "deal"]

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
    """``dataset`` plus its rows' bucket and rank inside their (``key``, bucket) block; no job runs."""
    values = content(dataset)
    hashed = dataset.withColumn(_HASH, F.xxhash64(F.lit(seed), *values)).withColumn(
        _TIEBREAK, F.xxhash64(F.lit(seed), F.lit("tiebreak"), *values)
    )
    bucket = F.pmod(F.col(_HASH), F.lit(BUCKETS)).cast("int")
    block = Window.partitionBy(*([key] if key is not None else []), F.col(BUCKET)).orderBy(_HASH, _TIEBREAK)
    return (
        hashed.withColumn(BUCKET, bucket)
        .withColumn(RANK, F.row_number().over(block))
        .drop(_HASH, _TIEBREAK)
    )


class DealtFolds:
    """The plan from one summary job: the fold of every row, and the rows of every fold."""

    def __init__(self, keys: Sequence[Any], sizes: dict[tuple[Any, int], int], k: int) -> None:
        self.keys = list(keys)  # sorted key values; [None] without a key
        self.k = k
        order = [(key, bucket) for key in self.keys for bucket in range(BUCKETS)]
        self.sizes = [sizes.get(block, 0) for block in order]
        self.starts = deal_starts(self.sizes, k)

    def fold_expr(self, key: Optional[Column], key_type: Optional[T.DataType]) -> Column:
        """``(start of the row's block + rank - 1) mod k``, the starts as a literal array."""
        starts = F.array(*[F.lit(s) for s in self.starts])
        index = F.col(BUCKET)
        if key is not None:
            assert key_type is not None
            pairs = [item for i, value in enumerate(self.keys) for item in (F.lit(value).cast(key_type), F.lit(i))]
            index = F.element_at(F.create_map(*pairs), key) * F.lit(BUCKETS) + index
        return F.pmod(F.element_at(starts, index + 1) + F.col(RANK) - 1, F.lit(self.k))

    def rows_per_fold(self, key: Any = None) -> list[int]:
        """Rows of each fold, over every key or only ``key``'s blocks."""
        totals = [0] * self.k
        for i, (start, size) in enumerate(zip(self.starts, self.sizes)):
            if key is None or self.keys[i // BUCKETS] == key:
                for fold, rows in enumerate(dealt_sizes(start, size, self.k)):
                    totals[fold] += rows
        return totals

    def infos(self, per_key: bool) -> list[FoldInfo]:
        """Descriptions of the folds, class counts by key when ``per_key`` (the key is the class)."""
        total = sum(self.sizes)
        by_fold = self.rows_per_fold()
        by_key = {key: self.rows_per_fold(key) for key in self.keys} if per_key else {}
        infos = []
        for fold in range(self.k):
            train, validation = total - by_fold[fold], by_fold[fold]
            check_fold(fold, train, validation)
            classes: list[Optional[dict]] = [None, None]
            if per_key:
                classes = [
                    {key: sum(rows) - rows[fold] for key, rows in by_key.items() if sum(rows) - rows[fold]},
                    {key: rows[fold] for key, rows in by_key.items() if rows[fold]},
                ]
            infos.append(FoldInfo(fold, train, validation, None, None, None, None, *classes))
        return infos


def deal(
    frame: DataFrame, k: int, owner: str, key: Optional[Column] = None, key_param: str = "", key_column: str = ""
) -> DealtFolds:
    """Count the rows of every (key, bucket) block of a ranked frame: one Spark job.

    A null or NaN key is an error naming the Param and column (``labelCol='y'``): such a row has no class."""
    keys = [key.alias("key")] if key is not None else []
    rows = frame.groupBy(*keys, F.col(BUCKET)).count().collect()
    sizes = {(r["key"] if key is not None else None, r[BUCKET]): r["count"] for r in rows}
    check_not_empty(sum(sizes.values()), owner)
    if key is None:
        return DealtFolds([None], sizes, k)
    for bad, word in ((lambda v: v is None, "null"), (lambda v: isinstance(v, float) and v != v, "NaN")):
        count = sum(size for (value, _), size in sizes.items() if bad(value))
        if count:
            raise ValueError(
                f"{key_param}={key_column!r} has {count} {word} values; every row needs a class. Drop those rows "
                f"(dataset.dropna(subset=[{key_column!r}]) drops nulls and NaNs) or give them a class before splitting"
            )
    return DealtFolds(sorted({value for value, _ in sizes}), sizes, k)
