"""`recon` as users run it: the main job's recon (the pipeline's last run, scoped to its
window; the ledger with its planted difference), the three-way check of a target that lost
rows, and careless input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from integration.spark.apps_cli import ingestion, recon
from integration.spark.iceberg_tables import legacy_parquet_targets, parquet_variant
from pyspark.sql import SparkSession

EXAMPLES = Path(__file__).parents[3] / "examples"
APPEND = EXAMPLES / "pipelines" / "orders-append.toml"
LEDGER = EXAMPLES / "recon" / "orders-ledger.toml"


def _land(home: Path, batch: int) -> None:
    landing = home / "landing" / "orders"
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)


def test_the_main_jobs_recon(spark: SparkSession, tmp_path: Path) -> None:
    for batch in (1, 2):
        _land(tmp_path, batch)
        assert ingestion(tmp_path, "run", str(APPEND)).exit_code == 0
    # The legacy summaries too (not the default): the parity gate below reads them.
    legacy = {"DATAPLATFORM_INGESTION_OUTPUTS": "both"}
    scoped = recon(tmp_path, "run", "--pipeline", str(APPEND), env=legacy)
    assert scoped.exit_code == 0, scoped.stdout + scoped.stderr
    # The second run read updated_at >= 08:00 less 30m: orders 5, 6, 7, 8, 9, 10.
    assert (
        "scope: updated_at from 2024-05-01 08:00:00 less 30m up to 2024-05-01 09:30:00"
        in scoped.stdout
    )
    assert "source 6 rows, target 6" in scoped.stdout

    output = tmp_path / "differences.csv"
    found = recon(tmp_path, "run", str(LEDGER), "--output", str(output), "--json", env=legacy)
    assert found.exit_code == 1, found.stdout + found.stderr
    report = json.loads(found.stdout)
    diff = next(r for r in report["results"] if r["check"] == "key_diff")
    assert diff["status"] == "failed"
    assert diff["samples"] == [{"category": "changed", "key": {"order_id": 3}}]
    assert diff["counts"]["column:amount"] == 1
    listed = spark.read.option("header", "true").csv(str(output)).collect()
    assert [(r["order_id"], r["category"], r["columns"]) for r in listed] == [
        ("3", "changed", "amount")
    ]

    shown = recon(tmp_path, "report", "--json")
    assert [r["status"] for r in json.loads(shown.stdout)] == ["failed", "passed"]

    # The legacy summaries (outputs = both) agree with the records ...
    clean = recon(tmp_path, "parity", "--json")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["compared"] == 2
    # ... until one is changed behind their back.
    summary = next((tmp_path / "recon" / "summaries" / "orders-ledger").glob("*.json"))
    planted = json.loads(summary.read_text())
    planted["checks"][1]["actual"] = "11"
    summary.write_text(json.dumps(planted))
    failed = recon(tmp_path, "parity")
    assert failed.exit_code == 1
    assert "row_count.actual" in failed.stdout and "parity FAILED" in failed.stdout


FULL = """
name = "orders-full"
mode = "full"
keys = ["order_id"]
[source]
kind = "parquet"
path = "{source}"
[target]
kind = "iceberg"
table = "sales.orders_full"
"""


def test_the_three_way_check_names_where_rows_went_missing(
    spark: SparkSession, tmp_path: Path
) -> None:
    source = tmp_path / "orders"
    spark.range(1, 1001).selectExpr("id as order_id", "id * 2 as amount").write.parquet(str(source))
    pipeline = tmp_path / "orders-full.toml"
    pipeline.write_text(FULL.format(source=source))
    assert ingestion(tmp_path, "run", str(pipeline)).exit_code == 0
    assert recon(tmp_path, "run", "--pipeline", str(pipeline)).exit_code == 0
    # Someone deletes three rows from a data file of the committed snapshot, in place,
    # behind the pipeline's back (the snapshot recon is pinned to names that file).
    data = tmp_path / "iceberg" / "warehouse" / "sales" / "orders_full" / "data"
    (file,) = (f for f in data.rglob("*.parquet") if "order_id" in pq.read_schema(f).names)
    kept = pq.read_table(file).filter(pc.field("order_id") > 3)
    pq.write_table(kept, file)
    (file.parent / f".{file.name}.crc").unlink()  # Hadoop's checksum of the old bytes
    lost = recon(tmp_path, "run", "--pipeline", str(pipeline))
    assert lost.exit_code == 1, lost.stdout + lost.stderr
    line = next(x for x in lost.stdout.splitlines() if "FAIL three_way" in x)
    assert "1,000 read, 1,000 written + 0 rejected, target 997" in line
    assert "the target holds -3 rows against what the run wrote" in line
    assert '"order_id": 1' in lost.stdout  # a sample of the missing keys


def test_recon_of_scd_pipelines_compares_the_latest_change_per_key(
    spark: SparkSession, tmp_path: Path
) -> None:
    landing = tmp_path / "landing" / "customers"
    landing.mkdir(parents=True)
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"customers-batch{batch}.jsonl", landing)
    for mode in ("scd1", "scd2"):
        # A versioned Parquet target, which a careless user can change behind its back.
        pipeline = parquet_variant(EXAMPLES / "pipelines" / f"customers-{mode}.toml", tmp_path)
        with legacy_parquet_targets():
            assert ingestion(tmp_path, "run", str(pipeline)).exit_code == 0
        checked = recon(tmp_path, "run", "--pipeline", str(pipeline))
        assert checked.exit_code == 0, checked.stdout + checked.stderr
        # Customer 11 twice (the latest: Paris), 12's late change, 13 deleted, 15 new.
        assert "source: the latest row per key by changed_at; source op is not 'D'" in (
            checked.stdout
        )
        assert "source 4 rows, target 4" in checked.stdout
    assert "scope: " in checked.stdout and "target is_current = 'true'" in checked.stdout
    assert "the target's own columns, not compared: valid_from" in checked.stdout

    # Someone moves customer 14 in the SCD2 target's current version behind its back.
    version = (tmp_path / "warehouse" / "customers-scd2").resolve()
    rows = spark.read.parquet(str(version))
    moved = rows.selectExpr(
        *(
            (
                "case when customer_id = 14 and is_current then 'Nice' else city end as city"
                if c == "city"
                else f"`{c}`"
            )
            for c in rows.columns
        )
    ).collect()
    shutil.rmtree(version)
    spark.createDataFrame(moved, rows.schema).write.parquet(str(version))
    found = recon(tmp_path, "run", "--pipeline", str(pipeline), "--json")
    assert found.exit_code == 1, found.stdout + found.stderr
    diff = next(r for r in json.loads(found.stdout)["results"] if r["check"] == "key_diff")
    assert diff["samples"] == [{"category": "changed", "key": {"customer_id": 14}}]
    assert diff["counts"]["column:city"] == 1


def test_careless_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, message in (
        (("run",), "give a RECON.toml file or --pipeline"),
        (("run", str(tmp_path / "nope.toml")), "no such recon file"),
        (("run", str(LEDGER), "--output", str(tmp_path / "x.txt")), "name a .parquet or .csv path"),
        (("report", "not-a-dataset"), "expected 'namespace::name'"),
        (("run", str(LEDGER), "--run", "0" * 32), "give --pipeline PIPELINE.toml too"),
        (("run", "--pipeline", str(APPEND), "--run", "x y"), "--run 'x y': not a run id"),
    ):
        result = recon(tmp_path, *args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    unrun = recon(tmp_path, "run", "--pipeline", str(APPEND))
    assert unrun.exit_code == 1 and "has no committed run to check; run it first" in unrun.stderr
