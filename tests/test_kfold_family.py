"""Random, stratified and group k-fold on the Spark path: real folds collected, rules counted.

Oracles are independent of the planner: rows per class and fold counted on the collected folds,
scikit-learn's ``KFold``, ``StratifiedKFold`` and ``GroupKFold`` fold sizes on the same data, and
group membership checked row by row. Real data: Spark's own tuning test data, scikit-learn's
breast cancer and wine sets, statsmodels' Grunfeld panel.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import LinearRegression
from pyspark.sql import functions as F

from splitcv import (
    BlockedKFoldSplitter,
    CombinatorialPurgedSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    ParallelCrossValidator,
    ParallelCrossValidatorModel,
    SmallClassWarning,
    StratifiedKFoldSplitter,
)
from splitcv.splitters.stratified import MAX_CLASSES
from test_all_splitters import spark_jobs
from test_splitter_errors import no_spark_job
from test_splitters_spark import assignment, collect_folds

few = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))


def rows_per_fold(folds) -> list[int]:
    return [len(v) for _, v in folds]


def check_partition(folds, rows: list[tuple]) -> None:
    """Training and validation cover the rows exactly in every fold; validation sets partition them."""
    for i, (train, validation) in enumerate(folds):
        assert Counter(train) + Counter(validation) == Counter(rows), f"fold {i} does not cover the data exactly"
    assert sum((Counter(v) for _, v in folds), Counter()) == Counter(rows), "validation sets do not partition the rows"


# -- random k-fold on repeated rows ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark_tuning_data(spark):
    """pyspark's own CrossValidator test data: 4 distinct rows, each 10 times."""
    rows = [(Vectors.dense([0.0]), 0.0), (Vectors.dense([0.4]), 1.0), (Vectors.dense([0.5]), 0.0), (Vectors.dense([0.6]), 1.0)]
    return spark.createDataFrame(rows * 10, ["features", "label"])


def test_repeated_rows_make_full_folds_as_sklearn_kfold_does(spark_tuning_data):
    from sklearn.model_selection import KFold

    folds = collect_folds(KFoldSplitter(numFolds=3).split(spark_tuning_data))
    theirs = sorted(len(test) for _, test in KFold(n_splits=3).split(np.zeros(40)))
    assert sorted(rows_per_fold(folds)) == theirs == [13, 13, 14]
    rows = [tuple(r) for r in spark_tuning_data.collect()]
    check_partition(folds, rows)
    # every distinct row is spread over the folds, not kept in one
    for distinct in set(rows):
        assert sum(1 for _, v in folds if distinct in v) == 3


def test_validator_fits_sparks_tuning_data(spark_tuning_data):
    lr = LinearRegression(maxIter=5)
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 1.0}], evaluator=RegressionEvaluator(),
        splitter=KFoldSplitter(numFolds=3), refit=False,
    ).fit(spark_tuning_data)
    assert sorted(i.validation_rows for i in model.folds) == [13, 13, 14]
    assert all(np.isfinite(model.avgMetrics))


def test_wine_kfold_sizes_are_sklearns(spark, wine):
    from sklearn.model_selection import KFold

    _, df = wine
    ours = sorted(i.validation_rows for i in KFoldSplitter(numFolds=5).describe(df))
    assert ours == sorted(len(test) for _, test in KFold(n_splits=5).split(np.zeros(178)))


def test_a_user_cached_input_is_left_as_found(spark, spark_tuning_data):
    cached = spark_tuning_data.cache()
    cached.count()
    try:
        lr = LinearRegression(maxIter=3)
        ParallelCrossValidator(
            estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}], evaluator=RegressionEvaluator(),
            splitter=KFoldSplitter(numFolds=2), refit=True,
        ).fit(cached)
        assert cached.is_cached
    finally:
        cached.unpersist()


def test_helper_column_names_are_refused_before_any_job(spark):
    df = spark.createDataFrame([(1, 2)], "x int, __splitcv_rank int")
    with no_spark_job(spark), pytest.raises(ValueError, match=re.escape("names starting with '__splitcv_'")):
        KFoldSplitter().split(df)


