"""A database table (PostgreSQL or SQLite) as an ingestion target.

A run never writes the target directly. Spark fills staging tables beside it (same schema
of the database, named ``_dp_stage_<target>_<run>_<role>``); then one transaction applies
them - swap the table (full), insert the new rows (append), upsert and delete by key
(scd1), replace the history of the keys the batch touched (scd2) - and records the run's
commit marker in ``_dataplatform_commits`` of the same database (and, with an asynchronous
metadata transport, the run's records in its ``metadata_outbox``). Either all of it commits
or none of it does, so the marker says exactly what the target holds, even when the run
was stopped before it could write its state. Staging tables left by a killed run are
dropped by the next run of the same target.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    create_engine,
    event,
    exists,
    func,
    inspect,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable

from adapters.sql.catalog import sqlite_schema
from adapters.sql.engine import SQLITE_BUSY_TIMEOUT_S
from adapters.sql.tables import UtcTimestamp
from adapters.sql.target_urls import database_reason, sqlalchemy_url
from adapters.sql.types import from_sql, to_sql
from domain.ingestion.errors import EngineFailed
from domain.ingestion.spec import TargetSpec
from domain.schema import (
    BinaryType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    NumberType,
    Schema,
    StringType,
    TimestampType,
)
from domain.schema import (
    Column as SchemaColumn,
)
from domain.schema.diff import TypeChange, classify
from ports.ingestion import Committed

COMMITS = "_dataplatform_commits"
DELETED = "__deleted"  # staged scd1 rows: True for a delete of the key


class TargetDatabaseError(EngineFailed):
    """The target database refused a step; the message names the target and the step."""


def _retyped(old: DataType, new: DataType) -> bool:
    """Whether the target's column takes the batch's type: yes unless the batch's type is
    narrower (a narrowing the gate allowed is written into the wider column as it is)."""
    return classify(old, new) is not TypeChange.NARROWING


def _digest(text_: str, size: int = 8) -> str:
    return hashlib.sha1(text_.encode()).hexdigest()[:size]


def copy_type(data_type: DataType) -> str:
    """The PostgreSQL type name a binary COPY sends a value of ``data_type`` as."""
    match data_type:
        case IntegerType(bits=8) | IntegerType(bits=16):
            return "int2"
        case IntegerType(bits=32):
            return "int4"
        case IntegerType(bits=64):
            return "int8"
        case DecimalType() | NumberType():
            return "numeric"
        case FloatType():
            return "float4"
        case DoubleType():
            return "float8"
        case StringType():
            return "text"
        case BooleanType():
            return "bool"
        case DateType():
            return "date"
        case TimestampType(with_timezone=True):
            return "timestamptz"
        case TimestampType():
            return "timestamp"
        case BinaryType():
            return "bytea"
    raise TypeError(f"type {data_type}: a database target cannot hold it; store it as text")


@attrs.frozen
class Stage:
    """A staging table: where Spark's partitions write the rows a run applies."""

    schema: str | None
    name: str
    columns: tuple[str, ...]
    copy_types: tuple[str, ...]  # per column: the PostgreSQL type of a binary COPY

    @property
    def qualified(self) -> str:
        """``"schema"."name"`` quoted for PostgreSQL, ``"name"`` for SQLite."""
        name = '"' + self.name + '"'
        return f'"{self.schema}".{name}' if self.schema else name


@attrs.frozen
class Applied:
    """What the apply transaction changed in the target."""

    rows_written: int
    inserted: int
    updated: int = 0
    deleted: int = 0
    closed: int = 0


# What else the apply transaction writes, given what it applied: the run's records.
Then = Callable[[Connection, Applied], None]


