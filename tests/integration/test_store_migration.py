"""Migration 0005 on a store written by the code before it: every record moves onto its
dataset's canonical subject, a fact stored under two spellings is kept once, the old
spellings stay as aliases, and queries by either spelling find the records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from adapters.serialization.records import RecordConverter
from adapters.sql import migrate
from adapters.sql.engine import create_store_engine
from adapters.sql.metadata import SqlMetadataRepository
from adapters.sql.tables import aliases
from apps.metadata.main import cli
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import RunEvent, RunEventType
from domain.metadata.query import RecordQuery, SubjectQuery
from domain.metadata.record import MetadataRecord, derive_record_id
from services import postgres_schema, postgres_url

RECON = DatasetRef("postgresql://127.0.0.1:5432/test", "ux_demo.products")  # a recon's, before
INGESTION = DatasetRef("postgres://127.0.0.1:5432", "test.ux_demo.products")  # ingestion's
ELSEWHERE = DatasetRef("file", "/lake/outside")


def _event(subject: DatasetRef, run: str, event: RunEventType) -> MetadataRecord:
    return MetadataRecord.create(
        subject=subject,
        run_id=RunId(run),
        observed_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
        producer="before-0005",
        payload=RunEvent(event=event, message=""),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.db'}"
        return
    with postgres_schema(postgres_url()) as url:
        yield url


def test_a_store_of_revision_0004_moves_onto_canonical_subjects(
    store_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    files = DatasetRef("file", f"{home}/warehouse/orders")
    engine = create_store_engine(store_url)
    try:
        migrate.upgrade(engine, to="0004")
        # Written as the code before 0005 wrote them: the repository of revision 0004's shape.
        old = SqlMetadataRepository(engine, RecordConverter())
        written = [
            _event(RECON, "recon-1", RunEventType.STARTED),
            _event(RECON, "recon-1", RunEventType.SUCCEEDED),
            _event(INGESTION, "ingest-1", RunEventType.SUCCEEDED),
            _event(INGESTION, "recon-1", RunEventType.STARTED),  # the same fact, twice named
            _event(files, "ingest-2", RunEventType.SUCCEEDED),
            _event(ELSEWHERE, "ingest-3", RunEventType.SUCCEEDED),
        ]
        old.append(written)
        assert len(old.subjects(SubjectQuery()).subjects) == 4

        result = CliRunner().invoke(
            cli, ["--url", store_url, "migrate"], env={"DATAPLATFORM_HOME": str(home)}
        )
        assert result.exit_code == 0, result.output
        assert "revision 0005" in result.stdout
        assert "2 dataset name(s) were spelled another way: 2 record(s) moved" in result.stdout
        assert "1 stated under both kept once" in result.stdout

        gateway = MetadataGateway(SqlMetadataRepository(engine, RecordConverter()))
        canonical = DatasetRef("postgres://127.0.0.1:5432", "test.ux_demo.products")
        lake = DatasetRef("home", "warehouse/orders")
        assert set(gateway.subjects(SubjectQuery()).subjects) == {canonical, lake, ELSEWHERE}
        stored = gateway.query(RecordQuery(limit=100)).records
        assert len(stored) == 5  # the fact stated under both spellings is kept once
        for record in stored:  # every id is the one its subject derives
            assert record.record_id == derive_record_id(
                record.kind, record.subject, record.run_id, record.payload
            )
        # Found by either spelling: the table's timeline holds the recon and the ingestion.
        for spelling in (RECON, INGESTION, canonical):
            runs = {r.run_id.value for r in gateway.history(RecordKind.RUN_EVENT, spelling).records}
            assert runs == {"recon-1", "ingest-1"}
        at_home = MetadataGateway(SqlMetadataRepository(engine, RecordConverter()), home=str(home))
        assert at_home.latest(RecordKind.RUN_EVENT, files).subject == lake  # type: ignore[union-attr]
        with engine.connect() as connection:
            kept = {
                (r.namespace, r.name, r.canonical_namespace, r.canonical_name)
                for r in connection.execute(select(aliases))
            }
        assert kept == {
            (RECON.namespace, RECON.name, canonical.namespace, canonical.name),
            (files.namespace, files.name, lake.namespace, lake.name),
        }
        # Run again: nothing left to move.
        again = CliRunner().invoke(cli, ["--url", store_url, "migrate"])
        assert again.exit_code == 0 and "already at revision 0005" in again.stdout
    finally:
        engine.dispose()
