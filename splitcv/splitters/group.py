"""Group k-fold: all rows of a group on one side of every fold, folds balanced by rows."""

from __future__ import annotations

from typing import Any, Optional

from pyspark import keyword_only
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from splitcv.plan.assign import pack_groups
from splitcv.plan.checks import check_group_count, check_not_empty, missing_groups_error
from splitcv.plan.describe import group_infos
from splitcv.splitters.base import FoldSet, FoldSplitter, as_key, quote
from splitcv.splitters.params import HasGroupCol, HasNumFolds

__all__ = ["GroupKFoldSplitter"]

_GROUP, _FOLD = "__splitcv_group", "__splitcv_fold"
_UNGROUPABLE = (T.MapType, T.BinaryType)


class GroupKFoldSplitter(FoldSplitter, HasGroupCol, HasNumFolds):
    """K-fold over groups: every row of a group is on the same side of every fold.

    For rows that are not independent (several visits of one patient, the readings of one
    sensor, the repeats of one row), so a model is never validated on a group it has seen. Groups
    are packed as scikit-learn's ``GroupKFold`` packs them: largest first, each into the fold with
    the fewest rows so far (ties: the group with the smaller hash first, the lower fold), so the
    folds are balanced by rows, not by groups. Planned from one summary job (rows per group),
    however many groups; a row's fold is then looked up by a broadcast join. No seed: the plan is
    a function of the group sizes, the same in every process.

    A group is a distinct value of ``groupCol`` (strings, numbers, dates, structs...); a null or
    NaN group is an error, and so are fewer groups than folds.

    Examples
    --------
    >>> df = spark.createDataFrame([(i, g) for g, n in (("a", 5), ("b", 3), ("c", 3), ("d", 1)) for i in range(n)],
    ...                            ["x", "patient"])
    >>> [(i.train_rows, i.validation_rows) for i in GroupKFoldSplitter(groupCol="patient", numFolds=2).describe(df)]
    [(6, 6), (6, 6)]
    """

    partitionsRows = True

    @keyword_only
    def __init__(self, *, groupCol: Optional[str] = None, numFolds: int = 3) -> None:
        super().__init__()
        self._setDefault(numFolds=3)
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, groupCol: Optional[str] = None, numFolds: int = 3) -> "GroupKFoldSplitter":
        return self._set(**self._input_kwargs)

    def _check_params(self) -> None:
        if not self.isDefined(self.groupCol):
            raise ValueError(
                "GroupKFoldSplitter: groupCol is not set; give the column naming each row's group, "
                "e.g. GroupKFoldSplitter(groupCol='patient_id')"
            )

    def _check_schema(self, dataset: DataFrame) -> None:
        group = self.getGroupCol()
        fields = {f.name: f.dataType for f in dataset.schema.fields}
        if group not in fields:
            raise ValueError(f"groupCol={group!r} is not a column of the dataset; its columns are {sorted(fields)}")
        if isinstance(fields[group], _UNGROUPABLE):
            raise TypeError(
                f"groupCol={group!r} has type {fields[group].simpleString()}, which Spark cannot group by; "
                "give a column of group ids (strings, numbers, dates)"
            )

    def _key(self, dataset: DataFrame) -> Column:
        """A 64-bit hash of the group: the driver plans on hashes, never on values it would have to
        send back to Spark with their exact type (timestamps, decimals, structs)."""
        kind = dataset.schema[self.getGroupCol()].dataType
        if isinstance(kind, (T.ArrayType, T.StructType)):
            # xxhash64 skips nulls inside: [1, NULL] and [1] would be one group; their JSON differs.
            return F.xxhash64(F.to_json(F.struct(F.col(quote(self.getGroupCol())))))
        return F.xxhash64(as_key(dataset, self.getGroupCol()))

    def _fold_set(self, dataset: DataFrame, classes: Optional[str] = None) -> FoldSet:
        k, group = self.getOrDefault(self.numFolds), self.getGroupCol()
        column = F.col(quote(group))
        kind = dataset.schema[group].dataType
        missing = column.isNull()
        if isinstance(kind, (T.FloatType, T.DoubleType)):
            missing = missing | F.isnan(column)
        keys = [self._key(dataset).alias("key"), missing.alias("missing")]
        if classes is not None:
            keys.append(F.col(quote(classes)).alias("class"))
        rows = dataset.groupBy(*keys).count().collect()
        check_not_empty(sum(r["count"] for r in rows), type(self).__name__)
        bad = sum(r["count"] for r in rows if r["missing"])
        if bad:
            raise missing_groups_error(f"groupCol={group!r}", bad, f"dataset.dropna(subset=[{group!r}])")
        sizes: dict[int, int] = {}
        per_class: dict[int, dict[Any, int]] = {}
        for r in rows:
            sizes[r["key"]] = sizes.get(r["key"], 0) + r["count"]
            if classes is not None:
                per_class.setdefault(r["key"], {})[r["class"]] = r["count"]
        check_group_count(f"groupCol={group!r}", len(sizes), k)
        assigned = pack_groups(list(sizes.items()), k)
        spark = dataset.sparkSession
        lookup = spark.createDataFrame(
            list(assigned.items()), T.StructType([T.StructField(_GROUP, T.LongType()), T.StructField(_FOLD, T.IntegerType())])
        )
        frame = dataset.withColumn(_GROUP, self._key(dataset)).join(F.broadcast(lookup), _GROUP).drop(_GROUP)
        fold = F.col(_FOLD)
        conditions = [(fold != f, fold == f) for f in range(k)]
        infos = group_infos(assigned, sizes, per_class if classes is not None else None, k)
        return FoldSet(conditions, infos, frame, (_FOLD,))

    def _fold_conditions(self, dataset: DataFrame):  # type: ignore[override]
        return self._fold_set(dataset).conditions
