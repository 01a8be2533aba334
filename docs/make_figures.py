"""Draw the pictures of docs/: one PNG per splitter page, on the Mauna Loa CO2 series.

    python docs/make_figures.py            # writes docs/img/*.png
    python docs/make_figures.py --out DIR  # somewhere else

Each splitter is the one its page shows in code, so a picture and its page cannot disagree. The
script checks that every file stays small enough to commit (under 150 KB).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from splitcv import (
    BlockedKFoldSplitter,
    ExpandingWindowSplitter,
    CombinatorialPurgedSplitter,
    GroupKFoldSplitter,
    KFoldSplitter,
    SlidingWindowSplitter,
    StratifiedKFoldSplitter,
)
from splitcv.data import load_co2
from splitcv.demo import start_spark
from splitcv.plot import plot_folds

HERE = Path(__file__).resolve().parent
MAX_BYTES = 150_000

def _level(co2: DataFrame) -> DataFrame:
    return co2.withColumn("level", F.when(F.col("co2_ppm") > 360, "high").otherwise("low"))


def _year(co2: DataFrame) -> DataFrame:
    return co2.withColumn("year", F.year("week"))


def _label_end(co2: DataFrame) -> DataFrame:
    return co2.withColumn("label_end", F.date_add("week", 56))


#: file name -> (splitter, title[, the columns its page adds]). Keep these in step with the code on each page.
FIGURES = {
    "kfold.png": (
        KFoldSplitter(numFolds=5, seed=42),
        "KFoldSplitter(numFolds=5, seed=42): every week drawn into one of 5 folds",
    ),
    "expanding-window.png": (
        ExpandingWindowSplitter(timeCol="week", horizon="3 years", gap="6 months", initialWindow="20 years"),
        "ExpandingWindowSplitter(horizon='3 years', gap='6 months', initialWindow='20 years')",
    ),
    "sliding-window.png": (
        SlidingWindowSplitter(timeCol="week", windowSize="10 years", horizon="3 years", gap="6 months"),
        "SlidingWindowSplitter(windowSize='10 years', horizon='3 years', gap='6 months')",
    ),
    "blocked-kfold.png": (
        BlockedKFoldSplitter(timeCol="week", numFolds=5, gap="1 year"),
        "BlockedKFoldSplitter(numFolds=5, gap='1 year')",
    ),
    "stratified-kfold.png": (
        StratifiedKFoldSplitter(labelCol="level", numFolds=5, seed=42),
        "StratifiedKFoldSplitter(labelCol='level', numFolds=5): high weeks (> 360 ppm) shared evenly",
        _level,
    ),
    "combinatorial-purged.png": (
        CombinatorialPurgedSplitter(
            timeCol="week", numGroups=6, numTestGroups=2, labelEndCol="label_end", embargo="4 weeks"
        ),
        "CombinatorialPurgedSplitter(numGroups=6, numTestGroups=2, labels 8 weeks ahead, embargo='4 weeks')",
        _label_end,
    ),
    "purged-blocked-kfold.png": (
        BlockedKFoldSplitter(timeCol="week", numFolds=5, labelEndCol="label_end", embargo="1 year"),
        "BlockedKFoldSplitter(numFolds=5, labels 8 weeks ahead, embargo='1 year')",
        _label_end,
    ),
    "group-kfold.png": (
        GroupKFoldSplitter(groupCol="year", numFolds=5),
        "GroupKFoldSplitter(groupCol='year', numFolds=5): every year validated whole",
        _year,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "img", help="directory for the PNGs (default: docs/img)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    spark = start_spark("splitcv-docs-figures")
    too_big = []
    try:
        co2 = load_co2(spark).cache()
        for name, (splitter, title, *extra) in FIGURES.items():
            data = extra[0](co2) if extra else co2
            path = Path(plot_folds(splitter, data, args.out / name, title=title, timeCol="week"))
            size = path.stat().st_size
            print(f"{path} ({size / 1000:.0f} KB)")
            if size > MAX_BYTES:
                too_big.append(f"{path} is {size} bytes, over {MAX_BYTES}")
    finally:
        spark.stop()
    print(f"done in {time.perf_counter() - started:.1f} s")
    for message in too_big:
        print(message, file=sys.stderr)
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
