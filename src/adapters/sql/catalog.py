"""A SQL schema as a catalog (SQLAlchemy inspector) and a one-query SQL profiler."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, column, func, inspect, select, table
from sqlalchemy.exc import DBAPIError

from adapters.sql.types import from_sql
from domain.dataset import DatasetRef
from domain.metadata.payloads import ColumnProfile, DatasetProfile
from domain.schema import Column, DecimalType, Schema, StringType
from domain.schema.precision import decimal_digits, integer_digits_of_extremes
from ports.catalog import CatalogError


def namespace_of(engine: Engine) -> tuple[str, str]:
    """OpenLineage naming: (namespace, name prefix) of the database behind ``engine``."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return f"postgres://{url.host or 'localhost'}:{url.port or 5432}", f"{url.database}."
    return f"sqlite://{url.database}", ""


class SqlCatalog:
    """Every table of one schema of a SQL database, read with the SQLAlchemy inspector."""

    def __init__(self, engine: Engine, schema: str | None = None) -> None:
        self._engine = engine
        self._schema = (
            schema
            if schema is not None
            else ("public" if engine.dialect.name == "postgresql" else "main")
        )
        self._namespace, self._prefix = namespace_of(engine)
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
            raise CatalogError(f"cannot list tables: {reason}") from None
        self._tables = {
            DatasetRef(self._namespace, f"{self._prefix}{self._schema}.{name}"): name
            for name in sorted(names)
        }
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
        name = self.table_of(subject)
        # A fresh inspector each time: inspectors cache what they reflected.
        reflected = inspect(self._engine).get_columns(name, schema=self._schema)
        return Schema.from_columns(
            Column(
                c["name"],
                from_sql(c["type"], where=f"{subject}.{c['name']}"),
                bool(c.get("nullable", True)),
            )
            for c in reflected
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")  # plain digits: str() writes 0.0000000001 as 1E-10
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


class SqlProfiler:
    """Row count and per-column statistics in one aggregate query (one scan of the table).

    Distinct counts are exact here (SQL has no portable approximate count) and left out
    with ``distinct=False``. Integer digits of decimal columns come from the extreme
    values (the largest magnitude is one of them); fractional digits from every value on
    PostgreSQL, from the extremes on SQLite, which keeps no exact decimals.
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
        postgres = self._engine.dialect.name == "postgresql"
        selected: list[Any] = [func.count().label("rows")]
        for index, col in enumerate(schema.columns):
            ref = source.c[col.name]
            selected += [
                func.count(ref).label(f"n{index}"),
                func.min(ref).label(f"lo{index}"),
                func.max(ref).label(f"hi{index}"),
            ]
            if self._distinct:
                selected.append(func.count(ref.distinct()).label(f"d{index}"))
            if isinstance(col.type, StringType):
                selected.append(func.max(func.length(ref)).label(f"len{index}"))
            if isinstance(col.type, DecimalType) and postgres:
                selected.append(func.max(func.scale(func.trim_scale(ref))).label(f"sc{index}"))
        with self._engine.connect() as connection:
            row = connection.execute(select(*selected).select_from(source)).mappings().one()
        rows = int(row["rows"])
        columns = []
        for index, col in enumerate(schema.columns):
            low, high = row[f"lo{index}"], row[f"hi{index}"]
            integer_digits = scale = None
            if isinstance(col.type, DecimalType):
                # The largest magnitude, so the most integer digits, is the min's or the max's.
                extremes = [Decimal(str(v)) for v in (low, high) if v is not None]
                integer_digits = integer_digits_of_extremes(*extremes) or 0
                if postgres:
                    scale = _optional_int(row[f"sc{index}"]) or 0
                else:  # SQLite keeps no exact decimals: the extremes are the best evidence.
                    scale = max((decimal_digits(v)[1] for v in extremes), default=0)
            columns.append(
                ColumnProfile(
                    name=col.name,
                    nulls=rows - int(row[f"n{index}"]),
                    approx_distinct=_optional_int(row.get(f"d{index}")),
                    min_value=_text(low),
                    max_value=_text(high),
                    max_length=_optional_int(row.get(f"len{index}")),
                    max_integer_digits=integer_digits,
                    max_scale=scale,
                )
            )
        return DatasetProfile(rows, tuple(columns))
