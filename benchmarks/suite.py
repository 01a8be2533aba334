"""The benchmark suite: which comparisons run in each mode, and running them within a time budget.

A *section* is one comparison (contenders side by side on one configuration) or the planning
count. Sections run in priority order; before each, the runner estimates its cost from the number
of Spark jobs it will submit and the seconds per job measured so far in this run, and skips it (the
report says so) when it would overrun the mode's time budget. On this shared 2-core machine the
cost of a fit is nearly all per-job overhead (planning, code generation, py4j round trips), so the
number of jobs predicts the time well whatever the row count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from benchmarks import contenders as C
from benchmarks.measure import Comparison, Probe, Spread, check_same_metrics


@dataclass
class Contender:
    label: str
    impl: str  # "spark", "article" or "splitcv"
    parallelism: int
    #: splitcv's sharePipelinePrefix, for the pipeline comparison
    share: bool = True
    #: splitcv's racing, and its racingRule
    racing: bool = False
    rule: str = "paired-t"
    #: splitcv's scoreInOnePass
    one_pass: bool = True
    #: splitcv's cachePrefixOutput, for the pipeline comparison
    cache_prefix: bool = True


@dataclass
class Spec:
    """One comparison: contenders on one configuration, ratios of the given pairs."""

    id: str
    kind: str  # "kfold" or "window"
    folds: int
    maps: int
    rows: int
    contenders: list[Contender]
    pairs: list[tuple[str, str]]  # (numerator, denominator) labels: contender / ours at the same parallelism
    warmup: Optional[list[str]] = None  # labels to warm up; None: all
    group: str = "headline"  # headline, scaling, rows, latency, estimator
    #: warm up on this many folds instead of ``folds`` (same contenders, same code paths, cheaper)
    warm_folds: Optional[int] = None
    #: estimator settings (``solver``, ``max_iter``) for every contender
    estimator: dict = field(default_factory=dict)

    def jobs_estimate(self, impl: str, folds: Optional[int] = None) -> int:
        """Spark jobs one run submits (fit 2 jobs + evaluation 1 per task; measured, not guessed:
        see the job columns of the report)."""
        f, m = folds or self.folds, self.maps
        if self.estimator.get("pipeline"):
            # per (fold, map): 3 prefix stages (~4 jobs) + LogisticRegression (~maxIter + 4) + evaluation
            per_fit = 4 + self.estimator.get("max_iter", 10) + 4 + 1
            return per_fit * f * m + per_fit + 2 * f
        if impl == "spark":
            return 3 * f * m + 2 * f + 2  # + 2 emptiness checks per fold, refit
        if impl == "article":
            return 3 * f * m + 2 * f + 4  # + a cut-off job (2 jobs) per fold, the fold list, refit
        if m > 2:  # a fold's maps scored in one aggregation (2 jobs under adaptive execution)
            return 2 * f * m + 2 * f + 5
        return 3 * f * m + 5  # + one summary job, refit

    def runs_estimate(self, rounds: int, warmup: bool) -> list[tuple[str, int]]:
        """(implementation, number of runs) for a whole comparison."""
        warm = self.warmup if self.warmup is not None else [c.label for c in self.contenders]
        by_label = {c.label: c for c in self.contenders}
        out = [(by_label[label].impl, 1) for label in warm] if warmup else []
        out += [(c.impl, rounds) for c in self.contenders]
        return out

    def cost_estimate(self, rounds: int, warmup: bool, seconds_per_job: float) -> float:
        runs = self.runs_estimate(rounds, warmup)
        return sum(
            self.jobs_estimate(impl, self.warm_folds if n == 1 and warmup else None) * n * seconds_per_job
            for impl, n in runs
        )


def kfold(id: str, folds: int, maps: int, rows: int, parallelisms: list[int], group: str = "headline",
          ours_extra: tuple[int, ...] = (), warm_at: Optional[int] = None) -> Spec:
    cs, pairs = [], []
    for p in parallelisms:
        cs += [Contender(f"spark p{p}", "spark", p), Contender(f"splitcv p{p}", "splitcv", p)]
        pairs.append((f"spark p{p}", f"splitcv p{p}"))
    for p in ours_extra:
        cs.append(Contender(f"splitcv p{p}", "splitcv", p))
        pairs.append((f"spark p{parallelisms[0]}", f"splitcv p{p}"))
    warm = None if warm_at is None else [f"spark p{warm_at}", f"splitcv p{warm_at}"]
    return Spec(id, "kfold", folds, maps, rows, cs, pairs, warm, group)


def window(id: str, folds: int, maps: int, rows: int, parallelisms: list[int], group: str = "headline",
           warm_at: Optional[int] = None, warm_folds: Optional[int] = None) -> Spec:
    cs, pairs = [], []
    for p in parallelisms:
        cs += [Contender(f"article p{p}", "article", p), Contender(f"splitcv p{p}", "splitcv", p)]
        pairs.append((f"article p{p}", f"splitcv p{p}"))
    warm = None if warm_at is None else [f"article p{warm_at}", f"splitcv p{warm_at}"]
    return Spec(id, "window", folds, maps, rows, cs, pairs, warm, group, warm_folds)


def pipeline(id: str, folds: int, rows: int, parallelism: int = 8) -> Spec:
    """A real pipeline (see ``contenders.pipeline``), 6 maps on its last stage: Spark's
    CrossValidator, splitcv, splitcv with the prefix's output not cached (what caching it saves),
    and splitcv fitting the whole pipeline per map (what the shared prefix saves)."""
    cs = [
        Contender(f"spark p{parallelism}", "spark", parallelism),
        Contender(f"splitcv p{parallelism}", "splitcv", parallelism),
        Contender(f"splitcv p{parallelism} uncached prefix", "splitcv", parallelism, cache_prefix=False),
        Contender(f"splitcv p{parallelism} unshared", "splitcv", parallelism, share=False),
    ]
    pairs = [(f"spark p{parallelism}", f"splitcv p{parallelism}"),
             (f"splitcv p{parallelism} uncached prefix", f"splitcv p{parallelism}"),
             (f"splitcv p{parallelism} unshared", f"splitcv p{parallelism} uncached prefix"),
             (f"spark p{parallelism}", f"splitcv p{parallelism} unshared")]
    return Spec(id, "kfold", folds, 6, rows, cs, pairs, None, "pipeline", estimator={"pipeline": True, "max_iter": 10})


def racing(spec: Spec) -> Spec:
    """Adds splitcv with ``racing=True`` at the first parallelism, under each racing rule (the
    paired test, and successive halving keeping half), against Spark and against the exhaustive
    splitcv."""
    p = spec.contenders[0].parallelism
    spec.contenders.append(Contender(f"splitcv p{p} racing", "splitcv", p, racing=True))
    spec.contenders.append(Contender(f"splitcv p{p} halving", "splitcv", p, racing=True, rule="halving"))
    for label in (f"splitcv p{p} racing", f"splitcv p{p} halving"):
        spec.pairs += [(f"spark p{p}", label), (f"splitcv p{p}", label)]
    return spec


def per_map_scoring(spec: Spec) -> Spec:
    """Adds splitcv with ``scoreInOnePass=False`` at the first parallelism: what scoring a fold's
    maps in one job saves, measured on its own."""
    p = spec.contenders[0].parallelism
    spec.contenders.append(Contender(f"splitcv p{p} per-map scoring", "splitcv", p, one_pass=False))
    spec.pairs.append((f"splitcv p{p} per-map scoring", f"splitcv p{p}"))
    return spec


def lbfgs(spec: Spec) -> Spec:
    """The same comparison with an estimator that caches its own training data during a fit
    (``LinearRegression(solver="l-bfgs", maxIter=5)`` persists its training blocks)."""
    spec.estimator = {"solver": "l-bfgs", "max_iter": 5}
    return spec


BASE_ROWS = 10_000
TINY_ROWS = 2_500


@dataclass
class Mode:
    name: str
    rounds: int
    budget_seconds: float
    sections: list[Any]  # Spec or the string "planning"
    warmup: bool = True
    ceiling: bool = True


def modes() -> dict[str, Mode]:
    b = BASE_ROWS
    return {
        "smoke": Mode(
            "smoke", rounds=1, budget_seconds=10 * 60, warmup=False, ceiling=False,
            sections=[
                kfold("smoke-kfold-2x1", 2, 1, TINY_ROWS, [4]),
                window("smoke-window-2x1", 2, 1, TINY_ROWS, [4]),
                pipeline("smoke-pipeline-2x6", 2, TINY_ROWS, 4),
                "planning-smoke",
            ],
        ),
        "quick": Mode(
            "quick", rounds=3, budget_seconds=12 * 60,
            sections=[
                kfold("kfold-10x2", 10, 2, b, [8]),
                window("window-10x2", 10, 2, b, [8], group="scaling"),
                "planning-quick",
            ],
        ),
        "full": Mode(
            "full", rounds=3, budget_seconds=60 * 60,
            sections=[
                kfold("kfold-10x2", 10, 2, b, [8]),
                window("window-30x2", 30, 2, b, [8]),
                "planning",
                per_map_scoring(racing(kfold("kfold-5x12", 5, 12, b, [8]))),
                "racing-agreement",
                pipeline("pipeline-5x6-1e5", 5, 100_000),
                window("window-10x2", 10, 2, b, [8], group="scaling"),
                kfold("kfold-10x2-scaling", 10, 2, b, [1, 2, 4, 16], group="scaling", warm_at=4),
                window("window-10x2-scaling", 10, 2, b, [1, 2, 4, 16], group="scaling", warm_at=4),
                kfold("latency-kfold-20x2", 20, 2, TINY_ROWS, [16], group="latency", ours_extra=(32,)),
                window("window-100x2", 100, 2, b, [8], warm_folds=10),
                "peak-100",
                kfold("kfold-10x2-1e5", 10, 2, 100_000, [8], group="rows"),
                window("window-10x2-1e5", 10, 2, 100_000, [8], group="rows"),
                lbfgs(kfold("kfold-10x2-lbfgs", 10, 2, b, [8], group="estimator")),
                lbfgs(window("window-10x2-lbfgs", 10, 2, b, [8], group="estimator")),
                kfold("kfold-10x2-1e6", 10, 2, 1_000_000, [8], group="rows"),
                window("window-10x2-1e6", 10, 2, 1_000_000, [8], group="rows"),
            ],
        ),
    }


def all_sections() -> dict[str, Any]:
    """Every section of every mode by id (for ``--only``)."""
    found: dict[str, Any] = {}
    for mode in modes().values():
        for s in mode.sections:
            found[s if isinstance(s, str) else s.id] = s
    return found


@dataclass
class Runner:
    spark: Any
    probe: Probe
    data_dir: str
    rounds: int
    budget_seconds: float
    warmup: bool = True
    measure_ceiling: bool = True
    log: Callable[[str], None] = print
    started: float = field(default_factory=time.monotonic)
    seconds_per_job: float = 0.25  # a first guess for this loaded 2-core machine, replaced by measurement
    _walls: float = 0.0
    _jobs: int = 0
    _frames: dict[int, Any] = field(default_factory=dict)
    _copy: dict[int, int] = field(default_factory=dict)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def frame(self, rows: int) -> Any:
        from benchmarks.data import write_panel

        if rows not in self._frames:
            self._frames[rows] = self.spark.read.parquet(write_panel(self.spark, self.data_dir, rows))
            self._copy[rows] = self.probe.cached_copy_bytes(self._frames[rows])
        return self._frames[rows]

    def _learn(self, comparison: Comparison) -> None:
        for runs in [comparison.warmup.values(), *comparison.runs.values()]:
            for r in runs:
                self._walls += r.wall
                self._jobs += max(r.jobs, 1)
        if self._jobs:
            self.seconds_per_job = self._walls / self._jobs

    def fits(self, spec: Spec, df: Any, folds: Optional[int] = None) -> dict[str, Callable[[], Any]]:
        out = {}
        f, est = folds or spec.folds, spec.estimator
        for c in spec.contenders:
            if est.get("pipeline"):
                out[c.label] = (C.spark_pipeline(df, f, c.parallelism, est["max_iter"]) if c.impl == "spark"
                                else C.splitcv_pipeline(df, f, c.parallelism, est["max_iter"], c.share, c.cache_prefix))
            elif c.impl == "spark":
                out[c.label] = C.spark_kfold(df, f, spec.maps, c.parallelism, **est)
            elif c.impl == "article":
                out[c.label] = C.article_window(df, f, spec.maps, c.parallelism, **est)
            elif spec.kind == "kfold":
                out[c.label] = C.splitcv_kfold(df, f, spec.maps, c.parallelism, racing=c.racing, one_pass=c.one_pass,
                                                rule=c.rule, **est)
            else:
                out[c.label] = C.splitcv_window(df, f, spec.maps, c.parallelism, **est)
        return out

    def run_spec(self, spec: Spec) -> dict[str, Any]:
        estimate = spec.cost_estimate(self.rounds, self.warmup, self.seconds_per_job)
        remaining = self.budget_seconds - self.elapsed()
        if estimate > remaining:
            reason = (f"estimated {estimate / 60:.1f} min ({self.seconds_per_job:.2f} s per Spark job so far), "
                      f"{max(remaining, 0) / 60:.1f} min of the budget left")
            self.log(f"skip {spec.id}: {reason}")
            return {"id": spec.id, "skipped": reason}
        self.log(f"{spec.id}: {spec.kind} {spec.folds} folds x {spec.maps} maps, {spec.rows} rows "
                 f"(estimated {estimate / 60:.1f} min)")
        df = self.frame(spec.rows)
        ceiling_before = self.ceiling()
        fits = self.fits(spec, df)
        comparison = Comparison(spec.id, fits, reference=spec.pairs[0][1])
        warm = (spec.warmup if spec.warmup is not None else list(fits)) if self.warmup else []
        warm_fits = self.fits(spec, df, spec.warm_folds) if spec.warm_folds else fits
        started = time.monotonic()
        for label in warm:
            comparison.warmup[label] = self.probe.measure(warm_fits[label])
            self.log(f"  warm-up {label:<12} {comparison.warmup[label].wall:7.2f} s")
        comparison.runs = {label: [] for label in fits}
        for r in range(self.rounds):
            line = []
            for label, fit in fits.items():
                run = self.probe.measure(fit)
                comparison.runs[label].append(run)
                line.append(f"{label} {run.wall:.2f}s")
            self.log(f"  round {r + 1}: " + ", ".join(line))
        seconds = time.monotonic() - started
        ceiling_after = self.ceiling()
        self._learn(comparison)
        results = {label: runs[0].result for label, runs in comparison.runs.items()}
        racers = [c.label for c in spec.contenders if c.racing]
        disagreement = check_same_metrics({label: r for label, r in results.items() if label not in racers})
        out: dict[str, Any] = {
            "id": spec.id,
            "kind": spec.kind,
            "group": spec.group,
            "folds": spec.folds,
            "maps": spec.maps,
            "rows": spec.rows,
            "rounds": self.rounds,
            "estimator": spec.estimator,
            "warm_folds": spec.warm_folds,
            "seconds": seconds,
            "copy_bytes": self._copy[spec.rows],
            "ceiling": [ceiling_before, ceiling_after],
            "metrics_agree": disagreement is None,
            "metrics_note": disagreement,
            "avg_metrics": [float(v) for v in results[spec.pairs[0][1]]],
            # racing: the map it chose, against the exhaustive search's (RMSE: smallest)
            "racing_best": {label: int(results[label][0]) for label in racers},
            "exhaustive_best": int(min(range(spec.maps), key=lambda j: results[spec.pairs[0][1]][j])),
            "contenders": {},
            "pairs": [],
        }
        for c in spec.contenders:
            runs = comparison.runs[c.label]
            out["contenders"][c.label] = {
                "impl": c.impl,
                "parallelism": c.parallelism,
                "share": c.share,
                "racing": c.racing,
                "rule": c.rule,
                "one_pass": c.one_pass,
                "walls": [r.wall for r in runs],
                "cores": [r.cores for r in runs],
                "driver_cores": [r.cpu_driver / r.wall for r in runs],
                "idle_cores": [r.idle_cores for r in runs],
                "peaks": [r.peak_cached for r in runs],
                "memory_peaks": [r.peak_memory for r in runs],
                "jobs": [r.jobs for r in runs],
                "group_jobs": [r.group_jobs for r in runs],
                "loads": [r.load for r in runs],
                "warmup_wall": comparison.warmup[c.label].wall if c.label in comparison.warmup else None,
            }
        for num, den in spec.pairs:
            ratios = [a.wall / b.wall for a, b in zip(comparison.runs[num], comparison.runs[den])]
            out["pairs"].append({"numerator": num, "denominator": den, "ratios": ratios})
            self.log(f"  {num} / {den}: {Spread.of(ratios)}")
        if disagreement:
            self.log(f"  METRICS DIFFER: {disagreement}")
        return out

    def ceiling(self, seconds: float = 1.5) -> float:
        """The ceiling (0 when switched off, as in --smoke): cCores a perfectly parallel CPU-bound Spark job gets right now (2 tasks of hashing):
        the most any contender could keep busy at this moment on this shared machine."""
        if not self.measure_ceiling:
            return 0.0
        cpu0, start = self.probe.cpu_seconds(), time.perf_counter()
        while time.perf_counter() - start < seconds:
            self.spark.range(0, 20_000_000, 1, 2).selectExpr("sum(hash(id, id * 7))").collect()
        wall = time.perf_counter() - start
        return (self.probe.cpu_seconds() - cpu0) / wall

    def planning(self, big: int = 100, theirs: tuple[int, ...] = (5, 20), rows: int = BASE_ROWS,
                 only_window: bool = False) -> dict[str, Any]:
        """Spark jobs to plan the folds: ``split()`` for 5 and ``big`` folds (ours), against what
        Spark's ``CrossValidator._kFold`` (foldCol) and the article's loop run before fitting."""
        from pyspark.sql import functions as F

        from benchmarks.article_loop import ArticleTimeSeriesCV
        from splitcv import ExpandingWindowSplitter, KFoldSplitter

        df = self.frame(rows)
        started = time.monotonic()

        def count(action: Callable[[], Any]) -> int:
            before = self.probe.job_counter()
            action()
            return self.probe.job_counter() - before

        rows: list[dict[str, Any]] = []
        for k in (5, big):
            h = max(1, 200 // k)
            rows.append({"what": "splitcv ExpandingWindowSplitter.split()", "folds": k,
                         "jobs": count(lambda: ExpandingWindowSplitter(timeCol="day", horizon=h, numFolds=k).split(df))})
            if only_window:
                continue
            rows.append({"what": "splitcv ExpandingWindowSplitter.describe()", "folds": k,
                         "jobs": count(lambda: ExpandingWindowSplitter(timeCol="day", horizon=h, numFolds=k).describe(df))})
            rows.append({"what": "splitcv KFoldSplitter(foldCol).split()", "folds": k,
                         "jobs": count(lambda: KFoldSplitter(numFolds=k, foldCol=f"fold{k}").split(df))})
            rows.append({"what": "splitcv KFoldSplitter (random).split()", "folds": k,
                         "jobs": count(lambda: KFoldSplitter(numFolds=k).split(df))})
        from pyspark.ml.tuning import CrossValidator

        for k in theirs:
            cv = CrossValidator(numFolds=k, foldCol=f"fold{k}")
            rows.append({"what": "Spark CrossValidator._kFold (foldCol)", "folds": k, "jobs": count(lambda: cv._kFold(df))})
            loop = ArticleTimeSeriesCV(None, [], None, timeCol="day", horizon=max(1, 200 // k), numFolds=k)

            def article_plan() -> None:
                from benchmarks.article_loop import build_time_series_folds

                for fold in build_time_series_folds(df, "day", loop.horizon, k):
                    column = F.col("day")
                    loop._determine_cutoff_date(df.filter((column >= fold["start_date"]) & (column <= fold["end_date"])))

            rows.append({"what": "article loop: fold list + cut-off per fold", "folds": k, "jobs": count(article_plan)})
        for r in rows:
            self.log(f"  planning: {r['what']:<45} {r['folds']:>3} folds: {r['jobs']} jobs")
        return {"id": "planning", "rows": rows, "seconds": time.monotonic() - started}

    def peak_only(self, folds: int = 100, maps: int = 2, parallelism: int = 8) -> dict[str, Any]:
        """Peak cached bytes of splitcv alone on an expanding window of ``folds`` folds: one run,
        no ratio (the article's loop at 100 folds is the ``window-100x2`` comparison, which takes
        over 40 min on this machine when it is loaded)."""
        df = self.frame(BASE_ROWS)
        fit = C.splitcv_window(df, folds, maps, parallelism)
        run = self.probe.measure(fit)
        copy = self._copy[BASE_ROWS]
        self.log(f"  splitcv window {folds}x{maps} p{parallelism}: wall {run.wall:.1f} s, peak cached "
                 f"{run.peak_cached / copy:.2f}x one copy, {run.jobs} jobs, cores {run.cores:.2f}")
        return {
            "id": f"window-{folds}x{maps}-peak", "kind": "window", "group": "peak", "folds": folds, "maps": maps,
            "rows": BASE_ROWS, "rounds": 1, "copy_bytes": copy, "ceiling": [], "metrics_agree": True,
            "metrics_note": None, "estimator": {}, "warm_folds": None, "seconds": run.wall, "pairs": [],
            "contenders": {f"splitcv p{parallelism}": {
                "impl": "splitcv", "parallelism": parallelism, "walls": [run.wall], "cores": [run.cores],
                "peaks": [run.peak_cached], "jobs": [run.jobs], "group_jobs": [run.group_jobs],
                "loads": [run.load], "idle_cores": [run.idle_cores], "warmup_wall": None,
                "driver_cores": [run.cpu_driver / run.wall],
            }},
        }

    def racing_agreement(self, seeds: int = 10, folds: int = 5) -> dict[str, Any]:
        """Racing (the paired test, and halving keeping half) against the exhaustive search on
        ``seeds`` seeded sparse regressions (300 rows, 40 features, 6 of them informative; random
        k-fold 5 x 12 maps: regParam 0.01-3 x elasticNetParam 0 and 0.5): the map each chose, and
        the margin of the exhaustive best over the second (relative RMSE). The panel data of the speed comparisons cannot serve: there the least
        regularized map wins by less than 0.1%, so no choice is clear enough to check."""
        import numpy as np
        from pyspark.ml.feature import VectorAssembler

        from benchmarks.data import sparse_regression_frame
        from splitcv import KFoldSplitter, ParallelCrossValidator

        started, rows = time.monotonic(), []
        for seed in range(1, seeds + 1):
            frame = sparse_regression_frame(seed)
            features = [c for c in frame.columns if c != "label"]
            df = VectorAssembler(inputCols=features, outputCol="features").transform(self.spark.createDataFrame(frame))
            df = df.select("features", "label").cache()
            lr = C.estimator()
            grid = [pm for pm in C.grid(lr, 12) if pm[lr.regParam] > 0] + [{lr.regParam: 3.0, lr.elasticNetParam: 0.0},
                                                                           {lr.regParam: 3.0, lr.elasticNetParam: 0.5}]
            chosen = {}
            for name, racing, rule in (("exhaustive", False, "paired-t"), ("racing", True, "paired-t"),
                                       ("halving", True, "halving")):
                chosen[name] = ParallelCrossValidator(
                    estimator=lr, estimatorParamMaps=grid, evaluator=C.evaluator(), refit=False,
                    splitter=KFoldSplitter(numFolds=folds, seed=seed), parallelism=8, racing=racing, racingRule=rule,
                ).fit(df)
            df.unpersist()
            avg = chosen["exhaustive"].avgMetrics
            order = np.argsort(avg)
            row = {"seed": seed, "exhaustive": int(order[0]), "margin": float((avg[order[1]] - avg[order[0]]) / avg[order[0]])}
            for name, prefix in (("racing", ""), ("halving", "halving_")):
                model = chosen[name]
                row[name] = model.bestIndex
                row[prefix + "dropped"] = sum(1 for d in model.cvResults["dropped_after_fold"] if d is not None)
                row[prefix + "tasks_run"] = sum(1 for fold in model.foldMetrics for v in fold if v == v)
            rows.append(row)
            self.log(f"  racing seed {seed}: exhaustive best {row['exhaustive']}, racing {row['racing']} "
                     f"({row['tasks_run']} of {folds * 12} tasks run), halving {row['halving']} "
                     f"({row['halving_tasks_run']} run), margin {row['margin']:.2e}")
        return {"id": "racing-agreement", "rows": rows, "seconds": time.monotonic() - started}

    def run_section(self, section: Any) -> dict[str, Any]:
        started = time.monotonic()
        if section == "racing-agreement":
            out = self.racing_agreement()
        elif section == "peak-100":
            out = self.peak_only()
        elif section == "planning":
            out = self.planning()
        elif section == "planning-quick":
            out = self.planning(big=100, theirs=(5,))
        elif section == "planning-smoke":
            out = self.planning(big=100, theirs=(), rows=TINY_ROWS)
        else:
            out = self.run_spec(section)
        self.log(f"  ({time.monotonic() - started:.0f} s; {self.elapsed() / 60:.1f} min since the start)")
        return out
