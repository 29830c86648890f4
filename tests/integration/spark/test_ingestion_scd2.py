"""SCD2 on Spark: history rules on small frames, the property that any split and order of
change batches gives the history of one sorted replay, and a run end to end."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.spark.apps_cli import ingestion
from integration.spark.iceberg_tables import iceberg_target, spark_read
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from adapters.spark import strategies

SCHEMA = T.StructType(
    [
        T.StructField("k1", T.StringType(), True),
        T.StructField("k2", T.StringType(), True),
        T.StructField("value", T.StringType(), True),
        T.StructField("seq", T.LongType(), True),
        T.StructField("op", T.StringType(), True),
    ]
)
Event = tuple[str, str, str | None, int, str]


def frame(spark: SparkSession, rows: list[Event]) -> DataFrame:
    return spark.createDataFrame(rows, SCHEMA)


def apply(spark: SparkSession, target: DataFrame | None, rows: list[Event]) -> DataFrame:
    batch = frame(spark, rows)
    strategies.refuse_ambiguous_changes(batch, ["k1", "k2"], "seq")
    history = strategies.scd2(
        target, batch, keys=["k1", "k2"], sequence="seq", deleted=F.col("op") == "D"
    )
    return spark.createDataFrame(history.collect(), history.schema)  # materialised, as written


def _none_first(row: tuple[object, ...]) -> tuple[tuple[bool, object], ...]:
    return tuple((value is not None, value) for value in row)


def versions(history: DataFrame) -> list[tuple[object, ...]]:
    """The history as sorted tuples (NULLs - tombstone values, open ends - sort first)."""
    rows = [
        (
            r["k1"],
            r["k2"],
            r["value"],
            r["valid_from"],
            r["valid_to"],
            r["is_current"],
            r["is_deleted"],
        )
        for r in history.collect()
    ]
    return sorted(rows, key=_none_first)


def test_a_b_a_gives_three_versions_and_a_delete_closes_the_open_one(spark: SparkSession) -> None:
    history = apply(
        spark,
        None,
        [
            ("a", "x", "A", 1, "U"),
            ("a", "x", "A", 2, "U"),  # no real change: no version
            ("a", "x", "B", 3, "U"),
            ("a", "x", "A", 4, "U"),
            ("b", "y", "C", 1, "U"),
            ("b", "y", None, 5, "D"),  # closes b|y
        ],
    )
    assert versions(history) == [
        ("a", "x", "A", 1, 3, False, False),
        ("a", "x", "A", 4, None, True, False),
        ("a", "x", "B", 3, 4, False, False),
        ("b", "y", None, 5, None, False, True),  # the delete's tombstone
        ("b", "y", "C", 1, 5, False, False),  # closed by the delete
    ]


def test_reapplying_a_batch_changes_nothing(spark: SparkSession) -> None:
    rows: list[Event] = [("a", "x", "A", 1, "U"), ("a", "x", "B", 2, "U")]
    once = apply(spark, None, rows)
    assert versions(apply(spark, once, rows)) == versions(once)


def test_composite_keys_are_never_concatenated(spark: SparkSession) -> None:
    history = apply(spark, None, [("ab", "c", "A", 1, "U"), ("a", "bc", "B", 1, "U")])
    assert [v[:2] for v in versions(history)] == [("a", "bc"), ("ab", "c")]


events = st.lists(
    st.tuples(
        st.sampled_from([("a", "x"), ("a", "y"), ("ab", "")]),
        st.sampled_from(["A", "B", None]),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)


def split_history(
    spark: SparkSession,
    drawn: list[tuple[tuple[str, str], str | None, bool]],
    data: st.DataObject,
    most_cuts: int,
) -> tuple[list[tuple[object, ...]], list[list[Event]]]:
    """The history of the drawn events' sorted replay (each key's events get increasing
    sequences: a random history of changes and deletes), and the events shuffled and split
    in up to ``most_cuts`` + 1 batches."""
    counters: dict[tuple[str, str], int] = {}
    rows: list[Event] = []
    for key, value, delete in drawn:
        counters[key] = counters.get(key, 0) + 1
        rows.append(
            (key[0], key[1], None if delete else value, counters[key], "D" if delete else "U")
        )
    replay = versions(apply(spark, None, sorted(rows, key=lambda r: r[3])))
    shuffled = data.draw(st.permutations(rows))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(rows) - 1)), max_size=most_cuts)))
    batches = [shuffled[i:j] for i, j in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
    return replay, batches


# Each example runs a few Spark jobs: 10 (the property end to end, below, runs it again
# through the app into Iceberg tables).
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(events, st.data())
def test_any_split_and_order_of_batches_gives_the_history_of_one_sorted_replay(
    spark: SparkSession, drawn: list[tuple[tuple[str, str], str | None, bool]], data: st.DataObject
) -> None:
    replay, batches = split_history(spark, drawn, data, 3)
    history = None
    for batch in (b for b in batches if b):
        history = apply(spark, history, batch)
    assert history is not None and versions(history) == replay


# Each example is a few runs of the app: two examples a catalog.
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(events, st.data())
def test_batches_run_into_an_iceberg_table_give_the_history_of_one_sorted_replay(
    spark: SparkSession,
    tmp_path: Path,
    home: Path,
    catalog: str,
    drawn: list[tuple[tuple[str, str], str | None, bool]],
    data: st.DataObject,
) -> None:
    """The property above, end to end: the batches, in any split and order, each a run of
    the app into an Iceberg table (SQLite or PostgreSQL catalog), leave the table holding
    the history of one sorted replay."""
    replay, batches = split_history(spark, drawn, data, 2)
    name = f"h{uuid.uuid4().hex[:8]}"  # a table and a pipeline of its own per example
    source, spec = tmp_path / name, tmp_path / f"{name}.toml"
    spec.write_text(
        f'name = "{name}"\nmode = "scd2"\nkeys = ["k1", "k2"]\nsequence = "seq"\n'
        f'[source]\nkind = "parquet"\npath = "{source}"\n'
        f'[target]\n{iceberg_target(catalog, f"crm.{name}")}\n'
        f'[deletes]\ncolumn = "op"\nvalue = "D"\n[spark]\nmaster = "local[1]"\n'
    )
    for batch in (b for b in batches if b):
        frame(spark, batch).write.mode("overwrite").parquet(str(source))
        result = ingestion(home, "run", str(spec))
        assert result.exit_code == 0, result.stderr
    assert versions(spark_read(spark, catalog, f"crm.{name}")) == replay


def test_scd2_runs_end_to_end_and_count_versions(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    frame(spark, [("a", "x", "A", 1, "U"), ("b", "x", "B", 1, "U")]).write.parquet(str(source))
    spec = tmp_path / "customers.toml"
    spec.write_text(f"""
