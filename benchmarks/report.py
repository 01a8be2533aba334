"""Render the results (``benchmarks/results/latest.json``) as docs/benchmarks.md and the scaling plot."""

from __future__ import annotations

import os
import statistics
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
FINDINGS = os.path.join(HERE, "findings.md")
INFERENCE = os.path.join(HERE, "results", "inference.json")  # written by python -m benchmarks.inference
JOBLIB = os.path.join(HERE, "results", "joblib_search.json")  # written by python -m benchmarks.joblib_search
IMPL_NAMES = {"spark": "Spark CrossValidator", "article": "article loop", "splitcv": "ParallelCrossValidator"}


def med(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], digits: int = 2) -> str:
    return f"{med(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def config_name(s: dict[str, Any]) -> str:
    kind = "random k-fold" if s["kind"] == "kfold" else "expanding window"
    name = f"{kind} {s['folds']}x{s['maps']}"
    if s.get("estimator", {}).get("pipeline"):
        name = f"Pipeline (StringIndexer, OneHotEncoder, VectorAssembler, StandardScaler, LogisticRegression) {kind} {s['folds']}x{s['maps']}"
    elif s.get("estimator"):
        name += " (l-bfgs, caches its own data)"
    if s.get("group") == "latency":
        name += " (latency)"
    return name


def contender_name(c: dict[str, Any]) -> str:
    return (IMPL_NAMES[c["impl"]] + ("" if c.get("share", True) else " (sharePipelinePrefix=False)")
            + ((" (racing, halving)" if c.get("rule") == "halving" else " (racing)") if c.get("racing") else "") + ("" if c.get("one_pass", True) else " (scoreInOnePass=False)"))


def default_estimator(s: dict[str, Any]) -> bool:
    return not s.get("estimator")


def rows_name(rows: int) -> str:
    exponent = len(str(rows)) - 1
    return f"10^{exponent}" if rows == 10**exponent else f"{rows:,}"


def comparisons(store: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in store["sections"] if "pairs" in s]


def find(store: dict[str, Any], kind: str, folds: int, maps: int, parallelism: int, rows: Optional[int] = None,
         impl: Optional[str] = None) -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
    """The (section, pair) that compares ``impl`` (default: any) with splitcv at ``parallelism``."""
    from benchmarks.suite import BASE_ROWS

    rows = rows or BASE_ROWS
    for s in comparisons(store):
        if not default_estimator(s) or s.get("group") == "latency":
            continue
        if s["kind"] != kind or s["folds"] != folds or s["maps"] != maps or s["rows"] != rows:
            continue
        for pair in s["pairs"]:
            num, den = s["contenders"][pair["numerator"]], s["contenders"][pair["denominator"]]
            if num["parallelism"] == parallelism and den["parallelism"] == parallelism and (impl is None or num["impl"] == impl):
                return s, pair
    return None


def section(store: dict[str, Any], id: str) -> Optional[dict[str, Any]]:
    return next((s for s in store["sections"] if s["id"] == id), None)


