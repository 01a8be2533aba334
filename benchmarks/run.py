"""Run the benchmark suite and write docs/benchmarks.md and docs/img/benchmark-scaling.png.

    python -m benchmarks.run            # the full suite (41 min on this 2-core machine when quiet; budget 60 min)
    python -m benchmarks.run --quick    # a few minutes: k-fold 10x2 and window 10x2 at parallelism 8, planning
    python -m benchmarks.run --smoke    # under a minute, tiny data, one round: checks that everything runs

``--only ID[,ID...]`` runs some sections of the full suite and merges them into the last results
(``benchmarks/results/latest.json``); every section in the report says which command and date it
came from. ``--smoke`` writes its report to a temporary directory unless ``--output`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results", "latest.json")


def session() -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("splitcv-benchmarks")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "6g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30).stderr
        return out.splitlines()[0].strip() if out else "unknown"
    except Exception:
        return "unknown"


def machine() -> dict[str, Any]:
    mem_kib = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy
    import pyspark

    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "pyspark": pyspark.__version__,
        "java": java_version(),
        "numpy": numpy.__version__,
        "os": platform.platform(),
    }


def save(run: dict[str, Any], results: list[dict[str, Any]], merge: bool, persist: bool) -> dict[str, Any]:
    """This run's results, merged into the stored ones for ``--only`` (under a file lock, so that
    two ``--only`` runs may finish at the same time), written to ``benchmarks/results/latest.json``."""
    import fcntl

    store = {"runs": [run], "sections": list(results)}
    if not persist:
        return store
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(os.path.join(tempfile.gettempdir(), "splitcv-benchmark-results.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if merge and os.path.exists(RESULTS):
            with open(RESULTS) as handle:
                previous = json.load(handle)
            ids = {r["id"] for r in results}
            kept = [s for s in previous["sections"] if s["id"] not in ids]
            runs = [r for r in previous["runs"] if r["started"] != run["started"]] + [run]
            store = {"runs": runs, "sections": kept + list(results)}
            used = {s["run"] for s in store["sections"]}
            store["runs"] = [r for r in store["runs"] if r["started"] in used]
        with open(RESULTS + ".tmp", "w") as handle:
            json.dump(store, handle, indent=1)
        os.replace(RESULTS + ".tmp", RESULTS)
    return store


def main(argv: list[str] | None = None) -> int:
    from benchmarks.data import DATA_DIR

    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--quick", action="store_true", help="a few minutes: the main ratios only")
    how.add_argument("--smoke", action="store_true", help="tiny data, one round, < 60 s: checks that it all runs")
    how.add_argument("--only", help="comma-separated section ids of the full suite; merged into the last results")
    how.add_argument("--render-only", action="store_true",
                     help="rewrite the report and plot from benchmarks/results/latest.json without running anything")
    parser.add_argument("--rounds", type=int, help="rounds per comparison (default 3; 1 for --smoke)")
    parser.add_argument("--budget-minutes", type=float, help="skip sections that would overrun this (default per mode)")
    parser.add_argument("--output", help="the Markdown report (default docs/benchmarks.md; a temp dir for --smoke)")
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args(argv)

    from benchmarks import report
    from benchmarks.measure import Probe, load_average

    if args.render_only:
        with open(RESULTS) as handle:
            store = json.load(handle)
        output = args.output or os.path.join(ROOT, "docs", "benchmarks.md")
        image = os.path.join(os.path.dirname(os.path.abspath(output)), "img", "benchmark-scaling.png")
        report.write(store, output, image)
        print(f"wrote {output} and {image}")
        return 0
    from benchmarks.suite import Runner, all_sections, modes

    command = "python -m benchmarks.run" + ("" if not (argv or sys.argv[1:]) else " " + shlex.join(argv or sys.argv[1:]))
    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    mode = modes()[mode_name]
    sections = mode.sections
    if args.only:
        known = all_sections()
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [w for w in wanted if w not in known]
        if unknown:
            parser.error(f"unknown section(s) {unknown}; known: {sorted(known)}")
        sections = [known[w] for w in wanted]
    rounds = args.rounds or mode.rounds
    if rounds < 1:
        parser.error("--rounds must be >= 1")
    budget = (args.budget_minutes * 60) if args.budget_minutes else mode.budget_seconds
    if args.only and not args.budget_minutes:
        budget = modes()["full"].budget_seconds
    output = args.output
    if output is None:
        output = (
            os.path.join(tempfile.mkdtemp(prefix="splitcv-smoke-"), "benchmarks.md")
            if args.smoke
            else os.path.join(ROOT, "docs", "benchmarks.md")
        )
    image = os.path.join(os.path.dirname(os.path.abspath(output)), "img", "benchmark-scaling.png")

    started_at = dt.datetime.now().astimezone()
    wall0 = time.monotonic()
    load0 = load_average()
    print(f"[{'only' if args.only else mode_name}] {command}: budget {budget / 60:.0f} min, {rounds} round(s)", flush=True)
    spark = session()
    try:
        probe = Probe(spark)
        runner = Runner(spark, probe, args.data_dir, rounds, budget, warmup=mode.warmup,
                        measure_ceiling=mode.ceiling, log=lambda s: print(s, flush=True))
        print(f"Spark session up in {time.monotonic() - wall0:.0f} s", flush=True)
        results: list[dict[str, Any]] = []
        machine_info = machine()

        def run_record() -> dict[str, Any]:
            return {
                "command": command,
                "mode": mode_name if not args.only else "only",
                "started": started_at.isoformat(timespec="seconds"),
                "minutes": round((time.monotonic() - wall0) / 60, 1),
                "load": [round(load0, 1), round(load_average(), 1)],
                "budget_minutes": round(budget / 60, 1),
                "rounds": rounds,
                "machine": machine_info,
            }

        store: dict[str, Any] = {}
        for section in sections:
            result = runner.run_section(section)
            result["run"] = started_at.isoformat(timespec="seconds")
            results.append(result)
            # saved after every section, so an interrupted run keeps what it measured
            store = save(run_record(), results, merge=bool(args.only), persist=not args.smoke)
    finally:
        spark.stop()
    run = run_record()
    store = save(run, results, merge=bool(args.only), persist=not args.smoke)
    report.write(store, output, image)
    print(f"wrote {output} and {image} in {run['minutes']} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
