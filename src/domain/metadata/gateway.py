"""The metadata gateway: the one front door through which metadata is written and read."""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from domain.dataset import DatasetRef
from domain.identity import canonical
from domain.metadata.errors import InvalidBatch, RecordConflict, RecordProblem
from domain.metadata.kinds import RecordKind
from domain.metadata.query import (
    DEFAULT_LIMIT,
    AppendResult,
    Order,
    RecordPage,
    RecordQuery,
    SubjectPage,
    SubjectQuery,
)
from domain.metadata.record import MetadataRecord, derive_record_id
from domain.text import unstorable
from ports.metadata import MetadataRepository
from ports.transport import RecordTransport

_SCALARS = (str, int, float, bool, datetime, Decimal, type(None))


def _may_nest(annotation: Any) -> bool:
    """Whether a field of this type can hold attrs values (checked once per class)."""
    if annotation in _SCALARS or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    ):
        return False
    arguments = typing.get_args(annotation)
    if arguments:
        return any(_may_nest(argument) for argument in arguments if argument is not Ellipsis)
    return True  # an attrs class, or a type we cannot see through: look at the value


def _holds_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    return any(_holds_text(argument) for argument in typing.get_args(annotation))


@attrs.frozen
class _Plan:
    """Per attrs class: the validators to run, the fields that may nest attrs values and
    the fields that hold text (which every store must be able to keep)."""

    validated: tuple[tuple[str, attrs.Attribute[Any], Any], ...]
    nested: tuple[str, ...]
    texts: tuple[str, ...]


_PLANS: dict[type, _Plan | None] = {}


def _plan_of(cls: type) -> _Plan | None:
    if cls in _PLANS:
        return _PLANS[cls]
    plan = None
    if attrs.has(cls):
        fields = attrs.fields(attrs.resolve_types(cls))
        plan = _Plan(
            tuple((f.name, f, f.validator) for f in fields if f.validator is not None),
            tuple(f.name for f in fields if _may_nest(f.type)),
            tuple(f.name for f in fields if _holds_text(f.type)),
        )
    _PLANS[cls] = plan
    return plan


def _problems_of(index: int, value: object, path: str, problems: list[RecordProblem]) -> None:
    """Re-run the attrs validators of ``value`` and of every attrs value inside it."""
    plan = _plan_of(type(value))
    if plan is None:
        return
    for name, field, validator in plan.validated:
        try:
            validator(value, field, getattr(value, name))
        except (ValueError, TypeError) as invalid:
            problems.append(RecordProblem(index, path, str(invalid)))
    for name in plan.texts:
        text = getattr(value, name)
        for item in text if isinstance(text, tuple) else (text,):
            problem = unstorable(item) if isinstance(item, str) else None
            if problem:
                problems.append(RecordProblem(index, f"{path}.{name}", problem))
    for name in plan.nested:
        inner = getattr(value, name)
        if type(inner) is tuple:
            for position, item in enumerate(inner):
                _problems_of(index, item, f"{path}.{name}[{position}]", problems)
        else:
            _problems_of(index, inner, f"{path}.{name}", problems)


