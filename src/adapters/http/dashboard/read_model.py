"""What the dashboard's pages show, computed from the gateway alone: values, no HTML.

A dataset's row in the list (its last run, last drift verdict and last recon), and its
schema versions each with the diff from the version before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from domain.dataset import DatasetRef
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import ReconResult, ReconStatus, RunEvent, SchemaDrift, SchemaSnapshot
from domain.metadata.query import MAX_LIMIT, RecordQuery
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


def _last_recon(gateway: MetadataGateway, subject: DatasetRef) -> LastRecon | None:
    recon = gateway.latest(RecordKind.RECON_RESULT, subject)
    if recon is None:
        return None
    checks = gateway.query(
        RecordQuery(
            kinds=[RecordKind.RECON_RESULT], subject=subject, run_id=recon.run_id, limit=MAX_LIMIT
        )
    ).records
    statuses = {r.payload.status for r in checks if isinstance(r.payload, ReconResult)}
    worst = next(
        (s for s in (ReconStatus.ERROR, ReconStatus.FAILED) if s in statuses), ReconStatus.PASSED
    )
    return LastRecon(worst.value, len(checks), recon.observed_at)


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
