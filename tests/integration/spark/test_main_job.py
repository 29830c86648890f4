"""The README's main job, as ./main-job runs it: the example orders in two batches through
the append pipeline, then what the metadata store recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from integration.spark.iceberg_tables import home_catalog, spark_read
from pyspark.sql import SparkSession

from apps.ingestion.main import cli as ingestion
from apps.metadata.main import cli as metadata

EXAMPLES = Path(__file__).parents[3] / "examples"
PIPELINE = EXAMPLES / "pipelines" / "orders-append.toml"


def test_the_example_batches_load_as_documented(tmp_path: Path) -> None:
    env = {"DATAPLATFORM_HOME": str(tmp_path)}
    landing = tmp_path / "landing" / "orders"
    landing.mkdir(parents=True)
    written = []
    for batch in (1, 2, 2):  # the second batch twice: a rerun loads nothing
        shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)
        result = CliRunner().invoke(
            ingestion,
            ["run", str(PIPELINE), "--json"],
            env=env,
        )
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        written.append((report["rows_read"], report["rows_written"]))
    assert written == [(6, 6), (7, 4), (3, 0)]
    target = "iceberg://~/iceberg/catalog.db::sales.orders"  # the home's catalog
    volumes = CliRunner().invoke(
        metadata, ["history", "ingestion_volume", target, "--json"], env=env
    )
    rejected = [r["payload"]["rows_rejected"] for r in json.loads(volumes.stdout)["records"]]
    assert rejected == [1, 1, 0]  # newest first: the NULL updated_at of batch 2 is rejected


def test_parity_is_clean_after_the_main_job_and_fails_on_a_planted_difference(
    tmp_path: Path,
) -> None:
    # The legacy outputs on (the default is gateway-only): the parity gate reads them.
    env = {"DATAPLATFORM_HOME": str(tmp_path), "DATAPLATFORM_INGESTION_OUTPUTS": "both"}
    landing = tmp_path / "landing" / "orders"
    landing.mkdir(parents=True)
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)
        assert CliRunner().invoke(ingestion, ["run", str(PIPELINE)], env=env).exit_code == 0
    logs = (tmp_path / "ingestion" / "logs" / "orders-append.jsonl").read_text().splitlines()
    assert {json.loads(line)["event"] for line in logs} >= {"started", "phase", "succeeded"}
    clean = CliRunner().invoke(ingestion, ["parity", "--json"], env=env)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout) == {"compared": 2, "ok": True, "differences": []}
    summary = sorted((tmp_path / "ingestion" / "summaries" / "orders-append").glob("*.json"))[0]
    planted = json.loads(summary.read_text())
    planted["rows_written"] += 1
    summary.write_text(json.dumps(planted))
    failed = CliRunner().invoke(ingestion, ["parity"], env=env)
    assert failed.exit_code == 1
    assert "rows_written" in failed.stdout and "parity FAILED" in failed.stdout


def test_the_customer_examples_load_as_scd1_and_scd2(spark: SparkSession, tmp_path: Path) -> None:
    """Batch 2 updates 11, brings a late change of 12, deletes 13 and adds 15."""
    env = {"DATAPLATFORM_HOME": str(tmp_path)}
    landing = tmp_path / "landing" / "customers"
    landing.mkdir(parents=True)
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"customers-batch{batch}.jsonl", landing)
        for mode in ("scd1", "scd2"):
            spec = EXAMPLES / "pipelines" / f"customers-{mode}.toml"
            result = CliRunner().invoke(ingestion, ["run", str(spec)], env=env)
            assert result.exit_code == 0, result.stderr
    catalog = home_catalog(tmp_path)
    latest = spark_read(spark, catalog, "crm.customers").collect()
    assert sorted((r["customer_id"], r["city"]) for r in latest) == [
        (11, "Paris"),
        (12, "Oslo"),  # the late change is older than the stored one
        (14, "Kyiv"),
        (15, "Quito"),
    ]
    history = spark_read(spark, catalog, "crm.customers_history").collect()
    versions = sorted(
        (r["customer_id"], r["city"] or "", r["is_current"], r["is_deleted"]) for r in history
    )
    assert versions == [
        (11, "Lyon", False, False),
        (11, "Paris", True, False),
        (12, "Bergen", False, False),  # the late change, before the stored one
        (12, "Oslo", True, False),
        (13, "", False, True),  # the delete's tombstone
        (13, "Rome", False, False),
        (14, "Kyiv", True, False),
        (15, "Quito", True, False),
    ]
