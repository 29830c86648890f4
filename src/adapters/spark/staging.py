"""Spark partitions written into a staging table, each by its own connection.

PostgreSQL: one binary ``COPY ... FROM STDIN`` per partition through psycopg (several times
what Spark's JDBC writer manages). SQLite: one ``executemany`` transaction per partition;
SQLite has one writer at a time, so partitions take turns (busy timeout). Nothing is
collected on the driver but one count per partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame

from adapters.sql.engine import SQLITE_BUSY_TIMEOUT_S
from adapters.sql.targets import Stage

_BATCH = 10_000


class PostgresCopy:
    """A partition's rows into a staging table with one binary COPY (picklable)."""

    def __init__(self, conninfo: str, stage: Stage) -> None:
        self.conninfo = conninfo
        self.stage = stage

    def __call__(self, rows: Iterable[Any]) -> Iterator[int]:
        import psycopg

        stage = self.stage
        # Spark hands TIMESTAMP values as naive local times; astimezone reads them so.
        aware = [i for i, kind in enumerate(stage.copy_types) if kind == "timestamptz"]
        columns = ", ".join('"' + c + '"' for c in stage.columns)
        count = 0
        statement = f"COPY {stage.qualified} ({columns}) FROM STDIN (FORMAT BINARY)"
        with (
            psycopg.connect(self.conninfo) as connection,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            copy.set_types(list(stage.copy_types))
            if aware:
                for row in rows:
                    values = list(row)
                    for i in aware:
                        if values[i] is not None:
                            values[i] = values[i].astimezone(UTC)
                    copy.write_row(values)
                    count += 1
            else:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        yield count


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: SQLite keeps it as text unless REAL is lossless
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.isoformat(sep=" ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class SqliteInsert:
    """A partition's rows into a SQLite staging table in one transaction (picklable)."""

    def __init__(self, path: str, stage: Stage) -> None:
        self.path = path
        self.stage = stage

    def __call__(self, rows: Iterable[Any]) -> Iterator[int]:
        import sqlite3

        stage = self.stage
        columns = ", ".join('"' + c + '"' for c in stage.columns)
        marks = ", ".join("?" for _ in stage.columns)
        statement = f"INSERT INTO {stage.qualified} ({columns}) VALUES ({marks})"
        count = 0
        connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) >= _BATCH:
                    connection.executemany(statement, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                connection.executemany(statement, batch)
                count += len(batch)
            connection.execute("COMMIT")
        finally:
            connection.close()
        yield count


def stage_rows(frame: DataFrame, writer: PostgresCopy | SqliteInsert) -> int:
    """Write every partition of ``frame`` (its columns in the stage's order) with
    ``writer``; the number of rows written."""
    columns = [f"`{c}`" for c in writer.stage.columns]
    counts = frame.selectExpr(*columns).rdd.mapPartitions(writer).collect()
    return int(sum(counts))
