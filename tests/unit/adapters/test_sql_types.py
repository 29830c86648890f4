"""SQL column types (as the inspector reports them) <-> domain types."""

from __future__ import annotations

import pytest
from hypothesis import given
from sqlalchemy import types as sa
from sqlalchemy.dialects import postgresql

from adapters.sql.types import UnsupportedType, from_sql, from_sqlite, to_sql
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
from strategies import primitive_types


@pytest.mark.parametrize(
    ("sql_type", "expected"),
    [
        (sa.Numeric(38, 10), DecimalType(38, 10)),
        (sa.Numeric(12), DecimalType(12, 0)),
        (sa.Numeric(), NumberType()),  # unbounded: no made-up precision
        (postgresql.TIMESTAMP(timezone=True), TimestampType(with_timezone=True)),
        (sa.DateTime(), TimestampType(with_timezone=False)),
        (sa.SmallInteger(), IntegerType(16)),
        (sa.BigInteger(), IntegerType(64)),
        (sa.Integer(), IntegerType(32)),
        (postgresql.REAL(), FloatType()),
        (postgresql.DOUBLE_PRECISION(), DoubleType()),
        (sa.String(40), StringType(40)),
        (sa.Text(), StringType()),
        (sa.Boolean(), BooleanType()),
        (sa.Date(), DateType()),
        (postgresql.BYTEA(), BinaryType()),
        (postgresql.ARRAY(sa.Integer()), ArrayType(IntegerType(32))),
    ],
)
def test_inspector_types_map_loss_free(sql_type: sa.TypeEngine, expected: DataType) -> None:  # type: ignore[type-arg]
    assert from_sql(sql_type, where="t.c") == expected


@given(primitive_types.filter(lambda t: t != IntegerType(8)))
def test_primitive_types_round_trip_through_sql(data_type: DataType) -> None:
    assert from_sql(to_sql(data_type), where="t.c") == data_type


def test_unsupported_types_are_named() -> None:
    with pytest.raises(UnsupportedType, match=r"orders\.shape: SQL type .*POINT|orders\.shape"):
        from_sql(sa.NullType(), where="orders.shape")
    with pytest.raises(UnsupportedType, match="precision 50"):
        from_sql(sa.Numeric(50, 2), where="orders.amount")


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        # Affinity rule 1: any name with INT holds 64-bit integers, whatever its width says.
        ("INTEGER", IntegerType(64)),
        ("int", IntegerType(64)),
        ("SMALLINT", IntegerType(64)),
        ("UNSIGNED BIG INT", IntegerType(64)),
        ("VARCHAR(40)", StringType(40)),
        ("NCHAR(5)", StringType(5)),
        ("TEXT", StringType()),
        ("CLOB", StringType()),
        ("BLOB", BinaryType()),
        ("REAL", DoubleType()),
        ("DOUBLE PRECISION", DoubleType()),
        ("FLOAT", DoubleType()),
        ("NUMERIC", NumberType()),
        ("DECIMAL(10,2)", DecimalType(10, 2)),
        ("decimal( 12 )", DecimalType(12, 0)),
        ("BOOLEAN", BooleanType()),
        ("DATE", DateType()),
        ("DATETIME", TimestampType(with_timezone=False)),
    ],
)
def test_sqlite_declared_types_follow_the_affinity_rules(declared: str, expected: DataType) -> None:
    assert from_sqlite(declared, where="t.c") == expected


@pytest.mark.parametrize("declared", ["frobnicate", "", "DECIMAL(50,2)", "MONEY(x)"])
def test_sqlite_types_it_cannot_read_are_refused_with_the_column(declared: str) -> None:
    with pytest.raises(UnsupportedType, match=r"^orders\.amount: "):
        from_sqlite(declared, where="orders.amount")
