"""Database targets (PostgreSQL, SQLite): every mode lands the same rows as the same
pipeline into Parquet, through staging tables and one apply transaction with a commit
marker; a refused or failed run leaves the target as it was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from integration.spark.apps_cli import ingestion, metadata, said
from integration.spark.iceberg_tables import home_catalog, pipeline_file, spark_read
from integration.spark.postgres_targets import staging_tables
from pyspark.sql import SparkSession
from pyspark.sql import types as T
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services import fresh_schema

SCHEMA = T.StructType(
    [
        T.StructField("k1", T.StringType(), True),
        T.StructField("k2", T.StringType(), True),
        T.StructField("amount", T.DecimalType(10, 2), True),
        T.StructField("seq", T.LongType(), True),
        T.StructField("op", T.StringType(), True),
    ]
)

BATCHES = [
    [
        ("a", "x", Decimal("1.10"), 1, "U"),
        ("b", "x", Decimal("2.00"), 1, "U"),
        ("ab", "c", Decimal("3.00"), 1, "U"),
    ],
    [
        ("a", "x", Decimal("5.00"), 2, "U"),
        ("a", "x", Decimal("6.00"), 3, "U"),
        ("b", "x", None, 2, "D"),
        ("a", "bc", Decimal("4.00"), 1, "U"),
        ("ab", "c", Decimal("0.50"), 0, "U"),  # older than the stored change: no effect
    ],
    [
        ("a", "x", Decimal("1.10"), 4, "U"),  # back to the first value: a new version
        ("b", "x", Decimal("7.00"), 3, "U"),  # comes back after its delete
    ],
]


@pytest.fixture
def postgres_target() -> Iterator[tuple[str, str]]:
    """(url, schema) of a fresh PostgreSQL schema for one test's target tables."""
    with fresh_schema() as schema:
        yield make_url(schema.server).set(drivername="postgresql").render_as_string(
            hide_password=False
        ), schema.name


def _pipeline(tmp_path: Path, source: Path, mode: str, target: str) -> Path:
    keyed = mode in ("scd1", "scd2")
    sections = {"deletes": 'column = "op"\nvalue = "D"'} if keyed else {}
    if mode == "append":
        sections["watermark"] = 'column = "seq"'
    return pipeline_file(
        tmp_path,
        f"t-{mode}-{uuid.uuid4().hex[:6]}",
        mode=mode,
        keys={"full": [], "append": ["k1", "k2", "seq"]}.get(mode, ["k1", "k2"]),
        sequence="seq" if keyed else None,
        source=source,
        target=target,
        sections=sections,
    )


def _postgres(url: str, schema: str) -> tuple[str, str]:
    """(the [target] lines of a table orders in ``schema``, the SQLAlchemy URL to read it)."""
    target = f'kind = "postgresql"\nurl = "{url}"\ntable = "{schema}.orders"'
    return target, url.replace("postgresql://", "postgresql+psycopg://")


def _run_batches(spark: SparkSession, tmp_path: Path, home: Path, spec: Path, source: Path) -> None:
    for rows in BATCHES:
        spark.createDataFrame(rows, SCHEMA).write.mode("overwrite").parquet(str(source))
        result = ingestion(home, "run", str(spec), "--json")
        assert result.exit_code == 0, result.stderr


def _normal(row: dict[str, Any]) -> tuple[Any, ...]:
    values = []
    for name in sorted(row):
        value = row[name]
        if name == "sequences":
            value = tuple(json.loads(value)) if isinstance(value, str) else tuple(value)
            value = tuple(int(v) for v in value)
        elif name == "amount" and value is not None:  # SQLite keeps 7.00 as 7
            value = Decimal(str(value)).quantize(Decimal("0.01"))
        elif name in ("is_current", "is_deleted") and value is not None:
            value = bool(value)
        values.append((name, value))
    return tuple(values)


