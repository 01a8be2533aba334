"""Which Spark jobs each contender runs, counted by the call site Spark names them after.

    python -m benchmarks.job_sites [--kind kfold|window|pipeline] [--rows 10000]

Fits each contender of one benchmark section once to warm up, then once counted, and prints its
jobs grouped by call site (``treeAggregate at WeightedLeastSquares.scala:109`` is a
LinearRegression fit's pass over its data, ``collect at AreaUnderCurve.scala:44`` part of a
BinaryClassificationEvaluator score, and so on). Job counts do not depend on the machine's load,
so this answers "what work is left that we could remove" on any machine: see finding 12 in
``benchmarks/findings.md``. Sections: ``kfold`` is random k-fold 10x2 (Spark's CrossValidator and
splitcv), ``window`` expanding window 30x2 (the article's loop and splitcv), ``pipeline`` the real
Pipeline 5x6 (Spark's CrossValidator, splitcv with and without the shared prefix).
"""

from __future__ import annotations

import argparse
import collections
from typing import Any, Callable


def count_jobs(spark: Any, fit: Callable[[], Any]) -> collections.Counter:
    """Jobs by call site of one call of ``fit``, after a warm-up call."""
    context = spark.sparkContext._jsc.sc()
    fit()
    context.listenerBus().waitUntilEmpty(10_000)
    first = context.dagScheduler().nextJobId()
    fit()
    context.listenerBus().waitUntilEmpty(10_000)
    store = context.statusStore()
    return collections.Counter(store.job(job).name() for job in range(first, context.dagScheduler().nextJobId()))


def main() -> None:
    from benchmarks.data import DATA_DIR, read_panel

    parser = argparse.ArgumentParser(prog="python -m benchmarks.job_sites")
    parser.add_argument("--kind", default="kfold", choices=["kfold", "window", "pipeline"])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args()

    from benchmarks import contenders as C
    from benchmarks.run import session

    spark = session()
    df = read_panel(spark, args.data_dir, args.rows)
    sections = {
        "kfold": [("Spark CrossValidator", C.spark_kfold(df, 10, 2, 8)), ("splitcv", C.splitcv_kfold(df, 10, 2, 8))],
        "window": [("article loop", C.article_window(df, 30, 2, 8)), ("splitcv", C.splitcv_window(df, 30, 2, 8))],
        "pipeline": [
            ("Spark CrossValidator", C.spark_pipeline(df, 5, 8)),
            ("splitcv", C.splitcv_pipeline(df, 5, 8)),
            ("splitcv, sharePipelinePrefix=False", C.splitcv_pipeline(df, 5, 8, share=False)),
        ],
    }
    for name, fit in sections[args.kind]:
        sites = count_jobs(spark, fit)
        print(f"{name}: {sum(sites.values())} jobs")
        for site, jobs in sites.most_common():
            print(f"  {jobs:5d}  {site}")
    spark.stop()


if __name__ == "__main__":
    main()
