"""The records and the legacy summary of an ingestion run, built from what it did (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.dataset import RunId
from domain.ingestion.legacy import RunSummary
from domain.ingestion.plan import Plan
from domain.ingestion.spec import PipelineSpec
from domain.metadata.payloads import IngestionRuntime, IngestionVolume, PhaseTiming, RunStatus
from domain.metadata.record import MetadataRecord
from ports.ingestion import Written

PRODUCER = "ingestion"


def record(spec: PipelineSpec, run_id: RunId, now: datetime, payload: Any) -> MetadataRecord:
    """A record of the run about its target."""
    return MetadataRecord.create(
        subject=spec.target.subject,
        run_id=run_id,
        observed_at=now,
        producer=PRODUCER,
        payload=payload,
    )


def summary(
    spec: PipelineSpec,
    run_id: RunId,
    current: Plan,
    started_at: datetime,
    now: datetime,
    status: str,
    written: Written | None,
) -> RunSummary:
    """The run as the legacy summaries state it."""
    return RunSummary(
        pipeline=spec.name,
        run_id=run_id.value,
        target=str(spec.target.subject),
        strategy=current.strategy.value,
        status=status,
        started_at=started_at,
        finished_at=max(now, started_at),
        rows_read=None if written is None else written.rows_read,
        rows_written=None if written is None else written.rows_written,
        rows_rejected=None if written is None else written.rows_rejected,
        bytes_written=None if written is None else written.bytes_written,
    )


def success_records(
    spec: PipelineSpec,
    run_id: RunId,
    current: Plan,
    written: Written,
    started_at: datetime,
    now: datetime,
    timings: tuple[PhaseTiming, ...],
) -> list[MetadataRecord]:
    """A committed run's ingestion_volume and ingestion_runtime."""
    volume = IngestionVolume(
        rows_read=written.rows_read,
        rows_written=written.rows_written,
        rows_rejected=written.rows_rejected,
        bytes_written=written.bytes_written,
        rows_inserted=(
            written.rows_written if written.rows_inserted is None else written.rows_inserted
        ),
        rows_updated=written.rows_updated,
        rows_closed=written.rows_closed,
        rows_deleted=written.rows_deleted,
        snapshot_id=written.snapshot_id,
    )
    runtime = IngestionRuntime(
        strategy=current.strategy.value,
        started_at=started_at,
        finished_at=max(now, started_at),
        status=RunStatus.SUCCEEDED,
        phases=timings,
        plan=current.reasons,
        window_column=None if current.window is None else current.window.column,
        window_after=None if current.window is None else current.window.after,
        window_upto=None if current.window is None else written.watermark,
    )
    return [record(spec, run_id, now, volume), record(spec, run_id, now, runtime)]


def succeeded_message(written: Written) -> str:
    """The message of a run's ``succeeded`` event: its rows, and the snapshot it committed."""
    snapshot = "" if written.snapshot_id is None else f" (snapshot {written.snapshot_id})"
    return f"{written.rows_written:,} row(s) written{snapshot}"