def _database_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
    finally:
        engine.dispose()
    return sorted((_normal(dict(r)) for r in rows), key=repr)


REFERENCE = 'kind = "iceberg"\ntable = "reference.orders"'


def _reference_rows(spark: SparkSession, home: Path) -> list[tuple[Any, ...]]:
    """The rows of the reference pipeline's Iceberg table (in the home's catalog)."""
    found = spark_read(spark, home_catalog(home), "reference.orders").collect()
    return sorted((_normal(r.asDict()) for r in found), key=repr)


@pytest.mark.parametrize("mode", ["full", "append", "scd1", "scd2"])
def test_postgresql_target_holds_what_an_iceberg_target_holds(
    spark: SparkSession,
    postgresql_jdbc: None,
    postgres_target: tuple[str, str],
    tmp_path: Path,
    home: Path,
    mode: str,
) -> None:
    url, schema = postgres_target
    parquet_source, database_source = tmp_path / "p-source", tmp_path / "d-source"
    reference = _pipeline(tmp_path, parquet_source, mode, REFERENCE)
    target, sqlalchemy_url = _postgres(url, schema)
    spec = _pipeline(tmp_path, database_source, mode, target)
    _run_batches(spark, tmp_path, home, reference, parquet_source)
    _run_batches(spark, tmp_path, home, spec, database_source)
    assert _database_rows(sqlalchemy_url, f'"{schema}".orders') == _reference_rows(spark, home)
    engine = create_engine(sqlalchemy_url)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
            {"s": schema},
        ).scalars()
        markers = connection.execute(
            text(f'SELECT count(*) FROM "{schema}"._dataplatform_commits')
        ).scalar_one()
        assert sorted(tables) == ["_dataplatform_commits", "orders"]  # no staging left
    engine.dispose()
    assert markers == len(BATCHES)
    subject = f"postgres://127.0.0.1:5432::test.{schema}.orders"
    volume = metadata(home, "latest", "ingestion_volume", subject, "--json")
    assert volume.exit_code == 0, volume.stderr
    # Batch 3 as each mode applies it: a|x and b|x rows (full: the batch; append: two new
    # (k1, k2, seq); scd1: a|x updated and b|x back; scd2: two new versions).
    assert json.loads(volume.stdout)["payload"]["rows_written"] == 2


@pytest.mark.parametrize("mode", ["full", "append", "scd1", "scd2"])
def test_sqlite_target_holds_what_an_iceberg_target_holds(
    spark: SparkSession, tmp_path: Path, home: Path, mode: str
) -> None:
    parquet_source, database_source = tmp_path / "p-source", tmp_path / "d-source"
    database = tmp_path / "warehouse.db"
    reference = _pipeline(tmp_path, parquet_source, mode, REFERENCE)
    spec = _pipeline(
        tmp_path, database_source, mode, f'kind = "sqlite"\npath = "{database}"\ntable = "orders"'
    )
    _run_batches(spark, tmp_path, home, reference, parquet_source)
    _run_batches(spark, tmp_path, home, spec, database_source)
    assert _database_rows(f"sqlite:///{database}", "orders") == _reference_rows(spark, home)


def test_scd1_counts_and_a_refused_batch_leave_postgresql_unchanged(
    spark: SparkSession,
    postgresql_jdbc: None,
    postgres_target: tuple[str, str],
    tmp_path: Path,
    home: Path,
) -> None:
    url, schema = postgres_target
    source = tmp_path / "source"
    target, sqlalchemy_url = _postgres(url, schema)
    spec = _pipeline(tmp_path, source, "scd1", target)
    _run_batches(spark, tmp_path, home, spec, source)
    subject = f"postgres://127.0.0.1:5432::test.{schema}.orders"
    payload = json.loads(metadata(home, "latest", "ingestion_volume", subject, "--json").stdout)[
        "payload"
    ]
    # Batch 3: a|x updated, b|x inserted again.
    assert (payload["rows_read"], payload["rows_inserted"], payload["rows_updated"]) == (2, 1, 1)
    before = _database_rows(sqlalchemy_url, f'"{schema}".orders')
    spark.createDataFrame([(None, "x", Decimal("1"), 9, "U")], SCHEMA).write.mode(
        "overwrite"
    ).parquet(str(source))
    refused = ingestion(home, "run", str(spec))
    assert refused.exit_code == 1
    assert "NULL key" in refused.stderr and "k1=None" in refused.stderr
    assert _database_rows(sqlalchemy_url, f'"{schema}".orders') == before


