"""The ingestion app end to end on Spark: a full refresh into an Iceberg table (its catalog
SQLite or PostgreSQL), its records, its state, its idempotent rerun and a refusing drift
gate."""

from __future__ import annotations

import json
from pathlib import Path

from integration.spark.apps_cli import ingestion, metadata, said
from integration.spark.iceberg_tables import (
    iceberg_target,
    pipeline_file,
    runs,
    spark_read,
    subject,
)
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from adapters.spark.session import SparkSessionProvider

EXAMPLES = Path(__file__).parents[3] / "examples"


def pipeline(
    tmp_path: Path, source: Path, catalog: str, policy: str = 'removed_columns = "freeze"'
) -> Path:
    return pipeline_file(
        tmp_path,
        "orders",
        source=source,
        target=iceberg_target(catalog, "sales.orders"),
        sections={"policy": policy},
    )


def snapshots(catalog: str) -> list[str | None]:
    return runs(catalog, "sales.orders")


def test_a_full_refresh_commits_a_snapshot_records_it_and_reruns_the_same(
    sessions: SparkSessionProvider, spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = EXAMPLES / "datasets" / "orders.parquet"
    spec = pipeline(tmp_path, source, catalog)
    first = ingestion(home, "run", str(spec), "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["rows_read"] == report["rows_written"] == 1000
    assert snapshots(catalog) == [report["run_id"]]
    target = spark_read(spark, catalog, "sales.orders")
    assertDataFrameEqual(target, spark.read.parquet(str(source)))

    second = ingestion(home, "run", str(spec), "--json")
    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout)["schema_changed"] is False
    assert snapshots(catalog) == [report["run_id"], json.loads(second.stdout)["run_id"]]
    assertDataFrameEqual(
        spark_read(spark, catalog, "sales.orders"), spark.read.parquet(str(source))
    )

    shown = json.loads(ingestion(home, "state", "show", "orders", "--json").stdout)
    assert shown[0]["last_run_id"] == json.loads(second.stdout)["run_id"]
    assert shown[0]["rows_written"] == 1000
    runs = json.loads(ingestion(home, "runs", "orders", "--json").stdout)
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]

    found = metadata(home, "query", "--run-id", report["run_id"], "--json")
    records = json.loads(found.stdout)["records"]
    kinds = sorted(r["kind"] for r in records)
    assert kinds == [
        "ingestion_runtime",
        "ingestion_volume",
        "run_event",
        "run_event",
        "schema_snapshot",
    ]
    # The table is named by its catalog, by every runtime alike; the home's catalog
    # relative to the home.
    subjects = {f"{r['subject']['namespace']}::{r['subject']['name']}" for r in records}
    assert subjects == {subject(catalog, "sales.orders")}


def test_a_drift_the_policy_refuses_stops_the_run_before_anything_is_written(
    sessions: SparkSessionProvider, spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    spark.read.parquet(str(EXAMPLES / "datasets" / "orders.parquet")).write.parquet(str(source))
    spec = pipeline(tmp_path, source, catalog)
    assert ingestion(home, "run", str(spec)).exit_code == 0
    before = snapshots(catalog)
    narrower = tmp_path / "narrower"
    spark.read.parquet(str(source)).drop("status").write.parquet(str(narrower))
    refused = ingestion(home, "run", str(pipeline(tmp_path, narrower, catalog)))
    assert refused.exit_code == 1
    assert "status" in refused.stderr and "nothing was written" in refused.stderr
    assert snapshots(catalog) == before  # the committed snapshot is the current one still
    runs = json.loads(ingestion(home, "runs", "orders", "--json").stdout)
    assert [r["status"] for r in runs] == ["failed", "succeeded"]


def test_a_bad_pipeline_file_names_the_file_the_key_and_the_fix(tmp_path: Path, home: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\nmode = "upsertt"\n[source]\nkind = "parquet"\npath = "a"\n[target]\nkind = "parquet"\npath = "b"\n'
    )
    result = ingestion(home, "plan", str(bad))
    assert result.exit_code == 2
    assert f"{bad}: mode: expected one of full, append, scd1, scd2; got 'upsertt'" in result.stderr


def test_a_full_refresh_whose_source_fails_midway_leaves_the_old_target_readable(
    sessions: SparkSessionProvider, spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    orders = spark.read.parquet(str(EXAMPLES / "datasets" / "orders.parquet"))
    orders.repartition(4).write.parquet(str(source))
    spec = pipeline(tmp_path, source, catalog)
    assert ingestion(home, "run", str(spec)).exit_code == 0
    before = snapshots(catalog)
    # One part file goes bad: Spark fails while it is writing the new version.
    victim = sorted(source.glob("part-*.parquet"))[-1]
    victim.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    failed = ingestion(home, "run", str(spec))
    assert failed.exit_code == 1 and "Traceback" not in failed.stderr
    assert "writing the run's files (nothing visible yet) failed" in failed.stderr
    assert victim.name in failed.stderr and "bug" not in failed.stderr
    assert len(said(failed)) == 1
    assert snapshots(catalog) == before
    assertDataFrameEqual(spark_read(spark, catalog, "sales.orders"), orders)  # unchanged
    data = home / "iceberg" / "warehouse" / "sales" / "orders" / "data"
    assert [p.name for p in data.iterdir()] == before  # the failed run's files: gone
    runs = json.loads(ingestion(home, "runs", "orders", "--json").stdout)
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
