"""End to end: harvest a PostgreSQL schema, change it with ALTER TABLE, harvest again, and
read the drift records back through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text

from apps.metadata.main import cli
from services import fresh_schema


@pytest.fixture
def sales_schema() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema with three tables; yields (url, schema name)."""
    with fresh_schema() as fresh:
        engine = create_engine(fresh.url)
        _fill(engine)
        engine.dispose()
        yield fresh.server, fresh.name


def _fill(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100), balance numeric(10,2))"
            )
        )
        connection.execute(
            text(
                "CREATE TABLE orders (id bigint NOT NULL, amount numeric(38,10), placed_at timestamptz)"
            )
        )
        connection.execute(text("CREATE TABLE items (sku text NOT NULL, qty integer, price real)"))
        connection.execute(
            text(
                "INSERT INTO customers VALUES (1, 'Aalto', 10.50), (2, NULL, -3.25), (3, 'Zyx', 99999.99)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO orders VALUES (1, 4821133.12, '2024-05-01T06:00:00Z'), (2, -12.5, NULL), "
                "(3, 0.0001, '2024-05-02T06:00:00Z')"
            )
        )
        connection.execute(text("INSERT INTO items VALUES ('A-1', 3, 1.5), ('B-2', NULL, 2.25)"))


def metadata(store: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--url", store, *args])
    return result.exit_code, result.stdout, result.stderr


def test_harvest_then_alter_then_harvest_classifies_every_change(
    sales_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = sales_schema
    store = f"sqlite:///{tmp_path / 'metadata.db'}"
    code, out, err = metadata(store, "harvest", url, "--schema", schema, "--profile", "--json")
    assert code == 0, err
    first = {d["dataset"].rsplit(".", 1)[1]: d for d in json.loads(out)["datasets"]}
    assert {name: (d["columns"], d["rows"], d["drift"]) for name, d in first.items()} == {
        "customers": (3, 3, "new"),
        "items": (3, 2, "new"),
        "orders": (3, 3, "new"),
    }
    orders = first["orders"]["dataset"]
    code, out, _ = metadata(store, "latest", "dataset_profile", orders, "--json")
    amount = next(c for c in json.loads(out)["payload"]["columns"] if c["name"] == "amount")
    assert (amount["max_integer_digits"], amount["max_scale"], amount["max_value"]) == (
        7,
        4,
        "4821133.1200000000",
    )

    code, out, _ = metadata(store, "harvest", url, "--schema", schema, "--json")
    assert {d["drift"] for d in json.loads(out)["datasets"]} == {"unchanged"}

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(f'ALTER TABLE "{schema}".customers ALTER COLUMN balance TYPE numeric(12,2)')
        )
        connection.execute(text(f'ALTER TABLE "{schema}".orders ADD COLUMN note text'))
        connection.execute(text(f'ALTER TABLE "{schema}".items DROP COLUMN qty'))
    engine.dispose()

    code, out, err = metadata(store, "harvest", url, "--schema", schema)
    assert code == 0, err
    print(out)  # the summary table, for the record
    drift = {}
    for name in ("customers", "orders", "items"):
        subject = first[name]["dataset"]
        code, out, _ = metadata(store, "latest", "schema_drift", subject, "--json")
        assert code == 0
        drift[name] = [
            (c["change"], c["column"], c["classification"])
            for c in json.loads(out)["payload"]["changes"]
        ]
        code, out, _ = metadata(store, "diff", subject)
        print(out)
    assert drift == {
        "customers": [("retyped", "balance", "widening")],
        "orders": [("added", "note", None)],
        "items": [("removed", "qty", None)],
    }


def test_a_failing_table_is_reported_and_the_others_still_harvest(
    sales_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = sales_schema
    engine = create_engine(url)
    with engine.begin() as connection:  # a type the platform has no counterpart for
        connection.execute(text(f'CREATE TABLE "{schema}".shapes (id int, area point)'))
    engine.dispose()
    code, out, _ = metadata(
        f"sqlite:///{tmp_path / 'm.db'}", "harvest", url, "--schema", schema, "--json"
    )
    assert code == 1
    outcomes = {d["dataset"].rsplit(".", 1)[1]: d for d in json.loads(out)["datasets"]}
    assert outcomes["shapes"]["error"] is not None and "area" in outcomes["shapes"]["error"]
    assert all(outcomes[name]["error"] is None for name in ("customers", "items", "orders"))


def test_profiles_show_plain_decimals_and_can_leave_distinct_counts_out(
    sales_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = sales_schema
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE TABLE "{schema}".tiny (x numeric(38,10))'))
        connection.execute(
            text(f'INSERT INTO "{schema}".tiny VALUES (0.0000000001), (0.0000000002)')
        )
    engine.dispose()
    store = f"sqlite:///{tmp_path / 'm.db'}"
    code, out, err = metadata(
        store, "harvest", url, "--schema", schema, "--profile", "--no-distinct", "--json"
    )
    assert code == 0, err
    tiny = next(d["dataset"] for d in json.loads(out)["datasets"] if d["dataset"].endswith("tiny"))
    code, out, _ = metadata(store, "latest", "dataset_profile", tiny, "--json")
    (x,) = json.loads(out)["payload"]["columns"]
    assert (x["min_value"], x["max_value"]) == ("0.0000000001", "0.0000000002")  # not 1E-10
    assert x["approx_distinct"] is None and (x["max_integer_digits"], x["max_scale"]) == (0, 10)


def test_every_column_type_profiles_and_a_spaced_name_harvests(
    sales_schema: tuple[str, str], tmp_path: Path
) -> None:
    """Types without min/max (bytea, json), NaN, BC dates and -infinity profile instead of
    failing after the snapshot was stored; a table named with a space is a table."""
    url, schema = sales_schema
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TYPE \"{schema}\".mood AS ENUM ('sad', 'happy')"))
        connection.execute(
            text(
                f'CREATE TABLE "{schema}".odd (b boolean, bin bytea, j jsonb, js json, u uuid, '
                f'm "{schema}".mood, n numeric, d date, t timestamptz)'
            )
        )
        connection.execute(
            text(
                f"INSERT INTO \"{schema}\".odd VALUES (true, '\\x00ff', '{{\"a\": 1}}', '[1]', "
                "'00000000-0000-0000-0000-000000000001', 'happy', 'NaN', '0044-03-15 BC', "
                "'-infinity'), (false, NULL, NULL, NULL, NULL, 'sad', 123456789012345678901234567890.123456789, "
                "'2024-01-01', '2024-05-01 12:00+00')"
            )
        )
        connection.execute(text(f'CREATE TABLE "{schema}"."order items" (id int)'))
    engine.dispose()
    store = f"sqlite:///{tmp_path / 'm.db'}"
    code, out, err = metadata(store, "harvest", url, "--schema", schema, "--profile", "--json")
    assert code == 0, out + err
    names = {d["dataset"].rsplit(".", 1)[1] for d in json.loads(out)["datasets"]}
    assert {"odd", "order items"} <= names
    subject = f"postgres://{'127.0.0.1'}:5432::test.{schema}.odd"
    code, out, _ = metadata(store, "latest", "dataset_profile", subject, "--json")
    assert code == 0
    columns = {c["name"]: c for c in json.loads(out)["payload"]["columns"]}
    assert (columns["b"]["min_value"], columns["b"]["max_value"]) == ("false", "true")
    assert columns["bin"]["min_value"] is None and columns["bin"]["nulls"] == 1
    assert columns["n"]["non_finite"] == 1 and columns["n"]["max_integer_digits"] == 30
    assert columns["n"]["max_scale_value"] == "123456789012345678901234567890.123456789"
    assert (columns["d"]["min_value"], columns["t"]["min_value"]) == ("0044-03-15 BC", "-infinity")
    code, out, _ = metadata(store, "latest", "schema_snapshot", subject, "--json")
    types = {c["name"]: c["type"] for c in json.loads(out)["payload"]["schema"]["columns"]}
    assert types["n"] == "number"  # numeric without precision: not a made-up decimal(38,10)


def test_a_harvest_records_its_run_started_then_succeeded(
    sales_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = sales_schema
    store = f"sqlite:///{tmp_path / 'm.db'}"
    assert metadata(store, "harvest", url, "--schema", schema)[0] == 0
    code, out, _ = metadata(store, "query", "--kind", "run_event", "--oldest-first", "--json")
    events = [(r["producer"], r["payload"]["event"]) for r in json.loads(out)["records"]]
    assert events == [("metadata-harvest", "started"), ("metadata-harvest", "succeeded")]


def test_a_schema_that_does_not_exist_is_bad_input(
    sales_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = sales_schema
    result = CliRunner().invoke(cli, ["--url", "sqlite:///:memory:", "harvest", url])
    assert result.exit_code == 2 and "in-memory" in result.stderr
    store = f"sqlite:///{tmp_path / 'm.db'}"
    result = CliRunner().invoke(cli, ["--url", store, "harvest", url, "--schema", "no_such_schema"])
    assert result.exit_code == 2
    assert "no schema 'no_such_schema'" in result.stderr and "--schema" in result.stderr