def test_the_precision_gate_on_postgresql_refuses_then_widens(
    spark: SparkSession,
    postgresql_jdbc: None,
    postgres_target: tuple[str, str],
    tmp_path: Path,
    home: Path,
) -> None:
    url, schema = postgres_target
    source = tmp_path / "source"
    target, sqlalchemy_url = _postgres(url, schema)
    spec = _pipeline(tmp_path, source, "scd1", target)
    _run_batches(spark, tmp_path, home, spec, source)
    before = _database_rows(sqlalchemy_url, f'"{schema}".orders')
    wide = T.StructType(
        [f if f.name != "amount" else T.StructField("amount", T.DecimalType(20, 3)) for f in SCHEMA]
    )
    spark.createDataFrame(
        [("q", "x", Decimal("5.000"), 9, "U"), ("big", "y", Decimal("123456789012.250"), 9, "U")],
        wide,
    ).write.mode("overwrite").parquet(str(source))
    refused = ingestion(home, "run", str(spec))
    assert refused.exit_code == 1, refused.stderr
    assert "column amount" in refused.stderr and "123456789012.25" in refused.stderr
    assert "k1='big', k2='y'" in refused.stderr and "nothing was written" in refused.stderr
    assert _database_rows(sqlalchemy_url, f'"{schema}".orders') == before
    spec.write_text(
        spec.read_text().replace("[deletes]", '[policy]\nprecision = "widen"\n[deletes]')
    )
    widened = ingestion(home, "run", str(spec))
    assert widened.exit_code == 0, widened.stderr
    engine = create_engine(sqlalchemy_url)
    with engine.connect() as connection:
        precision, scale = connection.execute(
            text(
                "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
                "WHERE table_schema = :s AND table_name = 'orders' AND column_name = 'amount'"
            ),
            {"s": schema},
        ).one()
        amount = connection.execute(
            text(f"SELECT amount FROM \"{schema}\".orders WHERE k1 = 'big'")
        ).scalar_one()
    engine.dispose()
    assert precision - scale >= 12 and amount == Decimal("123456789012.25")


