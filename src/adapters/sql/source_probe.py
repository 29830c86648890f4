"""A cheap look at a database source table before a run: the planner's probe.

The row and byte counts are the statistics' estimates (the dialect's: ``pg_class`` on
PostgreSQL, ``information_schema.tables`` on MariaDB/MySQL; a count when the table was
never analysed); the range of the integer column the table can be split by is
``min``/``max`` (an index makes them instant).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from adapters.sql.dialects import dialect_of, url_of_jdbc
from adapters.sql.errors import database_reason
from domain.ingestion.errors import EngineFailed
from domain.ingestion.plan import Probe
from domain.schema import IntegerType


class ProbeFailed(EngineFailed):
    """The source could not be probed; the message names the table and the reason."""


def engine_for_jdbc(url: str, user: str | None, password: str | None) -> Engine | None:
    """A SQLAlchemy engine for a JDBC URL of a database server (PostgreSQL, MariaDB, MySQL),
    or None for other databases (SQLite: one file, one reader)."""
    address = url_of_jdbc(url, user, password)
    if address is None:
        return None
    dialect = dialect_of(address)
    return create_engine(address, connect_args={**dialect.connect_args(), "connect_timeout": 10})


def probe_table(engine: Engine, table: str, candidates: Sequence[str], slots: int) -> Probe:
    """Estimates of ``table``'s rows and bytes, and the range of the first of
    ``candidates`` (then of the table's primary key columns) that is an integer column."""
    schema, _, name = table.rpartition(".")
    try:
        inspector = inspect(engine)
        columns = {c["name"]: c["type"] for c in inspector.get_columns(name, schema=schema or None)}
        # The pipeline's keys and watermark first, then the table's primary key.
        primary = inspector.get_pk_constraint(name, schema=schema or None)
        candidates = [*candidates, *(primary.get("constrained_columns") or [])]
        dialect = dialect_of(engine)
        quote = engine.dialect.identifier_preparer.quote
        with engine.connect() as connection:
            rows, size = dialect.estimate(connection, schema or None, name)
            quoted = ".".join(quote(part) for part in table.split("."))
            if rows is None or rows < 0:
                rows = int(connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())
            for column in candidates:
                sql_type = columns.get(column)
                if sql_type is None:
                    continue
                if not isinstance(dialect.column_type(sql_type, f"{table}.{column}"), IntegerType):
                    continue
                low, high = connection.execute(
                    text(f"SELECT min({quote(column)}), max({quote(column)}) FROM {quoted}")
                ).one()
                if low is None:
                    break
                return Probe(
                    rows,
                    size,
                    column,
                    int(low),
                    int(high),
                    slots=slots,
                    quote=engine.dialect.identifier_preparer.initial_quote,
                )
    except DBAPIError as failure:
        raise ProbeFailed(f"source {table}: cannot probe it: {database_reason(failure)}") from None
    finally:
        engine.dispose()
    return Probe(rows, size, slots=slots)
