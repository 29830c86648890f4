"""A SQL schema as a catalog (SQLAlchemy inspector) and a one-query SQL profiler."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    Numeric,
    Text,
    and_,
    case,
    cast,
    column,
    func,
    inspect,
    literal,
    select,
    table,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError

from adapters.sql.types import from_sql, from_sqlite
from domain.dataset import DatasetRef
from domain.identity import database_ref, sqlite_ref
from domain.metadata.payloads import ColumnProfile, DatasetProfile
from domain.schema import (
    ArrayType,
    BooleanType,
    Column,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    MapType,
    NumberType,
    Schema,
    StringType,
    StructType,
    TimestampType,
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
        self._schema = (
            schema
            if schema is not None
            else ("public" if engine.dialect.name == "postgresql" else "main")
        )
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
        name = self.table_of(subject)
        if self._engine.dialect.name == "sqlite":
            return sqlite_schema(self._engine, name, str(subject), schema=self._schema)
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


_EXACT = (DecimalType, NumberType)
_ORDERED = (IntegerType, DecimalType, NumberType, FloatType, DoubleType, StringType)


class _Statistics:
    """The aggregate expressions of one column, per dialect; each statistic that does not
    apply to the column's type (min of bytes, say) is left out rather than failing."""

    def __init__(self, ref: Any, data_type: DataType, postgres: bool, index: int) -> None:
        self.ref, self.type, self.postgres, self.index = ref, data_type, postgres, index

    def expressions(self, distinct: bool) -> list[Any]:
        ref, i = self.ref, self.index
        selected: list[Any] = [func.count(ref).label(f"n{i}")]
        if isinstance(self.type, BooleanType) and self.postgres:
            # PostgreSQL has no min(boolean): false < true, so min is "all true".
            selected += [func.bool_and(ref).label(f"lo{i}"), func.bool_or(ref).label(f"hi{i}")]
        elif isinstance(self.type, DateType | TimestampType) and self.postgres:
            # As JSON text: BC dates and +-infinity, which Python cannot hold, stay readable.
            selected += [
                func.to_json(func.min(ref)).label(f"lo{i}"),
                func.to_json(func.max(ref)).label(f"hi{i}"),
            ]
        elif isinstance(self.type, _EXACT) and self.postgres:
            finite = and_(
                ref < cast(literal("Infinity"), Numeric()),
                ref > cast(literal("-Infinity"), Numeric()),
            )
            selected += [
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
        elif isinstance(self.type, _EXACT):  # SQLite: digits from each value's text form
            text = cast(ref, Text())
            scale = case(
                (
                    func.instr(text, ".") > 0,
                    func.length(func.rtrim(text, "0")) - func.instr(text, "."),
                ),
                else_=0,
            )
            # SQLite keeps any value in any column: text in a decimal column is not a
            # number (it would sort above every number and pose as the maximum). Statistics
            # come from the numbers; the rest are counted with non_finite (no decimal holds
            # them), so the profile says so and the precision gate refuses them.
            number = func.typeof(ref).in_(("integer", "real"))
            selected += [
                func.min(ref).filter(number).label(f"lo{i}"),
                func.max(ref).filter(number).label(f"hi{i}"),
                func.max(scale).filter(number).label(f"sc{i}"),
                func.max(func.printf("%03d|%s", scale, text)).filter(number).label(f"sv{i}"),
                (func.count(ref) - func.count(ref).filter(number)).label(f"nf{i}"),
            ]
        elif isinstance(self.type, StringType) and self.postgres:
            # uuid, json, enums: compared and measured as their text.
            text = cast(ref, Text())
            selected += [
                func.min(text).label(f"lo{i}"),
                func.max(text).label(f"hi{i}"),
                func.max(func.length(text)).label(f"len{i}"),
            ]
        elif isinstance(self.type, (*_ORDERED, BooleanType, DateType, TimestampType)):
            selected += [func.min(ref).label(f"lo{i}"), func.max(ref).label(f"hi{i}")]
            if isinstance(self.type, StringType):
                selected.append(func.max(func.length(ref)).label(f"len{i}"))
        if distinct and not isinstance(self.type, ArrayType | StructType | MapType):
            target = (
                cast(ref, Text()) if isinstance(self.type, StringType) and self.postgres else ref
            )
            selected.append(func.count(target.distinct()).label(f"d{i}"))
        return selected

    def profile(self, name: str, rows: int, row: RowMapping) -> ColumnProfile:
        i = self.index
        low, high = row.get(f"lo{i}"), row.get(f"hi{i}")
        integer_digits = scale = None
        scale_value = None
        if isinstance(self.type, _EXACT):
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
            non_finite=_optional_int(row.get(f"nf{i}")) if isinstance(self.type, _EXACT) else None,
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
        postgres = self._engine.dialect.name == "postgresql"
        statistics = [
            _Statistics(source.c[col.name], col.type, postgres, index)
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
