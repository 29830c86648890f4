"""Engine-neutral schemas: types, columns, schemas."""

from domain.schema.schema import Column, Schema
from domain.schema.type_syntax import TypeSyntaxError, parse_type
from domain.schema.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    MapType,
    NumberType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

__all__ = [
    "ArrayType",
    "BinaryType",
    "BooleanType",
    "Column",
    "DataType",
    "DateType",
    "DecimalType",
    "DoubleType",
    "FloatType",
    "IntegerType",
    "MapType",
    "NumberType",
    "Schema",
    "StringType",
    "StructField",
    "StructType",
    "TimestampType",
    "TypeSyntaxError",
    "parse_type",
]