# -- targets --------------------------------------------------------------------------------------
def targets(store: dict[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []

    def verdict(ok: Optional[bool]) -> str:
        return "not measured" if ok is None else ("**pass**" if ok else "**FAIL**")

    hit = find(store, "kfold", 10, 2, 8)
    if hit:
        ratios = hit[1]["ratios"]
        out.append(("random k-fold 10x2 at parallelism 8: >= 1.3x faster than Spark's CrossValidator",
                    f"Spark / splitcv wall time {spread(ratios)}", verdict(med(ratios) >= 1.3)))
        out.append(("... >= 2x (issue 11: doing less work than Spark)", f"{med(ratios):.2f}", verdict(med(ratios) >= 2)))
    else:
        out.append(("random k-fold 10x2 at parallelism 8: >= 1.3x faster than Spark's CrossValidator", "-", verdict(None)))

    hit = find(store, "window", 30, 2, 8)
    if hit:
        s, pair = hit
        ratios = pair["ratios"]
        ours = s["contenders"][pair["denominator"]]
        cores = med(ours["cores"])
        out.append(("expanding window 30x2 at parallelism 8: >= 1.4x faster than the article's loop",
                    f"article / splitcv wall time {spread(ratios)}", verdict(med(ratios) >= 1.4)))
        out.append(("... >= 2x (issue 11: doing less work than Spark)", f"{med(ratios):.2f}", verdict(med(ratios) >= 2)))
        idle = [v for v in ours.get("idle_cores", []) if v >= 0]
        machine_note = (f"; the machine had {med(idle):.2f} cores idle during these fits" if idle else "")
        out.append(("... with cores >= 80% busy (>= 1.6 of 2 cores)",
                    f"splitcv kept {spread(ours['cores'])} cores busy (the article's loop "
                    f"{med(s['contenders'][pair['numerator']]['cores']):.2f}); load average during the fits "
                    f"{med(ours['loads']):.1f} on 2 cores (the benchmark's own threads count), and a 2-task CPU-bound Spark job run just before and after got "
                    f"{min(s['ceiling']):.2f}-{max(s['ceiling']):.2f} cores{machine_note}. See the findings",
                    verdict(cores >= 1.6)))
    else:
        out.append(("expanding window 30x2 at parallelism 8: >= 1.4x faster than the article's loop, cores >= 80% busy",
                    "-", verdict(None)))

    for folds, label in ((10, "10 folds"), (100, "100 folds")):
        found = []
        for s in comparisons(store):
            if s["folds"] != folds or not default_estimator(s):
                continue
            for name, c in s["contenders"].items():
                if c["impl"] == "splitcv":
                    found.append((max(c["peaks"]) / s["copy_bytes"], f"{config_name(s)} {name}"))
        if found:
            worst = max(found)
            out.append((f"peak cached bytes <= 1.5x one cached copy of the input, {label}",
                        f"worst {worst[0]:.2f}x ({worst[1]}); {len(found)} splitcv contenders measured "
                        "(default LinearRegression, which caches nothing itself; see the findings for one that does)",
                        verdict(worst[0] <= 1.5)))
        else:
            out.append((f"peak cached bytes <= 1.5x one cached copy of the input, {label}", "-", verdict(None)))

    piped = [s for s in comparisons(store) if s.get("group") == "pipeline" and s["rows"] >= 100_000]
    goal = "a real Pipeline 5x6 (grid on its last stage), 10^5 rows, parallelism 8: >= 2.5x faster than Spark's CrossValidator, same metrics"
    if piped:
        s = piped[0]
        by_pair = {(p["numerator"], p["denominator"]): p["ratios"] for p in s["pairs"]}
        theirs = by_pair[("spark p8", "splitcv p8")]
        cached = by_pair.get(("splitcv p8 uncached prefix", "splitcv p8"))
        # results stored before cachePrefixOutput compared the unshared fit with the shared one
        shared = by_pair.get(("splitcv p8 unshared", "splitcv p8 uncached prefix")) or by_pair[("splitcv p8 unshared", "splitcv p8")]
        caching = f"; caching the prefix's output alone (uncached / cached) {spread(cached)}" if cached else ""
        passed = med(theirs) >= 2.5 and s["metrics_agree"]
        bound = "" if passed else "; Spark's own LogisticRegression fits alone cap it near 2.8x, before any score (finding 18)"
        out.append((goal, f"Spark / splitcv wall time {spread(theirs)}; the shared prefix alone (splitcv unshared / shared) "
                    f"{spread(shared)}{caching}; metrics {'identical' if s['metrics_agree'] else 'DIFFER'}{bound}",
                    verdict(passed)))
    else:
        out.append((goal, "-", verdict(None)))

    race = section(store, "kfold-5x12")
    if race and "pairs" in race:
        by_pair = {(p["numerator"], p["denominator"]): p["ratios"] for p in race["pairs"]}
        exhaustive, raced = by_pair.get(("spark p8", "splitcv p8")), by_pair.get(("spark p8", "splitcv p8 racing"))
        if exhaustive:
            out.append(("random k-fold 5x12 at parallelism 8, exhaustive: >= 1.3x faster than Spark's CrossValidator",
                        f"Spark / splitcv wall time {spread(exhaustive)}", verdict(med(exhaustive) >= 1.3)))
        best = race.get("racing_best", {})
        if raced:
            bound = "" if med(raced) >= 2.0 else "; the paired test's bound here: finding 18"
            out.append(("... with racing=True: >= 2x faster than Spark's CrossValidator",
                        f"Spark / splitcv racing wall time {spread(raced)}; chose map "
                        f"{best.get('splitcv p8 racing')} (exhaustive: {race['exhaustive_best']}){bound}",
                        verdict(med(raced) >= 2.0)))
        halving = by_pair.get(("spark p8", "splitcv p8 halving"))
        if halving:
            out.append(("... with racing=True, racingRule='halving': >= 2x faster than Spark's CrossValidator",
                        f"Spark / splitcv halving wall time {spread(halving)}; chose map "
                        f"{best.get('splitcv p8 halving')} (exhaustive: {race['exhaustive_best']})",
                        verdict(med(halving) >= 2.0)))
    agreement = section(store, "racing-agreement")
    if agreement:
        clear = [r for r in agreement["rows"] if r["margin"] >= RACING_MARGIN]
        agree = sum(r["exhaustive"] == r["racing"] for r in clear)
        out.append((f"racing chooses the exhaustive search's best on >= 9 of 10 seeded datasets where the best leads "
                    f"the second by >= {RACING_MARGIN:.1%} (RMSE)",
                    f"{agree} of {len(clear)} such datasets ({sum(r['exhaustive'] == r['racing'] for r in agreement['rows'])} "
                    f"of all {len(agreement['rows'])}); see the racing table",
                    verdict(len(clear) >= 10 and agree >= 9) if len(clear) >= 10 else "not measured (fewer than 10 such datasets)"))
        if all("halving" in r for r in agreement["rows"]):
            agree = sum(r["exhaustive"] == r["halving"] for r in clear)
            out.append(("... racingRule='halving' chooses the exhaustive search's best on >= 9 of 10 such datasets",
                        f"{agree} of {len(clear)} such datasets ({sum(r['exhaustive'] == r['halving'] for r in agreement['rows'])} "
                        f"of all {len(agreement['rows'])}); see the racing table",
                        verdict(len(clear) >= 10 and agree >= 9) if len(clear) >= 10 else "not measured (fewer than 10 such datasets)"))

    plan = section(store, "planning")
    if plan:
        by = {}
        for r in plan["rows"]:
            by.setdefault(r["what"], {})[r["folds"]] = r["jobs"]
        ours = {w: v for w, v in by.items() if w.startswith("splitcv")}
        same = all(len(set(v.values())) == 1 for v in ours.values())
        text = "; ".join(f"{w.replace('splitcv ', '')}: " + ", ".join(f"{k} folds {n}" for k, n in sorted(v.items()))
                         for w, v in ours.items())
        out.append(("planning (split) jobs the same for 5 and 100 folds", text, verdict(same)))
    else:
        out.append(("planning (split) jobs the same for 5 and 100 folds", "-", verdict(None)))

    worst: list[tuple[float, float, str]] = []
    for s in comparisons(store):
        for pair in s["pairs"]:
            if s["contenders"][pair["numerator"]]["impl"] == "spark":
                worst.append((med(pair["ratios"]), min(pair["ratios"]),
                              f"{config_name(s)}, {rows_name(s['rows'])} rows, {pair['numerator']} / {pair['denominator']}"))
    if worst:
        low = min(worst)
        lowest_round = min(worst, key=lambda w: w[1])
        out.append(("never slower than Spark's CrossValidator, in any configuration",
                    f"{len(worst)} comparisons; lowest median Spark / splitcv {low[0]:.2f} ({low[2]}); "
                    f"lowest single round {lowest_round[1]:.2f} ({lowest_round[2]})",
                    verdict(low[0] >= 1.0)))
    return out


# -- tables ---------------------------------------------------------------------------------------
def results_table(store: dict[str, Any]) -> list[str]:
    lines = [
        "| configuration | rows | contender | ours | contender / ours wall time | ours wall (s) | cores busy: contender / ours | "
        "peak cached / one copy: contender / ours | Spark jobs: contender / ours | same metrics | run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in comparisons(store):
        for pair in s["pairs"]:
            num, den = s["contenders"][pair["numerator"]], s["contenders"][pair["denominator"]]
            copy = s["copy_bytes"]
            lines.append(
                f"| {config_name(s)} | {rows_name(s['rows'])} | {contender_name(num)}, p={num['parallelism']} "
                f"| {contender_name(den)}, p={den['parallelism']} | **{spread(pair['ratios'])}** | {med(den['walls']):.1f} "
                f"| {med(num['cores']):.2f} / {med(den['cores']):.2f} "
                f"| {peak_text(num, copy)} / {peak_text(den, copy)} "
                f"| {int(med(num['jobs']))} / {int(med(den['jobs']))} | {'yes' if s['metrics_agree'] else 'NO'} "
                f"| {s.get('run', '')[11:16]} |"
            )
    return lines


def peak_text(contender: dict[str, Any], copy: float) -> str:
    """Peak cached bytes over one copy; with the part in storage memory when some was on disk
    (results stored before the memory peak was measured have the sum only)."""
    whole = max(contender["peaks"]) / copy
    memory = max(contender.get("memory_peaks") or contender["peaks"]) / copy
    return f"{whole:.2f}" if f"{memory:.2f}" == f"{whole:.2f}" else f"{whole:.2f} ({memory:.2f} in memory)"


def skipped(store: dict[str, Any]) -> list[str]:
    return [f"- `{s['id']}`: skipped, {s['skipped']}" for s in store["sections"] if "skipped" in s]


RACING_MARGIN = 0.001


def racing_table(store: dict[str, Any]) -> list[str]:
    agreement = section(store, "racing-agreement")
    if not agreement:
        return ["(not measured in this run: `python -m benchmarks.run --only racing-agreement`)"]
    lines = ["| seed | exhaustive best | margin of the best over the second (RMSE) | paired test: best | maps dropped | "
             "tasks run | halving: best | maps dropped | tasks run |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in agreement["rows"]:
        halving = (f"{r['halving']} | {r['halving_dropped']} | {r['halving_tasks_run']} of 60" if "halving" in r
                   else "- | - | -")
        lines.append(f"| {r['seed']} | {r['exhaustive']} | {r['margin']:.2e} | {r['racing']} | {r['dropped']} | "
                     f"{r['tasks_run']} of 60 | {halving} |")
    return lines


def planning_table(store: dict[str, Any]) -> list[str]:
    plan = section(store, "planning")
    if not plan:
        return ["(not measured in this run)"]
    by: dict[str, dict[int, int]] = {}
    for r in plan["rows"]:
        by.setdefault(r["what"], {})[r["folds"]] = r["jobs"]
    folds = sorted({r["folds"] for r in plan["rows"]})
    lines = ["| what | " + " | ".join(f"{k} folds" for k in folds) + " |", "| --- |" + " --- |" * len(folds)]
    for what, v in by.items():
        lines.append(f"| {what} | " + " | ".join(str(v.get(k, "-")) for k in folds) + " |")
    return lines


def latency_lines(store: dict[str, Any]) -> list[str]:
    lat = [s for s in comparisons(store) if s.get("group") == "latency"]
    if not lat:
        return ["(the latency comparison was not run in this run; see the commands above)"]
    lines = []
    for s in lat:
        lines.append(f"{config_name(s)} on {s['rows']:,} rows, {s['rounds']} rounds after a warm-up:")
        lines.append("")
        lines.append("| contender | wall (s) | cores busy | Spark / this contender |")
        lines.append("| --- | --- | --- | --- |")
        spark_label = next(l for l, c in s["contenders"].items() if c["impl"] == "spark")
        for label, c in s["contenders"].items():
            ratio = "-"
            if c["impl"] != "spark":
                pair = next(p for p in s["pairs"] if p["denominator"] == label)
                ratio = spread(pair["ratios"])
            lines.append(f"| {IMPL_NAMES[c['impl']]} p={c['parallelism']} | {spread(c['walls'], 1)} | {spread(c['cores'])} | {ratio} |")
        lines.append("")
        lines.append(f"(Spark's label: `{spark_label}`; it runs at most {s['maps']} fits at once whatever its parallelism.)")
    return lines


# -- plot -----------------------------------------------------------------------------------------
def scaling_points(store: dict[str, Any], kind: str, folds: int, maps: int) -> dict[str, list[tuple[int, dict[str, Any], dict[str, Any]]]]:
    from benchmarks.suite import BASE_ROWS

    by_p: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for s in comparisons(store):
        if s["kind"] != kind or s["folds"] != folds or s["maps"] != maps or s["rows"] != BASE_ROWS:
            continue
        if not default_estimator(s) or s.get("group") == "latency":
            continue
        for pair in s["pairs"]:
            num, den = s["contenders"][pair["numerator"]], s["contenders"][pair["denominator"]]
            if num["parallelism"] == den["parallelism"]:
                by_p[num["parallelism"]] = (pair, {"num": num, "den": den})
    return by_p  # type: ignore[return-value]


def plot(store: dict[str, Any], path: str) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [("kfold", 10, 2, "random k-fold 10x2: Spark CV / splitcv", "C0"),
              ("window", 10, 2, "expanding window 10x2: article loop / splitcv", "C1"),
              ("window", 30, 2, "expanding window 30x2: article loop / splitcv", "C2")]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    drawn = False
    for kind, folds, maps, label, color in series:
        by_p = scaling_points(store, kind, folds, maps)
        if not by_p:
            continue
        ps = sorted(by_p)
        ratios = [by_p[p][0]["ratios"] for p in ps]
        medians = [med(r) for r in ratios]
        axes[0].errorbar(ps, medians, yerr=[[m - min(r) for m, r in zip(medians, ratios)], [max(r) - m for m, r in zip(medians, ratios)]],
                         marker="o", capsize=4, color=color, label=label)
        other = [med(by_p[p][1]["num"]["cores"]) for p in ps]
        ours = [med(by_p[p][1]["den"]["cores"]) for p in ps]
        name = "Spark CV" if kind == "kfold" else "article"
        axes[1].plot(ps, ours, marker="o", color=color, label=f"splitcv ({kind} {folds}x{maps})")
        axes[1].plot(ps, other, marker="x", linestyle="--", color=color, label=f"{name} ({kind} {folds}x{maps})")
        drawn = True
    for ax in axes[:2]:
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 2, 4, 8, 16])
        ax.set_xticklabels(["1", "2", "4", "8", "16"])
        ax.set_xlabel("parallelism (threads)")
    axes[0].axhline(1.0, color="grey", linewidth=0.8)
    axes[0].set_ylabel("wall time ratio, other / splitcv (>1: splitcv faster)")
    axes[0].set_title("Speed-up of splitcv (median, min-max of rounds)")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=8)
    axes[1].axhline(2.0, color="grey", linewidth=0.8)
    axes[1].set_ylabel("CPU cores busy (driver + JVM)")
    axes[1].set_title("Cores kept busy (2 available)")
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=7)
    # rows
    for kind, folds, maps, label, color in series[:2]:
        pts = []
        for s in comparisons(store):
            if s["kind"] == kind and s["folds"] == folds and s["maps"] == maps and default_estimator(s):
                for pair in s["pairs"]:
                    num, den = s["contenders"][pair["numerator"]], s["contenders"][pair["denominator"]]
                    if num["parallelism"] == 8 and den["parallelism"] == 8:
                        pts.append((s["rows"], pair["ratios"]))
        if pts:
            pts.sort()
            xs = [p[0] for p in pts]
            ms = [med(p[1]) for p in pts]
            axes[2].errorbar(xs, ms, yerr=[[m - min(p[1]) for m, p in zip(ms, pts)], [max(p[1]) - m for m, p in zip(ms, pts)]],
                             marker="o", capsize=4, color=color, label=label)
            drawn = True
    axes[2].set_xscale("log")
    axes[2].axhline(1.0, color="grey", linewidth=0.8)
    axes[2].set_xlabel("rows")
    axes[2].set_ylabel("wall time ratio, other / splitcv")
    axes[2].set_title("Speed-up at parallelism 8 by data size")
    if axes[2].get_legend_handles_labels()[0]:
        axes[2].legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return drawn


