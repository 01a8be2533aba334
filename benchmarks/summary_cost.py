"""What LinearRegression's eager training summary costs a cross-validation (finding 12's last bullet).

    python -m benchmarks.summary_cost [--rows 10000] [--rounds 4]

Every ``LinearRegression`` fit on the normal-equation path runs two Spark jobs: the solve
(``treeAggregate at WeightedLeastSquares.scala``) and the training summary, whose metrics Spark
computes as the fit returns and no cross-validator reads. splitcv's lean fits (``splitcv.lean_fit``,
on by default) leave it out. This probe checks that the models and metrics are the same to the bit,
and times random k-fold 10x2 at parallelism 8 four ways, in an order that rotates from round to
round: Spark's ``CrossValidator`` and splitcv, each with the usual fit and with the summary-free one
(splitcv's ``leanFits``; for Spark's, a ``LinearRegression`` whose fit is the lean one), so that the
gain from dropping the summary is told apart from the queue's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from pyspark.ml.regression import LinearRegression
from pyspark.ml.tuning import CrossValidator

from splitcv.lean_fit import fit_without_summary, summary_free_path


class SummaryFreeLinearRegression(LinearRegression):
    """``LinearRegression`` fitted as splitcv's lean fits are (``splitcv.lean_fit``), so that Spark's
    ``CrossValidator`` can be timed with them too; refuses any path but the normal solver."""

    def _fit(self, dataset: Any) -> Any:
        if summary_free_path(self, dataset) is None:
            raise ValueError(f"only the normal-equation path: loss={self.getLoss()!r}, solver={self.getSolver()!r}")
        model = fit_without_summary(self, dataset)
        if model is None:
            raise ValueError("only the normal-equation path: more than 4,096 features")
        return model


def main() -> None:
    from benchmarks.data import DATA_DIR, read_panel

    parser = argparse.ArgumentParser(prog="python -m benchmarks.summary_cost")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args()

    from benchmarks import contenders as C
    from benchmarks.run import session
    from splitcv import KFoldSplitter, ParallelCrossValidator

    spark = session()
    df = read_panel(spark, args.data_dir, args.rows)
    train = df.where("fold10 != 3")
    for reg, net in [(0.0, 0.0), (0.1, 0.0), (0.1, 0.5)]:
        usual = LinearRegression(regParam=reg, elasticNetParam=net).fit(train)
        free = SummaryFreeLinearRegression(regParam=reg, elasticNetParam=net).fit(train)
        same = (usual.coefficients.toArray().tolist(), usual.intercept) == (free.coefficients.toArray().tolist(), free.intercept)
        print(f"regParam {reg}, elasticNetParam {net}: the same model to the bit: {same}; summary kept: {free.hasSummary}")

    def splitcv(lr: LinearRegression, lean: bool) -> Any:
        cv = ParallelCrossValidator(estimator=lr, estimatorParamMaps=C.grid(lr, 2), evaluator=C.evaluator(),
                                    splitter=KFoldSplitter(numFolds=10, foldCol="fold10"), parallelism=8,
                                    leanFits=lean)
        return lambda: cv.fit(df).avgMetrics

    def spark_cv(lr: LinearRegression) -> Any:
        cv = CrossValidator(estimator=lr, estimatorParamMaps=C.grid(lr, 2), evaluator=C.evaluator(), numFolds=10,
                            foldCol="fold10", parallelism=8)
        return lambda: cv.fit(df).avgMetrics

    usual = C.estimator()
    free = SummaryFreeLinearRegression(maxIter=usual.getMaxIter(), solver=usual.getSolver())
    contenders = {
        "Spark CrossValidator": spark_cv(usual),
        "Spark CrossValidator, summary-free fits": spark_cv(free.copy()),
        "splitcv": splitcv(usual.copy(), lean=False),
        "splitcv, summary-free fits": splitcv(usual.copy(), lean=True),
    }
    metrics = {name: fit() for name, fit in contenders.items()}  # also the warm-up
    for tuner in ("Spark CrossValidator", "splitcv"):
        print(f"{tuner}'s metrics with and without the summary equal to the bit:",
              metrics[tuner] == metrics[f"{tuner}, summary-free fits"])
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            began = time.perf_counter()
            contenders[name]()
            seconds[name].append(time.perf_counter() - began)
        print(f"round {round_ + 1}: " + ", ".join(f"{name} {s[-1]:.2f} s" for name, s in seconds.items()), flush=True)

    def ratio(slow: str, fast: str) -> str:
        per_round = [a / b for a, b in zip(seconds[slow], seconds[fast])]
        return f"{slow} / {fast}: {statistics.median(per_round):.2f} [{min(per_round):.2f}-{max(per_round):.2f}]"

    print(ratio("Spark CrossValidator", "splitcv"))
    print(ratio("Spark CrossValidator", "Spark CrossValidator, summary-free fits"))
    print(ratio("splitcv", "splitcv, summary-free fits"))
    print(ratio("Spark CrossValidator", "splitcv, summary-free fits"))
    print(ratio("Spark CrossValidator, summary-free fits", "splitcv, summary-free fits"))
    spark.stop()


if __name__ == "__main__":
    main()
