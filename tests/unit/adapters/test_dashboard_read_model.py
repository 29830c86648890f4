"""The dashboard's read model against the in-memory repository, no browser: what a
dataset's row says of its last run, drift and recon, its schema versions' diffs, and each
page's value (the runs, a run, the datasets, a dataset's sections)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.http.dashboard import read_model
from adapters.http.dashboard.read_model import schema_versions, summarise
from adapters.http.dashboard.sections import dataset_row
from adapters.memory.metadata import InMemoryMetadataRepository
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import Payload
from domain.metadata.payloads import (
    ColumnChange,
    IngestionVolume,
    ReconResult,
    ReconStatus,
    RunEvent,
    RunEventType,
    SchemaDrift,
    SchemaSnapshot,
)
from domain.metadata.record import MetadataRecord
from domain.schema import Column, Schema
from domain.schema.diff import ColumnChangeKind
from domain.schema.types import IntegerType, StringType

ORDERS = DatasetRef.parse("postgres://warehouse:5432::sales.public.orders")
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def record(
    run: str, payload: Payload, minutes: int = 0, producer: str = "ingestion"
) -> MetadataRecord:
    return MetadataRecord.create(
        subject=ORDERS,
        run_id=RunId(run),
        observed_at=T0 + timedelta(minutes=minutes),
        producer=producer,
        payload=payload,
    )


def gateway(*records: MetadataRecord) -> MetadataGateway:
    found = MetadataGateway(InMemoryMetadataRepository())
    found.emit_many(list(records))
    return found


REFUSED = SchemaDrift("a", "b", (ColumnChange("channel", ColumnChangeKind.ADDED),), allowed=False)


def test_nothing_recorded_is_a_row_of_dashes() -> None:
    summary = summarise(gateway(), ORDERS)
    assert (summary.run, summary.drift, summary.recon) == (None, None, None)
    assert dataset_row(summary)[1:] == ("-", "-", "-")


def test_the_last_run_the_worst_recon_check_and_a_refused_drift_in_force() -> None:
    summary = summarise(
        gateway(
            record("r1", RunEvent(RunEventType.STARTED)),
            record("r1", RunEvent(RunEventType.FAILED, "drift refused: channel"), 1),
            record("r1", REFUSED, 1),
            record("c1", ReconResult("row_count", ReconStatus.PASSED), 2, "recon"),
            record("c1", ReconResult("key_diff", ReconStatus.FAILED), 2, "recon"),
        ),
        ORDERS,
    )
    assert summary.run is not None and (summary.run.run_id, summary.run.state) == ("r1", "failed")
    assert summary.drift is not None and summary.drift.verdict == "refused"
    assert summary.drift.written_after is None
    assert summary.recon is not None
    assert (summary.recon.status, summary.recon.checks) == ("failed", 2)
    cells = dataset_row(summary)
    assert 'class="state refused"' in cells[2] and "1 change " in cells[2]
    assert 'class="state failed"' in cells[3] and "(2 checks)" in cells[3]


def test_a_refused_drift_is_not_the_state_once_a_later_write_committed() -> None:
    later = T0 + timedelta(minutes=5)
    summary = summarise(
        gateway(record("r1", REFUSED), record("r2", IngestionVolume(3, 3), 5)), ORDERS
    )
    assert summary.drift is not None and summary.drift.written_after == later
    assert dataset_row(summary)[2].startswith("none in the last write")


def test_schema_versions_come_oldest_first_each_with_its_diff() -> None:
    one = Schema.from_columns([Column("id", IntegerType(64))])
    two = Schema.from_columns([Column("id", IntegerType(64)), Column("channel", StringType())])
    snapshots = [
        record("r3", SchemaSnapshot(two), 3),
        record("r2", SchemaSnapshot(one), 2),
        record("r1", SchemaSnapshot(one), 1),
    ]  # newest first, as read
    versions = schema_versions(snapshots)
    assert [v.record.run_id.value for v in versions] == ["r1", "r2", "r3"]
    assert versions[0].changes is None
    assert versions[1].changes is not None and versions[1].changes.is_empty
    assert versions[2].changes is not None
    assert [c.column for c in versions[2].changes.changes] == ["channel"]


def test_the_runs_page_lists_each_run_once_newest_first_with_its_end() -> None:
    found = read_model.runs_page(
        gateway(
            record("r1", RunEvent(RunEventType.STARTED)),
            record("r1", RunEvent(RunEventType.SUCCEEDED), 2),
            record("r2", RunEvent(RunEventType.STARTED), 3),
            record("r2", RunEvent(RunEventType.FAILED, "drift refused: channel"), 4),
        ),
        None,
    )
    assert [(row.run_id, row.state) for row in found.rows] == [
        ("r2", "failed"),
        ("r1", "succeeded"),
    ]
    assert found.rows[1].seconds == 120.0 and found.older is None


def test_a_cursor_that_is_not_one_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="cursor"):
        read_model.runs_page(gateway(), "not-a-cursor")


def test_a_run_page_holds_its_records_oldest_first_and_how_it_ended() -> None:
    store = gateway(
        record("r1", RunEvent(RunEventType.STARTED)),
        record("r1", IngestionVolume(3, 3), 1),
        record("r1", RunEvent(RunEventType.SUCCEEDED), 2),
    )
    found = read_model.run_page(store, RunId("r1"), None)
    assert [r.kind.value for r in found.records] == ["run_event", "ingestion_volume", "run_event"]
    assert found.ended is not None and found.ended.event is RunEventType.SUCCEEDED
    unknown = read_model.run_page(store, RunId("r9"), None)
    assert (unknown.records, unknown.ended) == ([], None)


def test_the_datasets_page_summarises_the_subjects_that_match() -> None:
    store = gateway(record("r1", RunEvent(RunEventType.SUCCEEDED)))
    found = read_model.datasets_page(store, "orders", None)
    assert [row.subject for row in found.rows] == [ORDERS] and found.more is None
    assert found.rows[0].run is not None and found.rows[0].run.state == "succeeded"
    assert read_model.datasets_page(store, "customers", None).rows == []


def test_a_dataset_page_holds_every_section_and_is_empty_only_when_nothing_is() -> None:
    assert read_model.dataset_page(gateway(), ORDERS).is_empty
    found = read_model.dataset_page(gateway(record("r1", IngestionVolume(3, 3))), ORDERS)
    assert not found.is_empty and found.profile is None
    assert set(found.sections) == {"schema", "drift", "volumes", "recon"}
    assert len(found.sections["volumes"].records) == 1 and found.sections["recon"].records == []


def test_a_section_pages_its_older_records_by_cursor() -> None:
    volumes = [record(f"r{i}", IngestionVolume(i, i), i) for i in range(101)]
    store = gateway(*volumes)
    first = read_model.section(store, ORDERS, "volumes")
    assert len(first.records) == 100 and first.older is not None
    rest = read_model.section(store, ORDERS, "volumes", first.older)
    assert [r.run_id.value for r in rest.records] == ["r0"] and rest.older is None


def test_the_last_recon_counts_only_its_own_runs_checks_however_many() -> None:
    older = [record("c1", ReconResult("row_count", ReconStatus.FAILED), 1, "recon")]
    many = [
        record("c2", ReconResult(f"check_{i}", ReconStatus.PASSED), 2, "recon") for i in range(60)
    ]
    summary = summarise(gateway(*older, *many), ORDERS)
    assert summary.recon is not None
    assert (summary.recon.status, summary.recon.checks) == ("passed", 60)
    latest = summarise(gateway(*many[:3], *older), ORDERS).recon
    assert latest is not None and (latest.status, latest.checks) == ("passed", 3)
