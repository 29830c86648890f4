"""An in-memory metadata repository: the fast, real adapter that tests use instead of mocks."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from domain.dataset import DatasetRef
from domain.metadata.errors import RecordConflict
from domain.metadata.kinds import RecordKind
from domain.metadata.query import (
    AppendResult,
    Order,
    Position,
    RecordPage,
    RecordQuery,
    StoredRecord,
    SubjectPage,
    SubjectQuery,
)
from domain.metadata.record import MetadataRecord


class InMemoryMetadataRepository:
    """Keeps records in a list ordered by position; thread-safe, lost when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, StoredRecord] = {}
        self._ordered: list[StoredRecord] = []  # by position, oldest first
        self._latest: dict[tuple[RecordKind, DatasetRef], StoredRecord] = {}
        self._sequence = 0
        self._subjects: set[DatasetRef] = set()

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        with self._lock:
            conflicts = [
                r.record_id
                for r in records
                if (stored := self._by_id.get(r.record_id)) is not None
                and (stored.record.payload, stored.record.payload_version)
                != (r.payload, r.payload_version)
            ]
            if conflicts:
                raise RecordConflict(conflicts)
            accepted = 0
            for record in records:
                if record.record_id in self._by_id:
                    continue
                self._sequence += 1
                stored = StoredRecord(record, Position(record.observed_at, self._sequence))
                self._by_id[record.record_id] = stored
                bisect.insort(self._ordered, stored, key=lambda s: s.position)
                key = (record.kind, record.subject)
                current = self._latest.get(key)
                if current is None or stored.position > current.position:
                    self._latest[key] = stored
                self._subjects.add(record.subject)
                accepted += 1
            return AppendResult(accepted, len(records) - accepted)

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        stored = self._latest.get((kind, subject))
        return None if stored is None else stored.record

    def query(self, query: RecordQuery) -> RecordPage:
        with self._lock:
            ordered = (
                self._ordered if query.order is Order.OLDEST_FIRST else reversed(self._ordered)
            )
            page: list[StoredRecord] = []
            for stored in ordered:
                if query.is_beyond_cursor(stored.position) and query.matches(stored.record):
                    page.append(stored)
                    if len(page) > query.limit:
                        break
        more = len(page) > query.limit
        page = page[: query.limit]
        return RecordPage(
            tuple(s.record for s in page),
            page[-1].position.encode() if more else None,
        )

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        with self._lock:
            known = list(self._subjects)
        return query.page(known)