name = "customers-history"
mode = "scd2"
keys = ["k1", "k2"]
sequence = "seq"
[source]
kind = "parquet"
path = "{source}"
[target]
{iceberg_target(catalog, "crm.customers_history")}
[deletes]
column = "op"
value = "D"
[spark]
master = "local[1]"
""")

    def run() -> dict[str, object]:
        result = ingestion(home, "run", str(spec), "--json")
        assert result.exit_code == 0, result.stderr
        return dict(json.loads(result.stdout))

    assert run()["rows_written"] == 2
    frame(spark, [("a", "x", "A2", 2, "U"), ("b", "x", None, 2, "D")]).write.mode(
        "overwrite"
    ).parquet(str(source))
    assert run()["rows_written"] == 2  # a new version of a|x, a tombstone closing b|x
    assert run()["rows_written"] == 0  # the same batch again: nothing changes
    history = spark_read(spark, catalog, "crm.customers_history")
    assert versions(history) == [
        ("a", "x", "A", 1, 2, False, False),
        ("a", "x", "A2", 2, None, True, False),
        ("b", "x", None, 2, None, False, True),
        ("b", "x", "B", 1, 2, False, False),
    ]


def test_without_a_sequence_the_load_time_orders_the_changes(
    spark: SparkSession, tmp_path: Path, home: Path, catalog: str
) -> None:
    source = tmp_path / "source"
    spec = tmp_path / "loaded.toml"
    spec.write_text(
        f'name = "loaded"\nmode = "scd2"\nkeys = ["k1", "k2"]\n'
        f'[source]\nkind = "parquet"\npath = "{source}"\n'
        f'[target]\n{iceberg_target(catalog, "crm.loaded")}\n[spark]\nmaster = "local[1]"\n'
    )
    for value in ("A", "B", "B"):  # the third run changes nothing
        frame(spark, [("a", "x", value, 0, "U")]).write.mode("overwrite").parquet(str(source))
        result = ingestion(home, "run", str(spec), "--json")
        assert result.exit_code == 0, result.stderr
    history = sorted(
        spark_read(spark, catalog, "crm.loaded").collect(), key=lambda r: r["valid_from"]
    )
    assert [(r["value"], r["is_current"]) for r in history] == [("A", False), ("B", True)]
    assert history[0]["valid_to"] == history[1]["valid_from"] == history[1]["loaded_at"]
    planned = ingestion(home, "plan", str(spec))
    assert "load time" in planned.stdout
    frame(spark, [("a", "x", "C", 0, "U"), ("a", "x", "D", 0, "U")]).write.mode(
        "overwrite"
    ).parquet(str(source))
    refused = ingestion(home, "run", str(spec))
    assert refused.exit_code == 1 and "k1='a', k2='x' appears twice" in refused.stderr
