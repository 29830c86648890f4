"""What every SQL database answers the same way, and what a dialect says of its own.

A :class:`SqlDialect` is one database's answers to what differs between them: its default
schema, how its columns' types map to the platform's, and the aggregate expressions that
profile a column. The SQL adapters ask the dialect of their engine (``dialect_of``) rather
than branching on the database's name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, func, inspect
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

    def column_type(self, reflected: Any, where: str) -> DataType:
        """The platform type of a column type the inspector reflected."""
        raise NotImplementedError

    def schema(self, engine: Engine, schema: str, table: str, where: str) -> Schema:
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
