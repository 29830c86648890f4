"""A full-refresh ingestion run against bare Spark copying the same Parquet files, in one run.

    ./pants run bench/ingestion_full_parquet.py -- [--rows 10000000] [--master local[2]] [--repeat 3]

Writes ROWS x 6 columns (long, decimal(18,2), string, timestamp, int, double) to Parquet,
starts one Spark session (its start is printed apart: a cluster pays it once per app), then
times in turn, REPEAT times each (interleaved, so drift in the machine's speed hits both
alike), after a warm-up of each:
  - bare Spark: `spark.read.parquet(source).write.parquet(target)`;
  - the ingestion run: the full-refresh use case with the Spark engine (plan, read, drift
    gate against the target's schema, versioned write with its row count observed on the
    way, commit marker, atomic switch, clean-up of old versions), its records and state
    going to in-memory stores so that only the runtime's own work is measured.
Goal: ingestion <= 1.10x bare Spark.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import functions as F
from timing import median_times

from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.memory.state import InMemoryStateStore
from adapters.spark.ingestion import SparkIngestionEngine
from adapters.spark.session import SparkSessionProvider, SparkSettings
from domain.dataset import RunId
from domain.ingestion.run import RunPipeline
from domain.ingestion.spec import PipelineSpec, SourceSpec, TargetSpec
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.runs.lifecycle import RunLifecycle
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import PolicyBook


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sessions = SparkSessionProvider(
        SparkSettings(
            master=args.master,
            app_name="bench-ingestion",
            conf={"spark.driver.memory": args.driver_memory},
        )
    )
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
            .write.parquet(source)
        )
        size = sum(p.stat().st_size for p in Path(source).rglob("*.parquet"))
        print(
            f"wrote {args.rows:,} rows x 6 columns, {size / 1e6:.0f} MB of Parquet in "
            f"{time.perf_counter() - start:.1f} s"
        )

        bare_target = root / "bare"

        def bare() -> None:
            spark.read.parquet(source).write.mode("overwrite").parquet(str(bare_target))

        spec = PipelineSpec(
            name="bench",
            source=SourceSpec(kind="parquet", path=source),
            target=TargetSpec(kind="parquet", path=str(root / "warehouse" / "bench")),
        )
        gateway = MetadataGateway(InMemoryMetadataRepository())
        now = lambda: datetime.now(UTC)  # noqa: E731
        use_case = RunPipeline(
            SparkIngestionEngine(sessions),
            InMemoryStateStore(),
            gateway,
            SchemaDriftCheck(GatewaySchemaBaselines(gateway), gateway, PolicyBook()),
            now,
        )
        rows: list[int] = []

        def ingestion() -> None:
            lifecycle = RunLifecycle(gateway, spec.target.subject, RunId.new(), "bench", now)
            rows.append(use_case.run(spec, lifecycle).written.rows_written)

        medians = median_times({"bare Spark": bare, "ingestion run": ingestion}, args.repeat)
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
            f"\ngoal: ingestion <= 1.10x bare Spark: {ratio:.2f}x, "
            f"{'met' if ratio <= 1.10 else 'MISSED'}"
        )
    sessions.stop()


if __name__ == "__main__":
    main()
