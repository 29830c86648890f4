"""Backfill historical records through the gateway, then check parity with the source.

Idempotent: records already stored count as duplicates, so a second run imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from domain.metadata.errors import InvalidBatch, RecordConflict
from domain.metadata.gateway import MetadataGateway
from domain.metadata.query import RecordQuery
from domain.metadata.record import MetadataRecord

BATCH = 1000

Progress = Callable[[str, int, int], None]


@attrs.frozen
class ParityReport:
    """Records in the source against records in the store, by record id."""

    in_source: int
    imported: int
    already_stored: int
    missing: tuple[str, ...]
    differing: tuple[str, ...]
    invalid: int

    @property
    def ok(self) -> bool:
        return not self.missing and not self.differing and not self.invalid


def backfill(
    gateway: MetadataGateway,
    records: Sequence[MetadataRecord],
    *,
    invalid: int = 0,
    progress: Progress | None = None,
) -> ParityReport:
    """Emit ``records`` in batches, isolating conflicts, then compare them with the store;
    ``progress(phase, done, total)`` hears how far each phase ("importing", "checking
    parity") has come."""
    imported = duplicates = 0
    for start in range(0, len(records), BATCH):
        if progress is not None:
            progress("importing", start, len(records))
        batch = records[start : start + BATCH]
        try:
            result = gateway.emit_many(batch)
        except (RecordConflict, InvalidBatch):
            # Emit one by one so one conflicting or invalid record does not hold back the
            # rest; parity then reports it as missing or differing.
            for record in batch:
                try:
                    one = gateway.emit(record)
                except (RecordConflict, InvalidBatch):
                    continue
                imported += one.accepted
                duplicates += one.duplicates
            continue
        imported += result.accepted
        duplicates += result.duplicates
    missing, differing = _compare(gateway, records, progress)
    return ParityReport(len(records), imported, duplicates, missing, differing, invalid)


def _compare(
    gateway: MetadataGateway, records: Sequence[MetadataRecord], progress: Progress | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    missing: list[str] = []
    differing: list[str] = []
    for index, record in enumerate(records):
        if progress is not None and index % 100 == 0:
            progress("checking parity", index, len(records))
        found = gateway.query(RecordQuery(record_id=record.record_id, limit=1)).records
        if not found:
            missing.append(record.record_id)
        elif (found[0].payload, found[0].payload_version) != (
            record.payload,
            record.payload_version,
        ):
            differing.append(record.record_id)
    return tuple(sorted(set(missing))), tuple(sorted(set(differing)))
