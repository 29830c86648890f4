"""The metadata repository on SQLAlchemy Core: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine, and_, func, literal, select, true, tuple_
from sqlalchemy.exc import IntegrityError

from adapters.serialization.records import RecordConverter
from adapters.sql.tables import records as table
from adapters.sql.tables import subjects as subjects_table
from domain.dataset import DatasetRef, RunId
from domain.metadata.errors import RecordConflict
from domain.metadata.kinds import RecordKind
from domain.metadata.query import (
    AppendResult,
    Order,
    Position,
    RecordPage,
    RecordQuery,
    SubjectPage,
    SubjectQuery,
    ascii_lower,
)
from domain.metadata.record import MetadataRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ENVELOPE = (
    "record_id, kind, namespace, name, run_id, observed_at, producer, payload_version, payload"
)
_SQLITE_INSERT = f"INSERT INTO metadata_records ({_ENVELOPE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_PG_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS metadata_records_incoming (
    ord integer NOT NULL, record_id varchar(64) NOT NULL, kind varchar(32) NOT NULL,
    namespace varchar(1024) NOT NULL, name varchar(1024) NOT NULL, run_id varchar(128) NOT NULL,
    observed_at timestamptz NOT NULL, producer varchar(256) NOT NULL,
    payload_version integer NOT NULL, payload jsonb NOT NULL
) ON COMMIT DELETE ROWS
"""
_PG_COPY = f"COPY metadata_records_incoming (ord, {_ENVELOPE}) FROM STDIN"
_PG_COPY_DIRECT = f"COPY metadata_records ({_ENVELOPE}) FROM STDIN"
_PG_MERGE = f"""
INSERT INTO metadata_records ({_ENVELOPE})
SELECT {_ENVELOPE} FROM metadata_records_incoming ORDER BY ord
ON CONFLICT (record_id) DO NOTHING
RETURNING record_id
"""
_SQLITE_SUBJECTS = "INSERT OR IGNORE INTO metadata_subjects (namespace, name) VALUES (?, ?)"
_PG_SUBJECTS = (
    "INSERT INTO metadata_subjects (namespace, name) VALUES (%s, %s) ON CONFLICT DO NOTHING"
)

