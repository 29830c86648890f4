"""What the dashboard's pages show, computed from the gateway alone: values, no HTML.

A dataset's row in the list (its last run, last drift verdict and last recon), its schema
versions each with the diff from the version before, and each page's values: the runs, a
run's records, the datasets, a dataset's sections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from adapters.http.dashboard.run_rows import RunRow, runs_of
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import ReconResult, ReconStatus, RunEvent, SchemaDrift, SchemaSnapshot
from domain.metadata.query import MAX_LIMIT, Order, RecordQuery, SubjectQuery
from domain.metadata.record import MetadataRecord
from domain.runs.lifecycle import outcome
from domain.schema.diff import SchemaDiff, diff


@attrs.frozen
class LastRun:
    run_id: str
    state: str  # the run event's
    label: str  # what a person calls it ("failed checks"), the state when no other word
    message: str
    at: datetime


@attrs.frozen
class LastDrift:
    allowed: bool
    changes: int
    at: datetime
    # A refused attempt's verdict is not the target's state once a later write committed:
    # that write's instant, when there is one.
    written_after: datetime | None = None

    @property
    def verdict(self) -> str:
        return "allowed" if self.allowed else "refused"


@attrs.frozen
class LastRecon:
    status: str  # the worst of the recon run's checks about the dataset
    checks: int
    at: datetime


@attrs.frozen
class DatasetSummary:
    """One row of the datasets list."""

    subject: DatasetRef
    run: LastRun | None
    drift: LastDrift | None
    recon: LastRecon | None


def summarise(gateway: MetadataGateway, subject: DatasetRef) -> DatasetSummary:
    """The subject's last run, drift verdict and recon."""
    return DatasetSummary(
        subject,
        _last_run(gateway, subject),
        _last_drift(gateway, subject),
        _last_recon(gateway, subject),
    )


def _last_run(gateway: MetadataGateway, subject: DatasetRef) -> LastRun | None:
    run = gateway.latest(RecordKind.RUN_EVENT, subject)
    if run is None or not isinstance(run.payload, RunEvent):
        return None
    event = run.payload
    return LastRun(
        run.run_id.value,
        event.event.value,
        outcome(event.event, event.message),
        event.message,
        run.observed_at,
    )


def _last_drift(gateway: MetadataGateway, subject: DatasetRef) -> LastDrift | None:
    drift = gateway.latest(RecordKind.SCHEMA_DRIFT, subject)
    if drift is None or not isinstance(drift.payload, SchemaDrift):
        return None
    after = None
    if not drift.payload.allowed:
        wrote = gateway.latest(RecordKind.INGESTION_VOLUME, subject)
        if wrote is not None and wrote.observed_at > drift.observed_at:
            after = wrote.observed_at
    return LastDrift(drift.payload.allowed, len(drift.payload.changes), drift.observed_at, after)


_RECON_READ = 50  # a recon run's checks about one dataset: a handful, read in one query


def _last_recon(gateway: MetadataGateway, subject: DatasetRef) -> LastRecon | None:
    newest = gateway.query(
        RecordQuery(kinds=[RecordKind.RECON_RESULT], subject=subject, limit=_RECON_READ)
    ).records
    if not newest:
        return None
    run = newest[0].run_id
    checks = [r for r in newest if r.run_id == run]
    if len(checks) == len(newest) == _RECON_READ:  # more of that run than one page: all
        checks = list(
            gateway.query(
                RecordQuery(
                    kinds=[RecordKind.RECON_RESULT], subject=subject, run_id=run, limit=MAX_LIMIT
                )
            ).records
        )
    statuses = {r.payload.status for r in checks if isinstance(r.payload, ReconResult)}
    worst = next(
        (s for s in (ReconStatus.ERROR, ReconStatus.FAILED) if s in statuses), ReconStatus.PASSED
    )
    return LastRecon(worst.value, len(checks), newest[0].observed_at)


@attrs.frozen
class SchemaVersion:
    record: MetadataRecord
    snapshot: SchemaSnapshot
    changes: SchemaDiff | None  # from the version before; None for the first shown


