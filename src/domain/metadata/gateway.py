"""The metadata gateway: the one front door through which metadata is written and read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from domain.dataset import DatasetRef
from domain.metadata.errors import InvalidBatch, RecordConflict, RecordProblem
from domain.metadata.kinds import RecordKind
from domain.metadata.query import DEFAULT_LIMIT, AppendResult, Order, RecordPage, RecordQuery
from domain.metadata.record import MetadataRecord
from ports.metadata import MetadataRepository

# Per attrs class: its fields that carry validators or may hold nested attrs values.
_FIELDS: dict[type, tuple[attrs.Attribute[Any], ...]] = {}


def _fields_of(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = tuple(attrs.fields(cls)) if attrs.has(cls) else ()
        _FIELDS[cls] = found
    return found


def _problems_of(index: int, value: object, path: str, problems: list[RecordProblem]) -> None:
    """Re-run the attrs validators of ``value`` and of every attrs value inside it."""
    for field in _fields_of(type(value)):
        inner = getattr(value, field.name)
        if field.validator is not None:
            try:
                field.validator(value, field, inner)
            except (ValueError, TypeError) as invalid:
                problems.append(RecordProblem(index, path, str(invalid)))
        if type(inner) is tuple:
            for position, item in enumerate(inner):
                if _fields_of(type(item)):
                    _problems_of(index, item, f"{path}.{field.name}[{position}]", problems)
        elif _fields_of(type(inner)):
            _problems_of(index, inner, f"{path}.{field.name}", problems)


def validate_batch(records: Sequence[MetadataRecord]) -> list[RecordProblem]:
    """Every problem of a batch: invalid records and ids repeated with different payloads.

    Records are validated when built; this catches ones that were altered afterwards or
    built without their validators, so nothing invalid ever reaches a repository.
    """
    problems: list[RecordProblem] = []
    first_of: dict[str, int] = {}
    for index, record in enumerate(records):
        if not isinstance(record, MetadataRecord):
            problems.append(
                RecordProblem(index, "$", f"expected a MetadataRecord, got {type(record).__name__}")
            )
            continue
        _problems_of(index, record, "$", problems)
        earlier = first_of.setdefault(record.record_id, index)
        if earlier != index and not _same_fact(records[earlier], record):
            problems.append(
                RecordProblem(
                    index,
                    "$.payload",
                    f"record {earlier} has the same record_id with a different payload",
                )
            )
    return problems


def _same_fact(a: MetadataRecord, b: MetadataRecord) -> bool:
    return a.payload == b.payload and a.payload_version == b.payload_version


class MetadataGateway:
    """Emit and read metadata records; validates before anything is written.

    ``emit_many`` is one transaction: a batch with any invalid record writes nothing and
    :class:`InvalidBatch` lists every problem by index and path. Re-emitting a stored record
    is a duplicate; the same id with a different payload raises :class:`RecordConflict`.
    """

    def __init__(self, repository: MetadataRepository) -> None:
        self._repository = repository

    def emit(self, record: MetadataRecord) -> AppendResult:
        return self.emit_many([record])

    def emit_many(self, records: Iterable[MetadataRecord]) -> AppendResult:
        batch = list(records)
        problems = validate_batch(batch)
        if problems:
            raise InvalidBatch(problems)
        unique: dict[str, MetadataRecord] = {}
        for record in batch:
            unique.setdefault(record.record_id, record)
        if not unique:
            return AppendResult()
        result = self._repository.append(list(unique.values()))
        return AppendResult(result.accepted, result.duplicates + len(batch) - len(unique))

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        return self._repository.latest(kind, subject)

    def history(
        self,
        kind: RecordKind,
        subject: DatasetRef,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> RecordPage:
        """Records of one kind about one subject, newest first."""
        return self._repository.query(
            RecordQuery(
                kinds=[kind],
                subject=subject,
                since=since,
                until=until,
                order=Order.NEWEST_FIRST,
                limit=limit,
                cursor=cursor,
            )
        )

    def query(self, query: RecordQuery) -> RecordPage:
        return self._repository.query(query)


__all__ = ["InvalidBatch", "MetadataGateway", "RecordConflict", "validate_batch"]
