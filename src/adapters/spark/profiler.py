"""A dataset_profile from a DataFrame in one Spark job over one scan.

Every statistic of every column is one aggregate expression of a single ``agg``: row count,
nulls, approximate distinct (HyperLogLog++), min, max, longest string, and for decimals the
most integer digits and fractional digits any value uses (trailing zeros do not count).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from domain.metadata.payloads import ColumnProfile, DatasetProfile

# Types whose min/max mean something (not binary, arrays, maps, structs).
_ORDERED = (
    T.NumericType,
    T.StringType,
    T.DateType,
    T.TimestampType,
    T.TimestampNTZType,
    T.BooleanType,
)


def _digits(column: SparkColumn) -> tuple[SparkColumn, SparkColumn]:
    """(integer digits, fractional digits) of a decimal column's values."""
    plain = F.abs(column).cast("string")  # decimals cast to plain notation
    trimmed = F.regexp_replace(F.regexp_replace(plain, r"(\.\d*?)0+$", "$1"), r"\.$", "")
    integer_part = F.split(trimmed, r"\.").getItem(0)
    fraction = F.when(F.instr(trimmed, ".") > 0, F.split(trimmed, r"\.").getItem(1)).otherwise(
        F.lit("")
    )
    integer_digits = F.when(integer_part == "0", F.lit(0)).otherwise(F.length(integer_part))
    return integer_digits, F.length(fraction)


def profile_expressions(frame: DataFrame) -> list[SparkColumn]:
    expressions: list[SparkColumn] = [F.count(F.lit(1)).alias("rows")]
    for index, field in enumerate(frame.schema.fields):
        column = F.col(f"`{field.name}`")
        expressions += [
            F.count(column).alias(f"n{index}"),
            F.approx_count_distinct(column).alias(f"d{index}"),
        ]
        if isinstance(field.dataType, _ORDERED):
            expressions += [F.min(column).alias(f"lo{index}"), F.max(column).alias(f"hi{index}")]
        if isinstance(field.dataType, T.StringType):
            expressions.append(F.max(F.length(column)).alias(f"len{index}"))
        if isinstance(field.dataType, T.DecimalType):
            integer_digits, scale = _digits(column)
            expressions += [
                F.max(integer_digits).alias(f"id{index}"),
                F.max(scale).alias(f"sc{index}"),
            ]
        elif isinstance(field.dataType, T.IntegralType):
            expressions.append(F.max(F.length(F.abs(column).cast("string"))).alias(f"id{index}"))
    return expressions


def _text(value: Any, spark_type: T.DataType) -> str | None:
    if value is None:
        return None
    if isinstance(spark_type, T.TimestampType) and value.tzinfo is None:
        return f"{value.isoformat()}Z"  # collected in the session's time zone, UTC
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def profile_frame(frame: DataFrame) -> DatasetProfile:
    """Profile ``frame`` with one aggregation (one job, one scan of its input)."""
    conf = frame.sparkSession.conf
    adaptive = conf.get("spark.sql.adaptive.enabled")
    # Adaptive execution runs each shuffle stage as a job of its own; one global aggregate
    # needs no re-planning, so it runs as one job with AQE off.
    conf.set("spark.sql.adaptive.enabled", "false")
    try:
        row = frame.agg(*profile_expressions(frame)).collect()[0].asDict()
    finally:
        conf.set("spark.sql.adaptive.enabled", adaptive or "true")
    rows = int(row["rows"])
    columns = []
    for index, field in enumerate(frame.schema.fields):
        columns.append(
            ColumnProfile(
                name=field.name,
                nulls=rows - int(row[f"n{index}"]),
                approx_distinct=int(row[f"d{index}"]),
                min_value=_text(row.get(f"lo{index}"), field.dataType),
                max_value=_text(row.get(f"hi{index}"), field.dataType),
                max_length=_int(row.get(f"len{index}")),
                max_integer_digits=_int(row.get(f"id{index}")),
                max_scale=(
                    _int(row.get(f"sc{index}"))
                    if isinstance(field.dataType, T.DecimalType)
                    else (0 if isinstance(field.dataType, T.IntegralType) else None)
                ),
            )
        )
    return DatasetProfile(rows, tuple(columns))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