# -- the document ---------------------------------------------------------------------------------
METHOD = """\
## How it is measured

- **One process, side by side.** Each comparison builds its contenders on the same DataFrame in one
  `local[2]` SparkSession (UI off), runs each once as a warm-up (not counted), then runs them in turn,
  A B A B ..., for several rounds. Each round gives a ratio of wall times *within the round*
  (contender / splitcv at the same parallelism); the tables show the median ratio and the min and max
  over rounds. Absolute times are shown only next to a ratio: other agents run test suites on this
  machine at the same time, so absolute times move by 2x from minute to minute, while ratios taken
  seconds apart move much less.
- **Same work.** Same data (Parquet, read uncached), estimator (`LinearRegression(maxIter=10)`,
  solver `auto`: with 8 features that is the normal-equation solver, one pass per fit), evaluator
  (RMSE), grid, folds and a refit of the best param map on the whole dataset for every contender. Random
  k-fold folds come from the same `foldCol` column for Spark (`CrossValidator(foldCol=...)`) and
  splitcv (`KFoldSplitter(foldCol=...)`); time-series folds are the last *k* windows of *h* days
  (`ExpandingWindowSplitter(timeCol="day", horizon=h, numFolds=k)`) and the article's loop
  (`benchmarks/article_loop.py`) builds the same ones. "same metrics" checks that both contenders
  found the same average metrics (to 1e-6).
- **Wall time**: `time.perf_counter` around `fit`.
- **Cores busy**: CPU seconds (user + system, `/proc/<pid>/stat`) of the driver's Python process and
  of the JVM (its pid from `ProcessHandle.current().pid()`), divided by the wall time.
  Because the machine may be shared, each comparison also measures what a CPU-bound Spark job of 2
  tasks (hashing) got just before and just after it, and (in later runs) how many cores the whole
  machine left idle during each fit (`/proc/stat`).
- **Peak cached bytes**: a background thread sums `memSize + diskSize` over
  `SparkContext.getRDDStorageInfo()` every 50 ms during the fit; shown divided by the cached size of
  one copy of the input (cached, counted, measured the same way, unpersisted). The largest `memSize`
  alone is kept too (what competes with the input's cache for storage memory), and shown in brackets
  where some of the peak was on disk ("9.58 (6.06 in memory)").
- **Spark jobs**: the difference of the DAG scheduler's job counter (`DAGScheduler.nextJobId`, which
  every submitted job increments) before and after the fit. Nothing else submits jobs in the process
  meanwhile, so the count is exact. It was cross-checked on every run against
  `statusTracker().getJobIdsForGroup(group)` with the fit run under `setJobGroup`: {group_check}
- **Data**: 20 series x 500 days = 10^4 rows (AR(2) series with a weekly pattern; features: lags 1, 2
  and 7, day of week, 3 noise columns; label: the day's value), generated with numpy from a fixed seed
  (`benchmarks/data.py`). Larger sizes add series on the same 500 days, so the time-series folds are the
  same at every size. Expanding-window folds validate on the last 200 days: 10 folds of 20 days, 30 of
  6, 100 of 2.
"""


