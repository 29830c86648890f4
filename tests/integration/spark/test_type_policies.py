"""Every type_changes policy on every target kind, SCD2 (the mode that reads its history
back): a key column retyped long -> string is written under evolve (the target's column
takes the new type, the history stays joined to it) and refused under widen_only and freeze,
with the target left as it was; then `ingestion run --rebuild --yes` replaces the target
under the new schema in one commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from integration.spark.apps_cli import ingestion, said
from integration.spark.iceberg_tables import home_catalog, spark_read
from integration.spark.test_ingestion_database import postgres_target  # noqa: F401 (fixture)
from pyspark.sql import SparkSession
from pyspark.sql import types as T
from sqlalchemy import create_engine, text

FIRST = T.StructType(
    [
        T.StructField("id", T.LongType(), True),
        T.StructField("name", T.StringType(), True),
        T.StructField("seq", T.LongType(), True),
    ]
)
SECOND = T.StructType([T.StructField("id", T.StringType(), True), *FIRST.fields[1:]])


def _rows(spark: SparkSession, kind: str, where: dict[str, str]) -> list[tuple[Any, ...]]:
    if kind.startswith("iceberg"):
        frame = spark_read(spark, where["catalog"], "people.history")
        rows = [(str(r["id"]), r["name"], bool(r["is_current"])) for r in frame.collect()]
        return sorted(rows)
    engine = create_engine(where["sqlalchemy"])
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(f"SELECT id, name, is_current FROM {where['table']}")
            ).all()
    finally:
        engine.dispose()
    return sorted((str(r[0]), r[1], bool(r[2])) for r in found)


@pytest.mark.parametrize("policy", ["evolve", "widen_only", "freeze"])
@pytest.mark.parametrize("kind", ["iceberg", "iceberg-postgresql", "postgresql", "sqlite"])
def test_type_changes_policy_on_an_scd2_target(
    spark: SparkSession,
    postgresql_jdbc: None,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    home: Path,
    kind: str,
    policy: str,
) -> None:
    if kind.startswith("iceberg"):  # in the home's SQLite catalog, or one of PostgreSQL
        catalog = home_catalog(home)
        if kind == "iceberg-postgresql":
            url, schema = request.getfixturevalue("postgres_target")
            catalog = f"{url}?options=-csearch_path%3D{schema}"
        target = f'kind = "iceberg"\ntable = "people.history"\ncatalog = "{catalog}"'
        where = {"catalog": catalog}
    elif kind == "sqlite":
        database = tmp_path / "warehouse.db"
        target = f'kind = "sqlite"\npath = "{database}"\ntable = "people"'
        where = {"sqlalchemy": f"sqlite:///{database}", "table": "people"}
    else:
        url, schema = request.getfixturevalue("postgres_target")
        target = f'kind = "postgresql"\nurl = "{url}"\ntable = "{schema}.people"'
        where = {
            "sqlalchemy": url.replace("postgresql://", "postgresql+psycopg://"),
            "table": f'"{schema}".people',
        }
    source = tmp_path / "source"
    spec = tmp_path / "people.toml"
    spec.write_text(
        f'name = "people-{kind}-{policy}"\nmode = "scd2"\nkeys = ["id"]\nsequence = "seq"\n'
        f'[source]\nkind = "parquet"\npath = "{source}"\n[target]\n{target}\n'
        f'[policy]\ntype_changes = "{policy}"\n[spark]\nmaster = "local[1]"\n'
    )
    spark.createDataFrame([(1, "ann", 1), (2, "bob", 1)], FIRST).write.mode("overwrite").parquet(
        str(source)
    )
    first = ingestion(home, "run", str(spec))
    assert first.exit_code == 0, first.stderr
    before = _rows(spark, kind, where)
    assert before == [("1", "ann", True), ("2", "bob", True)]

    spark.createDataFrame([("1", "anne", 2), ("3", "cy", 1)], SECOND).write.mode(
        "overwrite"
    ).parquet(str(source))
    second = ingestion(home, "run", str(spec))
    assert "Traceback" not in second.stderr and "bug of the tool" not in second.stderr
    if policy == "evolve":
        assert second.exit_code == 0, second.stderr
        assert _rows(spark, kind, where) == [
            ("1", "ann", False),
            ("1", "anne", True),
            ("2", "bob", True),
            ("3", "cy", True),
        ]
    else:
        assert second.exit_code == 1, second.stderr
        assert f"type_changes={policy}" in second.stderr, second.stderr
        assert len(said(second)) == 1, second.stderr
        assert _rows(spark, kind, where) == before
        # The supported way out: --rebuild (asked for; --yes where nothing can ask).
        unasked = ingestion(home, "run", str(spec), "--rebuild")
        assert unasked.exit_code == 2 and "confirm with --yes" in unasked.stderr
        assert _rows(spark, kind, where) == before
        rebuilt = ingestion(home, "run", str(spec), "--rebuild", "--yes", "--json")
        assert rebuilt.exit_code == 0, rebuilt.stderr
        assert _rows(spark, kind, where) == [("1", "anne", True), ("3", "cy", True)]
