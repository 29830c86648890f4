"""A dataset_profile from a DataFrame in one Spark job over one scan.

Every statistic of every column is one aggregate expression of a single ``agg``: row count,
nulls, approximate distinct (HyperLogLog++), min, max, longest string, and for decimals the
most integer digits (those of the largest magnitude) and fractional digits any value uses
(trailing zeros do not count). Everything is arithmetic: no per-value string formatting.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from domain.metadata.payloads import ColumnProfile, DatasetProfile
from domain.schema.precision import decimal_digits

# Types whose min/max mean something (not binary, arrays, maps, structs).
_ORDERED = (
    T.NumericType,
    T.StringType,
    T.DateType,
    T.TimestampType,
    T.TimestampNTZType,
    T.BooleanType,
)


# Decimals of up to 18 digits have an unscaled value that fits a long.
_LONG_DIGITS = 18


def _fraction_digits(column: SparkColumn, precision: int, scale: int) -> SparkColumn:
    """The fractional digits a decimal(precision, scale) value uses, trailing zeros not
    counted: ``scale`` minus the trailing zeros of its unscaled value."""
    if scale == 0:
        return F.lit(0)
    if precision <= _LONG_DIGITS:
        # Integer arithmetic on the unscaled long is far cheaper than decimal arithmetic.
        unscaled = (column * F.lit(10**scale)).cast("long")
        used = F.lit(scale)
        for zeros in range(1, scale + 1):
            used = F.when(unscaled % F.lit(10**zeros) == 0, F.lit(scale - zeros)).otherwise(used)
        return used
    used = F.lit(scale)
    for digits in range(scale - 1, -1, -1):  # modulo by 10^-j never overflows 38 digits
        unit = F.lit(f"1e-{digits}").cast(f"decimal({digits + 1},{digits})")
        used = F.when(column % unit == 0, F.lit(digits)).otherwise(used)
    return used


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
        if isinstance(field.dataType, T.DecimalType | T.IntegralType):
            # The largest magnitude has the most integer digits.
            expressions.append(F.max(F.abs(column)).alias(f"abs{index}"))
        if isinstance(field.dataType, T.DecimalType):
            expressions.append(
                F.max(
                    _fraction_digits(column, field.dataType.precision, field.dataType.scale)
                ).alias(f"sc{index}")
            )
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
                max_integer_digits=_integer_digits(row.get(f"abs{index}")),
                max_scale=(
                    _int(row.get(f"sc{index}"))
                    if isinstance(field.dataType, T.DecimalType)
                    else (0 if isinstance(field.dataType, T.IntegralType) else None)
                ),
            )
        )
    return DatasetProfile(rows, tuple(columns))


def _integer_digits(largest: Any) -> int | None:
    if largest is None:
        return None
    return decimal_digits(Decimal(largest))[0]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
