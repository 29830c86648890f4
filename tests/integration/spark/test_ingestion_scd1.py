"""SCD1 on Spark: the pure strategy on small frames, and runs end to end with their counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integration.spark.apps_cli import ingestion, metadata
from integration.spark.iceberg_tables import iceberg_target, spark_read, subject
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from adapters.spark import strategies

SCHEMA = T.StructType(
    [
        T.StructField("k1", T.StringType(), True),
        T.StructField("k2", T.StringType(), True),
        T.StructField("amount", T.LongType(), True),
        T.StructField("seq", T.LongType(), True),
        T.StructField("op", T.StringType(), True),
    ]
)


def frame(spark: SparkSession, rows: list[tuple[object, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, SCHEMA)


def apply(target: DataFrame | None, batch: DataFrame) -> DataFrame:
    changes = strategies.scd1(
        target, batch, keys=["k1", "k2"], sequence="seq", deleted=F.col("op") == "D"
    )
    return strategies.applied(changes)


def test_the_latest_change_per_key_wins_and_deletes_remove_the_key(spark: SparkSession) -> None:
    target = frame(spark, [("a", "x", 1, 1, "U"), ("b", "x", 2, 1, "U"), ("c", "x", 3, 5, "U")])
    batch = frame(
        spark,
        [
            ("a", "x", 10, 2, "U"),
            ("a", "x", 11, 3, "U"),  # the latest change of a|x
            ("b", "x", 0, 2, "D"),  # deletes b|x
            ("c", "x", 30, 4, "U"),  # older than the target's (seq 5): changes nothing
            ("d", "x", 4, 1, "U"),  # new
        ],
    )
    assertDataFrameEqual(
        apply(target, batch),
        frame(spark, [("a", "x", 11, 3, "U"), ("c", "x", 3, 5, "U"), ("d", "x", 4, 1, "U")]),
    )


def test_reapplying_a_batch_changes_nothing(spark: SparkSession) -> None:
    batch = frame(spark, [("a", "x", 1, 1, "U"), ("b", "y", 2, 1, "U")])
    once = apply(None, batch)
    assertDataFrameEqual(apply(once, batch), once)


def test_composite_keys_are_never_concatenated(spark: SparkSession) -> None:
    target = frame(spark, [("ab", "c", 1, 1, "U")])
    batch = frame(spark, [("a", "bc", 2, 1, "U")])
    assert sorted(tuple(r)[:2] for r in apply(target, batch).collect()) == [
        ("a", "bc"),
        ("ab", "c"),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("a", "x", 1, 1, "U"), ("a", "x", 2, 1, "U")],
            "k1='a', k2='x' appears twice with seq = 1",
        ),
        ([("a", "x", 1, None, "U")], "sequence 'seq' is NULL for key k1='a', k2='x'"),
    ],
)
def test_an_ambiguous_batch_is_refused_with_the_key(
    spark: SparkSession, rows: list[tuple[object, ...]], message: str
) -> None:
    with pytest.raises(strategies.DuplicateKey, match=message):
        strategies.refuse_ambiguous_changes(frame(spark, rows), ["k1", "k2"], "seq")


def test_scd1_runs_count_inserts_updates_and_deletes(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    frame(spark, [("a", "x", 1, 1, "U"), ("b", "x", 2, 1, "U")]).write.parquet(str(source))
    spec = tmp_path / "customers.toml"
    spec.write_text(f"""
name = "customers"
mode = "scd1"
keys = ["k1", "k2"]
sequence = "seq"
[source]
kind = "parquet"
path = "{source}"
[target]
{iceberg_target(catalog, "crm.customers")}
[deletes]
column = "op"
value = "D"
[spark]
master = "local[1]"
""")
    first = ingestion(home, "run", str(spec), "--json")
    assert first.exit_code == 0, first.stderr
    frame(spark, [("a", "x", 5, 2, "U"), ("b", "x", 0, 2, "D"), ("c", "x", 3, 1, "U")]).write.mode(
        "overwrite"
    ).parquet(str(source))
    second = ingestion(home, "run", str(spec), "--json")
    assert second.exit_code == 0, second.stderr
    target = spark_read(spark, catalog, "crm.customers")
    assert sorted((r["k1"], r["amount"]) for r in target.collect()) == [("a", 5), ("c", 3)]
    volume = metadata(
        home, "latest", "ingestion_volume", subject(catalog, "crm.customers"), "--json"
    )
    payload = json.loads(volume.stdout)["payload"]
    assert (
        payload["rows_read"],
        payload["rows_inserted"],
        payload["rows_updated"],
        payload["rows_deleted"],
    ) == (3, 1, 1, 1)
    ambiguous = tmp_path / "ambiguous"
    frame(spark, [("z", "x", 1, 7, "U"), ("z", "x", 2, 7, "U")]).write.parquet(str(ambiguous))
    spec.write_text(spec.read_text().replace(str(source), str(ambiguous)))
    refused = ingestion(home, "run", str(spec))
    assert refused.exit_code == 1 and "k1='z', k2='x' appears twice" in refused.stderr


def test_a_full_extract_deletes_the_keys_it_no_longer_holds(spark: SparkSession) -> None:
    target = frame(spark, [("a", "x", 1, 1, "U"), ("b", "x", 2, 1, "U")])
    batch = frame(spark, [("a", "x", 5, 2, "U"), ("c", "x", 3, 1, "U")])
    changes = strategies.scd1(
        target, batch, keys=["k1", "k2"], sequence="seq", deleted=None, delete_missing=True
    )
    actions = sorted((r["k1"], r["__action"]) for r in changes.collect())
    assert actions == [("a", "update"), ("b", "delete"), ("c", "insert")]
    assert sorted(r["k1"] for r in strategies.applied(changes).collect()) == ["a", "c"]