def validate_batch(
    records: Sequence[MetadataRecord], *, decoded: bool = False
) -> list[RecordProblem]:
    """Every problem of a batch: invalid records and ids repeated with different payloads.

    Records are validated when built; this catches ones that were altered afterwards or
    built without their validators, so nothing invalid ever reaches a repository.
    ``decoded``: the records were built just now by the record decoder, every validator and
    text check run, so only the batch's own problem (repeated ids) is left to find.
    """
    problems: list[RecordProblem] = []
    first_of: dict[str, int] = {}
    for index, record in enumerate(records):
        if not isinstance(record, MetadataRecord):
            problems.append(
                RecordProblem(index, "$", f"expected a MetadataRecord, got {type(record).__name__}")
            )
            continue
        if not decoded:
            _problems_of(index, record, "$", problems)
        earlier = first_of.setdefault(record.record_id, index)
        if earlier != index and not _same_fact(records[earlier], record):
            problems.append(
                RecordProblem(
                    index,
                    "$.payload",
                    f"record {earlier} has the same record_id with a different payload",
                    other=earlier,
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
    With an asynchronous ``transport`` a valid batch is queued (``AppendResult.queued``) and
    its conflicts are the relay's to find.

    Every subject is taken in its canonical spelling (:func:`domain.identity.canonical`,
    files under ``home`` relative to it): a record about ``postgresql://h:5432/db`` ::
    ``public.t`` is stored, and found, as ``postgres://h:5432`` :: ``db.public.t``.
    """

    def __init__(
        self,
        repository: MetadataRepository,
        transport: RecordTransport | None = None,
        *,
        home: str | None = None,
    ) -> None:
        self._repository = repository
        # Writes travel by the transport (direct, outbox, broker); reads ask the repository.
        self._transport = transport
        self._home = home
        self._names: dict[DatasetRef, DatasetRef] = {}
        self._last: tuple[DatasetRef | None, DatasetRef | None] = (None, None)

    def canonical(self, subject: DatasetRef) -> DatasetRef:
        """``subject`` as the store keeps it (one spelling per dataset)."""
        found = self._names.get(subject)
        if found is None:
            if len(self._names) > 10_000:  # a bound, not a cache policy: names repeat
                self._names.clear()
            found = canonical(subject, self._home)
            # Kept as the very object when already canonical: the next check is `is`.
            found = self._names[subject] = subject if found == subject else found
        return found

    def as_stored(self, record: MetadataRecord) -> MetadataRecord:
        """``record`` as the store keeps it: its subject canonical, its id derived again."""
        return self._renamed(record)

    def _renamed(self, record: MetadataRecord) -> MetadataRecord:
        given = record.subject
        last_given, last_subject = self._last
        if given is last_given and last_subject is not None:  # a batch: mostly one subject
            subject = last_subject
        else:
            subject = self.canonical(given)
            self._last = (given, subject)
        if subject is given or subject == given:
            return record
        return attrs.evolve(
            record,
            subject=subject,
            record_id=derive_record_id(record.kind, subject, record.run_id, record.payload),
        )

    def emit(self, record: MetadataRecord) -> AppendResult:
        return self.emit_many([record])

    def checked(
        self, records: Iterable[MetadataRecord], *, decoded: bool = False
    ) -> list[MetadataRecord]:
        """``records`` validated, one per id (the first), as ``emit_many`` writes them; for
        a producer that commits its records itself (an ingestion target's outbox)."""
        batch = list(records)
        problems = validate_batch(batch, decoded=decoded)
        if problems:
            raise InvalidBatch(problems)
        batch = [self._renamed(record) for record in batch]
        unique: dict[str, MetadataRecord] = {}
        for record in batch:
            unique.setdefault(record.record_id, record)
        return list(unique.values())

    def emit_many(
        self, records: Iterable[MetadataRecord], *, decoded: bool = False
    ) -> AppendResult:
        """``decoded``: see :func:`validate_batch` (the service's batches, decoded from JSON
        by the converter a moment before, are not validated twice)."""
        batch = list(records)
        unique = self.checked(batch, decoded=decoded)
        if not unique:
            return AppendResult()
        if self._transport is None:
            result = self._repository.append(unique)
        else:
            result = self._transport.send(unique)
        return AppendResult(
            result.accepted, result.duplicates + len(batch) - len(unique), result.queued
        )

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        return self._repository.latest(kind, self.canonical(subject))

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
                subject=self.canonical(subject),
                since=since,
                until=until,
                order=Order.NEWEST_FIRST,
                limit=limit,
                cursor=cursor,
            )
        )

    def query(self, query: RecordQuery) -> RecordPage:
        if query.subject is not None:
            query = attrs.evolve(query, subject=self.canonical(query.subject))
        return self._repository.query(query)

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        """The datasets the store knows, searched and paged (see :class:`SubjectQuery`)."""
        return self._repository.subjects(query)


__all__ = ["InvalidBatch", "MetadataGateway", "RecordConflict", "validate_batch"]
