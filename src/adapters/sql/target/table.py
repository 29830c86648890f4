"""The SQL half of a database target: its schema, its commit marker, staging tables and the
one transaction that applies a run (the package's docstring tells the whole story)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable

from adapters.sql.dialects import SqlDialect, dialect_of
from adapters.sql.errors import TargetDatabaseError, database_reason
from adapters.sql.target import modes
from adapters.sql.target.commits import CommitMarkers
from adapters.sql.target.evolve import evolve
from adapters.sql.target.stage import Applied, Stage, Then, copy_type, digest
from adapters.sql.target_urls import sqlalchemy_url
from adapters.sql.types import to_sql
from domain.ingestion.spec import TargetSpec
from domain.schema import Schema
from ports.ingestion import Committed


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
        self.dialect: SqlDialect = dialect_of(make_url(url))
        self.engine: Engine = self.dialect.target_engine(url)
        self._checkpoint = checkpoint or (lambda point: None)
        # A rebuild's apply drops the target first, in its transaction (see _apply).
        self.replacing = False
        self._commits = CommitMarkers(self.schema_name, self.table_name, pipeline)
        where = f"{self.schema_name or ''}.{self.table_name}"
        self._prefix = f"_dp_stage_{digest(where)}_"

    @property
    def where(self) -> str:
        if self.spec.kind == "sqlite":
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
        return self.dialect.schema(self.engine, self.schema_name, self.table_name, where)

    def committed(self) -> Committed | None:
        """The commit marker of the last run applied to the target, if any."""
        try:
            return self._commits.last(self.engine)
        except DBAPIError as failure:
            raise self._connect_failure(failure) from None

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
                connection.execute(text(f"DROP TABLE IF EXISTS {self.quoted(name)}"))
        return names

    def quoted(self, name: str) -> str:
        """A table of the target's schema, quoted."""
        return self.dialect.qualified(self.schema_name, name)

    def create_stage(
        self, run_id: str, role: str, schema: Schema, extra: Sequence[Column[Any]] = ()
    ) -> Stage:
        """A new empty staging table for ``role`` of run ``run_id`` with ``schema``'s
        columns (and ``extra`` ones); no keys and no indexes, so the COPY is fast."""
        name = f"{self._prefix}{digest(run_id)}_{role}"
        columns = [Column(c.name, to_sql(c.type), nullable=True) for c in schema.columns]
        table = Table(name, MetaData(), *columns, *extra, schema=self.schema_name)
        kinds = [copy_type(c.type) for c in schema.columns] + [
            "bool" if isinstance(c.type, Boolean) else "text" for c in extra
        ]
        with self.engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {self.quoted(name)}"))
            connection.execute(CreateTable(table))
        return Stage(self.schema_name, name, tuple(table.columns.keys()), tuple(kinds))

    def analyze(self, stage: Stage) -> None:
        """Give PostgreSQL statistics of a filled staging table, so the queries that join it
        with the target (hash joins, not nested loops) are planned on its real size."""
        with self.engine.begin() as connection:
            self.dialect.analyze(connection, stage.qualified)

    def drop_stage(self, stage: Stage) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {self.quoted(stage.name)}"))

    def count(self, stage: Stage) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    text(f"SELECT count(*) FROM {self.quoted(stage.name)}")
                ).scalar_one()
            )

    # -- inside the apply transaction ----------------------------------------------------

    def reflect(self, connection: Connection, name: str) -> Table:
        return Table(name, MetaData(), autoload_with=connection, schema=self.schema_name)

    def exists_in(self, connection: Connection) -> bool:
        return inspect(connection).has_table(self.table_name, schema=self.schema_name)

    def prepared(
        self, connection: Connection, stage: Stage, keys: Sequence[str], skip: Sequence[str] = ()
    ) -> Table:
        """The target as the staged rows need it: created from the staged columns (but
        ``skip``) with ``keys`` as its key, or with the drift the gate allowed applied."""
        if not self.exists_in(connection):
            return self._create_from(connection, stage, keys, skip)
        target = self.reflect(connection, self.table_name)
        staged = self.reflect(connection, stage.name)
        if evolve(
            connection, staged, target, quoted=self.quoted(self.table_name), where=self.where
        ):
            return self.reflect(connection, self.table_name)
        return target

    def primary_key(self, connection: Connection, keys: Sequence[str]) -> None:
        self.dialect.add_key(connection, self.quoted(self.table_name), self.table_name, keys)

    def _create_from(
        self, connection: Connection, stage: Stage, keys: Sequence[str], skip: Sequence[str]
    ) -> Table:
        staged = self.reflect(connection, stage.name)
        columns = [
            Column(c.name, c.type, nullable=c.name not in keys)
            for c in staged.columns
            if c.name not in skip
        ]
        table = Table(self.table_name, MetaData(), *columns, schema=self.schema_name)
        connection.execute(CreateTable(table))
        if keys:
            self.primary_key(connection, keys)
        return self.reflect(connection, self.table_name)

    def _begin(self, connection: Connection) -> None:
        """Serialise runs of this target: a lock held until the transaction ends."""
        self.dialect.lock_target(connection, int(digest(self.where, 15), 16))

    def _apply(
        self, run_id: str, step: str, body: modes.Body, watermark: str | None, then: Then | None
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
                    connection.execute(text(f"DROP TABLE IF EXISTS {self.quoted(self.table_name)}"))
                applied = body(connection)
                self._commits.mark(connection, run_id, applied.rows_written, watermark)
                if then is not None:
                    then(connection, applied)
                self._checkpoint("applied")  # inside the transaction, before the commit
        except DBAPIError as failure:
            raise TargetDatabaseError(
                f"{self.where}: {step} failed and was rolled back, the target is unchanged: "
                f"{database_reason(failure)}"
            ) from None
        return applied

    # -- the four modes (their bodies in ``modes``) --------------------------------------

    def apply_full(
        self, stage: Stage, run_id: str, keys: Sequence[str], rows: int, then: Then | None = None
    ) -> Applied:
        body = modes.full(self, stage, keys, rows)
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
        body = modes.append(
            self,
            stage,
            identity=identity,
            watermark_column=watermark_column,
            lower=lower,
            include_nulls=include_nulls,
        )
        return self._apply(run_id, "inserting the new rows", body, watermark, then)

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
        body = modes.scd1(self, stage, keys=keys, sequence=sequence, delete_missing=delete_missing)
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
        body = modes.scd2(self, touched, history, keys=keys, current=current)
        return self._apply(run_id, "replacing the touched keys' history", body, None, then)
