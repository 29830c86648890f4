"""The legacy outputs of ingestion (a JSON summary per run, JSON log lines) and the parity
check between them and the gateway's records: the seed's path off the legacy outputs.

Which outputs a run writes is a setting (``Outputs``); while both are written,
``parity`` compares every legacy summary with the run's ``ingestion_volume`` and
``ingestion_runtime`` records and lists every difference.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs

from domain.dataset import RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import IngestionRuntime, IngestionVolume
from domain.metadata.query import RecordQuery


class Outputs(enum.Enum):
    """Where a run reports: the gateway's records (the apps' default), the legacy files, or
    both."""

    GATEWAY = "gateway"
    LEGACY = "legacy"
    BOTH = "both"

    @property
    def gateway(self) -> bool:
        return self is not Outputs.LEGACY

    @property
    def legacy(self) -> bool:
        return self is not Outputs.GATEWAY


@attrs.frozen
class RunSummary:
    """One run as the legacy summary file states it."""

    pipeline: str
    run_id: str
    target: str
    strategy: str
    status: str
    started_at: datetime
    finished_at: datetime
    rows_read: int | None
    rows_written: int | None
    rows_rejected: int | None
    bytes_written: int | None


@attrs.frozen
class Difference:
    run_id: str
    field: str
    legacy: object
    gateway: object


@attrs.frozen
class ParityReport:
    compared: int
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def parity(summaries: Iterable[RunSummary], gateway: MetadataGateway) -> ParityReport:
    """Compare each legacy summary with the records its run emitted through the gateway."""
    differences: list[Difference] = []
    compared = 0
    for summary in summaries:
        compared += 1
        found = gateway.query(
            RecordQuery(
                run_id=RunId(summary.run_id),
                kinds=[RecordKind.INGESTION_VOLUME, RecordKind.INGESTION_RUNTIME],
                limit=10,
            )
        ).records
        volume = next((r.payload for r in found if isinstance(r.payload, IngestionVolume)), None)
        runtime = next((r.payload for r in found if isinstance(r.payload, IngestionRuntime)), None)
        if runtime is None:
            differences.append(Difference(summary.run_id, "ingestion_runtime", "present", None))
            continue
        pairs: list[tuple[str, object, object]] = [
            ("status", summary.status, runtime.status.value),
            ("strategy", summary.strategy, runtime.strategy),
        ]
        if summary.status == "succeeded":
            if volume is None:
                differences.append(Difference(summary.run_id, "ingestion_volume", "present", None))
                continue
            pairs += [
                ("rows_read", summary.rows_read, volume.rows_read),
                ("rows_written", summary.rows_written, volume.rows_written),
                ("rows_rejected", summary.rows_rejected, volume.rows_rejected),
                ("bytes_written", summary.bytes_written, volume.bytes_written),
            ]
        differences += [
            Difference(summary.run_id, name, ours, theirs)
            for name, ours, theirs in pairs
            if ours != theirs
        ]
    return ParityReport(compared, tuple(differences))
