"""How many classes Spark's code generator compiles per fit, and how long that takes.

    python -m benchmarks.codegen [--impl splitcv|spark] [--folds 5] [--maps 12] [--parallelism 8]
                                 [--rounds 3] [--cache-entries N]

Reads Spark's ``CodegenMetrics`` (a count and a histogram of compilation times) around each of
``--rounds`` warmed-up fits of random k-fold on the benchmark panel (10^4 rows). ``--cache-entries``
sets ``spark.sql.codegen.cache.maxEntries`` (a static setting: it must be given when the session
starts; Spark's default is 100). See finding 8 in ``benchmarks/findings.md``.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    from benchmarks.data import DATA_DIR, read_panel

    parser = argparse.ArgumentParser(prog="python -m benchmarks.codegen")
    parser.add_argument("--impl", default="splitcv", choices=["splitcv", "spark"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--maps", type=int, default=12)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-entries", type=int, default=None, help="spark.sql.codegen.cache.maxEntries")
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    from benchmarks import contenders as C

    builder = (
        SparkSession.builder.master("local[2]").appName("splitcv-codegen")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "6g")
    )
    if args.cache_entries is not None:
        builder = builder.config("spark.sql.codegen.cache.maxEntries", str(args.cache_entries))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    df = read_panel(spark, args.data_dir, 10_000)
    metrics = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics

    def compiled() -> tuple[int, float]:
        histogram = metrics.METRIC_COMPILATION_TIME()
        # the histogram keeps a sample, so the total is an estimate: mean x count
        return histogram.getCount(), histogram.getSnapshot().getMean() * histogram.getCount()

    make = C.spark_kfold if args.impl == "spark" else C.splitcv_kfold
    fit = make(df, args.folds, args.maps, args.parallelism)
    fit()  # warm-up
    cache = args.cache_entries if args.cache_entries is not None else "default (100)"
    print(f"{args.impl}, k-fold {args.folds}x{args.maps}, parallelism {args.parallelism}, code cache {cache}")
    for round_ in range(args.rounds):
        count, millis = compiled()
        started = time.perf_counter()
        fit()
        wall = time.perf_counter() - started
        count_after, millis_after = compiled()
        print(f"  round {round_ + 1}: {count_after - count} compilations, ~{(millis_after - millis) / 1000:.1f} s "
              f"compiling, wall {wall:.1f} s")
    spark.stop()


if __name__ == "__main__":
    main()
