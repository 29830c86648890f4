"""A SQL schema as a catalog (SQLAlchemy inspector) and a one-query SQL profiler."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    column,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError

from adapters.sql.dialects import SqlDialect, dialect_of
from adapters.sql.dialects.base import EXACT
from domain.dataset import DatasetRef
from domain.identity import database_ref, sqlite_ref
from domain.metadata.payloads import ColumnProfile, DatasetProfile
from domain.schema import (
    DataType,
    Schema,
)
from domain.schema.precision import integer_digits_of_extremes
from ports.catalog import CatalogError, CatalogUnreachable


def table_ref(engine: Engine, schema: str, table: str) -> DatasetRef:
    """The canonical reference (domain.identity) of ``schema.table`` behind ``engine``; the
    names are the catalog's own, kept exactly (quoted, not folded)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return sqlite_ref(str(Path(url.database or "").absolute()), f'"{table}"')
    return database_ref(
        url.get_backend_name(), url.host, url.port, url.database or "", f'"{schema}"."{table}"'
    )


class SqlCatalog:
    """Every table of one schema of a SQL database, read with the SQLAlchemy inspector."""

    def __init__(self, engine: Engine, schema: str | None = None) -> None:
        self._engine = engine
        self._dialect = dialect_of(engine)
        self._schema = schema if schema is not None else self._dialect.default_schema(engine.url)
        self._tables: dict[DatasetRef, str] = {}

    def datasets(self) -> list[DatasetRef]:
        try:
            inspector = inspect(self._engine)
            schemas = inspector.get_schema_names()
            if self._schema not in schemas:
                raise CatalogError(
                    f"no schema {self._schema!r}; the database has "
                    f"{', '.join(repr(s) for s in schemas) or 'none'}: pick one with --schema"
                )
            names = inspector.get_table_names(schema=self._schema)
        except DBAPIError as failed:
            reason = " ".join(str(failed.orig or failed).split()).split(" [SQL:")[0]
            raise CatalogUnreachable(f"cannot list tables: {reason}") from None
        self._tables = {table_ref(self._engine, self._schema, name): name for name in sorted(names)}
        return list(self._tables)

    def table_of(self, subject: DatasetRef) -> str:
        try:
            return self._tables[subject]
        except KeyError:
            raise LookupError(
                f"{subject}: not a table of schema {self._schema!r} in this catalog"
            ) from None

    @property
    def schema_name(self) -> str:
        return self._schema

    def schema(self, subject: DatasetRef) -> Schema:
        return self._dialect.schema(
            self._engine, self._schema, self.table_of(subject), str(subject)
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # plain digits: str() writes 0.0000000001 as 1E-10
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


class _Statistics:
    """One column's statistics: the dialect's aggregate expressions, read back."""

    def __init__(self, ref: Any, data_type: DataType, dialect: SqlDialect, index: int) -> None:
        self.ref, self.type, self.dialect, self.index = ref, data_type, dialect, index

    def expressions(self, distinct: bool) -> list[Any]:
        return self.dialect.statistics(self.ref, self.type, self.index, distinct)

    def profile(self, name: str, rows: int, row: RowMapping) -> ColumnProfile:
        i = self.index
        low, high = row.get(f"lo{i}"), row.get(f"hi{i}")
        integer_digits = scale = None
        scale_value = None
        if isinstance(self.type, EXACT):
            # The largest magnitude, so the most integer digits, is the min's or the max's.
            extremes = [_decimal(v) for v in (low, high)]
            integer_digits = integer_digits_of_extremes(*(e for e in extremes if e is not None))
            integer_digits = integer_digits or 0
            scale = _optional_int(row.get(f"sc{i}")) or 0
            ranked = row.get(f"sv{i}")
            scale_value = None if ranked is None else str(ranked).partition("|")[2] or None
        return ColumnProfile(
            name=name,
            nulls=rows - int(row[f"n{i}"]),
            approx_distinct=_optional_int(row.get(f"d{i}")),
            min_value=_text(low),
            max_value=_text(high),
            max_length=_optional_int(row.get(f"len{i}")),
            max_integer_digits=integer_digits,
            max_scale=scale,
            max_scale_value=scale_value,
            non_finite=_optional_int(row.get(f"nf{i}")) if isinstance(self.type, EXACT) else None,
        )


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


class SqlProfiler:
    """Row count and per-column statistics in one aggregate query (one scan of the table).

    Distinct counts are exact here (SQL has no portable approximate count) and left out
    with ``distinct=False``. Integer digits of decimal columns come from the extreme
    values (the largest magnitude is one of them); fractional digits, and a value that has
    the most of them, from every value. Every column type profiles: a statistic that does
    not apply (min of bytes) is left out, NaN and infinities are counted apart.
    """

    def __init__(self, engine: Engine, catalog: SqlCatalog, *, distinct: bool = True) -> None:
        self._engine = engine
        self._catalog = catalog
        self._distinct = distinct

    def profile(self, subject: DatasetRef, schema: Schema) -> DatasetProfile:
        name = self._catalog.table_of(subject)
        source = table(
            name, *(column(c.name) for c in schema.columns), schema=self._catalog.schema_name
        )
        dialect = dialect_of(self._engine)
        statistics = [
            _Statistics(source.c[col.name], col.type, dialect, index)
            for index, col in enumerate(schema.columns)
        ]
        selected: list[Any] = [func.count().label("rows")]
        for stats in statistics:
            selected += stats.expressions(self._distinct)
        with self._engine.connect() as connection:
            row = connection.execute(select(*selected).select_from(source)).mappings().one()
        rows = int(row["rows"])
        return DatasetProfile(
            rows,
            tuple(
                stats.profile(col.name, rows, row)
                for stats, col in zip(statistics, schema.columns, strict=True)
            ),
        )
