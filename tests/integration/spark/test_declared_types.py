"""Declared column types: a CSV source read in the types its pipeline declares, a value that
does not parse counted as a rejected row and named (never a silent NULL), a plan that warns
when a text source declares none, and a recon side whose declared value does not parse
stopping in one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from integration.spark.apps_cli import ingestion, metadata, recon
from integration.spark.iceberg_tables import home_catalog, spark_read
from pyspark.sql import SparkSession

ROWS = """order_id,amount,updated_at,note
1,15.25,2024-05-01T06:00:00+02:00,plain
2,abc,2024-05-01T07:00:00Z,amount is not a number
3,7.10,yesterday,not a time
4,120.500,2024-05-01T08:00:00Z,three decimals
"""


def _pipeline(tmp_path: Path, columns: str) -> Path:
    (tmp_path / "orders.csv").write_text(ROWS, encoding="utf-8")
    spec = tmp_path / "orders.toml"
    spec.write_text(
        f'name = "typed-orders"\nmode = "full"\n[source]\nkind = "csv"\npath = "orders.csv"\n'
        f"{columns}"
        f'[target]\nkind = "iceberg"\ntable = "sales.typed_orders"\n'
        f'[spark]\nmaster = "local[1]"\n',
        encoding="utf-8",
    )
    return spec


DECLARED = (
    '[source.columns]\norder_id = "int64"\namount = "decimal(10,3)"\n'
    'updated_at = "timestamp_tz"\n'
)


def test_declared_types_are_applied_and_unparsable_rows_are_rejected_by_name(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    spec = _pipeline(tmp_path, DECLARED)
    result = ingestion(home, "run", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["rows_read"], report["rows_written"], report["rows_rejected"]) == (4, 2, 2)
    assert "rejected 1 row(s): amount does not parse as decimal(10,3) (e.g. 'abc')" in (
        result.stderr
    )
    assert "updated_at does not parse as timestamp_tz (e.g. 'yesterday')" in result.stderr
    target = spark_read(spark, home_catalog(home), "sales.typed_orders")
    assert dict(target.dtypes)["amount"] == "decimal(10,3)"
    assert dict(target.dtypes)["order_id"] == "bigint"
    rows = {r["order_id"]: r for r in target.collect()}
    assert set(rows) == {1, 4}
    assert rows[4]["amount"] == Decimal("120.500")
    assert rows[1]["updated_at"].astimezone(UTC) == datetime(2024, 5, 1, 4, tzinfo=UTC)
    volume = metadata(
        home,
        "latest",
        "ingestion_volume",
        "iceberg://~/iceberg/catalog.db::sales.typed_orders",
        "--json",
    )
    assert json.loads(volume.stdout)["payload"]["rows_rejected"] == 2


def test_a_csv_without_declared_types_is_warned_about_and_a_missing_column_named(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    plain = _pipeline(tmp_path, "")
    planned = ingestion(home, "plan", str(plain))
    assert planned.exit_code == 0, planned.stderr
    assert "a csv source without [source.columns] is read as text" in planned.stderr
    wrong = _pipeline(tmp_path, '[source.columns]\nprice = "decimal(10,2)"\n')
    refused = ingestion(home, "run", str(wrong))
    assert refused.exit_code in (1, 2) and "'price'" in refused.stderr
    assert "it has order_id, amount, updated_at, note" in refused.stderr
    bad_type = _pipeline(tmp_path, '[source.columns]\namount = "money"\n')
    unreadable = ingestion(home, "plan", str(bad_type))
    assert unreadable.exit_code == 2
    assert "source.columns.amount: type 'money': unknown type 'money'" in unreadable.stderr


def test_a_recon_side_with_a_value_its_declared_type_refuses_stops_in_one_line(
    spark: SparkSession, tmp_path: Path, home: Path
) -> None:
    (tmp_path / "orders.csv").write_text(ROWS, encoding="utf-8")
    spec = tmp_path / "check.toml"
    spec.write_text(
        'name = "typed-check"\nkeys = ["order_id"]\n'
        '[source]\nkind = "csv"\npath = "orders.csv"\n'
        '[source.columns]\norder_id = "int64"\namount = "decimal(10,3)"\n'
        '[target]\nkind = "csv"\npath = "orders.csv"\n[target.columns]\norder_id = "int64"\n'
        '[spark]\nmaster = "local[1]"\n',
        encoding="utf-8",
    )
    result = recon(home, "run", str(spec))
    assert result.exit_code in (1, 2), result.stdout
    assert "source.columns: 1 row(s): amount does not parse as decimal(10,3)" in result.stderr
    assert "Traceback" not in result.stderr
