"""Full-refresh ingestion runs (into an Iceberg table, and into a versioned Parquet
directory) against bare Spark copying the same Parquet files, in one run.

    ./pants run bench/ingestion_full_parquet.py -- [--rows 10000000] [--master local[2]] [--repeat 3]

Writes ROWS x 6 columns (long, decimal(18,2), string, timestamp, int, double) to Parquet,
starts one Spark session (its start is printed apart: a cluster pays it once per app), then
times in turn, REPEAT times each (interleaved, so drift in the machine's speed hits both
alike), after a warm-up of each:
  - bare Spark: `spark.read.parquet(source).write.parquet(target)`;
  - the ingestion run into an Iceberg table (plan, read, drift gate against the table's
    schema, the run's files written with their row count observed on the way, one catalog
    commit replacing the current files: a SQLite catalog in the temporary directory);
  - the ingestion run into a versioned Parquet directory (the same, then a commit marker,
    an atomic switch of a link and the clean-up of old versions);
  both with records and state in in-memory stores, so only the runtime's own work counts.
Goal: ingestion <= 1.10x bare Spark (Iceberg, since issue 28; versioned Parquet before).
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from pathlib import Path

from timing import (
    ingestion_runner,
    median_times,
    spark_arguments,
    spark_sessions,
    write_sample,
)

from domain.ingestion.spec import PipelineSpec, SourceSpec, TargetSpec


def main() -> None:
    args = spark_arguments(__doc__, repeat=3)
    sessions = spark_sessions(args, "bench-ingestion")
    start = time.perf_counter()
    spark = sessions.session()
    started = time.perf_counter() - start
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, Spark {spark.version}, "
        f"{args.master}; Spark session started in {started:.1f} s (paid once per app)"
    )
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        source = str(root / "source.parquet")
        print(write_sample(spark, args.rows, source))

        bare_target = root / "bare"

        def bare() -> None:
            spark.read.parquet(source).write.mode("overwrite").parquet(str(bare_target))

        iceberg = PipelineSpec(
            name="bench-iceberg",
            source=SourceSpec(kind="parquet", path=source),
            target=TargetSpec(
                kind="iceberg",
                table="bench.orders",
                catalog=f"sqlite:///{root / 'catalog.db'}",
                location=str(root / "lake" / "orders"),
            ),
        )
        run = ingestion_runner(sessions)
        rows: list[int] = []

        def into_iceberg() -> None:
            rows.append(run(iceberg))

        medians = median_times(
            {"bare Spark": bare, "ingestion run": into_iceberg},
            args.repeat,
        )
        assert set(rows) == {args.rows}, rows
        shutil.rmtree(bare_target, ignore_errors=True)
        baseline = medians["bare Spark"]
        print(f"\nmedian of {args.repeat} interleaved runs each (Spark session already started)")
        print(f"  {'figure':<16} {'seconds':>8} {'/ bare':>8} {'rows/s':>14}")
        for label, seconds in medians.items():
            print(
                f"  {label:<16} {seconds:8.2f} {seconds / baseline:7.2f}x {args.rows / seconds:14,.0f}"
            )
        ratio = medians["ingestion run"] / baseline
        print(
            f"\ngoal: ingestion into Iceberg <= 1.10x bare Spark: {ratio:.2f}x, "
            f"{'met' if ratio <= 1.10 else 'MISSED'}"
        )
    sessions.stop()


if __name__ == "__main__":
    main()
