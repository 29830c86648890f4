"""What a reader asks of the metadata store, and the pages it gets back."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import attrs

from domain.dataset import DatasetRef, RunId
from domain.metadata.kinds import RecordKind
from domain.metadata.record import MetadataRecord
from domain.metadata.timestamps import to_utc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# The most records one query returns; ask again with the cursor for more.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class Order(enum.Enum):
    NEWEST_FIRST = "newest"
    OLDEST_FIRST = "oldest"


@attrs.frozen(order=True)
class Position:
    """Where a record sits in the store's one total order: observed_at, then append order."""

    observed_at: datetime
    sequence: int

    def encode(self) -> str:
        """The opaque cursor form of this position."""
        micros = (self.observed_at - EPOCH) // _MICROSECOND
        raw = f"v1:{micros}:{self.sequence}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            version, micros, sequence = base64.urlsafe_b64decode(padded).decode().split(":")
            if version != "v1":
                raise ValueError(version)
            if len(micros) > 20 or not 0 <= int(sequence) < 2**63:
                raise ValueError(sequence)
            moment = EPOCH + timedelta(microseconds=int(micros))
            position = cls(moment, int(sequence))
            if position.encode() != cursor.rstrip("="):  # "0005" for 5: never handed out
                raise ValueError(cursor)
            return position
        except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
            raise ValueError(
                f"cursor: {cursor!r} is not a cursor this store handed out; "
                f"pass the next_cursor of the previous page unchanged"
            ) from None


def _optional_utc(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)


def _aware(
    instance: object, attribute: attrs.Attribute[datetime | None], value: datetime | None
) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{attribute.name}: naive datetime {value.isoformat()}; give a UTC offset")


def _limit(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise ValueError(
            f"limit: expected 1..{MAX_LIMIT}, got {value!r}; page with the cursor for more"
        )


def _kinds(value: Iterable[RecordKind] | None) -> frozenset[RecordKind]:
    return frozenset(value or ())


def _cursor(
    instance: RecordQuery, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is not None:
        Position.decode(value)


@attrs.frozen
class RecordQuery:
    """Filters (all optional, combined with AND), an order, a limit and a cursor.

    ``since`` is inclusive and ``until`` exclusive; ``record_id`` finds one record. ``subject`` matches exactly;
    ``namespace_prefix`` / ``name_prefix`` match the start of the subject's parts.
    """

    kinds: frozenset[RecordKind] = attrs.field(factory=frozenset, converter=_kinds)
    subject: DatasetRef | None = None
    namespace_prefix: str | None = None
    name_prefix: str | None = None
    run_id: RunId | None = None
    since: datetime | None = attrs.field(default=None, converter=_optional_utc, validator=_aware)
    until: datetime | None = attrs.field(default=None, converter=_optional_utc, validator=_aware)
    producer: str | None = None
    record_id: str | None = None
    order: Order = Order.NEWEST_FIRST
    limit: int = attrs.field(default=DEFAULT_LIMIT, validator=_limit)
    cursor: str | None = attrs.field(default=None, validator=_cursor)

    @property
    def after(self) -> Position | None:
        """The position the cursor points past, if any."""
        return None if self.cursor is None else Position.decode(self.cursor)

    def matches(self, record: MetadataRecord) -> bool:
        """Whether ``record`` passes every filter (the reference semantics of a query)."""
        subject = record.subject
        return (
            (not self.kinds or record.kind in self.kinds)
            and (self.subject is None or subject == self.subject)
            and (
                self.namespace_prefix is None or subject.namespace.startswith(self.namespace_prefix)
            )
            and (self.name_prefix is None or subject.name.startswith(self.name_prefix))
            and (self.run_id is None or record.run_id == self.run_id)
            and (self.since is None or record.observed_at >= self.since)
            and (self.until is None or record.observed_at < self.until)
            and (self.producer is None or record.producer == self.producer)
            and (self.record_id is None or record.record_id == self.record_id)
        )

    def is_beyond_cursor(self, position: Position) -> bool:
        after = self.after
        if after is None:
            return True
        return position < after if self.order is Order.NEWEST_FIRST else position > after


SEARCH_MAX = 200


def _search(instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not 1 <= len(value) <= SEARCH_MAX:
        got = f"{len(value)} characters" if isinstance(value, str) and value else repr(value)
        raise ValueError(f"contains: expected 1-{SEARCH_MAX} characters, got {got}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"contains: {value!r} holds a control character; type plain text")


@attrs.frozen
class SubjectQuery:
    """Which datasets a reader lists: every subject with a record stored, in
    (namespace, name) order by code point, ``limit`` at a time after ``after``; with
    ``contains``, only those whose ``namespace::name`` holds it, ignoring the case of
    A-Z (every store folds those the same way; other letters match as typed)."""

    contains: str | None = attrs.field(default=None, validator=_search)
    after: DatasetRef | None = None
    limit: int = attrs.field(default=DEFAULT_LIMIT, validator=_limit)

    def matches(self, subject: DatasetRef) -> bool:
        """Whether ``subject`` is listed (the reference semantics of the query)."""
        return (
            self.contains is None or ascii_lower(self.contains) in ascii_lower(str(subject))
        ) and (self.after is None or _subject_key(subject) > _subject_key(self.after))

    def page(self, subjects: Iterable[DatasetRef]) -> SubjectPage:
        """The page of ``subjects`` (any order, no repeats) this query asks for."""
        listed = sorted((s for s in subjects if self.matches(s)), key=_subject_key)
        shown = tuple(listed[: self.limit])
        return SubjectPage(shown, shown[-1] if len(listed) > self.limit else None)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """``text`` with A-Z folded to a-z and nothing else changed."""
    return text.translate(_ASCII_LOWER)


def _subject_key(subject: DatasetRef) -> tuple[str, str]:
    return (subject.namespace, subject.name)


@attrs.frozen
class SubjectPage:
    """One page of subjects; ask again with ``after=next_after`` for the rest (None: the last
    page)."""

    subjects: tuple[DatasetRef, ...]
    next_after: DatasetRef | None = None


@attrs.frozen
class StoredRecord:
    """A record with its place in the store."""

    record: MetadataRecord
    position: Position


@attrs.frozen
class RecordPage:
    """One page of a query; ``next_cursor`` is None on the last page."""

    records: tuple[MetadataRecord, ...]
    next_cursor: str | None = None


@attrs.frozen
class AppendResult:
    """What an append did: records written, records already stored (duplicates), and
    records queued for the repository by an asynchronous transport (outbox, broker)."""

    accepted: int = 0
    duplicates: int = 0
    queued: int = 0

    def __add__(self, other: AppendResult) -> AppendResult:
        return AppendResult(
            self.accepted + other.accepted,
            self.duplicates + other.duplicates,
            self.queued + other.queued,
        )
