"""Grid search through joblib-spark (the seed article's recipe 1) against ``n_jobs=-1`` on one machine.

    python -m benchmarks.joblib_search            # every workload, 3 rounds (about 10 min here when quiet)
    python -m benchmarks.joblib_search --smoke    # small workloads, 1 round, nothing saved: checks that it runs

The same ``GridSearchCV`` (8 param maps x ``ExpandingWindowCV`` with 5 folds: 40 fits, then the
refit) runs three ways, in alternating order each round:

* ``sequential``: ``n_jobs=1``, every fit in this process (scikit-learn's default);
* ``loky``: ``n_jobs=-1``, joblib's process pool on this machine's cores (large arrays memory-mapped,
  not copied, to the workers);
* ``spark``: ``with splitcv.sklearn.spark_backend():`` on a ``local[2]`` session, each fit a one-task
  Spark job in a Spark Python worker; the estimator and the data travel pickled with every task.

Workloads: ``ridge`` (a fit takes a few milliseconds: the per-task cost alone), ``svc`` (a
scikit-learn ``SVC`` on 4,000 rows: fits of about 0.15 s here), ``svc-8k`` (8,000 rows: fits of
about half a second), ``ridge-80mb`` (the ``ridge`` fit on a 200,000 x 50 array: what shipping the
data with every task costs). Every contender must give the
same ``cv_results_`` scores. The ratio reported is loky's wall time / spark's within a round (above 1:
Spark is faster), and the per-task overhead of each parallel backend is
(wall x workers - sequential wall) / tasks: the time a task costs beyond its fit.

Results go to ``benchmarks/results/joblib_search.json``; ``benchmarks/report.py`` renders them as a
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
RESULTS = os.path.join(HERE, "results", "joblib_search.json")
FOLDS = 5
TASKS = 8 * FOLDS  # 8 param maps x 5 folds; the refit runs in the driver for every contender


def workload(name: str, smoke: bool) -> tuple[Any, Any, Any, Any]:
    """(estimator, param grid, X, y) for one workload."""
    import numpy as np
    from sklearn.datasets import make_classification, make_regression
    from sklearn.linear_model import Ridge
    from sklearn.svm import SVC

    if name == "ridge":
        X, y = make_regression(n_samples=2_000, n_features=10, noise=5.0, random_state=0)
        return Ridge(), {"alpha": list(np.logspace(-3, 4, 8))}, X, y
    if name == "ridge-80mb":
        rows = 20_000 if smoke else 200_000
        X, y = make_regression(n_samples=rows, n_features=50, noise=5.0, random_state=0)
        return Ridge(), {"alpha": list(np.logspace(-3, 4, 8))}, X, y
    if name in ("svc", "svc-8k"):
        rows = 8_000 if name == "svc-8k" else 4_000
        X, y = make_classification(n_samples=1_000 if smoke else rows, n_features=20, random_state=0)
        return SVC(gamma="auto"), {"C": [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 50.0]}, X, y
    raise ValueError(name)


def search(estimator: Any, grid: Any, X: Any) -> Any:
    import numpy as np
    from sklearn.model_selection import GridSearchCV

    from splitcv.sklearn import ExpandingWindowCV

    cv = ExpandingWindowCV(time=np.arange(len(X)), horizon=len(X) // 10, numFolds=FOLDS)
    return GridSearchCV(estimator, grid, cv=cv)


def contenders() -> dict[str, Callable[[Any, Any, Any, Any], Any]]:
    from splitcv.sklearn import spark_backend

    def sequential(est: Any, grid: Any, X: Any, y: Any) -> Any:
        return search(est, grid, X).set_params(n_jobs=1).fit(X, y)

    def loky(est: Any, grid: Any, X: Any, y: Any) -> Any:
        return search(est, grid, X).set_params(n_jobs=-1).fit(X, y)

    def spark(est: Any, grid: Any, X: Any, y: Any) -> Any:
        with spark_backend():
            return search(est, grid, X).fit(X, y)

    return {"sequential": sequential, "loky": loky, "spark": spark}


def scores(fitted: Any) -> list[float]:
    return [float(v) for i in range(FOLDS) for v in fitted.cv_results_[f"split{i}_test_score"]]


def compare(name: str, rounds: int, smoke: bool, log: Callable[[str], None]) -> dict[str, Any]:
    est, grid, X, y = workload(name, smoke)
    runs = contenders()
    order = list(runs)
    walls: dict[str, list[float]] = {c: [] for c in order}
    found: dict[str, list[float]] = {}
    for r in range(rounds):
        for c in order if r % 2 == 0 else order[::-1]:
            began = time.perf_counter()
            fitted = runs[c](est, grid, X, y)
            walls[c].append(time.perf_counter() - began)
            found[c] = scores(fitted)
        log(f"  {name} round {r + 1}: " + ", ".join(f"{c} {walls[c][-1]:.2f} s" for c in order))
    cores = os.cpu_count() or 1
    seq = statistics.median(walls["sequential"])
    overhead = {c: round((statistics.median(walls[c]) * cores - seq) / TASKS * 1000, 1) for c in ("loky", "spark")}
    ratios = [a / b for a, b in zip(walls["loky"], walls["spark"])]
    agree = all(found[c] == found["sequential"] for c in order)
    log(f"{name}: loky / spark = {statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}], "
        f"overhead per task loky {overhead['loky']} ms, spark {overhead['spark']} ms, scores {'agree' if agree else 'DIFFER'}")
    return {
        "id": name,
        "rows": int(X.shape[0]),
        "features": int(X.shape[1]),
        "data_mib": round(X.nbytes / 2**20, 1),
        "tasks": TASKS,
        "contenders": {c: {"walls": [round(w, 3) for w in walls[c]]} for c in order},
        "ratios": [round(x, 3) for x in ratios],
        "overhead_ms": overhead,
        "agree": agree,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.joblib_search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="small workloads, one round, nothing saved")
    parser.add_argument("--only", default="ridge,svc,svc-8k,ridge-80mb", help="comma-separated workloads")
    parser.add_argument("--output", default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds = 1
    from benchmarks.measure import SideRun, log
    from benchmarks.run import machine, session

    run = SideRun.begin("benchmarks.joblib_search", argv)
    spark = session()
    record: dict[str, Any] = {}
    try:
        compare("ridge", 1, True, lambda s: None)  # warm-up: Python workers, imports, loky's pool; not measured
        comparisons: list[dict[str, Any]] = []
        for name in args.only.split(","):
            comparisons.append(compare(name, args.rounds, args.smoke, log))
            record = {**run.header(machine()), "comparisons": comparisons}
            if not args.smoke:  # saved after every workload, so an interrupted run keeps what it measured
                os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
                with open(args.output + ".tmp", "w") as handle:
                    json.dump(record, handle, indent=1)
                os.replace(args.output + ".tmp", args.output)
    finally:
        spark.stop()
    if not args.smoke and record:
        log(f"wrote {args.output} in {record['minutes']} min; load average {record['load'][0]} -> {record['load'][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