def group_check(store: dict[str, Any]) -> str:
    total = agree = 0
    for s in comparisons(store):
        for c in s["contenders"].values():
            for a, b in zip(c["jobs"], c["group_jobs"]):
                total += 1
                agree += a == b
    if not total:
        return "no runs."
    if agree == total:
        return f"they agreed on all {total} measured runs."
    return (f"they agreed on {agree} of {total} runs; where they differ the job group missed jobs "
            "(the status tracker is fed asynchronously and keeps a limited history), and the counter is used.")


def write(store: dict[str, Any], output: str, image: str) -> None:
    from benchmarks.suite import BASE_ROWS

    runs = store["runs"]
    last = runs[-1]
    m = last["machine"]
    lines: list[str] = ["# Benchmarks", ""]
    lines += [
        "splitcv's `ParallelCrossValidator` against Spark's own `CrossValidator` (random k-fold, same folds",
        "through `foldCol`) and against the seed article's time-series loop (expanding-window folds, which",
        "Spark cannot express), measured side by side in one process. Everything below was produced by",
        "`benchmarks/` (`python -m benchmarks.run`); the numbers are ratios measured within one run.",
        "",
        "## Run",
        "",
    ]
    for r in runs:
        lines.append(f"- `{r['command']}` ({r['mode']}), started {r['started']}, {r['minutes']} min, "
                     f"{r['rounds']} rounds per comparison after a warm-up, time budget {r['budget_minutes']} min, "
                     f"load average {r['load'][0]} at the start and {r['load'][1]} at the end")
    lines += [
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['os']}; shared with other "
        "agents' test runs at times (see the load averages: 2 would mean the two cores are fully used)",
        f"- Versions: Python {m['python']}, pyspark {m['pyspark']}, {m['java']}, numpy {m['numpy']}",
        "- Spark: `local[2]`, UI off, driver memory 6g, everything else default (AQE on, 200 shuffle partitions)",
        "",
        "Commands: `python -m benchmarks.run` (full: every section, 41 min on this machine when it is quiet;",
        "60-minute budget), `python -m benchmarks.run --quick`",
        "(k-fold 10x2 and window 10x2 at parallelism 8 plus planning: a few minutes on a quiet machine, up to",
        "its 12-minute budget when loaded), `python -m benchmarks.run --smoke` (tiny data, one round, no",
        "warm-up, report to a temp dir: 42 s here, for CI). `--only ID,...` reruns sections of the full suite",
        "and merges them into `benchmarks/results/latest.json`; `--render-only` rewrites this page from it.",
        "`python -m benchmarks.profile_fit --py-spy` profiles one fit (driver threads and JVM threads).",
        "",
        "**Sizes.** On this machine the cost of a fit is mostly per-Spark-job overhead (query planning,",
        "code generation, JIT, py4j round trips): a `LinearRegression` fit and its evaluation take 0.3-1.5 s",
        "depending on the load, while 100x the rows (10^4 to 10^6) makes a k-fold 10x2 run 2.5x slower and a",
        "window 10x2 run 3.5x. So the suite's time is set by the number of fits more than by rows: the",
        f"configurations use {BASE_ROWS:,} rows unless the table says otherwise. Before each section the runner estimates its cost (Spark jobs x seconds",
        "per job measured so far) and skips it if it would overrun the budget (`--budget-minutes`), listing",
        "it below. The whole suite takes about 41 minutes on this machine when it is quiet; on a loaded",
        "machine (load average 8-20 on 2 cores) it needs about two hours, and `--only` runs fill in what the",
        "budget skipped.",
        "",
        "## Targets",
        "",
        "| target | measured (median [min-max] over rounds) | result |",
        "| --- | --- | --- |",
    ]
    for t in targets(store):
        lines.append(f"| {t[0]} | {t[1]} | {t[2]} |")
    lines += ["", "## Results", "",
              "Ratios are contender / splitcv wall time in the same round: above 1, splitcv is faster. Cores busy",
              "and wall times are medians; peak cached bytes the maximum over rounds; jobs the median per run.",
              "`run`: the start time (UTC) of the run that measured the row (see Run above).", ""]
    lines += results_table(store)
    peaks = [s for s in comparisons(store) if s.get("group") == "peak"]
    for s in peaks:
        for label, c in s["contenders"].items():
            lines += ["", f"Peak cache alone (one run, no ratio): splitcv {config_name(s)} at p={c['parallelism']}, "
                      f"{rows_name(s['rows'])} rows: peak cached {max(c['peaks']) / s['copy_bytes']:.2f}x one copy, "
                      f"{c['jobs'][0]} Spark jobs, {c['walls'][0]:.0f} s, {c['cores'][0]:.2f} cores busy."]
    sk = skipped(store)
    if sk:
        lines += ["", "Not run (time budget; a later `--only` run may have filled some in, see the table):", ""] + sk
    ceilings = [c for s in comparisons(store) for c in s["ceiling"] if c > 0]
    if ceilings:
        lines += ["", "What the machine gave: a CPU-bound Spark job of 2 tasks, run just before and just after each "
                  f"comparison, kept {spread(ceilings)} cores busy (median [min-max]); 2.00 would be an idle machine."]
    drawn = plot(store, image)
    rel = os.path.relpath(image, os.path.dirname(os.path.abspath(output)))
    lines += ["", "## Scaling", ""]
    if drawn:
        lines += [f"![scaling]({rel})", "",
                  "Left: speed-up against parallelism (threads). Middle: cores kept busy. Right: speed-up at",
                  "parallelism 8 by number of rows. Error bars: min and max over rounds."]
    else:
        lines += ["(no scaling runs in this run)"]
    lines += ["", "## Racing against the exhaustive search (random k-fold 5x12, 10 seeded sparse regressions of 300 rows x 40 features)", ""] + racing_table(store)
    lines += ["", "## Planning: Spark jobs to make the folds", ""] + planning_table(store)
    lines += ["", "## Beyond this machine", "", BEYOND, ""] + latency_lines(store)
    lines += inference_lines(INFERENCE)
    lines += joblib_lines(JOBLIB)
    if os.path.exists(FINDINGS):
        with open(FINDINGS) as handle:
            lines += ["", handle.read().strip()]
    lines += ["", METHOD.replace("{group_check}", group_check(store))]
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as handle:
        handle.write("\n".join(lines).rstrip() + "\n")


