"""Spark adapters on small frames built from explicit schemas: type mapping, the one-scan
profiler, file and JDBC endpoints, probes."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from adapters.spark.catalog import SparkCatalog, SparkProbe
from adapters.spark.endpoints import EndpointConfig, FileEndpoint, JdbcEndpoint
from adapters.spark.profiler import profile_frame
from adapters.spark.session import (
    MissingJdbcDriver,
    SparkSessionProvider,
    SparkSettings,
    jdbc_jar,
    require_driver,
)
from adapters.spark.types import from_spark, schema_from_spark, to_spark
from domain.schema import DataType, DecimalType, IntegerType, StringType, TimestampType
from services import postgres_url
from strategies import data_types

SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType(), False),
        T.StructField("amount", T.DecimalType(38, 10), True),
        T.StructField("name", T.StringType(), True),
        T.StructField("placed_at", T.TimestampType(), True),
        T.StructField("qty", T.IntegerType(), True),
    ]
)
ROWS = [
    (1, Decimal("4821133.1200000000"), "Aalto", dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC), 3),
    (2, Decimal("-12.5000000000"), None, None, -40000),
    (3, Decimal("0.0001000000"), "Zyx", dt.datetime(2024, 5, 2, 6, tzinfo=dt.UTC), None),
]


@pytest.fixture
def orders(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(ROWS, SCHEMA)


def _spark_safe(data_type: DataType) -> bool:
    """Types Spark stores as declared (it has no bounded strings)."""
    if isinstance(data_type, StringType):
        return data_type.max_length is None
    children = [getattr(data_type, a) for a in ("element", "key", "value") if hasattr(data_type, a)]
    children += [f.type for f in getattr(data_type, "fields", ())]
    return all(_spark_safe(c) for c in children)


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(data_types.filter(_spark_safe))
def test_types_round_trip_through_spark(data_type: DataType) -> None:
    assert from_spark(to_spark(data_type)) == data_type


def test_spark_types_map_loss_free() -> None:
    assert from_spark(T.DecimalType(38, 10)) == DecimalType(38, 10)
    assert from_spark(T.TimestampType()) == TimestampType(with_timezone=True)
    assert from_spark(T.TimestampNTZType()) == TimestampType(with_timezone=False)
    assert from_spark(T.ShortType()) == IntegerType(16)


def test_profile_is_one_job_over_one_scan(
    spark: SparkSession, orders: DataFrame, tmp_path: Path
) -> None:
    orders.write.parquet(str(tmp_path / "orders"))
    frame = spark.read.parquet(str(tmp_path / "orders"))
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("profile-under-test", "profile")
    try:
        profile = profile_frame(frame)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    assert len(tracker.getJobIdsForGroup("profile-under-test")) == 1
    columns = {c.name: c for c in profile.columns}
    assert profile.row_count == 3
    assert (columns["amount"].max_integer_digits, columns["amount"].max_scale) == (7, 4)
    assert columns["amount"].max_scale_value == "0.0001"  # the value a rounding error names
    assert columns["amount"].max_value == "4821133.1200000000"
    assert (columns["name"].nulls, columns["name"].max_length) == (1, 5)
    assert (columns["qty"].min_value, columns["qty"].max_value, columns["qty"].nulls) == (
        "-40000",
        "3",
        1,
    )
    assert columns["placed_at"].min_value == "2024-05-01T06:00:00Z"


def test_profile_renders_instants_in_utc_whatever_the_local_zone(
    orders: DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders.count()  # the rows are in the JVM before the zone changes
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        profile = profile_frame(orders)
    finally:
        monkeypatch.undo()
        time.tzset()
    placed = {c.name: c for c in profile.columns}["placed_at"]
    assert (placed.min_value, placed.max_value) == ("2024-05-01T06:00:00Z", "2024-05-02T06:00:00Z")


@pytest.mark.parametrize("kind", ["parquet", "json", "csv"])
def test_file_endpoints_write_and_read_back(
    spark: SparkSession, orders: DataFrame, tmp_path: Path, kind: str
) -> None:
    endpoint = FileEndpoint(
        EndpointConfig(name="orders", kind=kind, path=str(tmp_path / kind)), spark
    )
    endpoint.write(orders, "overwrite")
    back = endpoint.read()
    if kind == "parquet":
        assertDataFrameEqual(back, orders)
    else:  # text formats carry values, not types
        assert back.count() == 3
        assert {r["name"] for r in back.collect()} == {"Aalto", None, "Zyx"}


@pytest.mark.usefixtures("sqlite_jdbc")
def test_sqlite_jdbc_keeps_decimals_exact_and_bigints_wide(
    spark: SparkSession, orders: DataFrame, tmp_path: Path
) -> None:
    config = EndpointConfig(
        name="orders", kind="jdbc", url=f"jdbc:sqlite:{tmp_path / 'orders.db'}", table="orders"
    )
    endpoint = JdbcEndpoint(config, spark)
    endpoint.write(orders.drop("placed_at"), "overwrite")
    back = endpoint.read()
    assert back.schema["id"].dataType == T.LongType()
    assert back.schema["amount"].dataType == T.DecimalType(38, 10)
    # SQLite's INTEGER affinity holds 64 bits, whatever width the writer had: qty reads wide.
    assert back.schema["qty"].dataType == T.LongType()
    assert endpoint.sql_schema().column("qty").type == IntegerType(64)  # type: ignore[union-attr]
    assertDataFrameEqual(back.collect(), orders.drop("placed_at").collect())
    assert endpoint.sql_schema().column("amount").type == DecimalType(38, 10)  # type: ignore[union-attr]


@pytest.mark.usefixtures("postgresql_jdbc")
def test_postgres_jdbc_round_trip_and_probes(spark: SparkSession, orders: DataFrame) -> None:
    url = postgres_url()
    table = f"spark_orders_{abs(hash(url)) % 10_000}"
    config = EndpointConfig(
        name=table,
        kind="jdbc",
        url="jdbc:postgresql://127.0.0.1:5432/test",
        table=f"public.{table}",
        user="postgres",
    )
    endpoint = JdbcEndpoint(config, spark)
    try:
        endpoint.write(orders, "overwrite")
        assertDataFrameEqual(endpoint.read(), orders)
        probe = SparkProbe(endpoint)
        assert probe.row_count(exact=True) == 3
        assert probe.min_max("qty") == ("-40000", "3")
    finally:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS public.{table}"))
        engine.dispose()


def test_file_probes(spark: SparkSession, orders: DataFrame, tmp_path: Path) -> None:
    endpoint = FileEndpoint(
        EndpointConfig(name="orders", kind="parquet", path=str(tmp_path / "p")), spark
    )
    endpoint.write(orders, "overwrite")
    probe = SparkProbe(endpoint)
    assert probe.row_count() == 3
    assert probe.min_max("amount") == ("-12.5000000000", "4821133.1200000000")
    size = probe.size_bytes()
    assert size is not None and size > 0


def test_catalog_reads_schemas_and_profiles(
    sessions: SparkSessionProvider, orders: DataFrame, tmp_path: Path
) -> None:
    orders.write.parquet(str(tmp_path / "orders"))
    config = EndpointConfig(name="orders", kind="parquet", path=str(tmp_path / "orders"))
    catalog = SparkCatalog([config], sessions)
    (subject,) = catalog.datasets()
    schema = catalog.schema(subject)
    # Parquet files read back as nullable; names and types are what the files declare.
    assert [(c.name, c.type) for c in schema.columns] == [
        (c.name, c.type) for c in schema_from_spark(SCHEMA).columns
    ]
    assert catalog.profile(subject, schema).row_count == 3


def test_a_jdbc_endpoint_without_its_driver_says_what_to_install(
    spark: SparkSession, tmp_path: Path
) -> None:
    """No ClassNotFoundException from the JVM: one line naming the package (item 5)."""
    nowhere = {"postgresql": (tmp_path / "postgresql.jar", "libpostgresql-jdbc-java")}
    with pytest.raises(MissingJdbcDriver) as missing:
        require_driver(
            spark, "postgresql", classes={"postgresql": "org.example.NoDriver"}, debian=nowhere
        )
    message = str(missing.value)
    assert "apt-get install libpostgresql-jdbc-java" in message and "\n" not in message
    require_driver(spark, "postgresql", classes={"postgresql": "org.apache.spark.SparkConf"})


def test_missing_jdbc_jars_name_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(MissingJdbcDriver, match="no such file"):
        jdbc_jar("sqlite", SparkSettings(jars={"sqlite": str(tmp_path / "nope.jar")}))
    nowhere = {"postgresql": (tmp_path / "postgresql.jar", "libpostgresql-jdbc-java")}
    with pytest.raises(MissingJdbcDriver, match="apt-get install libpostgresql-jdbc-java"):
        jdbc_jar("postgresql", SparkSettings(), environ={}, debian=nowhere)
    jar = tmp_path / "pg.jar"
    jar.write_bytes(b"")
    assert (
        jdbc_jar(
            "postgresql",
            SparkSettings(),
            environ={"DATAPLATFORM_JDBC_JARS": f"postgresql={jar}"},
            debian=nowhere,
        )
        == jar
    )


def test_nulls_take_no_part_in_the_fractional_digits(spark: SparkSession) -> None:
    """A NULL has no digits: decimal(10,4) holding 1.5 and NULL uses one fractional digit."""
    schema = T.StructType([T.StructField("x", T.DecimalType(10, 4), True)])
    frame = spark.createDataFrame([(Decimal("1.5"),), (None,), (Decimal("20"),)], schema)
    (column,) = profile_frame(frame, distinct=False).columns
    assert (column.max_scale, column.max_scale_value, column.nulls) == (1, "1.5", 1)
    nothing = spark.createDataFrame([(None,)], schema)
    (empty,) = profile_frame(nothing, distinct=False).columns
    assert (empty.max_scale, empty.max_scale_value) == (0, None)
