"""Batch inference: the seed article's row-at-a-time UDF (its recipe 2) against ``predict_spark``.

    python -m benchmarks.inference              # 10^6 rows and the small sizes, 3 rounds (12 min here when quiet, 35 loaded)
    python -m benchmarks.inference --smoke      # 10^4 rows, 1 round, nothing saved: checks that it runs

Both contenders score the same fitted model on the same cached DataFrame of 20 standard-normal
feature columns, and both are forced to compute every prediction (a sum over the output column,
which also checks that they agree). Per round each contender runs once, in alternating order; the
ratio is article time / ``predict_spark`` time within a round, reported as median [min-max].

* ``article``: the article's UDF, as written there::

      @F.udf(returnType=DoubleType())
      def predict_udf(*cols):
          return float(model.predict((cols,))[0])   # the article has no [0]: numpy 2.4 needs it

* ``predict_spark``: ``splitcv.inference.predict_spark(model, df, featureCols)``.

The models: the article's, an ``SVC(gamma='auto', probability=True)`` fitted on
``make_classification(n_samples=1000, random_state=0)`` (one point of its grid: C=1, rbf), and a
``LogisticRegression`` on the same data, a model whose arithmetic costs next to nothing, so that
the per-row overhead alone shows. A third comparison, ``closure``, isolates how the model travels:
a vectorised pandas UDF that closes over a large model (a 100-tree random forest, 21 MB pickled),
against ``predict_spark``, on many small partitions.

Results go to ``benchmarks/results/inference.json``; ``benchmarks/report.py`` renders them as a
section of docs/benchmarks.md (rewrite the page with ``python -m benchmarks.run --render-only``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "inference.json")
N_FEATURES = 20
COLUMNS = [f"feature{i}" for i in range(N_FEATURES)]


def make_data(spark: Any, rows: int, partitions: int) -> Any:
    """``rows`` rows of an id and 20 standard-normal features, cached and materialised."""
    from pyspark.sql import functions as F

    df = spark.range(0, rows, numPartitions=partitions).select(
        "id", *[F.randn(seed=i).alias(c) for i, c in enumerate(COLUMNS)]
    )
    df = df.cache()
    df.count()
    return df


def article_model(kind: str) -> Any:
    """The article's training data (its recipe 1) and a model on it."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    X, y = make_classification(n_samples=1000, random_state=0)
    if kind == "svc":
        import warnings

        with warnings.catch_warnings():  # scikit-learn 1.9 deprecates probability=True; predict does not use it
            warnings.simplefilter("ignore", FutureWarning)
            return SVC(gamma="auto", random_state=0, probability=True).fit(X, y)
    if kind == "logistic":
        return LogisticRegression(max_iter=1000).fit(X, y)
    raise ValueError(kind)


def forest_model() -> Any:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=20_000, n_features=N_FEATURES, random_state=0)
    return RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)


def article_udf(model: Any, df: Any) -> Any:
    """Recipe 2 of the article, verbatim but for the session, ``display`` and one ``[0]``: its
    ``float(model.predict((cols,)))`` converts a one-element array, which numpy 2.4 refuses
    ("only 0-dimensional arrays can be converted to Python scalars"; deprecated since numpy 1.25)."""
    import pyspark.sql.functions as F
    from pyspark.sql.types import DoubleType

    best_model_from_gridsearch = model

    @F.udf(returnType=DoubleType())
    def predict_udf(*cols):
        # cols will be a tuple of floats here.
        return float(best_model_from_gridsearch.predict((cols,))[0])

    return df.select(F.col("id"), predict_udf(*COLUMNS).alias("prediction"))


def closure_udf(model: Any, df: Any) -> Any:
    """What one writes first with a pandas UDF: vectorised, the model captured in the closure."""
    from typing import Iterator

    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:
        for batch in batches:
            yield pd.Series(model.predict(batch.to_numpy()).astype("float64"))

    predict.__annotations__ = {"batches": Iterator[pd.DataFrame], "return": Iterator[pd.Series]}
    udf = pandas_udf(predict, "double")  # type: ignore[call-overload]
    return df.withColumn("prediction", udf(F.struct(*COLUMNS)))


def helper(model: Any, df: Any) -> Any:
    from splitcv.inference import predict_spark

    return predict_spark(model, df, COLUMNS)


def force(scored: Any) -> float:
    """Compute every prediction: their sum (the same for both contenders when they agree)."""
    from pyspark.sql import functions as F

    return float(scored.agg(F.sum(F.col("prediction").cast("double"))).collect()[0][0])


