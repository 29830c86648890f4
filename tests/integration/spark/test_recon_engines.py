"""Reconciliation across engines (Parquet against PostgreSQL and SQLite) with planted
differences, and the property: whatever is planted, the diff returns exactly those keys."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration.spark.test_recon import parquet, recon, sampled
from pyspark.sql import SparkSession
from sqlalchemy import create_engine, text

from adapters.spark.session import SparkSessionProvider
from domain.ingestion.spec import SourceSpec
from domain.metadata.payloads import ReconStatus
from domain.recon.spec import ReconSpec
from services import fresh_schema

IDS = [str(uuid.UUID(int=i)) for i in range(1, 7)]
ROWS = [
    # id (uuid), part, amount numeric(12,4), at timestamptz(3), note text
    (IDS[0], 1, "1.5000", "2024-01-01 12:00:00.123+00", "plain"),
    (IDS[1], 1, "-0.0000", "2024-01-01 12:00:00.124+00", ""),
    (IDS[2], 2, "99999999.9999", "1999-12-31 23:59:59.999+00", 'a,b|c\tquoted "x"'),
    (IDS[3], 2, "0.0001", "2024-06-01 00:00:00+00", None),
    (IDS[4], 3, "7.0000", "2024-06-01 00:00:00.5+00", "gone from the target"),
]


@pytest.fixture
def postgres_table(postgresql_jdbc: None) -> Iterator[tuple[str, str]]:
    """(jdbc url, table) of a PostgreSQL table holding ROWS, less IDS[4], with IDS[3]'s note
    set to '' (NULL in the source) and an extra row."""
    with fresh_schema() as fresh:
        schema = fresh.name
        admin = create_engine(fresh.server)
        with admin.begin() as connection:
            connection.execute(
                text(
                    f'CREATE TABLE "{schema}".orders (id uuid, part int, amount numeric(12,4), '
                    "at timestamptz(3), note text, PRIMARY KEY (id, part))"
                )
            )
            for row in ROWS[:4] + [(IDS[5], 9, "1", "2024-01-01 00:00:00+00", "only here")]:
                note = "" if row[0] == IDS[3] else row[4]
                connection.execute(
                    text(f'INSERT INTO "{schema}".orders VALUES (:i, :p, :a, :t, :n)'),
                    {"i": row[0], "p": row[1], "a": row[2], "t": row[3], "n": note},
                )
        admin.dispose()
        yield fresh.jdbc(), f"{schema}.orders"


def _source(spark: SparkSession, path: Path) -> SourceSpec:
    rows: list[tuple[Any, ...]] = [
        (
            i,
            p,
            Decimal(a),  # at scale 6 here, 4 in the target
            # microseconds: .123 of the target is .123456 here, rounded half up
            datetime.fromisoformat(t.replace("+00", "+00:00")).replace(
                microsecond=(
                    datetime.fromisoformat(t.replace("+00", "+00:00")).microsecond + 400
                    if i == IDS[0]
                    else datetime.fromisoformat(t.replace("+00", "+00:00")).microsecond
                )
            ),
            n,
        )
        for i, p, a, t, n in ROWS
    ]
    return parquet(
        spark, path, rows, "id string, part int, amount decimal(16,6), at timestamp, note string"
    )


def test_parquet_against_postgresql(
    spark: SparkSession,
    sessions: SparkSessionProvider,
    tmp_path: Path,
    postgres_table: tuple[str, str],
) -> None:
    jdbc, table = postgres_table
    spec = ReconSpec(
        name="pg",
        source=_source(spark, tmp_path / "orders"),
        target=SourceSpec(kind="jdbc", url=jdbc, table=table),
        keys=("id", "part"),
    )
    report = recon(sessions, spec)
    diff = report.diff
    assert sampled(report, "missing") == [{"id": IDS[4], "part": 3}]
    assert sampled(report, "extra") == [{"id": IDS[5], "part": 9}]
    assert sampled(report, "changed") == [{"id": IDS[3], "part": 2}]  # NULL vs ''
    assert dict(diff.by_column) == {"note": 1}
    assert (diff.missing, diff.extra, diff.changed) == (1, 1, 1)
    schema = next(r for r in report.results if r.check == "schema")
    assert "at as UTC instant at ms" in schema.detail


def test_parquet_against_sqlite(
    spark: SparkSession, sessions: SparkSessionProvider, tmp_path: Path, sqlite_jdbc: None
) -> None:
    database = tmp_path / "warehouse.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE items (sku TEXT, day DATE, qty BIGINT, price DECIMAL(10,2))"
        )
        connection.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?)",
            [
                ("a", "2024-01-01", 1, "1.10"),
                ("b", "2024-01-02", 2, "2.20"),
                ("c", "2024-01-03", 3, "3.35"),
            ],
        )
    source = parquet(
        spark,
        tmp_path / "items",
        [
            ("a", datetime(2024, 1, 1).date(), 1, Decimal("1.1")),
            ("b", datetime(2024, 1, 2).date(), 2, Decimal("2.2")),
            ("c", datetime(2024, 1, 3).date(), 3, Decimal("3.3")),
        ],
        "sku string, day date, qty long, price decimal(10,1)",
    )
    report = recon(
        sessions,
        ReconSpec(
            name="sqlite",
            source=source,
            target=SourceSpec(kind="jdbc", url=f"jdbc:sqlite:{database}", table="items"),
            keys=("sku", "day"),
        ),
    )
    assert sampled(report, "changed") == [{"sku": "c", "day": "2024-01-03"}]
    assert dict(report.diff.by_column) == {"price": 1}
    assert (report.diff.missing, report.diff.extra) == (0, 0)


_keys = st.lists(st.integers(0, 60), min_size=0, max_size=25, unique=True)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=_keys,
    deleted=st.sets(st.integers(0, 60)),
    updated=st.sets(st.integers(0, 60)),
    inserted=st.sets(st.integers(61, 90)),
    text_keys=st.booleans(),
)
def test_the_diff_returns_exactly_the_planted_keys(
    spark: SparkSession,
    sessions: SparkSessionProvider,
    tmp_path_factory: pytest.TempPathFactory,
    keys: list[int],
    deleted: set[int],
    updated: set[int],
    inserted: set[int],
    text_keys: bool,
) -> None:
    """Random tables, random inserts, deletes and updates: missing, extra and changed are
    exactly the planted keys (integer or text keys, composite with a second part)."""
    deleted &= set(keys)
    updated = (updated & set(keys)) - deleted

    def key(k: int) -> tuple[Any, str]:
        return (f"k{k}" if text_keys else k, "x" if k % 2 else "y")

    source = [(*key(k), Decimal(k), f"v{k}") for k in keys]
    target = [
        (
            *key(k),
            Decimal(k) + (1 if k in updated and k % 3 else 0),
            f"w{k}" if k in updated and not k % 3 else f"v{k}",
        )
        for k in keys
        if k not in deleted
    ] + [(*key(k), Decimal(k), f"v{k}") for k in inserted]
    kind = "string" if text_keys else "long"
    schema = f"a {kind}, b string, amount decimal(10,2), label string"
    where = tmp_path_factory.mktemp("planted")
    report = recon(
        sessions,
        ReconSpec(
            name="planted",
            source=parquet(spark, where / "s", source, schema),
            target=parquet(spark, where / "t", target, schema),
            keys=("a", "b"),
            samples=1000,
        ),
    )

    def found(category: str) -> set[Any]:
        return {key["a"] for key in sampled(report, category)}

    def planted(ks: set[int]) -> set[Any]:
        return {key(k)[0] for k in ks}

    assert found("missing") == planted(deleted)
    assert found("extra") == planted(inserted)
    assert found("changed") == planted(updated)
    clean = not (deleted or inserted or updated)
    assert (
        next(r for r in report.results if r.check == "row_hash").status is ReconStatus.PASSED
    ) == clean
