"""The one-job profiler against bare scans of the same Parquet files, in one run.

    ./pants run bench/profile_vs_scan.py -- [--rows 10000000] [--master local[2]]

Writes ROWS x 6 columns (long, decimal(18,2), string, timestamp, int, double) to Parquet,
then times, each after one warm-up run:
  - `count()`: Spark answers it from the Parquet footers, reading no column data;
  - a full scan: the sum of a hash over every column, which reads every value;
  - the profile: row count, nulls, approximate distinct, min, max, string lengths and
    decimal digits of every column in one aggregation.
Goal: profile <= 2x the bare scan.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from pyspark.sql import functions as F

from adapters.spark.profiler import profile_frame
from adapters.spark.session import SparkSessionProvider, SparkSettings


def timed(label: str, work, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    work()  # warm-up: JIT, file cache
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<46} {best:7.2f} s (best of {repeat})", flush=True)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()

    sessions = SparkSessionProvider(
        SparkSettings(
            master=args.master,
            app_name="bench-profile",
            conf={"spark.driver.memory": args.driver_memory},
        )
    )
    spark = sessions.session()
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, Spark {spark.version}, {args.master}"
    )
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "data.parquet")
        start = time.perf_counter()
        (
            spark.range(args.rows)
            .select(
                F.col("id"),
                (F.col("id") % 1_000_003 / 100).cast("decimal(18,2)").alias("amount"),
                F.concat(F.lit("customer-"), (F.col("id") % 50_000).cast("string")).alias("name"),
                (F.lit(1_714_521_600) + F.col("id")).cast("timestamp").alias("at"),
                (F.col("id") % 1000).cast("int").alias("qty"),
                F.when(F.col("id") % 10 == 0, None).otherwise(F.rand(7)).alias("score"),
            )
            .write.parquet(path)
        )
        size = sum(p.stat().st_size for p in Path(path).rglob("*.parquet"))
        print(
            f"wrote {args.rows:,} rows x 6 columns, {size / 1e6:.0f} MB of Parquet in {time.perf_counter() - start:.1f} s"
        )

        frame = spark.read.parquet(path)
        footers = timed("count() (answered from the footers)", lambda: frame.count())
        scan = timed(
            "full scan: sum of a hash of every column",
            lambda: frame.agg(F.sum(F.hash(*frame.columns))).collect(),
        )
        profile = timed("profile (one job, one scan)", lambda: profile_frame(frame))
        print("\nsummary")
        print(
            f"  profile / full scan  = {profile / scan:5.2f}x   (goal <= 2x: {'met' if profile <= 2 * scan else 'MISSED'})"
        )
        print(
            f"  profile / count()    = {profile / footers:5.2f}x   (count() reads no data: not a scan)"
        )
    sessions.stop()


if __name__ == "__main__":
    main()
