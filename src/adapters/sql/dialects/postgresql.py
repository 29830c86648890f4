"""PostgreSQL: schema ``public``, the inspector's types, and statistics that hold BC dates,
infinities and NaN."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Numeric, Table, Text, and_, cast, func, literal, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

from adapters.sql.dialects.base import SqlDialect
from adapters.sql.types import from_sql
from domain.schema import BooleanType, DataType, DateType, StringType, TimestampType


class PostgresDialect(SqlDialect):
    name = "postgresql"
    # A row an upsert inserted has no xmax; one it updated has.
    inserted_flag = "(xmax = 0)"

    def lock_target(self, connection: Connection, key: int) -> None:
        connection.execute(select(func.pg_advisory_xact_lock(literal(key))))

    def analyze(self, connection: Connection, qualified: str) -> None:
        connection.execute(text(f"ANALYZE {qualified}"))

    def retype(self, qualified: str, column: str, type_sql: str) -> str | None:
        name = self.quote(column)
        return (
            f"ALTER TABLE {qualified} ALTER COLUMN {name} TYPE {type_sql} USING {name}::{type_sql}"
        )

    def insert(self, table: Table) -> Any:
        return postgresql.insert(table)

    def default_schema(self, url: URL) -> str:
        return "public"

    def estimate(
        self, connection: Connection, schema: str | None, table: str
    ) -> tuple[int | None, int | None]:
        found = connection.execute(
            text(
                "SELECT c.reltuples::bigint, pg_total_relation_size(c.oid) "
                "FROM pg_class c WHERE c.oid = to_regclass(:t)"
            ),
            {"t": table if schema is None else f"{schema}.{table}"},
        ).one_or_none()
        return (None, None) if found is None else (int(found[0]), int(found[1]))

    def column_type(self, reflected: Any, where: str) -> DataType:
        return from_sql(reflected, where=where)

    def extremes(self, ref: Any, data_type: DataType, i: int) -> list[Any]:
        if isinstance(data_type, BooleanType):
            # PostgreSQL has no min(boolean): false < true, so min is "all true".
            return [func.bool_and(ref).label(f"lo{i}"), func.bool_or(ref).label(f"hi{i}")]
        if isinstance(data_type, DateType | TimestampType):
            # As JSON text: BC dates and +-infinity, which Python cannot hold, stay readable.
            return [
                func.to_json(func.min(ref)).label(f"lo{i}"),
                func.to_json(func.max(ref)).label(f"hi{i}"),
            ]
        if isinstance(data_type, StringType):
            # uuid, json, enums: compared and measured as their text.
            text = cast(ref, Text())
            return [
                func.min(text).label(f"lo{i}"),
                func.max(text).label(f"hi{i}"),
                func.max(func.length(text)).label(f"len{i}"),
            ]
        return super().extremes(ref, data_type, i)

    def decimal_digits(self, ref: Any, i: int) -> list[Any]:
        finite = and_(
            ref < cast(literal("Infinity"), Numeric()),
            ref > cast(literal("-Infinity"), Numeric()),
        )
        return [
            func.min(ref).filter(finite).label(f"lo{i}"),
            func.max(ref).filter(finite).label(f"hi{i}"),
            (func.count(ref) - func.count(ref).filter(finite)).label(f"nf{i}"),
            func.max(func.scale(func.trim_scale(ref))).filter(finite).label(f"sc{i}"),
            # One pass: the greatest "scale|value" string is a value with the most
            # fractional digits (scale zero-padded so text order is numeric order).
            func.max(
                func.lpad(cast(func.scale(func.trim_scale(ref)), Text()), 3, "0")
                .op("||")("|")
                .op("||")(cast(func.trim_scale(ref), Text()))
            )
            .filter(finite)
            .label(f"sv{i}"),
        ]

    def distinct_of(self, ref: Any, data_type: DataType) -> Any:
        return cast(ref, Text()) if isinstance(data_type, StringType) else ref
