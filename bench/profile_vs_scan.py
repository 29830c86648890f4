"""The one-job profiler against bare scans of the same Parquet files, in one run.

    ./pants run bench/profile_vs_scan.py -- [--rows 10000000] [--master local[2]] [--repeat 5]

Writes ROWS x 6 columns (long, decimal(18,2), string, timestamp, int, double) to Parquet,
then, after a warm-up of each, times these in turn REPEAT times (interleaved, so drift in
the machine's speed hits them alike) and reports the medians:
  - `count()`: Spark answers it from the Parquet footers, reading no column data;
  - a full scan: the sum of a hash over every column, which reads every value;
  - the profile as the harvest runs it: footer statistics (row count, nulls, min/max) and
    one aggregation for the rest, with approximate distinct counts;
  - the same without distinct counts (`harvest --profile --no-distinct`);
  - the profile with every statistic scanned (no footers), for reference.
Goal: profile <= 2x the bare scan.
"""

from __future__ import annotations

import platform
import tempfile
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import functions as F
from timing import median_times, spark_arguments, spark_sessions, write_sample

from adapters.spark.parquet_footers import parquet_footer_statistics
from adapters.spark.profiler import profile_frame


def main() -> None:
    args = spark_arguments(__doc__, repeat=5)
    sessions = spark_sessions(args, "bench-profile")
    spark = sessions.session()
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, Spark {spark.version}, {args.master}"
    )
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "data.parquet")
        print(write_sample(spark, args.rows, path))

        frame = spark.read.parquet(path)
        works: dict[str, Callable[[], object]] = {
            "count()": lambda: frame.count(),
            "full scan": lambda: frame.agg(F.sum(F.hash(*frame.columns))).collect(),
            "profile": lambda: profile_frame(frame, known=parquet_footer_statistics(frame)),
            "profile --no-distinct": lambda: profile_frame(
                frame, distinct=False, known=parquet_footer_statistics(frame)
            ),
            "profile, all scanned": lambda: profile_frame(frame),
        }
        medians = median_times(works, args.repeat)
        scan, footers = medians["full scan"], medians["count()"]
        print(f"\nmedian of {args.repeat} interleaved runs each")
        print(f"  {'figure':<24} {'seconds':>8} {'/ full scan':>12} {'/ count()':>10}")
        for label, seconds in medians.items():
            print(f"  {label:<24} {seconds:8.2f} {seconds / scan:11.2f}x {seconds / footers:9.2f}x")
        print("\ngoal: profile <= 2x the bare scan")
        for label in ("profile", "profile --no-distinct"):
            ratio = medians[label] / scan
            print(f"  {label:<24} {ratio:5.2f}x a full scan: {'met' if ratio <= 2 else 'MISSED'}")
        print("  (count() reads no column data, only footers: no profile that reads values can")
        print("   come within 2x of it; the full scan is the bare scan that reads the data)")
    sessions.stop()


if __name__ == "__main__":
    main()
