"""Every platform type through an Iceberg target and back: decimals at their precision,
instants and wall times to the microsecond, dates, any Unicode, booleans, nested structs and
lists, NULLs wherever allowed. Written by a run, read back by the runtime (Spark over the
snapshot's files) and by DuckDB: both equal the source, row by row."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Context, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.spark.apps_cli import ingestion
from integration.spark.iceberg_tables import duckdb_rows, home_catalog, spark_read
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType(), False),
        T.StructField("small", T.IntegerType()),
        T.StructField("price", T.DecimalType(38, 10)),
        T.StructField("money", T.DecimalType(9, 2)),
        T.StructField("ratio", T.DoubleType()),
        T.StructField("flag", T.BooleanType()),
        T.StructField("text", T.StringType()),
        T.StructField("day", T.DateType()),
        T.StructField("instant", T.TimestampType()),
        T.StructField("wall", T.TimestampNTZType()),
        T.StructField(
            "detail",
            T.StructType(
                [
                    T.StructField("code", T.StringType()),
                    T.StructField("tags", T.ArrayType(T.StringType())),
                ]
            ),
        ),
        T.StructField("counts", T.ArrayType(T.LongType())),
    ]
)
_EPOCH = datetime(1970, 1, 1)


def _decimal(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    """Decimals of ``precision`` digits, ``scale`` of them after the point: all of them,
    exactly (Python's default context would round past 28 digits)."""
    exact = Context(prec=precision)
    return st.integers(-(10**precision) + 1, 10**precision - 1).map(
        lambda n: Decimal(n).scaleb(-scale, context=exact)
    )


_TEXT = st.text(st.characters(codec="utf-8"), max_size=20)  # any but surrogates
_WALL = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
ROW = st.tuples(
    st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    st.one_of(st.none(), _decimal(38, 10)),
    st.one_of(st.none(), _decimal(9, 2)),
    st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), _TEXT),
    st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1))),
    st.one_of(st.none(), _WALL.map(lambda d: d.replace(tzinfo=UTC))),
    st.one_of(st.none(), _WALL),
    st.one_of(
        st.none(),
        st.tuples(
            st.one_of(st.none(), _TEXT),
            st.one_of(st.none(), st.lists(st.one_of(st.none(), _TEXT), max_size=3)),
        ),
    ),
    st.one_of(
        st.none(), st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=4)
    ),
)


def _comparable(frame: DataFrame) -> list[tuple[Any, ...]]:
    """Rows with the instant as microseconds since the epoch (Python's datetime of an
    instant depends on the process's time zone; the number does not)."""
    return sorted(
        tuple(row)
        for row in frame.select(
            *(
                F.unix_micros("instant").alias("instant") if c == "instant" else F.col(c)
                for c in SCHEMA.names
            )
        ).collect()
    )


def _plain(value: Any) -> Any:
    """A Spark Row (a struct) as the tuple DuckDB gives; lists element by element."""
    if isinstance(value, T.Row):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return tuple(_plain(v) for v in value.values())
    return value


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(ROW, min_size=1, max_size=40))
def test_every_type_reads_back_equal_from_the_runtime_and_from_duckdb(
    spark: SparkSession, tmp_path_factory: Any, rows: list[tuple[Any, ...]]
) -> None:
    home = tmp_path_factory.mktemp("home")
    source = home / "source"
    numbered = [(i, *row) for i, row in enumerate(rows)]
    expected_frame = spark.createDataFrame(numbered, SCHEMA)
    expected_frame.write.parquet(str(source))
    pipeline = home / "types.toml"
    pipeline.write_text(
        f'name = "types"\n[source]\nkind = "parquet"\npath = "{source}"\n'
        '[target]\nkind = "iceberg"\ntable = "lab.types"\n[spark]\nmaster = "local[1]"\n'
    )
    result = ingestion(home, "run", str(pipeline), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows_written"] == len(rows)
    expected = [
        tuple(_plain(v) for v in row) for row in _comparable(spark.read.parquet(str(source)))
    ]
    catalog = home_catalog(home)
    ours = [
        tuple(_plain(v) for v in row)
        for row in _comparable(spark_read(spark, catalog, "lab.types"))
    ]
    assert ours == expected
    columns = ", ".join("epoch_us(instant)" if c == "instant" else c for c in SCHEMA.names)
    theirs = sorted(
        tuple(_plain(v) for v in row)
        for row in duckdb_rows(catalog, "lab.types", f"SELECT {columns} FROM t")
    )
    assert theirs == expected