def compare(spark: Any, name: str, model: Any, rows: int, partitions: int, rounds: int,
            contenders: dict[str, Callable[[Any, Any], Any]], log: Callable[[str], None],
            fresh: bool = False) -> dict[str, Any]:
    """Each contender once per round, alternating which goes first. ``fresh``: a model whose pickle
    differs each round (a ``benchmark_round_`` attribute), so that no round finds it already
    unpickled in the Python workers from the round before (predict_spark keys its worker cache by
    the pickled bytes)."""
    df = make_data(spark, rows, partitions)
    try:
        walls: dict[str, list[float]] = {c: [] for c in contenders}
        sums: dict[str, set[float]] = {c: set() for c in contenders}
        order = list(contenders)
        for r in range(rounds):
            if fresh:
                model.benchmark_round_ = r
            for c in order if r % 2 == 0 else order[::-1]:
                began = time.perf_counter()
                sums[c].add(force(contenders[c](model, df)))
                walls[c].append(time.perf_counter() - began)
            log(f"  {name} {rows:,} rows round {r + 1}: " + ", ".join(f"{c} {walls[c][-1]:.1f} s" for c in order))
    finally:
        df.unpersist()
    baseline, ours = order
    ratios = [a / b for a, b in zip(walls[baseline], walls[ours])]
    agree = len(set().union(*sums.values())) == 1
    result = {
        "id": f"{name}-{rows}",
        "model": name,
        "rows": rows,
        "partitions": partitions,
        "contenders": {c: {"walls": [round(w, 3) for w in walls[c]]} for c in order},
        "ratios": [round(x, 3) for x in ratios],
        "agree": agree,
    }
    log(f"{name} {rows:,} rows: {baseline} / {ours} = {statistics.median(ratios):.1f}x "
        f"[{min(ratios):.1f}-{max(ratios):.1f}], predictions {'agree' if agree else 'DIFFER'}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the main comparison (default 10^6)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=4, help="partitions of the main comparison (default 4)")
    parser.add_argument("--smoke", action="store_true", help="10^4 rows, one round, small sizes skipped, nothing saved")
    parser.add_argument("--output", default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.rounds = 10_000, 1
    from benchmarks.measure import SideRun, log
    from benchmarks.run import machine, session

    run = SideRun.begin("benchmarks.inference", argv)
    spark = session()
    try:
        arrow_udfs = spark.conf.get("spark.sql.execution.pythonUDF.arrow.enabled", "false")
        svc, logistic = article_model("svc"), article_model("logistic")
        main_pair = {"article": article_udf, "predict_spark": helper}
        # warm-up: Python workers, scikit-learn imports, JIT; not measured
        compare(spark, "warm-up", logistic, 2_000, 2, 1, main_pair, lambda s: None)
        comparisons: list[dict[str, Any]] = []
        record: dict[str, Any] = {}

        def add(result: dict[str, Any]) -> None:
            # saved after every comparison, so an interrupted run keeps what it measured
            comparisons.append(result)
            record.update({**run.header(machine()), "arrow_python_udfs": arrow_udfs, "comparisons": comparisons})
            if not args.smoke:
                os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
                with open(args.output + ".tmp", "w") as handle:
                    json.dump(record, handle, indent=1)
                os.replace(args.output + ".tmp", args.output)

        for name, model in (("logistic", logistic), ("svc", svc)):
            add(compare(spark, name, model, args.rows, args.partitions, args.rounds, main_pair, log))
        for rows in [] if args.smoke else [100, 10_000]:  # where it stops paying: the article's own 100 rows, and 10^4
            for name, model in (("logistic", logistic), ("svc", svc)):
                add(compare(spark, name, model, rows, 2, args.rounds, main_pair, log))
        forest = forest_model()
        from pyspark import cloudpickle

        forest_mib = len(cloudpickle.dumps(forest)) / 2**20
        closure_rows = 10_000 if args.smoke else 100_000
        result = compare(spark, "forest", forest, closure_rows, 8 if args.smoke else 64, args.rounds,
                         {"closure": closure_udf, "predict_spark": helper}, log, fresh=True)
        result["model_mib"] = round(forest_mib, 1)
        add(result)
    finally:
        spark.stop()
    if not args.smoke:
        log(f"wrote {args.output} in {record['minutes']} min; load average {record['load'][0]} -> {record['load'][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