def _explicit_transactions(engine: Engine) -> None:
    """SQLite: SQLAlchemy, not the sqlite3 module, begins transactions, so DDL (the swap,
    added columns) is part of the apply transaction; a writer takes the lock up front."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class SqlTarget:
    """The SQL half of a database target: its schema, its commit marker, staging tables
    and the one transaction that applies a run."""

    def __init__(
        self, spec: TargetSpec, pipeline: str, checkpoint: Callable[[str], None] | None = None
    ) -> None:
        self.spec = spec
        self.pipeline = pipeline
        self.schema_name, self.table_name = spec.schema_and_table
        url = sqlalchemy_url(spec)
        self.dialect = "sqlite" if spec.kind == "sqlite" else "postgresql"
        if self.dialect == "sqlite":
            self.engine: Engine = create_engine(
                url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}
            )
            _explicit_transactions(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self._checkpoint = checkpoint or (lambda point: None)
        # A rebuild's apply drops the target first, in its transaction (see _apply).
        self.replacing = False
        self._commits = Table(
            COMMITS,
            MetaData(),
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("target", String(200), nullable=False),
            Column("pipeline", String(128), nullable=False),
            Column("run_id", String(128), nullable=False),
            Column("rows", BigInteger, nullable=False),
            Column("watermark", Text),
            Column("committed_at", UtcTimestamp, nullable=False),
            schema=self.schema_name,
        )
        where = f"{self.schema_name or ''}.{self.table_name}"
        self._prefix = f"_dp_stage_{_digest(where)}_"

    @property
    def where(self) -> str:
        if self.dialect == "sqlite":
            return f"target {self.spec.table} in the SQLite file {self.spec.path}"
        return f"target {self.spec.table} (postgresql)"

    def dispose(self) -> None:
        self.engine.dispose()

    # -- reading -------------------------------------------------------------------------

    def _connect_failure(self, failure: DBAPIError) -> TargetDatabaseError:
        return TargetDatabaseError(f"{self.where}: {database_reason(failure)}")

    def exists(self) -> bool:
        try:
            return inspect(self.engine).has_table(self.table_name, schema=self.schema_name)
        except DBAPIError as failure:
            raise self._connect_failure(failure) from None

    def schema(self) -> Schema | None:
        """The target table's schema, or None when it does not exist yet."""
        if not self.exists():
            return None
        where = f"target {self.spec.table}"
        if self.dialect == "sqlite":
            return sqlite_schema(self.engine, self.table_name, where)
        columns = inspect(self.engine).get_columns(self.table_name, schema=self.schema_name)
        return Schema.from_columns(
            [
                SchemaColumn(
                    c["name"],
                    from_sql(c["type"], where=f"{where}.{c['name']}"),
                    nullable=bool(c.get("nullable", True)),
                )
                for c in columns
            ]
        )

    def committed(self) -> Committed | None:
        """The commit marker of the last run applied to the target, if any."""
        try:
            if not inspect(self.engine).has_table(COMMITS, schema=self.schema_name):
                return None
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(self._commits.c.run_id, self._commits.c.rows, self._commits.c.watermark)
                    .where(self._commits.c.target == self.table_name)
                    .order_by(self._commits.c.id.desc())
                    .limit(1)
                ).one_or_none()
        except DBAPIError as failure:
            raise self._connect_failure(failure) from None
        return None if row is None else Committed(row.run_id, int(row.rows), row.watermark)

    # -- staging -------------------------------------------------------------------------

    def drop_stages(self) -> list[str]:
        """Drop the staging tables earlier runs of this target left behind (killed runs)."""
        names = [
            n
            for n in inspect(self.engine).get_table_names(schema=self.schema_name)
            if n.startswith(self._prefix)
        ]
        with self.engine.begin() as connection:
            for name in names:
                connection.execute(text(f"DROP TABLE IF EXISTS {self._quoted(name)}"))
        return names

    def _quoted(self, name: str) -> str:
        quoted = '"' + name.replace('"', '""') + '"'
        return f'"{self.schema_name}".{quoted}' if self.schema_name else quoted

    def create_stage(
        self, run_id: str, role: str, schema: Schema, extra: Sequence[Column[Any]] = ()
    ) -> Stage:
        """A new empty staging table for ``role`` of run ``run_id`` with ``schema``'s
        columns (and ``extra`` ones); no keys and no indexes, so the COPY is fast."""
        name = f"{self._prefix}{_digest(run_id)}_{role}"
        columns = [Column(c.name, to_sql(c.type), nullable=True) for c in schema.columns]
        table = Table(name, MetaData(), *columns, *extra, schema=self.schema_name)
        kinds = [copy_type(c.type) for c in schema.columns] + [
            "bool" if isinstance(c.type, Boolean) else "text" for c in extra
        ]
        with self.engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {self._quoted(name)}"))
            connection.execute(CreateTable(table))
        return Stage(self.schema_name, name, tuple(table.columns.keys()), tuple(kinds))

    def analyze(self, stage: Stage) -> None:
        """Give PostgreSQL statistics of a filled staging table, so the queries that join it
        with the target (hash joins, not nested loops) are planned on its real size."""
        if self.dialect == "postgresql":
            with self.engine.begin() as connection:
                connection.execute(text(f"ANALYZE {stage.qualified}"))

    def drop_stage(self, stage: Stage) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {self._quoted(stage.name)}"))

    def count(self, stage: Stage) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text(f"SELECT count(*) FROM {self._quoted(stage.name)}")
                ).scalar_one()
            )

    # -- the apply transaction -----------------------------------------------------------

    def _reflect(self, connection: Connection, name: str) -> Table:
        return Table(name, MetaData(), autoload_with=connection, schema=self.schema_name)

    def _begin(self, connection: Connection) -> None:
        """Serialise runs of this target: a lock held until the transaction ends."""
        if self.dialect == "postgresql":
            connection.execute(
                select(func.pg_advisory_xact_lock(literal(int(_digest(self.where, 15), 16))))
            )

    def _align(self, connection: Connection, stage: Stage, target: Table) -> Table:
        """Apply the allowed drift to the target in this transaction: columns the batch
        adds are added, types it widens are altered (the gate refused anything else)."""
        staged = self._reflect(connection, stage.name)
        changed = False
        here = f"{self.where}"
        for column in staged.columns:
            if column.name == DELETED:
                continue
            new = from_sql(column.type, where=f"{here}.{column.name}")
            if column.name not in target.columns:
                type_sql = to_sql(new).compile(dialect=connection.dialect)
                connection.execute(
                    text(
                        f"ALTER TABLE {self._quoted(self.table_name)} ADD COLUMN "
                        f'"{column.name}" {type_sql}'
                    )
                )
                changed = True
                continue
            old = from_sql(target.columns[column.name].type, where=f"{here}.{column.name}")
            if self.dialect == "postgresql" and old != new and _retyped(old, new):
                # Any change the gate let through (widening, or what type_changes=evolve
                # allows): the column takes the batch's type, its values cast in place (a
                # value that does not cast fails the transaction; nothing is written).
                type_sql = to_sql(new).compile(dialect=connection.dialect)
                connection.execute(
                    text(
                        f"ALTER TABLE {self._quoted(self.table_name)} ALTER COLUMN "
                        f'"{column.name}" TYPE {type_sql} USING "{column.name}"::{type_sql}'
                    )
                )
                changed = True
        return self._reflect(connection, self.table_name) if changed else target

    def _mark(self, connection: Connection, run_id: str, rows: int, watermark: str | None) -> None:
        self._commits.create(connection, checkfirst=True)
        connection.execute(
            self._commits.insert().values(
                target=self.table_name,
                pipeline=self.pipeline,
                run_id=run_id,
                rows=rows,
                watermark=watermark,
                committed_at=datetime.now(UTC),
            )
        )

    def _apply(
        self,
        run_id: str,
        step: str,
        body: Callable[[Connection], Applied],
        watermark: str | None,
        then: Then | None,
    ) -> Applied:
        """Run ``body``, the commit marker and ``then`` (the run's records into the
        target's outbox) in one transaction; a failure leaves the target as it was and names
        the step."""
        try:
            with self.engine.begin() as transaction:
                # INSERT ... SELECT reports its rows only when asked to keep them.
                connection = transaction.execution_options(preserve_rowcount=True)
                self._begin(connection)
                if self.replacing:  # a rebuild: the body builds the target anew, in here
                    connection.execute(
                        text(f"DROP TABLE IF EXISTS {self._quoted(self.table_name)}")
                    )
                applied = body(connection)
                self._mark(connection, run_id, applied.rows_written, watermark)
                if then is not None:
                    then(connection, applied)
                self._checkpoint("applied")  # inside the transaction, before the commit
        except DBAPIError as failure:
            raise TargetDatabaseError(
                f"{self.where}: {step} failed and was rolled back, the target is unchanged: "
                f"{database_reason(failure)}"
            ) from None
        return applied

    def _primary_key(self, connection: Connection, keys: Sequence[str]) -> None:
        columns = ", ".join(f'"{k}"' for k in keys)
        if self.dialect == "postgresql":
            connection.execute(
                text(f"ALTER TABLE {self._quoted(self.table_name)} ADD PRIMARY KEY ({columns})")
            )
        else:  # SQLite cannot add a primary key to a table: a unique index does the same
            connection.execute(
                text(
                    f'CREATE UNIQUE INDEX "{self.table_name}_keys" ON '
                    f'"{self.table_name}" ({columns})'
                )
            )

    def _create_from(
        self, connection: Connection, stage: Stage, keys: Sequence[str], skip: Sequence[str] = ()
    ) -> Table:
        """Create the target with the staged columns (but ``skip``) and ``keys`` as its key."""
        staged = self._reflect(connection, stage.name)
        columns = [
            Column(c.name, c.type, nullable=c.name not in keys)
            for c in staged.columns
            if c.name not in skip
        ]
        table = Table(self.table_name, MetaData(), *columns, schema=self.schema_name)
        connection.execute(CreateTable(table))
        if keys:
            self._primary_key(connection, keys)
        return self._reflect(connection, self.table_name)

    def apply_full(
        self,
        stage: Stage,
        run_id: str,
        keys: Sequence[str],
        rows: int,
        then: Then | None = None,
    ) -> Applied:
        """Full refresh: the staging table (of ``rows`` rows) becomes the target (drop +
        rename)."""

        def body(connection: Connection) -> Applied:
            connection.execute(text(f"DROP TABLE IF EXISTS {self._quoted(self.table_name)}"))
            connection.execute(
                text(f'ALTER TABLE {self._quoted(stage.name)} RENAME TO "{self.table_name}"')
            )
            if keys:
                self._primary_key(connection, keys)
            return Applied(rows, rows)

        return self._apply(run_id, "swapping in the new table", body, None, then)

    def apply_append(
        self,
        stage: Stage,
        run_id: str,
        *,
        identity: Sequence[str],
        watermark_column: str,
        lower: Any,
        include_nulls: bool,
        watermark: str | None,
        then: Then | None = None,
    ) -> Applied:
        """Append: the staged rows the target's window (watermark at or after ``lower``)
        does not already hold, compared by ``identity`` column by column, NULL-safe."""

        def body(connection: Connection) -> Applied:
            staged = self._reflect(connection, stage.name)
            if not self.exists_in(connection):
                target = self._create_from(connection, stage, ())
            else:
                target = self._align(connection, stage, self._reflect(connection, self.table_name))
            same = and_(true(), *(target.c[c].is_not_distinct_from(staged.c[c]) for c in identity))
            held = target.c[watermark_column]
            window = true() if lower is None else held >= literal(lower, held.type)
            if include_nulls and lower is not None:
                window = or_(window, held.is_(None))
            loaded = exists().where(and_(same, window))
            names = list(staged.columns.keys())
            result = connection.execute(
                target.insert().from_select(
                    names, select(*(staged.c[n] for n in names)).where(not_(loaded))
                )
            )
            rows = max(0, result.rowcount or 0)
            return Applied(rows, rows)

        return self._apply(run_id, "inserting the new rows", body, watermark, then)

    def exists_in(self, connection: Connection) -> bool:
        return inspect(connection).has_table(self.table_name, schema=self.schema_name)

    def apply_scd1(
        self,
        stage: Stage,
        run_id: str,
        *,
        keys: Sequence[str],
        sequence: str | None,
        delete_missing: bool,
        then: Then | None = None,
    ) -> Applied:
        """SCD1: staged rows (one per key, ``__deleted`` marking deletes) upserted by key;
        a row older (by ``sequence``) than the target's changes nothing."""

        def body(connection: Connection) -> Applied:
            staged = self._reflect(connection, stage.name)
            if not self.exists_in(connection):
                target = self._create_from(connection, stage, keys, skip=(DELETED,))
            else:
                target = self._align(connection, stage, self._reflect(connection, self.table_name))
            same = and_(*(target.c[k] == staged.c[k] for k in keys))
            newer = true() if sequence is None else not_(target.c[sequence] > staged.c[sequence])
            deleting = staged.c[DELETED].is_(True)
            kept = not_(deleting)

            def counted(condition: Any) -> Any:
                return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

            upserts, deletes = (
                int(n)
                for n in connection.execute(
                    select(counted(kept), counted(deleting)).select_from(staged)
                ).one()
            )
            deleted = 0
            if deletes:
                deleted = (
                    connection.execute(
                        target.delete().where(exists().where(and_(same, deleting, newer)))
                    ).rowcount
                    or 0
                )
            if delete_missing:
                deleted += (
                    connection.execute(target.delete().where(~exists().where(same))).rowcount or 0
                )
            names = [c.name for c in staged.columns if c.name != DELETED]
            insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(target)
            statement = insert.from_select(names, select(*(staged.c[n] for n in names)).where(kept))
            values = {n: statement.excluded[n] for n in names if n not in keys}
            guard = (
                None
                if sequence is None
                else not_(target.c[sequence] > statement.excluded[sequence])
            )
            if values:
                statement = statement.on_conflict_do_update(
                    index_elements=list(keys), set_=values, where=guard
                )
            else:
                statement = statement.on_conflict_do_nothing(index_elements=list(keys))
            if self.dialect == "postgresql":
                # A row the upsert inserted has no xmax; one it updated has: counted as it
                # happens, with no second pass over the target.
                upserted = statement.returning(
                    literal_column("(xmax = 0)", Boolean).label("inserted")
                ).cte("upserted")
                inserted, updated = (
                    int(n)
                    for n in connection.execute(
                        select(counted(upserted.c.inserted), counted(not_(upserted.c.inserted)))
                    ).one()
                )
            else:
                held = target.c[keys[0]].is_not(None)
                updated = int(
                    connection.execute(
                        select(counted(and_(kept, held, newer))).select_from(
                            staged.outerjoin(target, same)
                        )
                    ).scalar_one()
                )
                older = 0
                if sequence is not None:
                    older = int(
                        connection.execute(
                            select(counted(and_(kept, held, not_(newer)))).select_from(
                                staged.outerjoin(target, same)
                            )
                        ).scalar_one()
                    )
                connection.execute(statement)
                inserted = upserts - updated - older
            return Applied(inserted + updated, inserted, updated, deleted)

        return self._apply(run_id, "upserting the batch by key", body, None, then)

    def apply_scd2(
        self,
        touched: Stage,
        history: Stage,
        run_id: str,
        *,
        keys: Sequence[str],
        current: str,
        then: Then | None = None,
    ) -> Applied:
        """SCD2: the history of every key in ``touched`` is replaced by the rebuilt one in
        ``history`` (delete + insert)."""

        def body(connection: Connection) -> Applied:
            staged = self._reflect(connection, history.name)
            batch = self._reflect(connection, touched.name)
            if not self.exists_in(connection):
                target = self._create_from(connection, history, (*keys, "valid_from"))
            else:
                target = self._align(
                    connection, history, self._reflect(connection, self.table_name)
                )
            same = and_(*(target.c[k] == batch.c[k] for k in keys))
            before = connection.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(func.cast(target.c[current], Integer)), 0),
                ).where(exists().where(same))
            ).one()
            connection.execute(target.delete().where(exists().where(same)))
            after = connection.execute(
                select(
                    func.count(), func.coalesce(func.sum(func.cast(staged.c[current], Integer)), 0)
                )
            ).one()
            names = list(staged.columns.keys())
            connection.execute(
                target.insert().from_select(names, select(*(staged.c[n] for n in names)))
            )
            inserted = int(after[0]) - int(before[0])
            closed = int(before[1]) - int(after[1])
            return Applied(max(0, inserted), max(0, inserted), closed=max(0, closed))

        return self._apply(run_id, "replacing the touched keys' history", body, None, then)
