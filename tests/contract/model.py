"""A plain-Python model of the metadata store: the meaning every repository must match."""

from __future__ import annotations

from collections.abc import Sequence

from domain.dataset import DatasetRef
from domain.metadata import MetadataRecord, RecordKind
from domain.metadata.query import AppendResult, Order, RecordQuery


class StoreModel:
    def __init__(self) -> None:
        self.records: list[MetadataRecord] = []  # in append order
        self.by_id: dict[str, MetadataRecord] = {}

    def conflicts(self, batch: Sequence[MetadataRecord]) -> bool:
        return any(
            (stored := self.by_id.get(r.record_id)) is not None
            and (stored.payload, stored.payload_version) != (r.payload, r.payload_version)
            for r in batch
        )

    def append(self, batch: Sequence[MetadataRecord]) -> AppendResult:
        accepted = 0
        for record in batch:
            if record.record_id not in self.by_id:
                self.by_id[record.record_id] = record
                self.records.append(record)
                accepted += 1
        return AppendResult(accepted, len(batch) - accepted)

    def query(self, query: RecordQuery) -> list[MetadataRecord]:
        keyed = sorted(enumerate(self.records), key=lambda pair: (pair[1].observed_at, pair[0]))
        if query.order is Order.NEWEST_FIRST:
            keyed.reverse()
        return [record for _, record in keyed if query.matches(record)]

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        found = self.query(RecordQuery(kinds=[kind], subject=subject, limit=1))
        return found[0] if found else None