# -- stratified k-fold -----------------------------------------------------------------------------------
LABELS = {
    "string": (st.sampled_from(["a", "b", "c", "d"]), "string"),
    "int": (st.integers(-2, 2), "int"),
    "double": (st.sampled_from([0.0, -0.0, 1.0, 2.5]), "double"),
    "boolean": (st.booleans(), "boolean"),
}


@st.composite
def labelled(draw):
    kind = draw(st.sampled_from(sorted(LABELS)))
    strategy, sql = LABELS[kind]
    labels = draw(st.lists(strategy, min_size=8, max_size=60))
    rows = [(i % 5, label) for i, label in enumerate(labels)]  # repeated rows included
    return rows, sql


def class_of(label):
    return label + 0.0 if isinstance(label, float) else label  # -0.0 is the class 0.0


@few
@given(data=labelled(), k=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_stratified_folds_keep_every_class_balanced_to_one_row(spark, data, k, seed):
    rows, sql = data
    df = spark.createDataFrame(rows, f"x int, label {sql}")
    splitter = StratifiedKFoldSplitter(numFolds=k, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallClassWarning)
        try:
            folds = collect_folds(splitter.split(df))
        except ValueError as error:  # fewer rows than folds: a fold with no validation rows
            assert "has no validation rows" in str(error) and len(rows) < k * 2
            return
        infos = splitter.describe(df)
    check_partition(folds, rows)
    counted = [Counter(class_of(r[1]) for r in v) for _, v in folds]
    for label in {class_of(r[1]) for r in rows}:
        sizes = [c[label] for c in counted]
        assert max(sizes) - min(sizes) <= 1, f"class {label!r}: {sizes} rows per fold"
    sizes = rows_per_fold(folds)
    assert max(sizes) - min(sizes) <= 1
    assert [i.validation_classes for i in infos] == [{c: n for c, n in cnt.items() if n} for cnt in counted]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallClassWarning)
        again = assignment(splitter, df.repartition(3))
    assert again == [Counter(v) for _, v in folds], "same folds on any partitioning"


@pytest.fixture(scope="module")
def cancer(spark):
    from sklearn.datasets import load_breast_cancer

    return _real(spark, load_breast_cancer(as_frame=True))


@pytest.fixture(scope="module")
def wine(spark):
    from sklearn.datasets import load_wine

    return _real(spark, load_wine(as_frame=True))


def _real(spark, bunch):
    frame = bunch.frame
    names = list(bunch.feature_names[:4])
    rows = [(float(r["target"]), *map(float, r[names])) for _, r in frame.iterrows()]
    df = spark.createDataFrame(rows, ["label", *[f"x{i}" for i in range(4)]])
    return frame, VectorAssembler(inputCols=[f"x{i}" for i in range(4)], outputCol="features").transform(df)


@pytest.mark.parametrize("which, k", [("cancer", 5), ("wine", 10)])
def test_real_class_shares_match_sklearn_stratified_kfold(request, which, k):
    from sklearn.model_selection import StratifiedKFold

    frame, df = request.getfixturevalue(which)
    y = frame["target"].to_numpy()
    theirs = defaultdict(list)
    for _, test in StratifiedKFold(n_splits=k).split(np.zeros(len(y)), y):
        for label, count in Counter(y[test].tolist()).items():
            theirs[float(label)].append(count)
    folds = collect_folds(StratifiedKFoldSplitter(numFolds=k).split(df))
    ours = defaultdict(list)
    for _, validation in folds:
        for label, count in Counter(r[0] for r in validation).items():
            ours[label].append(count)
    assert {c: sorted(v) for c, v in ours.items()} == {c: sorted(v) for c, v in theirs.items()}
    assert sorted(rows_per_fold(folds)) == sorted(len(t) for _, t in StratifiedKFold(n_splits=k).split(np.zeros(len(y)), y))


