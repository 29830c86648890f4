"""SQLite: schema ``main``, columns typed by their declared type's affinity, and decimal
statistics from each value's text (SQLite keeps any value in any column)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Text, case, cast, func
from sqlalchemy.engine import URL

from adapters.sql.dialects.base import SqlDialect
from adapters.sql.types import from_sqlite
from domain.schema import Column, DataType, Schema


class SqliteDialect(SqlDialect):
    name = "sqlite"

    def default_schema(self, url: URL) -> str:
        return "main"

    def column_type(self, reflected: Any, where: str) -> DataType:
        return from_sqlite(str(reflected), where=where)

    def schema(self, engine: Engine, schema: str, table: str, where: str) -> Schema:
        return sqlite_schema(engine, table, where, schema=schema)

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
