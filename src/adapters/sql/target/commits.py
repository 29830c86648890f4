"""The commit marker: one row per applied run in ``_dataplatform_commits`` of the target's
database, written in the apply transaction, so it says exactly what the target holds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)

from adapters.sql.tables import UtcTimestamp
from ports.ingestion import Committed

COMMITS = "_dataplatform_commits"


class CommitMarkers:
    """The commit markers of one target table (``table`` in ``schema``)."""

    def __init__(self, schema: str | None, table: str, pipeline: str) -> None:
        self._schema, self._table_name, self._pipeline = schema, table, pipeline
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
            schema=schema,
        )

    def last(self, engine: Engine) -> Committed | None:
        """The marker of the last run applied to the target, if any."""
        if not inspect(engine).has_table(COMMITS, schema=self._schema):
            return None
        c = self._commits.c
        with engine.connect() as connection:
            row = connection.execute(
                select(c.run_id, c.rows, c.watermark)
                .where(c.target == self._table_name)
                .order_by(c.id.desc())
                .limit(1)
            ).one_or_none()
        return None if row is None else Committed(row.run_id, int(row.rows), row.watermark)

    def mark(self, connection: Connection, run_id: str, rows: int, watermark: str | None) -> None:
        """Record the run's marker, in the caller's transaction."""
        self._commits.create(connection, checkfirst=True)
        connection.execute(
            self._commits.insert().values(
                target=self._table_name,
                pipeline=self._pipeline,
                run_id=run_id,
                rows=rows,
                watermark=watermark,
                committed_at=datetime.now(UTC),
            )
        )
