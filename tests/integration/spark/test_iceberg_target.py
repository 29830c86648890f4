"""Iceberg targets end to end: every run one snapshot committed through the SQL catalog
(SQLite in the platform home, or PostgreSQL), its run in the snapshot's summary, read back
by the runtime and by DuckDB; a concurrent commit refused, the rerun succeeding."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from integration.spark.apps_cli import ingestion, ingestion_process, land, metadata, recon, said
from integration.spark.iceberg_tables import (
    duckdb_rows,
    iceberg_pipeline,
    legacy_parquet_targets,
    parquet_variant,
    spark_read,
    subject,
    table,
)
from pyiceberg.table.snapshots import Snapshot, Summary
from pyspark.sql import SparkSession

from adapters.iceberg.tables import IcebergTable, open_catalog
from adapters.spark.iceberg_read import manifest_statistics

EXAMPLES = Path(__file__).parents[3] / "examples"


def run(home: Path, pipeline: Path) -> dict[str, object]:
    result = ingestion(home, "run", str(pipeline), "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def summary(snapshot: Snapshot) -> Summary:
    assert snapshot.summary is not None
    return snapshot.summary


def run_of(snapshot: Snapshot) -> str | None:
    """The run a snapshot's summary names (the commit marker)."""
    return summary(snapshot).get("dataplatform.run-id")


def default_catalog(home: Path) -> str:
    return f"sqlite:///{home / 'iceberg' / 'catalog.db'}"


