"""MariaDB through Spark (`jdbc:mariadb://`, `jdbc:mysql://`): as an ingestion source into a
PostgreSQL target (the probe's estimate and key range, a partitioned read that holds each
row once, a full load with every value kept, an incremental load by watermark with NULL
cursors, the reads Spark would make lossy refused by column), and as one side of a recon
whose other side is PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from integration.spark.apps_cli import ingestion, recon
from integration.spark.conftest import need_jdbc_driver
from integration.spark.iceberg_tables import pipeline_file
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.spark.endpoints import JdbcEndpoint, endpoint_config
from adapters.spark.session import SparkSessionProvider
from adapters.sql.source_probe import engine_for_jdbc, probe_table
from domain.ingestion.plan import partitioning
from domain.ingestion.spec import SourceSpec
from services import FreshSchema, fresh_mariadb, fresh_schema

ORDERS = (
    "CREATE TABLE orders (id bigint PRIMARY KEY, big bigint unsigned, amount decimal(12,2), "
    "flag boolean, placed datetime(6), stamped timestamp(3) NULL, note varchar(20), seq int)"
)
ROWS = [
    "(1, 18446744073709551615, 12.50, 1, '2026-01-01 10:00:00.123456', '2026-01-01 10:00:00.123', 'héllo ✓', 1)",
    "(2, 5, -3.25, 0, '2026-01-02 00:00:00', NULL, NULL, NULL)",
    "(3, NULL, NULL, NULL, NULL, '2026-01-03 12:30:00', 'c', 2)",
]


@pytest.fixture
def mariadb() -> Iterator[FreshSchema]:
    need_jdbc_driver("mariadb")
    with fresh_mariadb() as database:
        _execute(database.url, ORDERS, "INSERT INTO orders VALUES " + ", ".join(ROWS))
        yield database


@pytest.fixture
def target() -> Iterator[FreshSchema]:
    with fresh_schema() as schema:
        yield schema


def _jdbc(database: FreshSchema, scheme: str = "mariadb") -> str:
    parsed = make_url(database.url)
    return f"jdbc:{scheme}://{parsed.host}:{parsed.port or 3306}/{database.name}"


def _pipeline(
    tmp_path: Path,
    database: FreshSchema,
    target: FreshSchema,
    mode: str,
    table: str = "orders",
    source_lines: str = "",
) -> Path:
    source = f'kind = "jdbc"\nurl = "{_jdbc(database)}"\ntable = "{table}"\nuser = "root"'
    source += f"\n{source_lines}" if source_lines else ""
    sections = {"watermark": 'column = "seq"\nnull_cursor = "include"'} if mode == "append" else {}
    return pipeline_file(
        tmp_path,
        f"maria-{mode}",
        mode=mode,
        keys=["id"],
        sequence="seq" if mode in ("scd1", "scd2") else None,
        source=source,
        target=f'kind = "postgresql"\nurl = "{target.libpq()}"\ntable = "{target.name}.orders"',
        sections=sections,
    )


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(text(query))]
    engine.dispose()
    return rows


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _target_rows(target: FreshSchema) -> list[tuple[Any, ...]]:
    columns = "id, big, amount, flag, placed, stamped, note, seq"
    return _rows(target.server, f'SELECT {columns} FROM "{target.name}".orders ORDER BY id')


def test_the_probe_estimates_rows_and_finds_the_key_range_in_mariadb(mariadb: FreshSchema) -> None:
    engine = engine_for_jdbc(_jdbc(mariadb), "root", None)
    assert engine is not None
    probe = probe_table(engine, "orders", ["id"], slots=2)
    assert (probe.column, probe.lowest, probe.highest, probe.quote) == ("id", 1, 3, "`")
    assert probe.rows is not None and probe.rows >= 0
    big = attrs.evolve(probe, rows=900_000, lowest=1, highest=3_000_000)
    parts, _, _ = partitioning(big, (), 2)
    assert parts is not None and parts.count == 4
    assert parts.predicates()[0] == "`id` < 750001 OR `id` IS NULL"


def test_a_partitioned_read_holds_each_row_once(
    mariadb: FreshSchema, sessions: SparkSessionProvider
) -> None:
    config = endpoint_config(
        "orders", SourceSpec(kind="jdbc", url=_jdbc(mariadb, "mysql"), table="orders", user="root")
    )
    endpoint = JdbcEndpoint(config, sessions.session())
    frame = endpoint.read_partitioned(
        ["`id` < 2 OR `id` IS NULL", "`id` >= 2 AND `id` < 3", "`id` >= 3"], 100
    )
    assert sorted(r["id"] for r in frame.collect()) == [1, 2, 3]


def test_a_full_load_from_mariadb_keeps_every_value(
    mariadb: FreshSchema, target: FreshSchema, tmp_path: Path, home: Path
) -> None:
    run = ingestion(home, "run", str(_pipeline(tmp_path, mariadb, target, "full")), "--json")
    assert run.exit_code == 0, run.stderr
    rows = _target_rows(target)
    assert [r[0] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert first[1] == Decimal("18446744073709551615") and first[2] == Decimal("12.50")
    assert first[3] is True and first[6] == "héllo ✓"
    assert first[4].isoformat() == "2026-01-01T10:00:00.123456"
    assert first[5].isoformat().startswith("2026-01-01T10:00:00.123")
    assert rows[1][1:] == (Decimal(5), Decimal("-3.25"), False, rows[1][4], None, None, None)
    assert json.loads(run.stdout)["rows_written"] == 3


def _all_rows(target: FreshSchema) -> list[tuple[Any, ...]]:
    return sorted(_rows(target.server, f'SELECT * FROM "{target.name}".orders'), key=repr)


@pytest.mark.parametrize("mode", ["scd1", "scd2"])
def test_a_keyed_load_from_mariadb_changes_nothing_when_run_again_then_takes_a_change(
    mariadb: FreshSchema, target: FreshSchema, tmp_path: Path, home: Path, mode: str
) -> None:
    _execute(mariadb.url, "UPDATE orders SET seq = id WHERE seq IS NULL")
    spec = str(_pipeline(tmp_path, mariadb, target, mode))
    first = ingestion(home, "run", spec, "--json")
    assert first.exit_code == 0, first.stderr
    loaded = _all_rows(target)
    assert len(loaded) == 3
    again = ingestion(home, "run", spec, "--json")
    assert again.exit_code == 0, again.stderr
    assert _all_rows(target) == loaded  # the second run changes nothing
    _execute(mariadb.url, "UPDATE orders SET note = 'changed', seq = seq + 10 WHERE id = 2")
    changed = ingestion(home, "run", spec, "--json")
    assert changed.exit_code == 0, changed.stderr
    versions = _rows(
        target.server, f'SELECT note FROM "{target.name}".orders WHERE id = 2 ORDER BY seq'
    )
    expected = [("changed",)] if mode == "scd1" else [(None,), ("changed",)]
    assert versions == expected


def test_an_incremental_load_reads_past_the_watermark_and_the_null_cursors(
    mariadb: FreshSchema, target: FreshSchema, tmp_path: Path, home: Path
) -> None:
    spec = _pipeline(tmp_path, mariadb, target, "append")
    first = ingestion(home, "run", str(spec), "--json")
    assert first.exit_code == 0, first.stderr
    _execute(mariadb.url, "INSERT INTO orders (id, seq) VALUES (4, 3), (5, 1)")
    second = ingestion(home, "run", str(spec), "--json")
    assert second.exit_code == 0, second.stderr
    # 4 is past the watermark (2); 5 is behind it and not read; the NULL cursor row (2) was
    # loaded once, by the first run.
    assert [r[0] for r in _target_rows(target)] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("ddl", "value", "said"),
    [
        ("decimal(65,30)", "1.5", "c is a DECIMAL of more than 38 digits, which Spark rounds"),
        ("date", "'0000-00-00'", "c holds 1 zero date(s) (0000-00-00), which read as NULL"),
    ],
)
def test_a_read_spark_would_make_lossy_is_refused_by_column(
    mariadb: FreshSchema,
    target: FreshSchema,
    tmp_path: Path,
    home: Path,
    ddl: str,
    value: str,
    said: str,
) -> None:
    _execute(
        mariadb.url,
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE lossy (id bigint PRIMARY KEY, c {ddl})",
        f"INSERT INTO lossy VALUES (1, {value})",
    )
    run = ingestion(home, "run", str(_pipeline(tmp_path, mariadb, target, "full", "lossy")))
    assert run.exit_code != 0 and said in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_a_recon_across_mariadb_and_postgresql_finds_the_changed_row(
    mariadb: FreshSchema, target: FreshSchema, tmp_path: Path, home: Path
) -> None:
    load = ingestion(home, "run", str(_pipeline(tmp_path, mariadb, target, "full")), "--json")
    assert load.exit_code == 0, load.stderr
    _execute(target.server, f"UPDATE \"{target.name}\".orders SET note = 'd' WHERE id = 3")
    spec = tmp_path / "cross.toml"
    spec.write_text(
        f'name = "cross"\nkeys = ["id"]\n'
        f'[source]\nkind = "jdbc"\nurl = "{_jdbc(mariadb)}"\ntable = "orders"\nuser = "root"\n'
        f'[target]\nkind = "jdbc"\nurl = "{target.jdbc()}"\ntable = "{target.name}.orders"\n'
        f'[spark]\nmaster = "local[1]"\n'
    )
    found = recon(home, "run", str(spec), "--json")
    assert found.exit_code == 1, found.stderr
    checks = {c["check"]: c for c in json.loads(found.stdout)["results"]}
    assert checks["row_count"]["status"] == "passed"
    assert checks["key_diff"]["status"] == "failed"
    assert checks["key_diff"]["samples"] == [{"category": "changed", "key": {"id": 3}}]


def test_zero_dates_read_as_null_when_the_source_says_so_and_are_named(
    mariadb: FreshSchema, target: FreshSchema, tmp_path: Path, home: Path
) -> None:
    _execute(
        mariadb.url,
        "SET SESSION sql_mode = ''",
        "CREATE TABLE dated (id bigint PRIMARY KEY, c date, d datetime)",
        "INSERT INTO dated VALUES (1, '0000-00-00', '2026-01-01 00:00:00'), (2, '2026-02-03', NULL)",
    )
    spec = _pipeline(tmp_path, mariadb, target, "full", "dated", 'zero_dates = "null"')
    run = ingestion(home, "run", str(spec), "--json")
    assert run.exit_code == 0, run.stderr
    said = "1 zero date(s) (0000-00-00) in maria-full: dated.c read as NULL"
    assert said in run.stderr and json.loads(run.stdout)["notes"] == [
        said + ' (zero_dates = "null")'
    ]
    stored = _rows(target.server, f'SELECT id, c FROM "{target.name}".orders ORDER BY id')
    assert stored[0] == (1, None) and stored[1][1].isoformat() == "2026-02-03"