def side_run(path: str) -> Optional[dict]:
    """The JSON a benchmark run on its own wrote (``python -m benchmarks.inference``, ...), if it ran."""
    import json

    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def inference_lines(path: str) -> list[str]:
    """The batch-inference section, from its own run (``python -m benchmarks.inference``), if there was one."""
    run = side_run(path)
    if run is None:
        return []
    m = run["machine"]
    against = {"article": "article's row-at-a-time UDF", "closure": "pandas UDF closing over the model"}
    sizes = [c["model_mib"] for c in run["comparisons"] if "model_mib" in c]
    lines = [
        "", "## Batch inference of a scikit-learn model", "",
        "The seed article's recipe 2, a row-at-a-time `@udf` calling `model.predict((cols,))`, against",
        "`splitcv.inference.predict_spark` (see [its page](inference.md)): the same fitted model, 20 standard-normal",
        "feature columns in one cached DataFrame, each contender forced to compute every prediction (a sum over the",
        "output column, which must come out equal). The article's `float(model.predict(...))` needs a `[0]` on",
        "numpy 2.4, which refuses to convert a one-element array to a float. Models: `svc` is the article's",
        "(`SVC(gamma='auto', probability=True)` on its `make_classification(n_samples=1000)` data), `logistic` a",
        "`LogisticRegression` on the same data (next to no arithmetic: the per-row overhead alone), `forest` a",
        "100-tree random forest"
        + (f" ({sizes[0]} MB pickled)" if sizes else "")
        + " scored by a vectorised pandas UDF that closes over it, on many",
        "small partitions (how the model travels, not batching), a freshly pickled copy each round; the other",
        "models are the same object throughout, so the workers keep their copy between rounds, as they would for",
        "a user who scores again (unpickling those takes milliseconds). Ratio: the other contender's wall time /",
        "`predict_spark`'s in the same round; median [min-max] over rounds.",
        "",
        f"Run: `{run['command']}`, started {run['started']}, {run['minutes']} min, load average {run['load'][0]} at the "
        f"start and {run['load'][1]} at the end ({m['cores']} cores; Python UDFs not Arrow-optimised: "
        f"`spark.sql.execution.pythonUDF.arrow.enabled={run['arrow_python_udfs']}`).",
        "",
        "| model | rows | partitions | against | its time (s) | predict_spark (s) | ratio | same predictions |",
        "| --- | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for c in sorted(run["comparisons"], key=lambda c: (c["model"] == "forest", c["rows"], c["model"])):
        other, ours = list(c["contenders"])
        lines.append(
            f"| {c['model']} | {c['rows']:,} | {c['partitions']} | {against.get(other, other)} | "
            f"{med(c['contenders'][other]['walls']):.1f} | {med(c['contenders'][ours]['walls']):.1f} | "
            f"{spread(c['ratios'], 1)} | {'yes' if c['agree'] else 'NO'} |"
        )
    return lines


def joblib_lines(path: str) -> list[str]:
    """The joblib-spark section, from its own run (``python -m benchmarks.joblib_search``), if there was one."""
    run = side_run(path)
    if run is None:
        return []
    m = run["machine"]
    what = {"ridge": "Ridge", "svc": "SVC", "svc-8k": "SVC", "ridge-80mb": "Ridge, large array"}
    lines = [
        "", "## Grid search through joblib-spark", "",
        "The seed article's recipe 1: scikit-learn's `GridSearchCV` (8 param maps x 5 `ExpandingWindowCV` folds,",
        "40 fits and the refit) run sequentially (`n_jobs=1`), with joblib's process pool on this machine",
        "(`n_jobs=-1`, `loky`) and with its fits as Spark tasks on a `local[2]` session",
        "(`splitcv.sklearn.spark_backend()`, see [its page](grid-search-on-spark.md)). Ratio: loky's wall time /",
        "spark's in the same round (above 1, Spark is faster); per-task overhead: (median wall x cores -",
        "sequential wall) / 40, the time a task costs its backend beyond the fit itself.",
        "",
        f"Run: `{run['command']}`, started {run['started']}, {run['minutes']} min, load average {run['load'][0]} at the "
        f"start and {run['load'][1]} at the end ({m['cores']} cores).",
        "",
        "| workload | rows x features | data | one fit (ms) | sequential (s) | loky (s) | spark (s) | loky / spark | overhead per task: loky / spark | same scores |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for c in run["comparisons"]:
        walls = {k: med(v["walls"]) for k, v in c["contenders"].items()}
        lines.append(
            f"| {what.get(c['id'], c['id'])} | {c['rows']:,} x {c['features']} | {c['data_mib']} MiB | "
            f"{walls['sequential'] / c['tasks'] * 1000:.0f} | {walls['sequential']:.2f} | {walls['loky']:.2f} | "
            f"{walls['spark']:.2f} | {spread(c['ratios'])} | "
            f"{c['overhead_ms']['loky']:.0f} ms / {c['overhead_ms']['spark']:.0f} ms | {'yes' if c['agree'] else 'NO'} |"
        )
    return lines


BEYOND = """\
With a grid of *m* param maps and *k* folds, Spark's `CrossValidator` (and the article's loop, which
keeps its structure) runs the folds one after another and at most min(parallelism, *m*) fits at once:
with 2 param maps, 2 fits in flight however many threads are asked for, and every fold ends with a
barrier where the slowest fit holds up the next fold. `ParallelCrossValidator` keeps
min(parallelism, *k* x *m*) fits in flight from one queue, with no barrier between folds. On this
2-core machine the difference is bounded by the 2 cores: once both are busy, more fits in flight
only queue. On a cluster, or wherever a fit waits on latency rather than CPU (small data: scheduling,
code generation, py4j round trips, task launch on remote executors), the fits in flight are what sets
the speed, and the gap grows with parallelism up to *k* x *m*. The measurement below runs many folds
of tiny data (2,500 rows), where tasks wait on latency more than on CPU, at parallelism well above the
core count: 20 folds x 2 maps, so 40 tasks, of which Spark keeps 2 in flight and splitcv 16 or 32.
(20 folds rather than 50: at this machine's load one 50-fold run of Spark's CrossValidator takes
several minutes, and the comparison needs a dozen runs.) Read it next to random k-fold 10x2 on 10^4
rows at parallelism 16 in the scaling plot: the less each fit needs the CPU, the more the fits in
flight matter."""
