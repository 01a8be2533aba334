"""The memory budget under pressure: LogisticRegression 10x2 with storage memory so small that 8 fits
in flight would overflow it (issue 11, part 4).

    python -m benchmarks.memory_budget [--rows 100000] [--memory-fraction 0.06] [--rounds 2]

Starts its own local[2] session (1 GiB driver, ``spark.memory.fraction`` as given, so storage memory
is a few tens of MiB), caches the benchmark panel as a user would, and fits random k-fold 10x2
(``LogisticRegression(maxIter=10)``, which persists its training instances during each fit) with
Spark's ``CrossValidator`` (parallelism 8: 2 fits in flight), with ``ParallelCrossValidator`` and its
default ``memoryBudget="auto"``, and with ``memoryBudget="off"``, alternating, ``--rounds`` times.
During every fit a poller reads the storage status every 20 ms and records whether any block of the
input's cache left memory (its in-memory bytes dropped or it gained bytes on disk) and the peak bytes
in memory of every other cached RDD.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any, Callable


def _poll(sc: Any, input_id: int, stop: threading.Event, out: dict[str, Any]) -> None:
    while not stop.is_set():
        try:
            infos = list(sc._jsc.sc().getRDDStorageInfo())
        except Exception:  # the gateway may be busy; a missed sample is harmless
            infos = []
        others = 0
        for info in infos:
            if info.id() == input_id:
                out["input_min_memory"] = min(out["input_min_memory"], int(info.memSize()))
                out["input_max_disk"] = max(out["input_max_disk"], int(info.diskSize()))
            else:
                others += int(info.memSize())
        out["peak_others"] = max(out["peak_others"], others)
        stop.wait(0.02)


def measure(sc: Any, input_id: int, input_memory: int, fit: Callable[[], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"input_min_memory": input_memory, "input_max_disk": 0, "peak_others": 0}
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(sc, input_id, stop, out), daemon=True)
    poller.start()
    started = time.perf_counter()
    try:
        metrics = fit()
    finally:
        out["wall"] = time.perf_counter() - started
        stop.set()
        poller.join()
    out["evicted"] = out["input_min_memory"] < input_memory or out["input_max_disk"] > 0
    out["metrics"] = metrics
    return out


def main() -> None:
    from benchmarks.data import DATA_DIR, write_panel

    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_budget")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-fraction", type=float, default=0.06, help="spark.memory.fraction")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args()

    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from splitcv import KFoldSplitter, ParallelCrossValidator
    from splitcv.budget import budget_bytes
    from splitcv.queue import SessionControl

    spark = (
        SparkSession.builder.master("local[2]").appName("splitcv-memory-budget")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g").config("spark.memory.fraction", str(args.memory_fraction))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    sc = spark.sparkContext
    path = write_panel(spark, args.data_dir, args.rows)
    frame = spark.read.parquet(path).select("features", (F.col("label") > 0).cast("double").alias("label"), "fold10")
    def cache_input() -> tuple[Any, int, int]:
        """Cache the input afresh (each run starts with all of it in memory): frame, RDD id, bytes."""
        before = {info.id() for info in sc._jsc.sc().getRDDStorageInfo()}
        cached = frame.cache()
        cached.count()
        new = [i for i in sc._jsc.sc().getRDDStorageInfo() if i.id() not in before]
        return cached, new[0].id(), int(new[0].memSize())

    data, input_id, input_memory = cache_input()
    control = SessionControl(spark)
    storage, fraction = control.storage_memory(), control.storage_fraction()
    budget = budget_bytes("auto", storage, fraction, control.dataset_bytes(data))
    mib = 1 << 20
    print(f"unified memory {storage / mib:.1f} MiB, storageFraction {fraction}, input cached {input_memory / mib:.1f} MiB "
          f"in memory, 'auto' budget {budget / mib:.1f} MiB" if budget is not None else "no budget")

    lr = LogisticRegression(maxIter=10)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.1]).build()
    evaluator = BinaryClassificationEvaluator()
    p = args.parallelism
    spark_cv = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator, numFolds=10,
                              foldCol="fold10", parallelism=p)

    def ours(memory_budget: Any) -> Any:
        return ParallelCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                                      splitter=KFoldSplitter(numFolds=10, foldCol="fold10"), parallelism=p,
                                      memoryBudget=memory_budget)

    current = [data]
    contenders = {
        f"Spark CrossValidator p{p}": lambda: spark_cv.fit(current[0]).avgMetrics,
        f"splitcv p{p} memoryBudget='auto'": lambda: ours("auto").fit(current[0]).avgMetrics,
        f"splitcv p{p} memoryBudget='off'": lambda: ours("off").fit(current[0]).avgMetrics,
    }
    for label, fit in contenders.items():  # warm-up
        fit()
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in contenders}
    for round_ in range(args.rounds):
        for label, fit in contenders.items():
            data.unpersist(blocking=True)
            data, input_id, input_memory = cache_input()
            current[0] = data
            runs[label].append(measure(sc, input_id, input_memory, fit))
        print(f"round {round_ + 1}: " + ", ".join(f"{label} {runs[label][-1]['wall']:.1f}s" for label in contenders))
    spark_label = next(iter(contenders))
    for label, measured in runs.items():
        walls = [m["wall"] for m in measured]
        ratio = [s["wall"] / m["wall"] for s, m in zip(runs[spark_label], measured)]
        print(f"{label}: wall {statistics.median(walls):.1f} s (Spark / this {statistics.median(ratio):.2f} "
              f"[{min(ratio):.2f}-{max(ratio):.2f}]), input evicted in {sum(m['evicted'] for m in measured)} of "
              f"{len(measured)} runs (lowest in memory {min(m['input_min_memory'] for m in measured) / mib:.1f} MiB, "
              f"most on disk {max(m['input_max_disk'] for m in measured) / mib:.1f} MiB), other caches peak "
              f"{max(m['peak_others'] for m in measured) / mib:.1f} MiB in memory")
    first = {label: measured[0]["metrics"] for label, measured in runs.items()}
    print("largest difference from Spark's average metrics:",
          max(abs(a - b) for v in first.values() for a, b in zip(first[spark_label], v)))
    data.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
