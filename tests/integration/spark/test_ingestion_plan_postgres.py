"""`ingestion plan` on a PostgreSQL source of a million rows: the partitioning from the
probe, and a run whose partitioned read holds every row exactly once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.spark.apps_cli import ingestion
from integration.spark.iceberg_tables import home_catalog, spark_read
from pyspark.sql import SparkSession
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services import postgres_url

ROWS = 1_000_000


@pytest.fixture
def million() -> Iterator[tuple[str, str]]:
    """(JDBC URL, table) of a fresh PostgreSQL table of ROWS rows (ids 1..ROWS)."""
    url = postgres_url()
    table = f"plan_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE {table} AS SELECT g AS id, g % 97 AS customer_id, "
                f"(g % 10000) / 100.0 AS amount, md5(g::text) AS note FROM "
                f"generate_series(1, {ROWS}) g"
            )
        )
        connection.execute(text(f"ALTER TABLE {table} ADD PRIMARY KEY (id)"))
        connection.execute(text(f"ANALYZE {table}"))
    parsed = make_url(url)
    jdbc = f"jdbc:postgresql://{parsed.host}:{parsed.port or 5432}/{parsed.database}"
    try:
        yield jdbc, table
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def test_plan_partitions_a_million_row_source_and_the_run_reads_each_row_once(
    spark: SparkSession, postgresql_jdbc: None, million: tuple[str, str], tmp_path: Path, home: Path
) -> None:
    jdbc, table = million
    spec = tmp_path / "big.toml"
    spec.write_text(
        f'name = "big"\nmode = "full"\nkeys = ["id"]\n'
        f'[source]\nkind = "jdbc"\nurl = "{jdbc}"\ntable = "{table}"\nuser = "postgres"\n'
        f'[target]\nkind = "iceberg"\ntable = "big.orders"\n'
        f'[spark]\nmaster = "local[2]"\n'
    )
    planned = ingestion(home, "plan", str(spec), "--json")
    assert planned.exit_code == 0, planned.stderr
    shown = json.loads(planned.stdout)
    parts = shown["partitioning"]
    assert parts["column"] == "id" and (parts["lowest"], parts["highest"]) == (1, ROWS)
    assert parts["count"] == 4 and len(parts["predicates"]) == 4
    assert any(r.startswith("the source is read in 4 partition(s) of id") for r in shown["reasons"])
    human = ingestion(home, "plan", str(spec))
    assert "the source is read in 4 partition(s)" in human.stdout
    run = ingestion(home, "run", str(spec), "--json")
    assert run.exit_code == 0, run.stderr
    written = spark_read(spark, home_catalog(home), "big.orders")
    assert written.count() == ROWS and written.select("id").distinct().count() == ROWS
