"""Staging tables (where Spark's partitions write the rows a run applies), what the apply
transaction changed, and the PostgreSQL types a binary COPY sends."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import attrs
from sqlalchemy import Connection

from domain.schema import (
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

DELETED = "__deleted"  # staged scd1 rows: True for a delete of the key


def digest(text_: str, size: int = 8) -> str:
    return hashlib.sha1(text_.encode()).hexdigest()[:size]


def copy_type(data_type: DataType) -> str:
    """The PostgreSQL type name a binary COPY sends a value of ``data_type`` as."""
    match data_type:
        case IntegerType(bits=8) | IntegerType(bits=16):
            return "int2"
        case IntegerType(bits=32):
            return "int4"
        case IntegerType(bits=64):
            return "int8"
        case DecimalType() | NumberType():
            return "numeric"
        case FloatType():
            return "float4"
        case DoubleType():
            return "float8"
        case StringType():
            return "text"
        case BooleanType():
            return "bool"
        case DateType():
            return "date"
        case TimestampType(with_timezone=True):
            return "timestamptz"
        case TimestampType():
            return "timestamp"
        case BinaryType():
            return "bytea"
    raise TypeError(f"type {data_type}: a database target cannot hold it; store it as text")


@attrs.frozen
class Stage:
    """A staging table: where Spark's partitions write the rows a run applies."""

    schema: str | None
    name: str
    columns: tuple[str, ...]
    copy_types: tuple[str, ...]  # per column: the PostgreSQL type of a binary COPY

    @property
    def qualified(self) -> str:
        """``"schema"."name"`` quoted for PostgreSQL, ``"name"`` for SQLite."""
        name = '"' + self.name + '"'
        return f'"{self.schema}".{name}' if self.schema else name


@attrs.frozen
class Applied:
    """What the apply transaction changed in the target."""

    rows_written: int
    inserted: int
    updated: int = 0
    deleted: int = 0
    closed: int = 0


# What else the apply transaction writes, given what it applied: the run's records.
Then = Callable[[Connection, Applied], None]