def test_stratified_validator_on_breast_cancer_saves_and_loads(spark, cancer, tmp_path):
    from pyspark.ml.classification import LogisticRegression

    _, df = cancer
    lr = LogisticRegression(maxIter=2)  # the claims are about folds and persistence, not the fit: 2 iterations (a job each) do
    splitter = StratifiedKFoldSplitter(numFolds=3, seed=11)
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}, {lr.regParam: 0.1}],
        evaluator=BinaryClassificationEvaluator(), splitter=splitter, refit=False,
    ).fit(df)
    assert [i.validation_classes for i in model.folds] == [i.validation_classes for i in splitter.describe(df)]
    for info in model.folds:  # 212 malignant, 357 benign: 70 or 71 and 119 per fold
        assert sorted(info.validation_classes.items()) in ([(0.0, 70), (1.0, 119)], [(0.0, 71), (1.0, 119)])
    model.write().overwrite().save(str(tmp_path / "m"))
    loaded = ParallelCrossValidatorModel.load(str(tmp_path / "m"))
    assert isinstance(loaded.getSplitter(), StratifiedKFoldSplitter)
    assert (loaded.getSplitter().getNumFolds(), loaded.getSplitter().getSeed()) == (3, 11)
    assert loaded.avgMetrics == model.avgMetrics


def test_a_class_smaller_than_num_folds_warns_and_is_dealt(spark):
    rows = [(i, "common") for i in range(20)] + [(100, "rare"), (101, "rare")]
    df = spark.createDataFrame(rows, "x int, label string")
    with pytest.warns(SmallClassWarning, match=r"labelCol='label': 1 classes have fewer rows than numFolds=5: 'rare' \(2 rows\)"):
        folds = collect_folds(StratifiedKFoldSplitter(numFolds=5).split(df))
    assert sorted(sum(1 for r in v if r[1] == "rare") for _, v in folds) == [0, 0, 0, 1, 1]
    check_partition(folds, rows)


@pytest.mark.parametrize(
    "schema, rows, error, pattern",
    [
        ("x int, y string", [(1, "a")], ValueError, r"labelCol='label' is not a column of the dataset; its columns are \['x', 'y'\]"),
        ("x int, label array<int>", [(1, [1])], TypeError, r"labelCol='label' has type array<int>; classes must be"),
    ],
)
def test_stratified_schema_errors_come_before_any_job(spark, schema, rows, error, pattern):
    df = spark.createDataFrame(rows, schema)
    with no_spark_job(spark), pytest.raises(error, match=pattern):
        StratifiedKFoldSplitter().split(df)


@pytest.mark.parametrize(
    "values, pattern",
    [
        ([1.0, None, 2.0], r"labelCol='label' has 2 null values; every row needs a class.*dataset.dropna\(subset=\['label'\]\)"),
        ([1.0, float("nan"), 2.0], r"labelCol='label' has 2 NaN values"),
        ([float(i) for i in range(MAX_CLASSES + 1)], r"has 1025 distinct values, more than 1024 classes.*use KFoldSplitter"),
    ],
    ids=["null", "nan", "continuous"],
)
def test_stratified_data_errors_name_the_label(spark, values, pattern):
    df = spark.createDataFrame([(i, v) for i, v in enumerate(values * 2)], "x int, label double")
    with pytest.raises(ValueError, match=pattern):
        StratifiedKFoldSplitter(numFolds=2).split(df)


# -- group k-fold ------------------------------------------------------------------------------------------
@st.composite
def grouped(draw):
    sizes = draw(st.lists(st.integers(1, 12), min_size=2, max_size=25))
    as_text = draw(st.booleans())
    rows = [(f"g{g}" if as_text else g, i) for g, n in enumerate(sizes) for i in range(n)]
    return rows, sizes, "string" if as_text else "int"


@few
@given(data=grouped(), k=st.integers(2, 5))
def test_groups_stay_whole_and_fold_sizes_are_sklearns(spark, data, k):
    from sklearn.model_selection import GroupKFold

    rows, sizes, sql = data
    df = spark.createDataFrame(rows, f"g {sql}, i int")
    splitter = GroupKFoldSplitter(groupCol="g", numFolds=k)
    if len(sizes) < k:
        with pytest.raises(ValueError, match=rf"groupCol='g' has {len(sizes)} groups, fewer than numFolds={k}"):
            splitter.split(df)
        return
    folds = collect_folds(splitter.split(df))
    check_partition(folds, rows)
    for i, (train, validation) in enumerate(folds):
        assert not {r[0] for r in train} & {r[0] for r in validation}, f"fold {i} splits a group"
    labels = np.array([r[0] for r in rows])
    theirs = sorted(len(t) for _, t in GroupKFold(n_splits=k).split(labels, groups=labels))
    assert sorted(rows_per_fold(folds)) == theirs
    assert [(i.train_rows, i.validation_rows) for i in splitter.describe(df)] == [(len(t), len(v)) for t, v in folds]