def test_each_append_run_is_one_snapshot_that_duckdb_reads_as_the_runtime_does(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    pipeline = iceberg_pipeline(tmp_path, "orders-append", "sales.orders")
    runs = []
    for batch in (1, 2, 3):  # batch 3 adds a column (channel): the table's schema evolves
        land(home, "orders", batch)
        runs.append(run(home, pipeline))
    catalog = default_catalog(home)
    orders = table(catalog, "sales.orders")
    snapshots = orders.snapshots()
    assert [run_of(s) for s in snapshots] == [r["run_id"] for r in runs]
    assert [summary(s)["added-records"] for s in snapshots] == [
        str(r["rows_written"]) for r in runs
    ]
    assert all(summary(s).operation.value == "append" for s in snapshots)
    assert "channel" in orders.schema().column_names
    # The files live under the table's location, in a directory per run.
    assert orders.location() == (home / "iceberg" / "warehouse" / "sales" / "orders").as_uri()
    ours = spark_read(spark, catalog, "sales.orders").selectExpr("count(*)", "sum(amount)")
    count, total = ours.collect()[0]
    assert (count, total) == (12, Decimal("1029.04"))
    assert duckdb_rows(catalog, "sales.orders", "SELECT count(*), sum(amount) FROM t") == [
        (count, total)
    ]
    # Time travel: the first snapshot holds the first batch, as both engines read it.
    first = snapshots[0].snapshot_id
    old = spark_read(spark, catalog, "sales.orders", first).count()
    assert old == runs[0]["rows_written"] == 6
    assert duckdb_rows(catalog, "sales.orders", "SELECT count(*) FROM t", first) == [(6,)]
    # Every row's channel reads back as written (NULL before batch 3 added it).
    channels = duckdb_rows(
        catalog, "sales.orders", "SELECT order_id, channel FROM t WHERE channel IS NOT NULL"
    )
    assert sorted(channels) == [(12, "web"), (13, "store")]
    # A rerun of the same batches commits nothing twice: the window holds no new row.
    again = run(home, pipeline)
    assert again["rows_written"] == 0
    assert table(catalog, "sales.orders").scan().to_arrow().num_rows == 12
    # The schema snapshot is the table's after the commit: a batch without channel (the
    # policy lets a column go missing) leaves it in the table, and in the recorded schema.
    (home / "landing" / "orders" / "orders-batch4.jsonl").write_text(
        '{"order_id": 14, "customer_id": 11, "amount": "1.00", "status": "new", '
        '"updated_at": "2024-05-01T11:00:00Z"}\n'
    )
    fourth = run(home, pipeline)
    assert fourth["rows_written"] == 1 and fourth["schema_changed"] is False
    recorded = metadata(
        home, "latest", "schema_snapshot", subject(catalog, "sales.orders"), "--json"
    )
    columns = json.loads(recorded.stdout)["payload"]["schema"]["columns"]
    assert [c["name"] for c in columns] == table(catalog, "sales.orders").schema().column_names
    assert "channel" in [c["name"] for c in columns] and all(c["nullable"] for c in columns)
    count, total = count + 1, total + Decimal("1.00")
    snapshots = table(catalog, "sales.orders").snapshots()
    # Maintenance: expire all but the newest 2 snapshots; what they alone held goes, the
    # table reads the same.
    plan = ingestion(
        home, "maintain", str(pipeline), "--keep-snapshots", "2", "--older-than", "0s", "--json"
    )
    assert plan.exit_code == 0, plan.stderr
    assert json.loads(plan.stdout)["expired"] == [s.snapshot_id for s in snapshots[:-2]]
    kept = table(catalog, "sales.orders")
    assert len(kept.snapshots()) == 2
    assert duckdb_rows(catalog, "sales.orders", "SELECT count(*), sum(amount) FROM t") == [
        (count, total)
    ]
    told = ingestion(home, "maintain", "sales.orders", "--dry-run")
    assert told.exit_code == 0 and told.stdout.startswith(
        "sales.orders: would expire 0 of 2 snapshot(s); would remove 0 orphaned data file(s)"
    ), told.stdout


@pytest.mark.parametrize("example", ["customers-scd1", "customers-scd2"])
def test_scd_runs_replace_the_table_in_one_snapshot_as_the_parquet_target_holds_it(
    spark: SparkSession, tmp_path: Path, home: Path, example: str
) -> None:
    iceberg = iceberg_pipeline(tmp_path, example, "crm.customers")
    (tmp_path / "parquet").mkdir()
    parquet = parquet_variant(EXAMPLES / "pipelines" / f"{example}.toml", tmp_path / "parquet")
    for batch in (1, 2):
        land(home, "customers", batch)
        written = run(home, iceberg)
        with legacy_parquet_targets():  # the deprecated layout, as targets made before hold it
            assert run(home, parquet)["rows_written"] == written["rows_written"]
    catalog = default_catalog(home)
    snapshots = table(catalog, "crm.customers").snapshots()
    assert [summary(s).operation.value for s in snapshots] == ["append", "overwrite"]
    columns = sorted(spark.read.parquet(str(home / "warehouse" / example)).columns)
    expected = spark.read.parquet(str(home / "warehouse" / example)).select(*columns)
    found = spark_read(spark, catalog, "crm.customers").select(*columns)
    assert sorted(map(tuple, found.collect())) == sorted(map(tuple, expected.collect()))
    (count,) = duckdb_rows(catalog, "crm.customers", "SELECT count(*) FROM t")[0]
    assert count == expected.count()


def test_a_full_refresh_replaces_every_file_in_one_snapshot_partitioned_by_value(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    pipeline = iceberg_pipeline(
        tmp_path, "orders-full", "sales.orders_full", 'partition_by = ["status"]'
    )
    first = run(home, pipeline)
    second = run(home, pipeline)
    catalog = default_catalog(home)
    orders = table(catalog, "sales.orders_full")
    last = orders.current_snapshot()
    assert last is not None and summary(last).operation.value == "overwrite"
    assert summary(last)["deleted-records"] == str(first["rows_written"])
    assert summary(last)["total-records"] == str(second["rows_written"])
    source = spark.read.parquet(str(EXAMPLES / "datasets" / "orders.parquet"))
    # Partitioned by a copy of the value: every row's status reads back, never NULL.
    expected = sorted(map(tuple, source.select("order_id", "status").collect()))
    found = duckdb_rows(catalog, "sales.orders_full", "SELECT order_id, status FROM t")
    assert sorted(found) == expected
    assert [f.name for f in orders.spec().fields] == ["status"]
    partitions = {row["partition"]["status"] for row in orders.inspect.files().to_pylist()}
    assert partitions == {status for _, status in expected}


def test_partition_by_day_of_an_instant_is_the_utc_day_and_refuses_a_text_column(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    land(home, "orders", 1)
    pipeline = iceberg_pipeline(
        tmp_path, "orders-append", "sales.by_day", 'partition_by = ["day(updated_at)"]'
    )
    run(home, pipeline)
    catalog = default_catalog(home)
    found = duckdb_rows(
        catalog, "sales.by_day", "SELECT order_id, updated_at IS NULL FROM t ORDER BY 1"
    )
    assert found and not any(missing for _, missing in found)
    days = {
        r["partition"]["updated_at_day"]
        for r in table(catalog, "sales.by_day").inspect.files().to_pylist()
    }
    assert {str(d) for d in days} == {"2024-05-01"}
    text = iceberg_pipeline(
        tmp_path, "orders-append", "sales.by_text", 'partition_by = ["day(status)"]'
    )
    result = ingestion(home, "run", str(text))
    assert result.exit_code == 1
    (line,) = said(result)
    assert "day(status) needs a timestamp or a date" in line and "Traceback" not in result.stderr


def test_two_runs_in_two_processes_one_commits_the_other_commits_nothing(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    """Run A, in a process of its own, has read, gated and written its files when run B (of
    another pipeline, here) commits the same table; A's commit is refused: it exits 1 with
    one line naming the table and B's run, its files are gone, the table holds B's snapshot
    only; A's rerun then commits on top (both catalogs: SQLite, PostgreSQL)."""
    lake = tmp_path / "lake" / "orders"
    extra = f'catalog = "{catalog}"\nlocation = "{lake}"'
    loser = iceberg_pipeline(tmp_path, "orders-full", "sales.race", extra)
    winner = tmp_path / "other.toml"
    winner.write_text(loser.read_text().replace('name = "orders-full"', 'name = "orders-other"'))
    gate = tmp_path / "go"
    process = ingestion_process(home, loser, said=True, DATAPLATFORM_WAIT_AT=f"staged:{gate}")
    deadline = time.monotonic() + 180
    while not Path(f"{gate}.reached").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "run A never reached its commit"
        time.sleep(0.05)
    assert process.poll() is None, "run A ended before its commit"
    won = ingestion(home, "run", str(winner), "--json")  # B, while A waits to commit
    assert won.exit_code == 0, won.stderr
    won_run = json.loads(won.stdout)["run_id"]
    gate.touch()
    _, stderr = process.communicate(timeout=180)
    # (the JVM's own start-up lines aside: the app says one line, its error)
    lines = [x for x in stderr.decode().splitlines() if x.startswith("error:")]
    assert process.returncode == 1, stderr.decode()
    (line,) = lines
    assert "sales.race: another run committed first" in line and won_run in line, line
    assert "run it again" in line and "Traceback" not in stderr.decode()
    assert [run_of(s) for s in table(catalog, "sales.race").snapshots()] == [won_run]
    assert [p.name for p in (lake / "data").iterdir()] == [won_run]  # A's files: gone
    rerun = ingestion(home, "run", str(loser), "--json")
    assert rerun.exit_code == 0, rerun.stderr
    assert [run_of(s) for s in table(catalog, "sales.race").snapshots()] == [
        won_run,
        json.loads(rerun.stdout)["run_id"],
    ]


def test_recon_of_the_pipeline_reads_the_snapshot_its_run_committed(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    """recon run --pipeline pins the target to the snapshot the last run committed: a later
    commit to the table changes nothing of what is checked. After batch 3 adds a column
    (channel), the table's schema is the read schema: the recon passes (a versioned Parquet
    directory mixing 5- and 6-column files failed it)."""
    pipeline = iceberg_pipeline(tmp_path, "orders-append", "sales.orders")
    runs = []
    for batch in (1, 2, 3):
        land(home, "orders", batch)
        runs.append(run(home, pipeline))
    checked = recon(home, "run", "--pipeline", str(pipeline), "--json")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert {r["check"]: r["status"] for r in report["results"]}["schema"] == "passed"
    # Another pipeline replaces the whole table, under another schema (--rebuild): the
    # recon still checks the run's snapshot.
    other = iceberg_pipeline(tmp_path, "orders-full", "sales.orders")
    rebuilt = ingestion(home, "run", str(other), "--rebuild", "--yes", "--json")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    replaced = json.loads(rebuilt.stdout)
    catalog = default_catalog(home)
    assert len(table(catalog, "sales.orders").snapshots()) == 4
    now = table(catalog, "sales.orders")
    assert now.scan().to_arrow().num_rows == replaced["rows_written"]
    assert "channel" not in now.schema().column_names  # the rebuild's schema is the table's
    again = recon(home, "run", "--pipeline", str(pipeline), "--json")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["results"] == report["results"]
    # Time travel: the first run, after two later runs and the rebuild, is checked at the
    # snapshot it committed against the source as that run read it (batch 1; the later
    # batches, late rows of its window among them, moved away): equal.
    for batch in (2, 3):
        (home / "landing" / "orders" / f"orders-batch{batch}.jsonl").unlink()
    first = recon(home, "run", "--pipeline", str(pipeline), "--run", str(runs[0]["run_id"]))
    assert first.exit_code == 0, first.stdout + first.stderr
    assert f"source {runs[0]['rows_written']} rows, target {runs[0]['rows_written']}" in (
        first.stdout
    )
    unknown = recon(home, "run", "--pipeline", str(pipeline), "--run", "0" * 32)
    assert unknown.exit_code == 1 and "no succeeded run of this id" in unknown.stderr


def test_an_iceberg_table_is_a_source_at_its_current_or_an_older_snapshot(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    """A table written by one pipeline is the source of another: the current snapshot, or
    one named by id (time travel), whose rows equal that run's."""
    writer = iceberg_pipeline(tmp_path, "orders-append", "sales.orders")
    land(home, "orders", 1)
    first = run(home, writer)
    land(home, "orders", 2)
    run(home, writer)
    catalog = default_catalog(home)
    snapshots = table(catalog, "sales.orders").snapshots()
    reader = tmp_path / "copy.toml"
    reader.write_text(
        'name = "orders-copy"\n[source]\nkind = "iceberg"\ntable = "sales.orders"\n'
        f"snapshot = {snapshots[0].snapshot_id}\n"
        '[target]\nkind = "iceberg"\ntable = "copies.orders"\n[spark]\nmaster = "local[1]"\n'
    )
    copied = run(home, reader)
    assert copied["rows_written"] == first["rows_written"] == 6
    assert duckdb_rows(catalog, "copies.orders", "SELECT count(*) FROM t") == [(6,)]
    current = reader.read_text().replace(f"snapshot = {snapshots[0].snapshot_id}\n", "")
    reader.write_text(current)
    assert run(home, reader)["rows_written"] == 10
    missing = reader.read_text().replace('table = "sales.orders"', 'table = "sales.nope"')
    reader.write_text(missing)
    result = ingestion(home, "run", str(reader))
    assert result.exit_code in (1, 2)
    (line,) = said(result)
    assert "iceberg table sales.nope does not exist" in line


def test_an_iceberg_source_without_a_watermark_is_read_by_snapshot(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    """An append from an Iceberg table with no watermark column reads what the source's
    snapshots appended since the snapshot the last run read (its watermark); a snapshot
    that rewrote rows stops the run in one line, and --full-refresh reads the table whole.
    recon --pipeline reads the source at the snapshot the run read."""
    writer = iceberg_pipeline(tmp_path, "orders-append", "sales.orders")
    mirror = tmp_path / "mirror.toml"
    mirror.write_text(
        'name = "orders-mirror"\nmode = "append"\nkeys = ["order_id"]\n'
        '[source]\nkind = "iceberg"\ntable = "sales.orders"\n'
        '[target]\nkind = "iceberg"\ntable = "mirror.orders"\n[spark]\nmaster = "local[1]"\n'
    )
    catalog = default_catalog(home)
    written = []
    for batch in (1, 2):
        land(home, "orders", batch)
        written.append(run(home, writer)["rows_written"])
        read = run(home, mirror)
        assert read["rows_read"] == read["rows_written"] == written[-1]
        source = table(catalog, "sales.orders").current_snapshot()
        state = ingestion(home, "state", "show", "orders-mirror", "--json")
        assert source is not None
        assert json.loads(state.stdout)[0]["watermark"] == str(source.snapshot_id)
    assert run(home, mirror)["rows_written"] == 0  # nothing appended since
    count = "SELECT count(*), sum(amount) FROM t"
    assert duckdb_rows(catalog, "mirror.orders", count) == duckdb_rows(
        catalog, "sales.orders", count
    )
    planned = ingestion(home, "plan", str(mirror))
    assert source is not None and f"after snapshot {source.snapshot_id}" in planned.stdout
    checked = recon(home, "run", "--pipeline", str(mirror))
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    # The source table is replaced (its pipeline's full refresh): refused, then read whole.
    assert ingestion(home, "run", str(writer), "--full-refresh").exit_code == 0
    refused = ingestion(home, "run", str(mirror))
    assert refused.exit_code == 1, refused.stdout
    (line,) = said(refused)
    assert "rewrote rows appended after snapshot" in line and "--full-refresh" in line
    whole = ingestion(home, "run", str(mirror), "--full-refresh", "--json")
    assert whole.exit_code == 0, whole.stderr
    assert duckdb_rows(catalog, "mirror.orders", count) == duckdb_rows(
        catalog, "sales.orders", count
    )


def test_migrate_target_carries_a_parquet_target_over_and_the_pipeline_goes_on(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    """A target made by the versioned-directory code becomes an Iceberg table holding its
    current version, with its run and watermark; the pipeline, its [target] rewritten,
    continues incrementally (batch 2: the 4 new rows, as without the migration)."""
    (tmp_path / "parquet").mkdir()
    parquet = parquet_variant(EXAMPLES / "pipelines" / "orders-append.toml", tmp_path / "parquet")
    land(home, "orders", 1)
    with legacy_parquet_targets():  # a target made before Iceberg targets
        first = run(home, parquet)
    moved = ingestion(home, "migrate-target", str(parquet), "--table", "sales.orders", "--json")
    assert moved.exit_code == 0, moved.stderr
    report = json.loads(moved.stdout)
    assert report["run_id"] == first["run_id"] and report["watermark"] is not None
    assert report["subject"].startswith("iceberg://~/iceberg/catalog.db::")
    catalog = default_catalog(home)
    (snapshot,) = table(catalog, "sales.orders").snapshots()
    assert run_of(snapshot) == first["run_id"]
    (tmp_path / "moved").mkdir()
    iceberg = iceberg_pipeline(tmp_path / "moved", "orders-append", "sales.orders")
    land(home, "orders", 2)
    second = run(home, iceberg)
    assert (second["rows_read"], second["rows_written"], second["rows_rejected"]) == (7, 4, 1)
    assert duckdb_rows(catalog, "sales.orders", "SELECT count(*) FROM t") == [(10,)]
    again = ingestion(home, "migrate-target", str(parquet), "--table", "sales.orders")
    assert again.exit_code == 1 and "exists already" in again.stderr


def test_harvest_reads_an_iceberg_tables_schema_and_its_manifests_statistics(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    """`metadata harvest` of an Iceberg table: its schema, and rows, nulls and min/max of
    its exact-bounded columns from the snapshot's manifests, equal to a scan's."""
    pipeline = iceberg_pipeline(tmp_path, "orders-append", "sales.orders")
    for batch in (1, 2):
        land(home, "orders", batch)
        run(home, pipeline)
    catalog = default_catalog(home)
    statistics = manifest_statistics(IcebergTable(open_catalog(catalog), "sales.orders", ""), None)
    assert statistics is not None and statistics.rows == 10
    order_id = statistics.column("order_id")
    assert order_id is not None and (order_id.min_value, order_id.max_value) == (1, 10)
    assert order_id.min_max_known and order_id.nulls == 0
    endpoints = tmp_path / "endpoints.toml"
    endpoints.write_text(
        f'[[datasets]]\nname = "orders"\nkind = "iceberg"\ncatalog = "{catalog}"\n'
        'table = "sales.orders"\n'
    )
    harvested = metadata(home, "harvest", str(endpoints), "--profile", "--json")
    assert harvested.exit_code == 0, harvested.stderr
    (dataset,) = json.loads(harvested.stdout)["datasets"]
    assert dataset["dataset"] == f"iceberg://{home}/iceberg/catalog.db::sales.orders"
    assert (dataset["columns"], dataset["rows"]) == (5, 10)
    # Stored under the one name of the table (its catalog relative to the home).
    subject = "iceberg://~/iceberg/catalog.db::sales.orders"
    profile = metadata(home, "latest", "dataset_profile", subject, "--json")
    assert profile.exit_code == 0, profile.stderr
    columns = {c["name"]: c for c in json.loads(profile.stdout)["payload"]["columns"]}
    scanned = (
        spark_read(spark, catalog, "sales.orders")
        .selectExpr("min(amount)", "max(amount)", "count(*) - count(updated_at)")
        .collect()[0]
    )
    assert (columns["amount"]["min_value"], columns["amount"]["max_value"]) == tuple(
        map(str, scanned[:2])
    )
    assert columns["updated_at"]["nulls"] == scanned[2]
