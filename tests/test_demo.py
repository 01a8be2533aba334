"""The demo runs end to end on the shared session: tables for every splitter and one PNG."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from splitcv import demo

SPLITTERS = ["ExpandingWindowSplitter", "SlidingWindowSplitter", "BlockedKFoldSplitter", "KFoldSplitter"]


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR" and data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82")
    return struct.unpack(">II", data[16:24])


def test_main_prints_every_splitter_and_writes_one_png(spark, tmp_path):
    out = tmp_path / "folds.png"
    printed = io.StringIO()
    assert demo.main(["--out", str(out), "--no-tuning"], spark=spark, file=printed) == 0
    text = printed.getvalue()
    for name in SPLITTERS:
        assert f"{name}(" in text, f"no repr of {name}"
    assert text.count("fold  train rows") == len(SPLITTERS)
    assert "1988-04-30" in text  # the expanding window's first validation week
    assert str(out) in text
    width, height = _png_size(out)
    assert width >= 600 and height >= 600
    assert out.stat().st_size > 20_000
    assert not spark.sparkContext._jsc.sc().isStopped(), "main must not stop a session it was given"


def test_show_splitters_without_a_picture(spark, co2_df):
    printed = io.StringIO()
    assert demo.show_splitters(spark, co2_df, None, file=printed) is None
    assert all(name in printed.getvalue() for name in SPLITTERS)


def test_show_splitters_says_so_when_matplotlib_is_missing(spark, co2_df, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    printed = io.StringIO()
    assert demo.show_splitters(spark, co2_df, str(tmp_path / "x.png"), file=printed) is None
    assert "pip install 'splitcv[plot]'" in printed.getvalue()
    assert not (tmp_path / "x.png").exists()


def test_the_command_line_has_a_default_and_an_out_option():
    assert demo._parse([]).out == demo.DEFAULT_OUT == "splitcv-demo-folds.png"
    assert demo._parse(["--out", "a.png"]).out == "a.png"
    with pytest.raises(SystemExit):
        demo._parse(["--unknown"])


@pytest.fixture(scope="module")
def co2_df(spark):
    from splitcv.data import load_co2

    return load_co2(spark)


def test_the_tuning_run_tunes_and_matches_spark(spark, co2_df):
    printed = io.StringIO()
    result = demo.run_tuning(spark, co2_df, file=printed, folds=2, kfolds=2, rounds=1)
    text = printed.getvalue()
    assert "Best params:" in text and "mean and std of rmse" in text
    header = ["map", "rank", "mean", "std", "fit", "s", "params"]  # print(model.summary())'s table
    assert any(line.split() == header for line in text.splitlines())
    assert set(result["best_params"]) == {"regParam", "elasticNetParam"}
    assert result["same_metrics"], "Spark's CrossValidator and ours disagree on identical folds"
    assert len(result["model"].folds) == 2
    assert "Spark CrossValidator" in text and "ParallelCrossValidator" in text
    assert not co2_df.is_cached


# Spark ML's first use of linear algebra loads netlib's BLAS and LAPACK (Spark's own BLAS object calls
# these): the same native attempt as a model fit, without the fit's jobs.
_QUIET_RUN = """
from splitcv.demo import start_spark
spark = start_spark()
jvm = spark.sparkContext._jvm
jvm.dev.ludovic.netlib.blas.BLAS.getInstance()
jvm.dev.ludovic.netlib.lapack.LAPACK.getInstance()
spark.range(3).count()
spark.stop()
print("done")
"""


def test_the_demos_own_session_prints_nothing_on_stderr():
    """netlib's 'JNI_OnLoad: dlopen(libblas.so.3) failed' lines come from C, past any logger;
    Spark's startup lines and warnings come before the demo can set a log level. Neither should
    reach the user. The JDK's own note on the incubator module Spark's launcher adds is the one
    line no setting silences."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_GATEWAY", "SPARK_CONNECT"))}
    # the user's own JVM options, without the ones the suite adds for speed (the root conftest)
    suite_options = os.environ.get("SPLITCV_TEST_JVM_OPTIONS")
    if suite_options and "SPARK_SUBMIT_OPTS" in env:
        user_options = env.pop("SPARK_SUBMIT_OPTS").replace(suite_options, "").strip()
        if user_options:
            env["SPARK_SUBMIT_OPTS"] = user_options
    done = subprocess.run(
        [sys.executable, "-c", _QUIET_RUN], cwd=Path(__file__).resolve().parent.parent, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["done"]
    printed = [line for line in done.stderr.splitlines() if line.strip()]
    assert [line for line in printed if not line.startswith("WARNING: Using incubator modules")] == []
