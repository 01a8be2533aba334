"""How fast any cross-validator that calls Spark's LogisticRegression could be on the pipeline section.

    python -m benchmarks.logistic_ceiling [--rows 100000] [--rounds 3] [--parallelism 8]

The pipeline target of issue 11 (StringIndexer, OneHotEncoder, VectorAssembler, StandardScaler,
LogisticRegression; random k-fold 5x6, grid on the last stage) asks for 2.5x Spark's
``CrossValidator``. This probe times, in the same rounds and in rotating order:

* Spark's ``CrossValidator`` (the contender, as in the suite);
* splitcv's ``ParallelCrossValidator`` with its defaults (as in the suite);
* **the LogisticRegression fits alone**, twice: the 30 (fold, map) fits from a pool of
  ``parallelism`` threads, then the final refit's LogisticRegression on all rows (it needs the best
  map, so it starts after every score). Their inputs are the rows already run through a fitted
  prefix, made before the clock starts: once cached on disk with every column, as splitcv's
  ``cachePrefixOutput`` caches them, and once cached in memory with only the two columns the fit
  reads, the cheapest input a fit can have. No prefix fit and no score is timed.

Any cross-validator that calls Spark's own ``LogisticRegression.fit`` on these rows (so that its
models, and therefore its metrics, are Spark's) and refits the best map, as Spark's does, has to run
at least these fits. So Spark's time over the fits' time is a ceiling on its speed-up over Spark here,
whatever it schedules or shares: if the ceiling is under the target, no scheduling reaches the target.
Finding 18 in ``benchmarks/findings.md`` reports a run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

FOLDS = 5


def logistic_fits_alone(df: Any, parallelism: int, narrow: bool) -> tuple[Callable[[], int], Callable[[], None]]:
    """A timed callable running the 30 LogisticRegression fits and the refit's, and one releasing their inputs.

    The prefixes are fitted and their outputs cached and counted here, before any timing: on disk
    with every column (``narrow=False``, what ``cachePrefixOutput`` keeps) or in memory with only the
    features and the label (``narrow=True``)."""
    from pyspark import StorageLevel
    from pyspark.ml import Pipeline
    from pyspark.sql import functions as F

    from benchmarks import contenders as C

    pipeline, maps = C.pipeline()
    stages = pipeline.getStages()
    prefix, last = Pipeline(stages=stages[:-1]), stages[-1]
    data = C.pipeline_input(df)
    level = StorageLevel.MEMORY_ONLY if narrow else StorageLevel.DISK_ONLY

    def prepared(rows: Any) -> Any:
        out = prefix.fit(rows).transform(rows)
        if narrow:
            out = out.select(last.getFeaturesCol(), last.getLabelCol())
        out = out.persist(level)
        out.count()
        return out

    outputs = [prepared(data.filter(F.col(f"fold{FOLDS}") != fold)) for fold in range(FOLDS)]
    everything = prepared(data)
    tasks = [(out, param_map) for out in outputs for param_map in maps]

    def fit() -> int:
        with ThreadPoolExecutor(max_workers=parallelism) as pool:
            models = list(pool.map(lambda task: last.fit(task[0], task[1]), tasks))
        last.fit(everything, maps[0])
        return len(models) + 1

    def release() -> None:
        for out in [*outputs, everything]:
            out.unpersist(blocking=True)

    return fit, release


def main() -> None:
    from benchmarks.data import DATA_DIR, read_panel

    parser = argparse.ArgumentParser(prog="python -m benchmarks.logistic_ceiling")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args()

    from benchmarks import contenders as C
    from benchmarks.run import session

    spark = session()
    df = read_panel(spark, args.data_dir, args.rows)
    on_disk, release_disk = logistic_fits_alone(df, args.parallelism, narrow=False)
    in_memory, release_memory = logistic_fits_alone(df, args.parallelism, narrow=True)
    contenders = {
        "Spark CrossValidator": C.spark_pipeline(df, FOLDS, args.parallelism),
        "splitcv": C.splitcv_pipeline(df, FOLDS, args.parallelism),
        "fits alone, disk": on_disk,
        "fits alone, memory": in_memory,
    }
    names = list(contenders)
    for name in names:  # warm-up: code generation and JIT, as the suite does
        contenders[name]()
    walls: dict[str, list[float]] = {name: [] for name in names}
    try:
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                started = time.perf_counter()
                contenders[name]()
                walls[name].append(time.perf_counter() - started)
            print(f"round {r + 1}: " + ", ".join(f"{n} {walls[n][-1]:.1f} s" for n in names), flush=True)
    finally:
        release_disk()
        release_memory()

    def ratios(a: str, b: str) -> str:
        values = sorted(x / y for x, y in zip(walls[a], walls[b]))
        return f"{statistics.median(values):.2f} [{values[0]:.2f}-{values[-1]:.2f}]"

    print(f"\nrows {args.rows}, parallelism {args.parallelism}, {args.rounds} rounds (median [min-max] of per-round ratios)")
    for name in names:
        print(f"  {name}: median wall {statistics.median(walls[name]):.1f} s")
    print(f"  Spark / splitcv: {ratios('Spark CrossValidator', 'splitcv')}")
    for fits in ("fits alone, disk", "fits alone, memory"):
        print(f"  Spark / {fits} (a ceiling): {ratios('Spark CrossValidator', fits)}")
        print(f"  splitcv / {fits} (what splitcv adds around the fits): {ratios('splitcv', fits)}")


if __name__ == "__main__":
    main()
