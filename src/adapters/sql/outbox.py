"""The transactional outbox in any SQLAlchemy database: a local SQLite file beside the
embedded store by default, PostgreSQL by URL, or the target database of an ingestion run
(``put_in`` writes inside the caller's transaction, so the records exist exactly when the
data does).

Entries are rows of ``metadata_outbox`` in the order of their sequence; the relay marks a
delivered one (``delivered_at``) and keeps it, so a range can be replayed. Delivery is
chosen by the mark, not by a high-water sequence: a row a long transaction committed late
with a lower sequence is still due. A dead letter moves to ``metadata_outbox_dead`` with
its last error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from adapters.serialization.json_text import RecordDecodeError
from adapters.serialization.records import RecordConverter
from adapters.sql.tables import UtcTimestamp, sequence_column
from domain.metadata.outbox import OutboxEntry, OutboxStatus
from domain.metadata.record import MetadataRecord

_CHUNK = 500
_tables = MetaData()

outbox = Table(
    "metadata_outbox",
    _tables,
    sequence_column(),
    Column("record_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("enqueued_at", UtcTimestamp, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcTimestamp, nullable=False),
    Column("last_error", Text),
    Column("delivered_at", UtcTimestamp),
)
# The relay's one question, "what is due, in order": only undelivered rows are indexed.
Index(
    "ix_metadata_outbox_pending",
    outbox.c.seq,
    sqlite_where=outbox.c.delivered_at.is_(None),
    postgresql_where=outbox.c.delivered_at.is_(None),
)
dead_letters = Table(
    "metadata_outbox_dead",
    _tables,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("record_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("enqueued_at", UtcTimestamp, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("died_at", UtcTimestamp, nullable=False),
)


_CREATING = threading.Lock()


def create_outbox_tables(connection: Connection | Engine) -> None:
    """Create the outbox tables where they are missing (idempotent, safe to race: another
    process creating them at the same moment makes the second try find them)."""
    with _CREATING:
        try:
            _tables.create_all(connection, checkfirst=True)
        except DBAPIError:
            if isinstance(connection, Connection):
                raise  # its transaction is the caller's: let the caller retry it
            _tables.create_all(connection, checkfirst=True)


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqlOutbox:
    """Implements the Outbox port over one database."""

    def __init__(self, engine: Engine, converter: RecordConverter) -> None:
        self._engine = engine
        self._converter = converter
        self._ready = False

    @property
    def engine(self) -> Engine:
        return self._engine

    def _begin(self) -> Any:
        if not self._ready:
            create_outbox_tables(self._engine)
            self._ready = True
        return self._engine.connect().execution_options(sqlite_immediate=True)

    def rows(self, records: Sequence[MetadataRecord], now: datetime) -> list[dict[str, Any]]:
        return [
            {
                "record_id": r.record_id,
                "body": self._converter.dumps(r),
                "enqueued_at": now,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for r in records
        ]

    def put_in(
        self, connection: Connection, records: Sequence[MetadataRecord], now: datetime
    ) -> int:
        """Append ``records`` inside the caller's open transaction on ``connection``."""
        if records:
            connection.execute(insert(outbox), self.rows(records, now))
        return len(records)

    def put(self, records: Sequence[MetadataRecord], now: datetime) -> int:
        if not records:
            return 0
        with self._begin() as connection, connection.begin():
            return self.put_in(connection, records, now)

    def due(self, limit: int, now: datetime) -> list[OutboxEntry]:
        query = (
            select(
                outbox.c.seq,
                outbox.c.record_id,
                outbox.c.body,
                outbox.c.attempts,
                outbox.c.enqueued_at,
            )
            .where(outbox.c.delivered_at.is_(None), outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.seq)
            .limit(limit)
        )
        with self._begin() as connection:
            rows = connection.execute(query).all()
            connection.rollback()
        return [self._entry(*row) for row in rows]

    def _entry(
        self, seq: int, record_id: str, body: str, attempts: int, enqueued_at: datetime
    ) -> OutboxEntry:
        try:
            record: MetadataRecord | None = self._converter.loads_stored(body)
            problem = None
        except RecordDecodeError as bad:
            record, problem = None, f"the stored record cannot be read: {bad}"[:500]
        return OutboxEntry(seq, record_id, record, attempts, enqueued_at, problem)

    def delivered(self, sequences: Sequence[int], now: datetime) -> None:
        if not sequences:
            return
        with self._begin() as connection, connection.begin():
            for chunk in _chunks(sorted(sequences)):
                connection.execute(
                    update(outbox).where(outbox.c.seq.in_(chunk)).values(delivered_at=now)
                )

    def failed(
        self, entry: OutboxEntry, error: str, retry_at: datetime, *, dead: bool, now: datetime
    ) -> None:
        with self._begin() as connection, connection.begin():
            row = outbox.c
            if not dead:
                connection.execute(
                    update(outbox)
                    .where(row.seq == entry.sequence)
                    .values(attempts=row.attempts + 1, last_error=error, next_attempt_at=retry_at)
                )
                return
            connection.execute(
                insert(dead_letters).from_select(
                    [
                        "seq",
                        "record_id",
                        "body",
                        "enqueued_at",
                        "attempts",
                        "last_error",
                        "died_at",
                    ],
                    select(
                        row.seq,
                        row.record_id,
                        row.body,
                        row.enqueued_at,
                        row.attempts + 1,
                        literal(error, Text),
                        literal(now, UtcTimestamp),
                    ).where(row.seq == entry.sequence),
                )
            )
            connection.execute(delete(outbox).where(row.seq == entry.sequence))

    def status(self, now: datetime) -> OutboxStatus:
        row = outbox.c
        pending = row.delivered_at.is_(None)
        with self._begin() as connection:
            waiting = connection.execute(
                select(
                    func.count(),
                    func.min(row.enqueued_at),
                    func.count().filter(row.attempts > 0),
                    func.coalesce(func.sum(row.attempts), 0),
                ).where(pending)
            ).one()
            delivered = connection.execute(
                select(func.count()).where(row.delivered_at.is_not(None))
            ).scalar_one()
            dead = connection.execute(select(func.count()).select_from(dead_letters)).scalar_one()
            last = connection.execute(
                select(row.last_error)
                .where(pending, row.last_error.is_not(None))
                .order_by(row.next_attempt_at.desc())
                .limit(1)
            ).scalar()
            if last is None:
                last = connection.execute(
                    select(dead_letters.c.last_error)
                    .order_by(dead_letters.c.died_at.desc())
                    .limit(1)
                ).scalar()
            connection.rollback()
        return OutboxStatus(
            backlog=int(waiting[0]),
            oldest=waiting[1],
            delivered=int(delivered),
            retrying=int(waiting[2]),
            retries=int(waiting[3]),
            dead=int(dead),
            last_error=last,
        )

    def retry_dead(self, now: datetime) -> int:
        d = dead_letters.c
        with self._begin() as connection, connection.begin():
            moved = connection.execute(select(func.count()).select_from(dead_letters)).scalar_one()
            connection.execute(
                insert(outbox).from_select(
                    ["seq", "record_id", "body", "enqueued_at", "attempts", "next_attempt_at"],
                    select(
                        d.seq,
                        d.record_id,
                        d.body,
                        d.enqueued_at,
                        literal(0, Integer),
                        literal(now, UtcTimestamp),
                    ),
                )
            )
            connection.execute(delete(dead_letters))
        return int(moved or 0)

    def replay(self, first: int | None, last: int | None, now: datetime) -> int:
        row = outbox.c
        query = update(outbox).where(row.delivered_at.is_not(None))
        if first is not None:
            query = query.where(row.seq >= first)
        if last is not None:
            query = query.where(row.seq <= last)
        with self._begin() as connection, connection.begin():
            found = connection.execute(
                query.values(delivered_at=None, next_attempt_at=now, attempts=0)
            ).rowcount
        return int(found or 0)

    def close(self) -> None:
        self._engine.dispose()
