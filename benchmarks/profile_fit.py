"""Where one fit spends its time: the driver's Python threads and the JVM's threads.

    python -m benchmarks.profile_fit [--impl splitcv|spark|article] [--kind window|kfold]
                                     [--folds 30] [--maps 2] [--parallelism 8] [--rows 10000] [--py-spy]

Runs the fit once to warm up, then once measured, and prints:

* CPU seconds by JVM thread group over the measured fit (from ``/proc/<jvm>/task/*/stat`` and
  ``comm``): executor task threads, driver-side threads (py4j connection threads, where query planning
  and code generation for each job run), the DAG scheduler, JIT compilers, GC, and the rest;
* the driver Python process's CPU, the wall time and the cores kept busy;
* with ``--py-spy`` (``pip install py-spy``), a sampled profile of the driver's Python threads
  (``--idle``: waiting included), summarised by the innermost frame and by the splitcv / pyspark
  function on the stack.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import tempfile
import time

from benchmarks.measure import load_average, machine_jiffies, process_cpu_seconds

_CLK = os.sysconf("SC_CLK_TCK")


def jvm_threads(pid: int) -> dict[int, tuple[str, float]]:
    """tid -> (name, CPU seconds) for every thread of the JVM."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as handle:
                name = handle.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / _CLK)
    return out


def thread_group(name: str) -> str:
    lowered = name.lower()
    if lowered.startswith("executor task") or "task launch" in lowered:
        return "executor tasks (the jobs' work)"
    if lowered.startswith("thread-") or "py4j" in lowered:
        return "py4j connection threads (driver side: planning, codegen, ML driver code)"
    if "dag-scheduler" in lowered or "dispatcher" in lowered or "event" in lowered:
        return "scheduler / event loops"
    if "compiler" in lowered or lowered.startswith("c1 ") or lowered.startswith("c2 "):
        return "JIT compilers"
    if "gc" in lowered or "g1" in lowered:
        return "garbage collection"
    if "block" in lowered or "cleaner" in lowered or "spark-listener" in lowered or "listener" in lowered:
        return "block manager / cleaner / listener bus"
    return "other JVM threads"


def main() -> None:
    from benchmarks.data import DATA_DIR, read_panel

    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_fit")
    parser.add_argument("--impl", default="splitcv", choices=["splitcv", "spark", "article"])
    parser.add_argument("--kind", default="window", choices=["window", "kfold"])
    parser.add_argument("--folds", type=int, default=30)
    parser.add_argument("--maps", type=int, default=2)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--py-spy", action="store_true", help="sample the driver with py-spy (must be installed)")
    parser.add_argument("--data-dir", default=DATA_DIR)
    args = parser.parse_args()

    from benchmarks import contenders as C
    from benchmarks.measure import Probe
    from benchmarks.run import session

    spark = session()
    probe = Probe(spark)
    df = read_panel(spark, args.data_dir, args.rows)
    build = {
        ("spark", "kfold"): C.spark_kfold,
        ("article", "window"): C.article_window,
        ("splitcv", "kfold"): C.splitcv_kfold,
        ("splitcv", "window"): C.splitcv_window,
    }[(args.impl, args.kind)]
    fit = build(df, args.folds, args.maps, args.parallelism)
    print("warm-up ...", flush=True)
    probe.measure(fit)

    spy = None
    raw = os.path.join(tempfile.mkdtemp(prefix="splitcv-profile-"), "driver.txt")
    if args.py_spy:
        if not shutil.which("py-spy"):
            raise SystemExit("py-spy is not installed: pip install py-spy")
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(os.getpid()), "--idle", "--threads", "--nonblocking", "--rate", "50",
             "--format", "raw", "--output", raw],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    before = jvm_threads(probe.jvm_pid)
    idle0, total0 = machine_jiffies()
    driver0 = process_cpu_seconds(os.getpid())
    load0 = load_average()
    run = probe.measure(fit)
    after = jvm_threads(probe.jvm_pid)
    driver = process_cpu_seconds(os.getpid()) - driver0
    idle1, total1 = machine_jiffies()
    machine_busy = ((total1 - total0) - (idle1 - idle0)) / _CLK / run.wall
    machine_idle = (idle1 - idle0) / _CLK / run.wall
    if spy is not None:
        spy.send_signal(2)
        spy.wait(timeout=60)
    spark.stop()

    groups: dict[str, float] = collections.defaultdict(float)
    for tid, (name, cpu) in after.items():
        groups[thread_group(name)] += cpu - before.get(tid, (name, 0.0))[1]
    jvm_total = sum(groups.values())
    print(f"\n{args.impl} {args.kind} {args.folds}x{args.maps} p={args.parallelism} on {args.rows} rows: "
          f"wall {run.wall:.1f} s, {run.jobs} Spark jobs, cores busy {run.cores:.2f} "
          f"(load average {load0:.1f} -> {load_average():.1f})")
    print(f"  machine: {machine_busy:.2f} cores busy in all, {machine_idle:.2f} idle; "
          f"other processes {max(machine_busy - run.cores, 0):.2f} cores")
    print(f"  driver Python: {driver:6.1f} CPU s ({driver / run.wall:.2f} cores)")
    print(f"  JVM:           {jvm_total:6.1f} CPU s ({jvm_total / run.wall:.2f} cores)")
    for group, cpu in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"    {cpu:6.1f} s  {cpu / max(jvm_total, 1e-9):5.1%}  {group}")
    if spy is not None and os.path.exists(raw):
        summarize_py_spy(raw)


def summarize_py_spy(path: str) -> None:
    total = 0
    leaf: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    for line in open(path):
        stack, _, count = line.rstrip().rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if not any("splitcv" in f or "pyspark" in f or "benchmarks" in f for f in frames):
            continue  # idle threads of the runtime (py4j's callback server, the poller)
        total += n
        leaf[frames[-1].split(" (")[0]] += n
        # py-spy names files relative to their package root: "fit (pyspark/ml/base.py:203)"
        named = [f for f in frames if any(k in f for k in ("(pyspark/", "(splitcv/", "(benchmarks/", "/pyspark/", "/splitcv/"))]
        if named:
            ours[named[-1]] += n
    if not total:
        print("  py-spy: no samples")
        return
    print(f"\n  py-spy: {total} samples of the driver's working threads (waiting included)")
    print("  innermost frame:")
    for name, n in leaf.most_common(8):
        print(f"    {n / total:6.1%}  {name}")
    print("  innermost pyspark / splitcv frame:")
    for name, n in ours.most_common(12):
        print(f"    {n / total:6.1%}  {name[:140]}")


if __name__ == "__main__":
    main()
