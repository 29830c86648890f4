from __future__ import annotations

import pytest
from hypothesis import given

from domain.schema import (
    ArrayType,
    DataType,
    DecimalType,
    IntegerType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
    TypeSyntaxError,
    parse_type,
)
from strategies import data_types


@given(data_types)
def test_every_type_round_trips_through_its_canonical_string(data_type: DataType) -> None:
    assert parse_type(str(data_type)) == data_type


def test_canonical_strings_read_as_documented() -> None:
    assert str(DecimalType(38, 10)) == "decimal(38,10)"
    assert str(StringType(200)) == "string(200)"
    assert str(TimestampType(with_timezone=False)) == "timestamp_ntz"
    nested = StructType(
        (
            StructField("id", IntegerType(64), False),
            StructField("tags", ArrayType(StringType(), False)),
        )
    )
    assert str(nested) == "struct<id:int64 not null,tags:array<string not null>>"
    assert parse_type("map<string, decimal(10,2) not null>") == MapType(
        StringType(), DecimalType(10, 2), False
    )
    assert parse_type("decimal(12)") == DecimalType(12, 0)


@pytest.mark.parametrize(
    ("precision", "scale", "message"),
    [(39, 0, "precision"), (0, 0, "precision"), (10, 11, "scale"), (10, -1, "scale")],
)
def test_decimal_bounds_are_enforced(precision: int, scale: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecimalType(precision, scale)


def test_integer_widths_are_enforced() -> None:
    with pytest.raises(ValueError, match="8, 16, 32, 64"):
        IntegerType(24)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("decimal(39,0)", "precision"),
        ("decimal(5,6)", "scale"),
        ("varchar", "unknown type 'varchar'"),
        ("array<int32", "ends too early"),
        ("int64 extra", "unexpected 'extra'"),
        ("struct<a:int32,A:int64>", "duplicate name"),
        ("string(0)", "max_length"),
        ("string(2147483648)", "1 <= length <= 2147483647"),
        ("string(99999999999999999999999)", "a number of 23 digits"),
    ],
)
def test_parse_errors_name_the_input_and_the_reason(text: str, reason: str) -> None:
    with pytest.raises(TypeSyntaxError) as raised:
        parse_type(text)
    assert repr(text) in str(raised.value)
    assert reason in str(raised.value)


def test_numbers_and_nesting_are_bounded_before_they_cost() -> None:
    with pytest.raises(TypeSyntaxError, match="a number of 5000 digits"):
        parse_type("decimal(" + "9" * 5000 + ",2)")
    with pytest.raises(TypeSyntaxError, match="nested more than 64 levels deep"):
        parse_type("array<" * 3000 + "int32" + ">" * 3000)
    deep = "array<" * 63 + "int32" + ">" * 63
    assert str(parse_type(deep)) == deep  # 64 levels in all: still a type
