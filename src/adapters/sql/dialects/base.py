"""What every SQL database answers the same way, and what a dialect says of its own.

A :class:`SqlDialect` is one database's answers to what differs between them: its default
schema, how its columns' types map to the platform's, and the aggregate expressions that
profile a column. The SQL adapters ask the dialect of their engine (``dialect_of``) rather
than branching on the database's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, Table, create_engine, func, inspect, text
from sqlalchemy.engine import URL

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

EXACT = (DecimalType, NumberType)
ORDERED = (IntegerType, DecimalType, NumberType, FloatType, DoubleType, StringType)


class SqlDialect:
    """A database's answers; the defaults are standard SQL and the SQLAlchemy inspector."""

    name: ClassVar[str]  # SQLAlchemy's backend name

    def connect_args(self) -> dict[str, Any]:
        """What every connection to the database is opened with."""
        return {}

    def estimate(
        self, connection: Connection, schema: str | None, table: str
    ) -> tuple[int | None, int | None]:
        """The statistics' estimate of a table's rows and bytes, (None, None) when the
        database keeps none (the caller counts)."""
        return None, None

    def default_schema(self, url: URL) -> str:
        """The schema a catalog lists when none is given."""
        raise NotImplementedError

    # -- a database target -----------------------------------------------------------------

    quote_char: ClassVar[str] = '"'
    # An expression true for a row an upsert inserted (not updated), in its RETURNING; None
    # when the database has none (the caller counts the updates apart).
    inserted_flag: ClassVar[str | None] = None

    def quote(self, name: str) -> str:
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def qualified(self, schema: str | None, name: str) -> str:
        """A table quoted, in ``schema`` when given."""
        return f"{self.quote(schema)}.{self.quote(name)}" if schema else self.quote(name)

    def target_engine(self, url: str) -> Engine:
        """An engine for a database target: runs apply through it."""
        return create_engine(url, pool_pre_ping=True, connect_args=self.connect_args())

    def lock_target(self, connection: Connection, key: int) -> None:
        """Serialise the runs of one target: a lock ``key`` held until the transaction ends."""

    def analyze(self, connection: Connection, qualified: str) -> None:
        """Give the planner statistics of a filled staging table (where it keeps any)."""

    def add_key(
        self, connection: Connection, qualified: str, table: str, keys: Sequence[str]
    ) -> None:
        """Make ``keys`` the key of a new target table."""
        columns = ", ".join(self.quote(k) for k in keys)
        connection.execute(text(f"ALTER TABLE {qualified} ADD PRIMARY KEY ({columns})"))

    def retype(self, qualified: str, column: str, type_sql: str) -> str | None:
        """The statement giving ``column`` the type ``type_sql`` with its values cast in
        place; None where the database cannot alter a column's type."""
        return None

    def insert(self, table: Table) -> Any:
        """An INSERT into ``table`` that can turn into an upsert (ON CONFLICT)."""
        raise NotImplementedError

    def column_type(self, reflected: Any, where: str) -> DataType:
        """The platform type of a column type the inspector reflected."""
        raise NotImplementedError

    def schema(self, engine: Engine, schema: str | None, table: str, where: str) -> Schema:
        """A table's columns with their platform types (``where`` names it in errors)."""
        # A fresh inspector each time: inspectors cache what they reflected.
        reflected = inspect(engine).get_columns(table, schema=schema)
        return Schema.from_columns(
            Column(
                c["name"],
                self.column_type(c["type"], f"{where}.{c['name']}"),
                bool(c.get("nullable", True)),
            )
            for c in reflected
        )

    # -- a column's profile ----------------------------------------------------------------

    def statistics(self, ref: Any, data_type: DataType, i: int, distinct: bool) -> list[Any]:
        """The aggregate expressions that profile one column (labelled with ``i``): count,
        min and max, longest text, a decimal's digits; each statistic that does not apply to
        the type (min of bytes, say) is left out rather than failing."""
        selected: list[Any] = [func.count(ref).label(f"n{i}")]
        selected += self.extremes(ref, data_type, i)
        if distinct and not isinstance(data_type, ArrayType | StructType | MapType):
            selected.append(func.count(self.distinct_of(ref, data_type).distinct()).label(f"d{i}"))
        return selected

    def extremes(self, ref: Any, data_type: DataType, i: int) -> list[Any]:
        if isinstance(data_type, EXACT):
            return self.decimal_digits(ref, i)
        if isinstance(data_type, (*ORDERED, BooleanType, DateType, TimestampType)):
            selected = [func.min(ref).label(f"lo{i}"), func.max(ref).label(f"hi{i}")]
            if isinstance(data_type, StringType):
                selected.append(func.max(func.length(ref)).label(f"len{i}"))
            return selected
        return []

    def decimal_digits(self, ref: Any, i: int) -> list[Any]:
        """min, max, the most fractional digits (``sc``), a value with that many (``sv``:
        "scale|value"), and the values no decimal holds (``nf``)."""
        raise NotImplementedError

    def distinct_of(self, ref: Any, data_type: DataType) -> Any:
        """What a distinct count counts of the column."""
        return ref
