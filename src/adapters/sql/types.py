"""SQL column types (as the SQLAlchemy inspector reports them) <-> domain types.

Loss-free for decimals and timestamps: NUMERIC(p,s) keeps p and s, NUMERIC without a
precision is ``number`` (not a made-up precision), TIMESTAMP keeps whether it has a time
zone. SQLite columns are read from their declared type text by SQLite's own affinity rules
(any INT is 64-bit). A type without a domain counterpart is named in the error.
"""

from __future__ import annotations

import re
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
    NumberType,
    StringType,
    TimestampType,
)
from domain.schema.types import MAX_DECIMAL_PRECISION

_DECLARED = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")
_SQLITE_NAMES = "INTEGER, BIGINT, REAL, DOUBLE, TEXT, VARCHAR(n), BLOB, NUMERIC, DECIMAL(p,s), BOOLEAN, DATE, DATETIME"


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
            # NUMERIC without precision holds any finite decimal: say so; only a profile
            # tells the guardrails what it holds.
            return NumberType()
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


def from_sqlite(declared: str, *, where: str) -> DataType:
    """The domain type of a SQLite column from its declared type text.

    SQLite keeps any value in any column; the declared type only gives it an *affinity*
    (https://sqlite.org/datatype3.html, section 3.1): a name containing INT is a 64-bit
    integer, CHAR/CLOB/TEXT text, BLOB bytes, REAL/FLOA/DOUB a double. Names SQLAlchemy and
    common tools write (NUMERIC, DECIMAL(p,s), BOOLEAN, DATE, DATETIME) keep their meaning.
    A name none of these rules knows (``frobnicate``) is refused rather than guessed.
    """
    match = _DECLARED.match(declared or "")
    if not declared or not declared.strip():
        raise UnsupportedType(
            f"{where}: no declared type, so SQLite stores anything there; declare one of "
            f"{_SQLITE_NAMES}"
        )
    if match is None:
        raise UnsupportedType(
            f"{where}: declared type {declared!r} is not one this tool reads; declare one of "
            f"{_SQLITE_NAMES}"
        )
    name = " ".join(match.group(1).upper().split())
    first = None if match.group(2) is None else int(match.group(2))
    second = None if match.group(3) is None else int(match.group(3))
    if name in ("NUMERIC", "DECIMAL"):
        if first is None:
            return NumberType()
        if not 1 <= first <= MAX_DECIMAL_PRECISION or (second or 0) > first:
            raise UnsupportedType(
                f"{where}: {declared} is outside decimal(1..{MAX_DECIMAL_PRECISION}, 0..p)"
            )
        return DecimalType(first, second or 0)
    if name in ("BOOLEAN", "BOOL"):
        return BooleanType()
    if name == "DATE":
        return DateType()
    if name in ("DATETIME", "TIMESTAMP"):
        return TimestampType(with_timezone=False)
    if "INT" in name:  # affinity rule 1: INTEGER, BIGINT, SMALLINT ... all hold 64 bits
        return IntegerType(64)
    if any(part in name for part in ("CHAR", "CLOB", "TEXT")):  # rule 2
        return StringType(first) if first else StringType()
    if name in ("JSON", "UUID"):
        return StringType()
    if "BLOB" in name:  # rule 3
        return BinaryType()
    if any(part in name for part in ("REAL", "FLOA", "DOUB")):  # rule 4: 8-byte floats
        return DoubleType()
    raise UnsupportedType(
        f"{where}: declared type {declared!r} is not a SQLite type this tool knows (SQLite "
        f"would give it NUMERIC affinity and keep anything); declare one of {_SQLITE_NAMES}"
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
        case NumberType():
            return sa.Numeric(asdecimal=True)
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
