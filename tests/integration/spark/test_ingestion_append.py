"""Incremental append by watermark on Spark: the pure strategy on small frames, and the app
end to end into an Iceberg table of either catalog (ties at the boundary, late rows, NULL
watermarks, reruns, a lost state write)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from integration.spark.apps_cli import ingestion
from integration.spark.iceberg_tables import iceberg_target, pipeline_file, spark_read, table_exists
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from adapters.spark import strategies

SCHEMA = T.StructType(
    [
        T.StructField("id", T.LongType(), False),
        T.StructField("amount", T.LongType(), True),
        T.StructField("updated_at", T.TimestampType(), True),
    ]
)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, 1, hour, minute, tzinfo=dt.UTC)


def frame(spark: SparkSession, rows: list[tuple[int, int, dt.datetime | None]]) -> DataFrame:
    return spark.createDataFrame(rows, SCHEMA)


def test_rows_at_the_boundary_load_once_and_earlier_rows_never(spark: SparkSession) -> None:
    loaded = frame(spark, [(1, 10, at(6)), (2, 20, at(7)), (3, 30, at(7))])
    batch = frame(
        spark,
        [
            (1, 10, at(6)),  # before the committed watermark: not read again
            (2, 20, at(7)),  # at the boundary, already loaded: skipped
            (3, 30, at(7)),  # same
            (4, 40, at(7)),  # at the boundary, arrived late: loaded once
            (5, 50, at(8)),  # after: loaded
            (6, 60, None),  # NULL watermark: left to the null_cursor policy
        ],
    )
    lower = F.lit("2024-05-01 07:00:00").cast("timestamp")
    window = loaded.where(F.col("updated_at") >= lower)
    result = strategies.append(
        batch, window, column="updated_at", lower=lower, identity=["id"], include_nulls=False
    )
    assertDataFrameEqual(result, frame(spark, [(4, 40, at(7)), (5, 50, at(8))]))
    with_nulls = strategies.append(
        batch, window, column="updated_at", lower=lower, identity=["id"], include_nulls=True
    )
    assert sorted(r["id"] for r in with_nulls.collect()) == [4, 5, 6]


def test_composite_keys_compare_column_by_column(spark: SparkSession) -> None:
    schema = T.StructType(
        [
            T.StructField("a", T.StringType()),
            T.StructField("b", T.StringType()),
            T.StructField("w", T.LongType()),
        ]
    )
    loaded = spark.createDataFrame([("ab", "c", 1)], schema)
    batch = spark.createDataFrame([("a", "bc", 1), ("ab", "c", 1)], schema)
    result = strategies.append(
        batch, loaded, column="w", lower=F.lit(1), identity=["a", "b"], include_nulls=False
    )
    assert [tuple(r) for r in result.collect()] == [("a", "bc", 1)]  # not confused with ab|c


def pipeline(
    tmp_path: Path, source: Path, catalog: str, null_cursor: str = "raise", lag: str = ""
) -> Path:
    watermark = f'column = "updated_at"\nnull_cursor = "{null_cursor}"'
    return pipeline_file(
        tmp_path,
        "orders-append",
        mode="append",
        keys=["id"],
        source=source,
        target=iceberg_target(catalog, "sales.orders"),
        sections={"watermark": watermark + (f'\nlag = "{lag}"' if lag else "")},
        file_name=f"append-{null_cursor}.toml",
    )


def test_two_batches_append_once_and_a_rerun_loads_nothing(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    frame(spark, [(1, 10, at(6)), (2, 20, at(7))]).write.parquet(str(source))
    spec = pipeline(tmp_path, source, catalog, lag="30m")
    first = ingestion(home, "run", str(spec), "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["rows_written"] == 2
    # The source grows: a late row at the boundary, a late row inside the lag, a new row.
    frame(spark, [(3, 30, at(7)), (4, 40, at(6, 45)), (5, 50, at(9))]).write.mode("append").parquet(
        str(source)
    )
    second = ingestion(home, "run", str(spec), "--json")
    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout)["rows_written"] == 3
    third = ingestion(home, "run", str(spec), "--json")
    assert json.loads(third.stdout)["rows_written"] == 0
    target = spark_read(spark, catalog, "sales.orders")
    assert sorted(r["id"] for r in target.collect()) == [1, 2, 3, 4, 5]
    state = json.loads(ingestion(home, "state", "show", "orders-append", "--json").stdout)
    assert state[0]["watermark"] == "2024-05-01 09:00:00"


def test_a_lost_state_write_is_recovered_from_the_commit_marker(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    frame(spark, [(1, 10, at(6)), (2, 20, at(7))]).write.parquet(str(source))
    spec = pipeline(tmp_path, source, catalog)
    assert ingestion(home, "run", str(spec)).exit_code == 0
    # As if the run was killed after its commit and before its state write:
    assert ingestion(home, "state", "reset", "orders-append", "--yes").exit_code == 0
    again = ingestion(home, "run", str(spec), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["rows_written"] == 0
    target = spark_read(spark, catalog, "sales.orders")
    assert target.count() == 2


def test_null_watermarks_raise_by_default_and_exclude_counts_them(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    frame(spark, [(1, 10, at(6)), (2, 20, None)]).write.parquet(str(source))
    refused = ingestion(home, "run", str(pipeline(tmp_path, source, catalog)))
    assert refused.exit_code == 1
    assert "1 source row(s) have a NULL updated_at; nothing was written" in refused.stderr
    assert not [p for p in (home / "iceberg" / "warehouse").rglob("*") if p.is_file()]
    assert not table_exists(catalog, "sales.orders")
    excluded = ingestion(home, "run", str(pipeline(tmp_path, source, catalog, "exclude")), "--json")
    assert excluded.exit_code == 0, excluded.stderr
    assert json.loads(excluded.stdout)["rows_written"] == 1


def test_moving_the_watermark_back_rereads_without_duplicating(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    frame(spark, [(1, 10, at(6)), (2, 20, at(7)), (3, 30, at(8))]).write.parquet(str(source))
    spec = pipeline(tmp_path, source, catalog)
    assert ingestion(home, "run", str(spec)).exit_code == 0
    moved = ingestion(
        home, "state", "set", "orders-append", "--watermark", "2024-05-01 05:00:00", "--yes"
    )
    assert moved.exit_code == 0, moved.stderr
    again = ingestion(home, "run", str(spec), "--json")
    assert (
        json.loads(again.stdout)["rows_read"] == 3 and json.loads(again.stdout)["rows_written"] == 0
    )
    missing = ingestion(home, "state", "set", "nope", "--watermark", "1", "--yes")
    assert missing.exit_code == 1 and "has no state" in missing.stderr