def test_grunfeld_firms_stay_whole(spark):
    import statsmodels.api as sm
    from sklearn.model_selection import GroupKFold

    data = sm.datasets.grunfeld.load_pandas().data
    df = spark.createDataFrame(list(zip(data.firm, data.year, data.invest)), "firm string, year double, invest double")
    folds = collect_folds(GroupKFoldSplitter(groupCol="firm", numFolds=3).split(df))
    for train, validation in folds:
        assert not {r[0] for r in train} & {r[0] for r in validation}
    theirs = sorted(len(t) for _, t in GroupKFold(n_splits=3).split(data, groups=data.firm))
    assert sorted(rows_per_fold(folds)) == theirs == [60, 80, 80]


def test_a_hundred_thousand_groups_are_planned_from_one_job(spark):
    from sklearn.model_selection import GroupKFold

    n = 100_000
    # group g has 1 + g % 3 rows: 199,999 rows in all
    df = spark.range(n).withColumnRenamed("id", "g").withColumn("copies", F.expr("sequence(0, g % 3)"))
    df = df.select("g", F.explode("copies").alias("copy"))
    splitter = GroupKFoldSplitter(groupCol="g", numFolds=5)
    with spark_jobs(spark) as one_query:  # adaptive execution may run an aggregation as 2 jobs
        df.groupBy(F.xxhash64("g"), F.col("g").isNull()).count().collect()
    with spark_jobs(spark) as ids:
        infos = splitter.describe(df)
    assert len(ids) == len(one_query), f"describe ran {len(ids)} Spark jobs, one aggregation runs {len(one_query)}"
    sizes = np.array([1 + g % 3 for g in range(n)])
    labels = np.repeat(np.arange(n), sizes)
    theirs = sorted(len(t) for _, t in GroupKFold(n_splits=5).split(labels, groups=labels))
    assert sorted(i.validation_rows for i in infos) == theirs
    folds = splitter.split(df)
    train, validation = folds[0]
    assert validation.count() == infos[0].validation_rows
    shared = train.select("g").distinct().join(validation.select("g").distinct(), "g").count()
    assert shared == 0, f"{shared} groups on both sides of fold 0"


def test_group_kfold_needs_its_group_column_before_any_job(spark):
    df = spark.createDataFrame([(1, 2)], "x int, g int")
    with no_spark_job(spark):
        with pytest.raises(ValueError, match=re.escape("groupCol is not set; give the column naming each row's group")):
            GroupKFoldSplitter().split(df)
        with pytest.raises(ValueError, match=r"groupCol='patient' is not a column of the dataset"):
            GroupKFoldSplitter(groupCol="patient").split(df)
    maps = spark.createDataFrame([({"a": 1},)], "m map<string,int>")
    with no_spark_job(spark), pytest.raises(TypeError, match=r"groupCol='m' has type map<string,int>"):
        GroupKFoldSplitter(groupCol="m").split(maps)


def test_missing_groups_are_an_error(spark):
    df = spark.createDataFrame([(float(i % 4) if i != 3 else float("nan"), i) for i in range(12)] + [(None, 99)], "g double, i int")
    with pytest.raises(ValueError, match=r"groupCol='g' has 2 null or NaN values; every row needs a group"):
        GroupKFoldSplitter(groupCol="g", numFolds=2).split(df)


def test_group_validator_keeps_class_counts(spark, cancer):
    from pyspark.ml.classification import LogisticRegression

    _, df = cancer
    df = df.withColumn("patient", F.pmod((F.col("x0") * 100).cast("int"), F.lit(40)))
    lr = LogisticRegression(maxIter=2)  # the claims are about the folds' class counts, not the fit: 2 iterations do
    model = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.0}], evaluator=BinaryClassificationEvaluator(),
        splitter=GroupKFoldSplitter(groupCol="patient", numFolds=4), refit=False,
    ).fit(df)
    assert sum(i.validation_rows for i in model.folds) == 569
    assert all(sum(i.validation_classes.values()) == i.validation_rows for i in model.folds)
    assert all(sum(i.train_classes.values()) == i.train_rows for i in model.folds)


