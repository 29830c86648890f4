"""The legacy outputs of ingestion (a JSON summary per run, JSON log lines) and the parity
check between them and the gateway's records: the seed's path off the legacy outputs.

Which outputs a run writes is a setting (``Outputs``); while both are written,
``parity`` compares every legacy summary with the run's ``ingestion_volume`` and
``ingestion_runtime`` records and lists every difference.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

import attrs

from domain.dataset import RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import IngestionRuntime, IngestionVolume
from domain.metadata.query import RecordQuery
from domain.metadata.record import MetadataRecord


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


class Summarised(Protocol):
    @property
    def run_id(self) -> str: ...


S = TypeVar("S", bound=Summarised)


def parity_of(
    summaries: Iterable[S],
    gateway: MetadataGateway,
    kinds: list[RecordKind],
    differences: Callable[[S, Sequence[MetadataRecord]], list[Difference]],
    limit: int,
) -> ParityReport:
    """Compare each legacy summary with the records of ``kinds`` its run emitted."""
    compared, found = 0, []
    for summary in summaries:
        compared += 1
        query = RecordQuery(run_id=RunId(summary.run_id), kinds=kinds, limit=limit)
        found += differences(summary, gateway.query(query).records)
    return ParityReport(compared, tuple(found))


def parity(summaries: Iterable[RunSummary], gateway: MetadataGateway) -> ParityReport:
    """Compare each legacy summary with the records its run emitted through the gateway."""
    kinds = [RecordKind.INGESTION_VOLUME, RecordKind.INGESTION_RUNTIME]
    return parity_of(summaries, gateway, kinds, _differences, 10)


def _differences(summary: RunSummary, found: Sequence[MetadataRecord]) -> list[Difference]:
    volume = next((r.payload for r in found if isinstance(r.payload, IngestionVolume)), None)
    runtime = next((r.payload for r in found if isinstance(r.payload, IngestionRuntime)), None)
    if runtime is None:
        return [Difference(summary.run_id, "ingestion_runtime", "present", None)]
    pairs: list[tuple[str, object, object]] = [
        ("status", summary.status, runtime.status.value),
        ("strategy", summary.strategy, runtime.strategy),
    ]
    if summary.status == "succeeded":
        if volume is None:
            return [Difference(summary.run_id, "ingestion_volume", "present", None)]
        pairs += [
            ("rows_read", summary.rows_read, volume.rows_read),
            ("rows_written", summary.rows_written, volume.rows_written),
            ("rows_rejected", summary.rows_rejected, volume.rows_rejected),
            ("bytes_written", summary.bytes_written, volume.bytes_written),
        ]
    return [
        Difference(summary.run_id, name, ours, theirs)
        for name, ours, theirs in pairs
        if ours != theirs
    ]
