"""What the Spark benchmarks share: their options, their session, the sample data, and
interleaved timing (each figure beside its baseline in one run)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.memory.state import InMemoryStateStore
from adapters.spark.ingestion import SparkIngestionEngine
from adapters.spark.session import SparkSessionProvider, SparkSettings
from domain.dataset import RunId
from domain.ingestion.run import RunPipeline
from domain.ingestion.spec import PipelineSpec
from domain.metadata.baselines import GatewaySchemaBaselines
from domain.metadata.gateway import MetadataGateway
from domain.runs.lifecycle import RunLifecycle
from domain.schema.checks import SchemaDriftCheck
from domain.schema.policy import PolicyBook


def median_times(works: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Medians of ``repeat`` interleaved runs of each work, after a warm-up of each (so
    drift in the machine's speed hits them alike)."""
    for work in works.values():
        work()  # warm-up: JIT, file cache
    times: dict[str, list[float]] = {label: [] for label in works}
    for _ in range(repeat):
        for label, work in works.items():
            start = time.perf_counter()
            work()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def spark_arguments(doc: str | None, repeat: int) -> argparse.Namespace:
    """--rows, --master, --driver-memory, --repeat."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--repeat", type=int, default=repeat)
    return parser.parse_args()


def spark_sessions(
    args: argparse.Namespace, app_name: str, drivers: tuple[str, ...] = ()
) -> SparkSessionProvider:
    """The benchmark's session (with the JDBC ``drivers`` it reads or writes through)."""
    return SparkSessionProvider(
        SparkSettings(
            master=args.master,
            app_name=app_name,
            conf={"spark.driver.memory": args.driver_memory},
        ),
        drivers,
    )


def write_sample(spark: SparkSession, rows: int, path: str) -> str:
    """ROWS x 6 columns (long, decimal(18,2), string, timestamp, int, double with 10% NULLs)
    to Parquet at ``path``; returns a line saying what was written and how fast."""
    start = time.perf_counter()
    (
        spark.range(rows)
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
    return (
        f"wrote {rows:,} rows x 6 columns, {size / 1e6:.0f} MB of Parquet in "
        f"{time.perf_counter() - start:.1f} s"
    )


def ingestion_runner(sessions: SparkSessionProvider) -> Callable[[PipelineSpec], int]:
    """One run of a pipeline per call, through the Spark engine, with records and state in
    memory (only the runtime's own work is measured); returns the rows written."""
    gateway = MetadataGateway(InMemoryMetadataRepository())
    engine = SparkIngestionEngine(sessions)

    def now() -> datetime:
        return datetime.now(UTC)

    def run(spec: PipelineSpec) -> int:
        use_case = RunPipeline(
            engine,
            InMemoryStateStore(),
            gateway,
            SchemaDriftCheck(GatewaySchemaBaselines(gateway), gateway, PolicyBook()),
            now,
        )
        lifecycle = RunLifecycle(gateway, spec.target.subject, RunId.new(), "bench", now)
        return use_case.run(spec, lifecycle).written.rows_written

    return run
