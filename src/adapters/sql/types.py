"""SQL column types (as the SQLAlchemy inspector reports them) <-> domain types.

Loss-free for decimals and timestamps: NUMERIC(p,s) keeps p and s, TIMESTAMP keeps whether
it has a time zone. A type without a domain counterpart is named in the error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import types as sa
from sqlalchemy.dialects import postgresql

from domain.schema import (
    ArrayType,
    BinaryType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    StringType,
    TimestampType,
)
from domain.schema.types import MAX_DECIMAL_PRECISION

# NUMERIC without precision is read as decimal(38, 10): exact to 10 fractional digits.
UNBOUNDED_NUMERIC_SCALE = 10


class UnsupportedType(ValueError):
    """A SQL type the platform's type system has no counterpart for."""


def from_sql(sql_type: Any, *, where: str) -> DataType:
    """The domain type of a column type reported by the SQLAlchemy inspector."""
    if isinstance(sql_type, postgresql.ARRAY):
        return ArrayType(from_sql(sql_type.item_type, where=where))
    if isinstance(sql_type, sa.Boolean):
        return BooleanType()
    if isinstance(sql_type, sa.SmallInteger):
        return IntegerType(16)
    if isinstance(sql_type, sa.BigInteger):
        return IntegerType(64)
    if isinstance(sql_type, sa.Integer):
        return IntegerType(32)
    if isinstance(sql_type, sa.Numeric) and not isinstance(sql_type, sa.Float):
        precision, scale = sql_type.precision, sql_type.scale
        if precision is None:
            # NUMERIC without precision holds any value: the widest exact decimal is the
            # honest mapping, and the guardrails will say when values do not fit it.
            return DecimalType(
                MAX_DECIMAL_PRECISION, UNBOUNDED_NUMERIC_SCALE if scale is None else scale
            )
        if precision > MAX_DECIMAL_PRECISION:
            raise UnsupportedType(
                f"{where}: {sql_type} has precision {precision} > {MAX_DECIMAL_PRECISION}"
            )
        return DecimalType(precision, scale or 0)
    if isinstance(sql_type, sa.Float | sa.Double):
        # REAL is 24 bits of mantissa; DOUBLE PRECISION / FLOAT(53) are doubles.
        precision = getattr(sql_type, "precision", None)
        if isinstance(sql_type, postgresql.REAL) or (precision is not None and precision <= 24):
            return FloatType()
        return DoubleType()
    if isinstance(sql_type, sa.String):  # VARCHAR, CHAR, TEXT, ...
        return StringType(getattr(sql_type, "length", None))
    if isinstance(sql_type, sa.DateTime):
        return TimestampType(with_timezone=bool(getattr(sql_type, "timezone", False)))
    if isinstance(sql_type, sa.Date):
        return DateType()
    if isinstance(sql_type, sa.LargeBinary | postgresql.BYTEA):
        return BinaryType()
    if isinstance(sql_type, sa.Uuid):
        return StringType(36)
    if isinstance(sql_type, sa.JSON):
        return StringType()
    raise UnsupportedType(
        f"{where}: SQL type {sql_type!r} has no platform type; supported: integers, numeric, "
        f"real/double, text, boolean, date, timestamp (with/without time zone), bytea, arrays"
    )


def to_sql(data_type: DataType) -> sa.TypeEngine[Any]:
    """The SQLAlchemy type to create a column of ``data_type`` with."""
    match data_type:
        case IntegerType(bits=8) | IntegerType(bits=16):
            return sa.SmallInteger()
        case IntegerType(bits=32):
            return sa.Integer()
        case IntegerType(bits=64):
            return sa.BigInteger()
        case DecimalType(precision=p, scale=s):
            return sa.Numeric(p, s, asdecimal=True)
        case FloatType():
            return sa.REAL()
        case DoubleType():
            return sa.Double()
        case StringType(max_length=None):
            return sa.Text()
        case StringType(max_length=n):
            return sa.String(n)
        case BooleanType():
            return sa.Boolean()
        case DateType():
            return sa.Date()
        case TimestampType(with_timezone=tz):
            return sa.DateTime(timezone=tz)
        case BinaryType():
            return sa.LargeBinary()
    raise UnsupportedType(f"type {data_type}: no SQL column type; store nested values as JSON text")
