"""Benchmarks for splitcv: run ``python -m benchmarks.run [--smoke | --quick]``.

Every comparison runs its contenders side by side in one process and one local Spark session,
alternating them round after round, and reports ratios (median, min, max) rather than absolute times.
"""
