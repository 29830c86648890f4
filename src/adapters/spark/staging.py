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
from pyspark.sql import functions as F
from pyspark.sql import types as T

from adapters.sql.dialects.sqlite import SQLITE_BUSY_TIMEOUT_S
from adapters.sql.target.stage import Stage

_BATCH = 10_000


class PostgresCsvCopy:
    """A partition's rows, rendered as CSV lines by Spark (in the JVM), into a staging table
    with one ``COPY ... (FORMAT CSV)`` (picklable). The Python worker only joins lines: no
    value is converted in Python, several times the speed of a row-by-row binary COPY."""

    def __init__(self, conninfo: str, stage: Stage) -> None:
        self.conninfo = conninfo
        self.stage = stage

    def __call__(self, rows: Iterable[Any]) -> Iterator[int]:
        import psycopg

        stage = self.stage
        columns = ", ".join('"' + c + '"' for c in stage.columns)
        statement = f"COPY {stage.qualified} ({columns}) FROM STDIN (FORMAT CSV)"
        count = 0
        chunk: list[str] = []
        with (
            psycopg.connect(self.conninfo) as connection,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                chunk.append(row[0])
                if len(chunk) >= _BATCH:
                    copy.write("\n".join(chunk) + "\n")
                    count += len(chunk)
                    chunk.clear()
            if chunk:
                copy.write("\n".join(chunk) + "\n")
                count += len(chunk)
        yield count


# How Spark renders a row for PostgreSQL's CSV: NULL unquoted and empty, an empty string
# quoted (""), quotes doubled, whitespace kept, instants in UTC with their offset.
CSV_OPTIONS = {
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "nullValue": "",
    "emptyValue": '""',
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "timestampFormat": "yyyy-MM-dd HH:mm:ss.SSSSSSXXX",
    "timestampNTZFormat": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "dateFormat": "yyyy-MM-dd",
}


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


def _sqlite_value(value: Any, kind: str) -> Any:
    """A value as SQLite keeps it: decimals as exact text, instants as UTC text."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)  # exact: SQLite keeps it as text unless REAL is lossless
    if isinstance(value, datetime):
        if kind == "timestamptz":  # Spark hands instants as naive local times
            return value.astimezone(UTC).isoformat(sep=" ")
        return value.isoformat(sep=" ")
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
        kinds = stage.copy_types
        count = 0
        connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v, k) for v, k in zip(row, kinds, strict=True)))
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


def stage_rows(frame: DataFrame, writer: PostgresCopy | PostgresCsvCopy | SqliteInsert) -> int:
    """Write every partition of ``frame`` (its columns in the stage's order) with
    ``writer``; the number of rows written."""
    columns = [F.col(f"`{c}`") for c in writer.stage.columns]
    selected = frame.select(*columns)
    if isinstance(writer, PostgresCsvCopy):
        selected = selected.select(F.to_csv(F.struct(*columns), CSV_OPTIONS).alias("line"))
    counts = selected.rdd.mapPartitions(writer).collect()
    return int(sum(counts))


def copies_as_csv(frame: DataFrame) -> bool:
    """Whether Spark can render ``frame``'s rows as CSV (binary values it cannot)."""
    return not any(isinstance(f.dataType, T.BinaryType) for f in frame.schema.fields)