@pytest.mark.parametrize(
    "splitter",
    [
        StratifiedKFoldSplitter(labelCol="y", numFolds=4, seed=9),
        GroupKFoldSplitter(groupCol="patient", numFolds=5),
        CombinatorialPurgedSplitter(timeCol="t", numGroups=5, numTestGroups=3, labelEndCol="t_end", embargo=2),
        BlockedKFoldSplitter(timeCol="d", numFolds=4, labelEndCol="d_end", embargo="3 days"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_the_validator_saves_and_loads_the_new_splitters(spark, splitter, tmp_path):
    lr = LinearRegression()
    validator = ParallelCrossValidator(estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(), splitter=splitter)
    validator.write().save(str(tmp_path / "v"))
    loaded = ParallelCrossValidator.load(str(tmp_path / "v")).getSplitter()
    assert type(loaded) is type(splitter)
    assert {p.name: v for p, v in loaded.extractParamMap().items()} == {p.name: v for p, v in splitter.extractParamMap().items()}


def test_combinatorial_params_are_checked_before_any_job(spark):
    df = spark.createDataFrame([(i,) for i in range(10)], "t int")
    with no_spark_job(spark), pytest.raises(ValueError, match=r"numTestGroups=4 must be less than numGroups=4"):
        CombinatorialPurgedSplitter(timeCol="t", numGroups=4, numTestGroups=4).split(df)
    with pytest.raises(ValueError, match=r"numGroups=1"):
        CombinatorialPurgedSplitter(timeCol="t", numGroups=1)


def test_rows_that_xxhash_alike_are_still_told_apart(spark):
    """xxhash64 skips nulls: (1, NULL) and (NULL, 1) hash alike. Their ranks must not depend on the
    order rows arrive in, or two evaluations of split()'s filters could swap their folds."""
    from splitcv.splitters.dealt import RANK, with_ranks

    rows = [(1, None), (None, 1)] * 3
    ranked = []
    for order in (rows, rows[::-1]):
        df = spark.createDataFrame(order, "a int, b int").coalesce(1)
        ranked.append(sorted(((r["a"], r["b"], r[RANK]) for r in with_ranks(df, 42).collect()), key=repr))
    assert ranked[0] == ranked[1]
    nested = [([1, 2], [3]), ([1], [2, 3])] * 2
    for order in (nested, nested[::-1]):
        df = spark.createDataFrame(order, "x array<int>, y array<int>").coalesce(1)
        ranked.append(sorted((tuple(r["x"]), tuple(r["y"]), r[RANK]) for r in with_ranks(df, 42).collect()))
    assert ranked[2] == ranked[3]


def test_array_groups_with_nulls_stay_apart(spark):
    df = spark.createDataFrame([([1, None], i) for i in range(3)] + [([1], i) for i in range(3)], "g array<int>, i int")
    infos = GroupKFoldSplitter(groupCol="g", numFolds=2).describe(df)
    assert sorted(i.validation_rows for i in infos) == [3, 3], "two groups, one per fold"


def test_a_continuous_label_is_refused_without_collecting_every_value(spark):
    df = spark.range(200_000).select(F.col("id").cast("double").alias("label"))
    with pytest.raises(ValueError, match=r"labelCol='label' has more than 1024 distinct values"):
        StratifiedKFoldSplitter(numFolds=2).split(df)


def test_the_validator_knows_a_combinatorial_fold_count_without_data(spark):
    lr = LinearRegression()
    validator = ParallelCrossValidator(
        estimator=lr, estimatorParamMaps=[{lr.regParam: 0.1}], evaluator=RegressionEvaluator(),
        splitter=CombinatorialPurgedSplitter(timeCol="t", numGroups=6, numTestGroups=2),
    )
    assert validator.getNumFolds() == 15