def test_awkward_values_arrive_in_postgresql_exactly(
    spark: SparkSession,
    postgresql_jdbc: None,
    postgres_target: tuple[str, str],
    tmp_path: Path,
    home: Path,
) -> None:
    """Text with quotes, commas, newlines, backslashes, edge spaces; '' apart from NULL;
    instants, dates, decimals, doubles: what the staging COPY carries, unchanged."""
    from datetime import date, datetime

    url, schema = postgres_target
    awkward = T.StructType(
        [
            T.StructField("id", T.LongType()),
            T.StructField("note", T.StringType()),
            T.StructField("at", T.TimestampType()),
            T.StructField("day", T.DateType()),
            T.StructField("amount", T.DecimalType(38, 10)),
            T.StructField("score", T.DoubleType()),
            T.StructField("flag", T.BooleanType()),
        ]
    )
    instant = datetime(2024, 5, 1, 6, 30, 15, 123456, tzinfo=UTC)
    rows = [
        (1, 'say "hi", then\nleave \\ now', instant, date(2024, 2, 29), Decimal("-1.5"), 0.1, True),
        (2, "", None, None, None, None, None),
        (
            3,
            None,
            instant,
            date(1, 1, 1),
            Decimal("1234567890123456789012345678.0123456789"),
            -1e300,
            False,
        ),
        (4, "  edges  ", instant, date(9999, 12, 31), Decimal("0E-10"), float("inf"), True),
        (5, "ünïcødé ☃ \t tab", instant, date(2024, 1, 1), Decimal("1"), float("nan"), False),
    ]
    source = tmp_path / "awkward"
    spark.createDataFrame(rows, awkward).write.parquet(str(source))
    spec = tmp_path / "awkward.toml"
    spec.write_text(
        f'name = "awkward"\nmode = "full"\nkeys = ["id"]\n[source]\nkind = "parquet"\n'
        f'path = "{source}"\n[target]\nkind = "postgresql"\nurl = "{url}"\n'
        f'table = "{schema}.awkward"\n[spark]\nmaster = "local[1]"\n'
    )
    result = ingestion(home, "run", str(spec))
    assert result.exit_code == 0, result.stderr
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        stored = connection.execute(
            text(
                f'SELECT id, note, at, day, amount, score, flag FROM "{schema}".awkward ORDER BY id'
            )
        ).all()
    engine.dispose()
    for expected, found in zip(rows, stored, strict=True):
        assert found[:5] == expected[:5]
        score, wanted = found[5], expected[5]
        assert (score != score and wanted != wanted) or score == wanted  # NaN equals NaN here
        assert found[6] == expected[6]


def test_a_full_refresh_whose_source_fails_midway_leaves_postgresql_as_it_was(
    spark: SparkSession,
    postgresql_jdbc: None,
    postgres_target: tuple[str, str],
    tmp_path: Path,
    home: Path,
) -> None:
    url, schema = postgres_target
    source = tmp_path / "source"
    rows = [(f"k{i}", "x", Decimal(i), i, "U") for i in range(40)]
    spark.createDataFrame(rows, SCHEMA).repartition(4).write.parquet(str(source))
    target, sqlalchemy_url = _postgres(url, schema)
    spec = _pipeline(tmp_path, source, "full", target)
    assert ingestion(home, "run", str(spec)).exit_code == 0
    before = _database_rows(sqlalchemy_url, f'"{schema}".orders')
    victim = sorted(source.glob("part-*.parquet"))[-1]
    victim.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")  # Spark fails while staging
    failed = ingestion(home, "run", str(spec))
    assert failed.exit_code == 1 and "Traceback" not in failed.stderr
    assert "staging table (the target is unchanged) failed" in failed.stderr
    assert len(said(failed)) == 1
    assert _database_rows(sqlalchemy_url, f'"{schema}".orders') == before
    assert staging_tables(sqlalchemy_url, schema) == 0


@pytest.mark.parametrize(
    ("target", "message", "code"),
    [
        (
            'kind = "postgresql"\nurl = "postgresql://nobody@127.0.0.1:1/nowhere"\n'
            'table = "public.orders"',
            "target public.orders (postgresql): connection failed",
            1,  # the database is away: not the pipeline's fault
        ),
        (
            'kind = "sqlite"\npath = "/nonexistent/dir/w.db"\ntable = "orders"',
            "target orders in the SQLite file /nonexistent/dir/w.db: the folder /nonexistent/dir "
            "does not exist; create it",
            2,  # the pipeline names a place that is not there: said before Spark reads
        ),
    ],
)
def test_an_unreachable_target_is_one_line_naming_it(
    spark: SparkSession, tmp_path: Path, home: Path, target: str, message: str, code: int
) -> None:
    source = tmp_path / "source"
    spark.createDataFrame(BATCHES[0], SCHEMA).write.parquet(str(source))
    failed = ingestion(home, "run", str(_pipeline(tmp_path, source, "full", target)))
    assert failed.exit_code == code and message in failed.stderr, failed.stderr
    assert len(said(failed)) == 1 and "bug" not in failed.stderr
