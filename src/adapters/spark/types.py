"""Spark SQL types <-> the platform's types; loss-free for decimals and timestamps."""

from __future__ import annotations

from pyspark.sql import types as T

from domain.schema import (
    ArrayType,
    BinaryType,
    BooleanType,
    Column,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    MapType,
    Schema,
    StringType,
    StructField,
    StructType,
    TimestampType,
)


class UnsupportedSparkType(ValueError):
    pass


_INTEGERS = {T.ByteType: 8, T.ShortType: 16, T.IntegerType: 32, T.LongType: 64}


def from_spark(spark_type: T.DataType, *, where: str = "column") -> DataType:
    for cls, bits in _INTEGERS.items():
        if isinstance(spark_type, cls):
            return IntegerType(bits)
    match spark_type:
        case T.DecimalType():
            return DecimalType(spark_type.precision, spark_type.scale)
        case T.FloatType():
            return FloatType()
        case T.DoubleType():
            return DoubleType()
        case T.VarcharType() | T.CharType():
            return StringType(spark_type.length)
        case T.StringType():
            return StringType()
        case T.BooleanType():
            return BooleanType()
        case T.DateType():
            return DateType()
        case T.TimestampNTZType():
            return TimestampType(with_timezone=False)
        case T.TimestampType():
            return TimestampType(with_timezone=True)
        case T.BinaryType():
            return BinaryType()
        case T.ArrayType():
            return ArrayType(
                from_spark(spark_type.elementType, where=where), spark_type.containsNull
            )
        case T.MapType():
            return MapType(
                from_spark(spark_type.keyType, where=where),
                from_spark(spark_type.valueType, where=where),
                spark_type.valueContainsNull,
            )
        case T.StructType():
            return StructType(
                tuple(
                    StructField(
                        f.name, from_spark(f.dataType, where=f"{where}.{f.name}"), f.nullable
                    )
                    for f in spark_type.fields
                )
            )
    raise UnsupportedSparkType(
        f"{where}: Spark type {spark_type.simpleString()} has no platform type"
    )


def to_spark(data_type: DataType) -> T.DataType:
    match data_type:
        case IntegerType(bits=8):
            return T.ByteType()
        case IntegerType(bits=16):
            return T.ShortType()
        case IntegerType(bits=32):
            return T.IntegerType()
        case IntegerType(bits=64):
            return T.LongType()
        case DecimalType(precision=p, scale=s):
            return T.DecimalType(p, s)
        case FloatType():
            return T.FloatType()
        case DoubleType():
            return T.DoubleType()
        case StringType():
            return T.StringType()  # Spark does not enforce lengths; the schema records them
        case BooleanType():
            return T.BooleanType()
        case DateType():
            return T.DateType()
        case TimestampType(with_timezone=True):
            return T.TimestampType()
        case TimestampType(with_timezone=False):
            return T.TimestampNTZType()
        case BinaryType():
            return T.BinaryType()
        case ArrayType(element=e, contains_null=n):
            return T.ArrayType(to_spark(e), n)
        case MapType(key=k, value=v, value_contains_null=n):
            return T.MapType(to_spark(k), to_spark(v), n)
        case StructType(fields=fields):
            return T.StructType(
                [T.StructField(f.name, to_spark(f.type), f.nullable) for f in fields]
            )
    raise UnsupportedSparkType(f"type {data_type} has no Spark type")


def schema_from_spark(struct: T.StructType, *, where: str = "dataset") -> Schema:
    return Schema.from_columns(
        Column(f.name, from_spark(f.dataType, where=f"{where}.{f.name}"), f.nullable)
        for f in struct.fields
    )


def schema_to_spark(schema: Schema) -> T.StructType:
    return T.StructType(
        [T.StructField(c.name, to_spark(c.type), c.nullable) for c in schema.columns]
    )