def schema_versions(snapshots: Sequence[MetadataRecord]) -> list[SchemaVersion]:
    """Schema snapshot records (newest first, as read) as versions, oldest first."""
    versions: list[SchemaVersion] = []
    for record in reversed(snapshots):
        snapshot = record.payload
        if not isinstance(snapshot, SchemaSnapshot):
            continue
        before = versions[-1].snapshot.schema if versions else None
        changes = None if before is None else diff(before, snapshot.schema)
        versions.append(SchemaVersion(record, snapshot, changes))
    return versions


# -- the pages' values -------------------------------------------------------------------

RUNS_PER_PAGE = 50
DATASETS_PER_PAGE = 50
RUN_RECORDS_PER_PAGE = 200
_EVENTS_READ = 1000  # run events read per page of runs (a run has a few, plus heartbeats)

# The dataset page's paged sections: name -> (kind, records a page).
SECTION_KINDS: dict[str, tuple[RecordKind, int]] = {
    "schema": (RecordKind.SCHEMA_SNAPSHOT, 50),
    "drift": (RecordKind.SCHEMA_DRIFT, 20),
    "volumes": (RecordKind.INGESTION_VOLUME, 100),
    "recon": (RecordKind.RECON_RESULT, 50),
}


@attrs.frozen
class RunsPage:
    rows: list[RunRow]
    older: str | None  # the cursor of older runs


@attrs.frozen
class RunPage:
    run_id: RunId
    records: list[MetadataRecord]  # oldest first
    ended: RunEvent | None  # the run's last event
    later: str | None  # the cursor of its later records


@attrs.frozen
class DatasetsPage:
    search: str | None
    rows: list[DatasetSummary]
    more: DatasetRef | None  # the subject the next page starts after


@attrs.frozen
class Section:
    """One paged section of a dataset's page: its newest records from a cursor on."""

    name: str
    records: list[MetadataRecord]
    older: str | None


@attrs.frozen
class DatasetPage:
    subject: DatasetRef
    sections: dict[str, Section]
    profile: MetadataRecord | None

    @property
    def is_empty(self) -> bool:
        return self.profile is None and not any(s.records for s in self.sections.values())


def runs_page(gateway: MetadataGateway, cursor: str | None) -> RunsPage:
    """The newest runs from ``cursor`` on (ValueError on a cursor that is not one)."""
    query = RecordQuery(kinds=[RecordKind.RUN_EVENT], limit=_EVENTS_READ, cursor=cursor)
    found = gateway.query(query)
    return RunsPage(runs_of(found.records)[:RUNS_PER_PAGE], found.next_cursor)


def run_page(gateway: MetadataGateway, run_id: RunId, cursor: str | None) -> RunPage:
    """A run's records, oldest first, from ``cursor`` on, and how the run ended."""
    query = RecordQuery(
        run_id=run_id, order=Order.OLDEST_FIRST, limit=RUN_RECORDS_PER_PAGE, cursor=cursor
    )
    found = gateway.query(query)
    ended = None
    if found.records:
        last = gateway.query(RecordQuery(kinds=[RecordKind.RUN_EVENT], run_id=run_id, limit=1))
        if last.records and isinstance(last.records[0].payload, RunEvent):
            ended = last.records[0].payload
    return RunPage(run_id, list(found.records), ended, found.next_cursor)


def datasets_page(
    gateway: MetadataGateway, search: str | None, after: DatasetRef | None
) -> DatasetsPage:
    """The datasets whose name holds ``search``, after ``after``, each summarised."""
    query = SubjectQuery(contains=search, after=after, limit=DATASETS_PER_PAGE)
    found = gateway.subjects(query)
    rows = [summarise(gateway, subject) for subject in found.subjects]
    return DatasetsPage(search, rows, found.next_after)


def section(
    gateway: MetadataGateway, subject: DatasetRef, name: str, cursor: str | None = None
) -> Section:
    """The section ``name`` of the subject's page, from ``cursor`` on."""
    kind, limit = SECTION_KINDS[name]
    query = RecordQuery(kinds=[kind], subject=subject, limit=limit, cursor=cursor)
    found = gateway.query(query)
    return Section(name, list(found.records), found.next_cursor)


def dataset_page(gateway: MetadataGateway, subject: DatasetRef) -> DatasetPage:
    """Every section of the subject's page, and its last profile."""
    sections = {name: section(gateway, subject, name) for name in SECTION_KINDS}
    return DatasetPage(subject, sections, gateway.latest(RecordKind.DATASET_PROFILE, subject))
