"""A dataset_profile from a DataFrame in one Spark job over one scan.

Every statistic of every column is one aggregate expression of a single ``agg`` (distinct
counts are metrics observed by the same job, see ``_aggregate``): row count, nulls,
approximate distinct (HyperLogLog++), min, max, longest string, and for decimals the
fractional digits any value uses (trailing zeros do not count); the most integer digits are
those of the min or the max, whichever has the larger magnitude. Everything is arithmetic:
no per-value string formatting.

For Parquet inputs read whole, the row count, nulls and (for most types) min and max come
from the files' footers instead (``adapters.spark.parquet_footers``), and the scan computes
only the rest. Approximate distinct counts can be left out (``distinct=False``): they cost
about as much as the rest of the profile, as Spark has no generated code for them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal, localcontext
from typing import Any

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F
from pyspark.sql import types as T

from adapters.spark.parquet_footers import FooterStatistics
from domain.metadata.payloads import ColumnProfile, DatasetProfile
from domain.schema.precision import integer_digits_of_extremes

# Types whose min/max mean something (not binary, arrays, maps, structs).
_ORDERED = (
    T.NumericType,
    T.StringType,
    T.DateType,
    T.TimestampType,
    T.TimestampNTZType,
    T.BooleanType,
)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

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


def distinct_expressions(frame: DataFrame) -> list[SparkColumn]:
    """Approximate distinct counts (HyperLogLog++) of every column."""
    return [
        F.approx_count_distinct(F.col(f"`{field.name}`")).alias(f"d{index}")
        for index, field in enumerate(frame.schema.fields)
    ]


def profile_expressions(
    frame: DataFrame, *, known: FooterStatistics | None = None
) -> list[SparkColumn]:
    """The aggregates of one profile but distinct counts; figures ``known`` from Parquet
    footers are left out."""
    expressions: list[SparkColumn] = []
    if known is None:
        expressions.append(F.count(F.lit(1)).alias("rows"))
    for index, field in enumerate(frame.schema.fields):
        column = F.col(f"`{field.name}`")
        footer = known.column(field.name) if known is not None else None
        if footer is None:
            expressions.append(F.count(column).alias(f"n{index}"))
        if isinstance(field.dataType, _ORDERED) and not (footer and footer.min_max_known):
            # The integer digits of decimals and integers come from these two as well: the
            # largest magnitude is that of the min or of the max.
            low, high = F.min(column), F.max(column)
            if isinstance(field.dataType, T.TimestampType):
                # As microseconds since the epoch: PySpark would turn an instant into the
                # Python process's local time, which is not always UTC.
                low, high = F.unix_micros(low), F.unix_micros(high)
            expressions += [low.alias(f"lo{index}"), high.alias(f"hi{index}")]
        if isinstance(field.dataType, T.StringType):
            expressions.append(F.max(F.length(column)).alias(f"len{index}"))
        if isinstance(field.dataType, T.DecimalType):
            # One aggregate gives the most fractional digits and a value that has them:
            # structs order by their first field, then their second. NULLs take no part.
            digits = _fraction_digits(column, field.dataType.precision, field.dataType.scale)
            expressions.append(
                F.max(
                    F.when(column.isNotNull(), F.struct(digits.alias("s"), column.alias("v")))
                ).alias(f"sc{index}")
            )
    return expressions


def _text(value: Any, spark_type: T.DataType) -> str | None:
    if value is None:
        return None
    if isinstance(spark_type, T.DecimalType):
        # Plain digits at the column's scale (PySpark may collect 1E-10 as 1.00E-10); a wide
        # context, as 38 digits overflow Decimal's default 28.
        with localcontext(Context(prec=80)):
            return format(Decimal(value).quantize(Decimal(1).scaleb(-spark_type.scale)), "f")
    if isinstance(spark_type, T.TimestampType):  # microseconds since the epoch
        instant = _EPOCH + dt.timedelta(microseconds=int(value))
        return f"{instant.replace(tzinfo=None).isoformat()}Z"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def profile_frame(
    frame: DataFrame, *, distinct: bool = True, known: FooterStatistics | None = None
) -> DatasetProfile:
    """Profile ``frame`` with one aggregation (one job, one scan of its input).

    ``distinct=False`` leaves out approximate distinct counts, the costliest statistic (see
    docs/benchmarks.md). ``known`` are the footer statistics of the Parquet files ``frame``
    reads as a whole (no filter): row count, nulls and min/max found there are not scanned.
    """
    expressions = profile_expressions(frame, known=known)
    row: dict[str, Any] = {}
    if expressions or distinct:
        conf = frame.sparkSession.conf
        adaptive = conf.get("spark.sql.adaptive.enabled")
        # Adaptive execution runs each shuffle stage as a job of its own; one global
        # aggregate needs no re-planning, so it runs as one job with AQE off.
        conf.set("spark.sql.adaptive.enabled", "false")
        try:
            row = _aggregate(frame, expressions, distinct)
        finally:
            conf.set("spark.sql.adaptive.enabled", adaptive or "true")
    rows = known.rows if known is not None else int(row["rows"])
    columns = []
    for index, field in enumerate(frame.schema.fields):
        footer = known.column(field.name) if known is not None else None
        if footer is not None and footer.min_max_known:
            low, high = footer.min_value, footer.max_value
        else:
            low, high = row.get(f"lo{index}"), row.get(f"hi{index}")
        numeric = isinstance(field.dataType, T.DecimalType | T.IntegralType)
        widest = row.get(f"sc{index}")  # (fractional digits, a value with that many) or None
        columns.append(
            ColumnProfile(
                name=field.name,
                nulls=footer.nulls if footer is not None else rows - int(row[f"n{index}"]),
                approx_distinct=_int(row.get(f"d{index}")),
                min_value=_text(low, field.dataType),
                max_value=_text(high, field.dataType),
                max_length=_int(row.get(f"len{index}")),
                max_integer_digits=(
                    integer_digits_of_extremes(_decimal(low), _decimal(high)) if numeric else None
                ),
                max_scale=(
                    (0 if widest is None else int(widest[0]))
                    if isinstance(field.dataType, T.DecimalType)
                    else (0 if isinstance(field.dataType, T.IntegralType) else None)
                ),
                max_scale_value=(None if widest is None or widest[0] == 0 else _plain(widest[1])),
            )
        )
    return DatasetProfile(rows, tuple(columns))


def _aggregate(frame: DataFrame, expressions: list[SparkColumn], distinct: bool) -> dict[str, Any]:
    """One job: the aggregate, with distinct counts observed on the way into it.

    HyperLogLog++ is an aggregate Spark cannot generate code for, and one such aggregate
    makes Spark interpret every other aggregate beside it. Observed metrics are collected
    by the same job from the same scan, so the distinct counts go there and the rest keeps
    its generated code (see docs/benchmarks.md for what that saves).
    """
    aggregates = expressions or [F.count(F.lit(1))]
    if not distinct or not frame.schema.fields:
        return dict(frame.agg(*aggregates).collect()[0].asDict())
    observation = Observation()
    observed = frame.observe(observation, *distinct_expressions(frame))
    row = dict(observed.agg(*aggregates).collect()[0].asDict())
    row.update(observation.get)
    return row


def _plain(value: Any) -> str:
    """A decimal as plain digits without trailing zeros (0.0001000000 -> 0.0001)."""
    with localcontext(Context(prec=80)):
        return format(Decimal(value).normalize(), "f")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
