"""The port behind the metadata gateway."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.dataset import DatasetRef
from domain.metadata.kinds import RecordKind
from domain.metadata.query import (
    AppendResult,
    RecordPage,
    RecordQuery,
    SubjectPage,
    SubjectQuery,
)
from domain.metadata.record import MetadataRecord


class MetadataRepository(Protocol):
    """Where metadata records are kept: in memory, SQLite, PostgreSQL or a remote service.

    Every implementation passes the contract suite in ``tests/contract``.
    """

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        """Store ``records`` in one transaction, in order, idempotently.

        A record whose id is stored with an equal payload is a duplicate (counted, not
        written again). One whose id is stored with a different payload raises
        :class:`domain.metadata.errors.RecordConflict`, and nothing of the batch is written.
        The batch itself holds no two records of one id (the gateway ensures it).
        """
        ...

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        """The newest record of ``kind`` about ``subject`` by observed_at; of records
        observed at the same instant, the one appended last."""
        ...

    def query(self, query: RecordQuery) -> RecordPage:
        """The records that match ``query``, in its order, one page at a time.

        Paging with the returned cursor is stable while others append: no record is
        returned twice and none stored before the first page is skipped.
        """
        ...

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        """The subjects with at least one record stored, as ``query`` asks (see
        :class:`SubjectQuery`): (namespace, name) order by code point, paged with
        ``next_after``. Fast however many records are stored: a store keeps its subjects
        apart from its records."""
        ...
