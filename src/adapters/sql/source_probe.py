"""A cheap look at a PostgreSQL source table before a run: the planner's probe.

The row and byte counts are the statistics' estimates (``pg_class``; a count when the
table was never analysed); the range of the integer column the table can be split by is
``min``/``max`` (an index makes them instant).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from adapters.sql.errors import database_reason
from adapters.sql.types import from_sql
from domain.ingestion.errors import EngineFailed
from domain.ingestion.plan import Probe
from domain.schema import IntegerType


class ProbeFailed(EngineFailed):
    """The source could not be probed; the message names the table and the reason."""


def engine_for_jdbc(url: str, user: str | None, password: str | None) -> Engine | None:
    """A SQLAlchemy engine for a ``jdbc:postgresql://host:port/db`` URL, or None for
    other databases."""
    if not url.startswith("jdbc:postgresql://"):
        return None
    rest = url.removeprefix("jdbc:postgresql://").split("?", 1)[0]
    address, _, database = rest.partition("/")
    host, _, port = address.partition(":")
    return create_engine(
        URL.create(
            "postgresql+psycopg",
            username=user or "postgres",
            password=password,
            host=host or "localhost",
            port=int(port) if port else 5432,
            database=database,
        ),
        connect_args={"connect_timeout": 10},
    )


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
        with engine.connect() as connection:
            estimate = connection.execute(
                text(
                    "SELECT c.reltuples::bigint, pg_total_relation_size(c.oid) "
                    "FROM pg_class c WHERE c.oid = to_regclass(:t)"
                ),
                {"t": table},
            ).one_or_none()
            rows, size = (None, None) if estimate is None else (int(estimate[0]), int(estimate[1]))
            quoted = ".".join('"' + part + '"' for part in table.split("."))
            if rows is None or rows < 0:
                rows = int(connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())
            for column in candidates:
                sql_type = columns.get(column)
                if sql_type is None:
                    continue
                if not isinstance(from_sql(sql_type, where=f"{table}.{column}"), IntegerType):
                    continue
                low, high = connection.execute(
                    text(f'SELECT min("{column}"), max("{column}") FROM {quoted}')
                ).one()
                if low is None:
                    break
                return Probe(rows, size, column, int(low), int(high), slots=slots)
    except DBAPIError as failure:
        raise ProbeFailed(f"source {table}: cannot probe it: {database_reason(failure)}") from None
    finally:
        engine.dispose()
    return Probe(rows, size, slots=slots)
