"""Compaction of an Iceberg table (``ingestion maintain``): a partition's many small files
rewritten into one, committed as one ``replace`` snapshot; the rows read back equal by
pyiceberg and by DuckDB (a second engine), the commit marker kept, and a reader by snapshot
still reads only what was appended after it. Files are written with pyarrow as Spark writes
them (no field ids, microsecond timestamps): no Spark here."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from read_back import duckdb_select

from adapters.iceberg.compaction import COMPACTED, apply_compaction, plan_compaction
from adapters.iceberg.tables import IcebergTable, UnreadableSnapshot, open_catalog
from apps.ingestion.main import cli as ingestion

STATUSES = ("open", "paid")


def _file(location: Path, run: int, status: str) -> str:
    path = location / "data" / f"run-{run:03d}" / f"part-{status}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = range(run * 10, run * 10 + 10)
    pq.write_table(
        pa.table(
            {
                "order_id": pa.array(rows, pa.int64()),
                "status": pa.array([status] * 10),
                "updated_at": pa.array(
                    [datetime(2024, 5, 1, tzinfo=UTC) + timedelta(minutes=i) for i in rows],
                    pa.timestamp("us", tz="UTC"),
                ),
            }
        ),
        path,
    )
    return path.as_uri()


def _table(tmp_path: Path) -> IcebergTable:
    catalog = open_catalog(f"sqlite:///{tmp_path / 'iceberg' / 'catalog.db'}")
    return IcebergTable(catalog, "sales.orders", str(tmp_path / "lake" / "orders"))


def _append(table: IcebergTable, run: int) -> int:
    location = Path(table.location.removeprefix("file://"))
    files = [_file(location, run, status) for status in STATUSES]
    summary = {"dataplatform.run-id": f"run-{run}", "dataplatform.watermark": str(run)}
    return table.commit(files, replace=False, summary=summary, partition=[(None, "status")])


def _rows(table: IcebergTable) -> list[tuple[object, ...]]:
    assert table.table is not None
    found = table.table.scan().to_arrow().sort_by("order_id")
    return list(zip(*(found[c].to_pylist() for c in found.column_names), strict=True))


def test_many_small_files_become_one_per_partition_and_read_back_equal(tmp_path: Path) -> None:
    table = _table(tmp_path)
    for run in range(9):
        _append(table, run)
    before = _rows(table)
    read_at = table.snapshot
    assert read_at is not None and len(table.files()) == 18
    plan = plan_compaction(table)
    assert sorted(g.partition for g in plan.groups) == ["status=open", "status=paid"]
    assert plan.files == 18 and all(g.rows == 90 for g in plan.groups)
    compacted = apply_compaction(table, plan)
    assert compacted is not None and len(table.files()) == 2  # one per partition
    assert _rows(table) == before
    assert table.table is not None
    metadata = table.table.metadata_location
    expected = (len(before), sum(int(str(row[0])) for row in before))
    assert duckdb_select(metadata, "SELECT count(*), sum(order_id) FROM t") == [expected]
    assert duckdb_select(metadata, "SELECT DISTINCT status FROM t ORDER BY 1") == [
        ("open",),
        ("paid",),
    ]
    snapshot = table.snapshot
    assert snapshot is not None and snapshot.summary is not None
    assert snapshot.summary.operation.value == "replace"
    assert snapshot.summary.get(COMPACTED) == "18"
    marker = table.marker()  # the run the compacted snapshot stands for, and its watermark
    assert marker is not None and (marker.run_id, marker.watermark) == ("run-8", "8")
    # A reader by snapshot that read run 8 reads only what comes after, compaction between.
    _append(table, 9)
    current = table.snapshot
    assert current is not None
    appended = table.appended_since(read_at.snapshot_id, current.snapshot_id)
    assert sorted(Path(f).parent.name for f in appended) == ["run-009", "run-009"]
    assert plan_compaction(table).groups == ()  # 2 files a partition: nothing to do


def test_a_compaction_that_merged_files_a_reader_had_not_read_stops_that_reader(
    tmp_path: Path,
) -> None:
    table = _table(tmp_path)
    _append(table, 0)
    first = table.snapshot
    assert first is not None
    for run in range(1, 9):
        _append(table, run)
    apply_compaction(table, plan_compaction(table))
    current = table.snapshot
    assert current is not None
    with pytest.raises(UnreadableSnapshot, match="rewrote rows appended after snapshot"):
        table.appended_since(first.snapshot_id, current.snapshot_id)


def test_maintain_dry_run_says_what_it_would_compact_and_changes_nothing(
    tmp_path: Path,
) -> None:
    table = _table(tmp_path)
    for run in range(8):
        _append(table, run)
    runner = CliRunner()
    home = ["--url", f"sqlite:///{tmp_path / 'store.db'}"]
    env = {"DATAPLATFORM_HOME": str(tmp_path)}
    dry = runner.invoke(ingestion, [*home, "maintain", "sales.orders", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "sales.orders: would compact 16 small data file(s) into 2" in dry.stdout
    assert len(_table(tmp_path).files()) == 16
    done = runner.invoke(ingestion, [*home, "maintain", "sales.orders", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)["compacted"]) == 2
    assert len(_table(tmp_path).files()) == 2
    kept = runner.invoke(
        ingestion, [*home, "maintain", "sales.orders", "--no-compact", "--dry-run"], env=env
    )
    assert "compact" not in kept.stdout
