"""SQLite: schema ``main``, columns typed by their declared type's affinity, and decimal
statistics from each value's text (SQLite keeps any value in any column)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, Text, case, cast, create_engine, event, func, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL

from adapters.sql.dialects.base import SqlDialect
from adapters.sql.types import from_sqlite
from domain.schema import Column, DataType, Schema

# Writers wait this long for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 60


class SqliteDialect(SqlDialect):
    name = "sqlite"

    def target_engine(self, url: str) -> Engine:
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _explicit_transactions(engine)
        return engine

    def add_key(
        self, connection: Connection, qualified: str, table: str, keys: Sequence[str]
    ) -> None:
        # SQLite cannot add a primary key to a table: a unique index does the same.
        columns = ", ".join(self.quote(k) for k in keys)
        index = self.quote(f"{table}_keys")
        connection.execute(text(f"CREATE UNIQUE INDEX {index} ON {qualified} ({columns})"))

    def insert(self, table: Table) -> Any:
        return sqlite.insert(table)

    def default_schema(self, url: URL) -> str:
        return "main"

    def column_type(self, reflected: Any, where: str) -> DataType:
        return from_sqlite(str(reflected), where=where)

    def schema(self, engine: Engine, schema: str | None, table: str, where: str) -> Schema:
        return sqlite_schema(engine, table, where, schema=schema or "main")

    def decimal_digits(self, ref: Any, i: int) -> list[Any]:
        text = cast(ref, Text())
        scale = case(
            (
                func.instr(text, ".") > 0,
                func.length(func.rtrim(text, "0")) - func.instr(text, "."),
            ),
            else_=0,
        )
        # Text in a decimal column is not a number (it would sort above every number and
        # pose as the maximum). Statistics come from the numbers; the rest are counted with
        # non_finite (no decimal holds them), so the profile says so and the precision gate
        # refuses them.
        number = func.typeof(ref).in_(("integer", "real"))
        return [
            func.min(ref).filter(number).label(f"lo{i}"),
            func.max(ref).filter(number).label(f"hi{i}"),
            func.max(scale).filter(number).label(f"sc{i}"),
            func.max(func.printf("%03d|%s", scale, text)).filter(number).label(f"sv{i}"),
            (func.count(ref) - func.count(ref).filter(number)).label(f"nf{i}"),
        ]


def _explicit_transactions(engine: Engine) -> None:
    """SQLAlchemy, not the sqlite3 module, begins transactions, so DDL (the swap, added
    columns) is part of the apply transaction; a writer takes the lock up front."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_schema(engine: Engine, table_name: str, where: str, *, schema: str = "main") -> Schema:
    """A SQLite table's schema from the types its columns declare, by SQLite's affinity rules
    (the inspector would already have guessed an unknown declared type into NUMERIC)."""
    quoted_schema = schema.replace('"', '""')
    quoted_table = table_name.replace('"', '""')
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f'PRAGMA "{quoted_schema}".table_info("{quoted_table}")'
        ).all()
    if not rows:
        raise LookupError(f"{where}: no table {table_name!r} in SQLite schema {schema!r}")
    # table_info rows: cid, name, declared type, notnull, default, primary key position
    return Schema.from_columns(
        Column(row[1], from_sqlite(row[2], where=f"{where}.{row[1]}"), not row[3]) for row in rows
    )