# Ids looked up per statement (well under SQLite's bound-parameter limit).
_LOOKUP_CHUNK = 5000
_COLUMNS = (
    table.c.seq,
    table.c.record_id,
    table.c.kind,
    table.c.namespace,
    table.c.name,
    table.c.run_id,
    table.c.observed_at,
    table.c.producer,
    table.c.payload_version,
    table.c.payload,
)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlMetadataRepository:
    """Records in one table; the schema comes from the Alembic migrations (`metadata migrate`)."""

    def __init__(self, engine: Engine, converter: RecordConverter) -> None:
        self._engine = engine
        self._converter = converter

    # -- writing -----------------------------------------------------------------------------

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        if not records:
            return AppendResult()
        connection = self._engine.connect().execution_options(sqlite_immediate=True)
        with connection:
            # Optimistic: a batch of new facts, the usual case, goes straight in. When the
            # unique index refuses an id, that transaction rolls back and a second one
            # looks at what is stored.
            try:
                with connection.begin():
                    self._insert_all(connection, records)
                return AppendResult(len(records), 0)
            except (IntegrityError, psycopg.errors.UniqueViolation):
                pass
            with connection.begin():
                by_id = {record.record_id: record for record in records}
                stored = self._stored_payloads(connection, list(by_id))
                self._raise_on_conflicts(by_id, stored)
                new = [r for r in records if r.record_id not in stored]
                if not new:
                    return AppendResult(0, len(records))
                inserted = self._insert_missing(connection, new)
                if len(inserted) < len(new):
                    # Another writer stored some of these ids since we looked: they must be
                    # duplicates, never conflicts.
                    raced = [r.record_id for r in new if r.record_id not in inserted]
                    self._raise_on_conflicts(by_id, self._stored_payloads(connection, raced))
        return AppendResult(len(inserted), len(records) - len(inserted))

    def _insert_all(self, connection: Any, records: Sequence[MetadataRecord]) -> None:
        """Insert every record; the unique index raises when an id is already stored."""
        if self._engine.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(_PG_COPY_DIRECT) as copy:
                for row in self._rows(records, micros=False):
                    copy.write_row(row)
        else:
            connection.exec_driver_sql(_SQLITE_INSERT, self._rows(records, micros=True))
        self._note_subjects(connection, records)

    def _note_subjects(self, connection: Any, records: Sequence[MetadataRecord]) -> None:
        """Keep the batch's subjects in metadata_subjects, in the records' transaction
        (sorted: concurrent writers take their locks in one order)."""
        rows = sorted({(r.subject.namespace, r.subject.name) for r in records})
        if self._engine.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            with driver.cursor() as cursor:
                cursor.executemany(_PG_SUBJECTS, rows)
        else:
            connection.exec_driver_sql(_SQLITE_SUBJECTS, rows)

    def _insert_missing(self, connection: Any, new: Sequence[MetadataRecord]) -> set[str]:
        """Insert records not stored when we looked; the ids that went in."""
        if self._engine.dialect.name != "postgresql":
            # The write lock is held since BEGIN IMMEDIATE: no other writer can have
            # stored these ids since we looked.
            connection.exec_driver_sql(_SQLITE_INSERT, self._rows(new, micros=True))
            self._note_subjects(connection, new)
            return {r.record_id for r in new}
        # A concurrent writer may store some of them meanwhile: stage the rows, then insert
        # the ones still missing in batch order (ON CONFLICT DO NOTHING).
        connection.exec_driver_sql(_PG_STAGING)
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            for order, row in enumerate(self._rows(new, micros=False)):
                copy.write_row((order, *row))
        inserted = {row[0] for row in connection.exec_driver_sql(_PG_MERGE)}
        self._note_subjects(connection, [r for r in new if r.record_id in inserted])
        return inserted

    def _rows(self, records: Sequence[MetadataRecord], *, micros: bool) -> list[tuple[Any, ...]]:
        """Row tuples in _ENVELOPE order; SQLite keeps instants as epoch microseconds."""
        unstructure = self._converter.unstructure_payload
        return [
            (
                r.record_id,
                r.kind.value,
                r.subject.namespace,
                r.subject.name,
                r.run_id.value,
                (r.observed_at - _EPOCH) // _MICROSECOND if micros else r.observed_at,
                r.producer,
                r.payload_version,
                json.dumps(unstructure(r.payload), separators=(",", ":")),
            )
            for r in records
        ]

    def _stored_payloads(
        self, connection: Any, ids: Sequence[str]
    ) -> dict[str, tuple[str, int, Any]]:
        found: dict[str, tuple[str, int, Any]] = {}
        for chunk in _chunks(ids, _LOOKUP_CHUNK):
            statement = select(
                table.c.record_id, table.c.kind, table.c.payload_version, table.c.payload
            ).where(table.c.record_id.in_(chunk))
            for record_id, kind, version, payload in connection.execute(statement):
                found[record_id] = (kind, version, payload)
        return found

    def _raise_on_conflicts(
        self, by_id: dict[str, MetadataRecord], stored: dict[str, tuple[str, int, Any]]
    ) -> None:
        conflicts = []
        for record_id, (kind, version, payload) in stored.items():
            record = by_id[record_id]
            if (kind, version) != (record.kind.value, record.payload_version) or (
                self._converter.structure_payload(record.kind, payload) != record.payload
            ):
                conflicts.append(record_id)
        if conflicts:
            raise RecordConflict(sorted(conflicts))

    # -- reading -----------------------------------------------------------------------------

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        statement = (
            select(*_COLUMNS)
            .where(
                table.c.kind == kind.value,
                table.c.namespace == subject.namespace,
                table.c.name == subject.name,
            )
            .order_by(table.c.observed_at.desc(), table.c.seq.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            row = connection.execute(statement).first()
        return None if row is None else self._record(row)

    def query(self, query: RecordQuery) -> RecordPage:
        conditions: list[Any] = []
        if query.kinds:
            conditions.append(table.c.kind.in_(sorted(k.value for k in query.kinds)))
        if query.subject is not None:
            conditions += [
                table.c.namespace == query.subject.namespace,
                table.c.name == query.subject.name,
            ]
        if query.namespace_prefix is not None:
            conditions.append(_starts_with(table.c.namespace, query.namespace_prefix))
        if query.name_prefix is not None:
            conditions.append(_starts_with(table.c.name, query.name_prefix))
        if query.run_id is not None:
            conditions.append(table.c.run_id == query.run_id.value)
        if query.since is not None:
            conditions.append(table.c.observed_at >= query.since)
        if query.until is not None:
            conditions.append(table.c.observed_at < query.until)
        if query.producer is not None:
            conditions.append(table.c.producer == query.producer)
        if query.record_id is not None:
            conditions.append(table.c.record_id == query.record_id)
        newest_first = query.order is Order.NEWEST_FIRST
        after = query.after
        if after is not None:
            position = tuple_(table.c.observed_at, table.c.seq)
            bound = tuple_(_bind_time(after), after.sequence)
            conditions.append(position < bound if newest_first else position > bound)
        ordering = (
            (table.c.observed_at.desc(), table.c.seq.desc())
            if newest_first
            else (table.c.observed_at.asc(), table.c.seq.asc())
        )
        statement = (
            select(*_COLUMNS)
            .where(and_(true(), *conditions))
            .order_by(*ordering)
            .limit(query.limit + 1)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        page = rows[: query.limit]
        next_cursor = None
        if len(rows) > query.limit:
            last = page[-1]
            next_cursor = Position(last.observed_at, last.seq).encode()
        return RecordPage(tuple(self._record(row) for row in page), next_cursor)

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        namespace, name = subjects_table.c.namespace, subjects_table.c.name
        conditions: list[Any] = []
        if query.contains is not None:
            # lower() folds A-Z alone here (SQLite; PostgreSQL's "C" collation), as the query says.
            joined = func.lower(namespace + literal("::") + name)
            conditions.append(joined.contains(ascii_lower(query.contains), autoescape=True))
        if query.after is not None:
            conditions.append(
                tuple_(namespace, name) > tuple_(query.after.namespace, query.after.name)
            )
        statement = (
            select(namespace, name)
            .where(and_(true(), *conditions))
            .order_by(namespace, name)
            .limit(query.limit + 1)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        found = tuple(DatasetRef(row.namespace, row.name) for row in rows[: query.limit])
        return SubjectPage(found, found[-1] if len(rows) > query.limit else None)

    def _record(self, row: Any) -> MetadataRecord:
        kind = RecordKind(row.kind)
        return MetadataRecord(
            kind=kind,
            subject=DatasetRef(row.namespace, row.name),
            run_id=RunId(row.run_id),
            observed_at=row.observed_at,
            producer=row.producer,
            payload=self._converter.structure_payload(kind, row.payload),
            payload_version=row.payload_version,
            record_id=row.record_id,
        )


def _starts_with(column: Any, prefix: str) -> Any:
    # substr compares exactly (LIKE is case-insensitive on SQLite and needs escaping).
    return func.substr(column, 1, len(prefix)) == prefix


def _bind_time(position: Position) -> Any:
    return literal(position.observed_at, table.c.observed_at.type)
