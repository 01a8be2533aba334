"""The splitcv demo: every splitter on a real weekly time series, printed and drawn.

Run it with ``python -m splitcv.demo [--out PATH]``. It starts a small local Spark (no UI, no
progress bars), loads the Mauna Loa CO2 series shipped with splitcv (:mod:`splitcv.data`), prints
each splitter's folds as a table, and writes one PNG with a panel of folds per splitter.

The steps are functions so that each can be reused and tested on an existing session:
:func:`demo_splitters` builds the splitters, :func:`show_splitters` prints and draws them,
:func:`run_tuning` tunes a model with :class:`~splitcv.ParallelCrossValidator` and times it beside
Spark's ``CrossValidator``, and :func:`main` wires them to a session and the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional, Sequence, TextIO

__all__ = ["DEFAULT_OUT", "QUIET_JAVA_OPTIONS", "QUIET_LOG4J2", "demo_splitters", "show_splitters", "run_tuning", "start_spark", "main"]

DEFAULT_OUT = "splitcv-demo-folds.png"


#: JVM options that keep Spark's linear algebra quiet. netlib (Spark's BLAS, LAPACK and ARPACK)
#: tries a native library first and, where none is installed, its C code prints
#: ``netlib-blas: JNI_OnLoad: dlopen(libblas.so.3) failed`` straight to stderr, past any logger;
#: ``allowNative=false`` goes to the Java implementation at once, which small fits do not notice.
QUIET_JAVA_OPTIONS = (
    "-Ddev.ludovic.netlib.blas.allowNative=false",
    "-Ddev.ludovic.netlib.lapack.allowNative=false",
    "-Ddev.ludovic.netlib.arpack.allowNative=false",
)

#: The log4j2 file (package data in :mod:`splitcv.data`) the demo's JVM starts with: errors only.
QUIET_LOG4J2 = "log4j2-quiet.properties"


def start_spark(app_name: str = "splitcv-demo"):
    """A small local session for the demo: 2 cores, no UI, no console progress, errors only.

    The JVM starts with :data:`QUIET_JAVA_OPTIONS` and :data:`QUIET_LOG4J2`, so nothing it can
    print unasked (netlib's native-library lines, Spark's startup warnings) reaches the console.
    JVM options only apply to a JVM that is starting: with a session already running in this
    process, that session is returned as it is.
    """
    from importlib import resources

    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    # A local demo needs no network address; this also silences Spark's loopback-hostname warning.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    log4j2 = resources.files("splitcv.data").joinpath(QUIET_LOG4J2)
    # as_file gives a real file even when splitcv is imported from a zip; the JVM reads it as it starts.
    with resources.as_file(log4j2) as path:
        # A file: URI, so a path with spaces stays one option.
        options = " ".join([*QUIET_JAVA_OPTIONS, f"-Dlog4j2.configurationFile={path.resolve().as_uri()}"])
        spark = (
            SparkSession.builder.master("local[2]")
            .appName(app_name)
            .config("spark.driver.extraJavaOptions", options)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    spark.sparkContext.setLogLevel("ERROR")  # for a session that was already running
    return spark


def demo_splitters(timeCol: str = "week") -> list[tuple[str, object]]:
    """The splitters the demo shows, with a one-line title each, on weekly data in ``timeCol``."""
    from splitcv import BlockedKFoldSplitter, ExpandingWindowSplitter, KFoldSplitter, SlidingWindowSplitter

    return [
        (
            "Expanding window: train on all the past, validate on the next year, 4 weeks apart",
            ExpandingWindowSplitter(timeCol=timeCol, horizon="1 year", gap="4 weeks", initialWindow="30 years"),
        ),
        (
            "Sliding window: train on the last 10 years only",
            SlidingWindowSplitter(
                timeCol=timeCol, windowSize="10 years", horizon="1 year", gap="4 weeks", initialWindow="30 years"
            ),
        ),
        (
            "Blocked k-fold: 5 contiguous blocks, 8 weeks left out on each side of validation",
            BlockedKFoldSplitter(timeCol=timeCol, numFolds=5, gap="8 weeks"),
        ),
        (
            "Random k-fold: rows drawn into 5 folds (leaks the future into training: shown for contrast)",
            KFoldSplitter(numFolds=5),
        ),
    ]


def show_splitters(
    spark, df, out: Optional[str] = DEFAULT_OUT, *, file: Optional[TextIO] = None, timeCol: str = "week"
) -> Optional[str]:
    """Print each demo splitter's title, repr and fold table; draw them all into one PNG at ``out``.

    Returns the path of the picture, or None when ``out`` is None or matplotlib is missing (the
    tables are printed either way).
    """
    from splitcv import format_folds

    file = sys.stdout if file is None else file
    splitters = demo_splitters(timeCol)
    for title, splitter in splitters:
        print(f"\n== {title}", file=file)
        print(repr(splitter), file=file)
        print(format_folds(splitter.describe(df)), file=file)
    if out is None:
        return None
    try:
        from splitcv.plot import plot_splitters

        path = plot_splitters([s for _, s in splitters], df, out, timeCol=timeCol)
    except ImportError as error:
        print(f"\nNo picture: {error}", file=file)
        return None
    print(f"\nThe folds of every splitter, drawn: {os.path.abspath(path)}", file=file)
    return path


def run_tuning(spark, df, *, file: Optional[TextIO] = None, parallelism: int = 4, folds: int = 8,
               kfolds: int = 10, rounds: int = 2, compare_parallelism: int = 8) -> dict:
    """Tune a linear model on the CO2 series with an expanding window; then time the same random
    k-fold work under Spark's ``CrossValidator`` and ``ParallelCrossValidator`` side by side.

    The comparison is the workload time series users have: many folds, a small grid (2 maps).
    Spark's ``CrossValidator`` keeps at most one fit per param map in flight, one fold at a time;
    the queue keeps ``compare_parallelism``. On a grid larger than ``parallelism`` both keep the
    machine busy and the lead is smaller (see docs/benchmarks.md).

    Returns the figures it printed (for tests).
    """
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import LinearRegression
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
    from pyspark.sql import functions as F

    from splitcv import ExpandingWindowSplitter, KFoldSplitter, ParallelCrossValidator, format_folds
    from splitcv.data import co2_features

    file = sys.stdout if file is None else file
    data = co2_features(df).cache()
    data.count()
    lr = LinearRegression(maxIter=50)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.1, 1.0]).addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
    evaluator = RegressionEvaluator(metricName="rmse")
    splitter = ExpandingWindowSplitter(timeCol="week", horizon="1 year", initialWindow="30 years", numFolds=folds)

    print(f"\n== Tuning: LinearRegression, {len(grid)} param maps x {splitter.getNumFolds()} yearly folds, "
          f"expanding window, parallelism={parallelism}", file=file)
    cv = ParallelCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                                splitter=splitter, parallelism=parallelism)
    started = time.perf_counter()
    model = cv.fit(data)
    seconds = time.perf_counter() - started
    print(format_folds(model.folds), file=file)
    print(model.summary(), file=file)
    print(f"Best params: {model.bestParams} (rmse {model.avgMetrics[model.bestIndex]:.4f} ppm), "
          f"{len(grid) * len(model.folds)} fits in {seconds:.1f} s", file=file)

    # Spark cannot express time-series folds; on random k-fold both can do the same work.
    with_folds = data.withColumn("fold", F.pmod(F.xxhash64(F.lit(42), "week"), F.lit(kfolds)).cast("int")).cache()
    with_folds.count()
    small_grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.1]).build()
    spark_cv = CrossValidator(estimator=lr, estimatorParamMaps=small_grid, evaluator=evaluator, foldCol="fold",
                              numFolds=kfolds, parallelism=compare_parallelism)
    ours = ParallelCrossValidator(estimator=lr, estimatorParamMaps=small_grid, evaluator=evaluator,
                                  splitter=KFoldSplitter(numFolds=kfolds, foldCol="fold"),
                                  parallelism=compare_parallelism)
    timings: dict[str, list[float]] = {"spark": [], "splitcv": []}
    fitted: dict[str, object] = {}
    for _ in range(rounds):  # alternate, so that the machine's noise falls on both
        for name, estimator in (("spark", spark_cv), ("splitcv", ours)):
            started = time.perf_counter()
            fitted[name] = estimator.fit(with_folds)
            timings[name].append(time.perf_counter() - started)
    with_folds.unpersist()
    spark_s, ours_s = min(timings["spark"]), min(timings["splitcv"])
    same = all(abs(a - b) <= 1e-9 * max(1.0, abs(a))
               for a, b in zip(fitted["spark"].avgMetrics, fitted["splitcv"].avgMetrics))
    in_flight = min(compare_parallelism, len(small_grid))
    print(f"\n== Same work under both: random {kfolds}-fold x {len(small_grid)} param maps, "
          f"parallelism={compare_parallelism} (best of {rounds} runs, alternating; a busy machine blurs this, "
          f"see docs/benchmarks.md)", file=file)
    print(f"Spark's CrossValidator keeps {in_flight} fits in flight, one fold at a time; the queue keeps "
          f"{min(compare_parallelism, kfolds * len(small_grid))}.", file=file)
    print(f"Spark CrossValidator    {spark_s:6.1f} s", file=file)
    print(f"ParallelCrossValidator  {ours_s:6.1f} s   ({spark_s / ours_s:.2f}x Spark's speed)", file=file)
    print(f"Same metrics: {'yes' if same else 'NO'}", file=file)
    data.unpersist()
    return {"best_params": model.bestParams, "spark_seconds": spark_s, "splitcv_seconds": ours_s,
            "model": model, "same_metrics": same}


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m splitcv.demo",
        description="Split the Mauna Loa weekly CO2 series with every splitcv splitter; print and draw the folds.",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"where to write the PNG (default: ./{DEFAULT_OUT})")
    parser.add_argument("--no-tuning", action="store_true", help="only show the splitters; skip the tuning run")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None, spark=None, file: Optional[TextIO] = None) -> int:
    """Run the demo. Starts (and stops) a local session unless ``spark`` is given."""
    from splitcv.data import load_co2

    args = _parse(argv)
    file = sys.stdout if file is None else file
    started = time.perf_counter()
    own_session = spark is None
    if own_session:
        print("Starting a local Spark session (local[2])...", file=file)
        spark = start_spark()
    df = None
    try:
        df = load_co2(spark).cache()
        rows = df.count()
        print(f"Mauna Loa weekly CO2: {rows} weeks, {df.columns}", file=file)
        show_splitters(spark, df, args.out, file=file)
        if not args.no_tuning:
            run_tuning(spark, df, file=file)
    finally:
        if own_session:
            spark.stop()
        elif df is not None:
            df.unpersist()
    print(f"\nDone in {time.perf_counter() - started:.1f} s.", file=file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
