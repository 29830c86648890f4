"""The ReconEngine port's contract, over every implementation: in memory, inside
PostgreSQL, and Spark (reading the same tables through JDBC). It lives beside the Spark
tests for their JVM; the in-memory engine alone needs nothing.

Each engine reads two sides of one orders table - the same rows held at another scale, or
with planted differences - and must agree on the schemas, the aggregates and the key diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from adapters.memory.recon import InMemoryReconEngine
from adapters.spark.recon import SparkReconEngine
from adapters.spark.session import SparkSessionProvider
from adapters.sql.recon.engine import SqlReconEngine, engine_for
from domain.ingestion.spec import SourceSpec
from domain.recon.checks import KeyDiff, SideAggregates
from domain.recon.compare import align
from domain.recon.spec import ReconSpec
from domain.schema import Column, Schema
from domain.schema.types import DecimalType, IntegerType, StringType, TimestampType
from ports.recon import ReconEngine
from services import FreshSchema, fresh_schema

AT = datetime(2024, 5, 1, 6, 0, 0, 123456, tzinfo=UTC)
# id, amount, at, note: the source holds amounts at scale 4, the target at scale 2.
SOURCE = [
    (1, Decimal("1.5000"), AT, "plain"),
    (2, Decimal("20.2500"), AT, "x"),
    (3, Decimal("-0.0000"), None, "old note"),
    (4, Decimal("7.0000"), AT, None),
]
SAME = [(i, a.quantize(Decimal("0.01")), t, n) for i, a, t, n in SOURCE]
# Planted: 2's amount changed, 3's note changed, 4 missing, 9 extra.
PLANTED = [
    (1, Decimal("1.50"), AT, "plain"),
    (2, Decimal("20.26"), AT, "x"),
    (3, Decimal("0.00"), None, "new note"),
    (9, Decimal("9.00"), AT, "only here"),
]


def _schema(scale: int) -> Schema:
    return Schema.from_columns(
        [
            Column("id", IntegerType(64), nullable=False),
            Column("amount", DecimalType(12, scale)),
            Column("at", TimestampType(with_timezone=True)),
            Column("note", StringType()),
        ]
    )


def _create(schema: FreshSchema, table: str, scale: int, rows: list[tuple[Any, ...]]) -> None:
    engine = create_engine(schema.server)
    with engine.begin() as connection:
        connection.execute(
            text(
                f'CREATE TABLE "{schema.name}".{table} (id bigint PRIMARY KEY, '
                f"amount numeric(12,{scale}), at timestamptz, note text)"
            )
        )
        for row in rows:
            connection.execute(
                text(f'INSERT INTO "{schema.name}".{table} VALUES (:i, :a, :t, :n)'),
                dict(zip("iatn", row, strict=True)),
            )
    engine.dispose()


@pytest.fixture(scope="module")
def tables() -> Iterator[FreshSchema]:
    with fresh_schema() as schema:
        _create(schema, "source", 4, SOURCE)
        _create(schema, "same", 2, SAME)
        _create(schema, "planted", 2, PLANTED)
        yield schema


def _spec(schema: FreshSchema, target: str) -> ReconSpec:
    def side(table: str) -> SourceSpec:
        return SourceSpec(kind="jdbc", url=schema.jdbc(), table=f"{schema.name}.{table}")

    return ReconSpec(
        name=f"orders-{target}", source=side("source"), target=side(target), keys=("id",)
    )


def _memory(schema: FreshSchema) -> ReconEngine:
    def held(table: str, scale: int, rows: list[tuple[Any, ...]]) -> tuple[str, Any]:
        return f"{schema.name}.{table}", (
            [dict(zip(("id", "amount", "at", "note"), r, strict=True)) for r in rows],
            _schema(scale),
        )

    return InMemoryReconEngine(
        dict([held("source", 4, SOURCE), held("same", 2, SAME), held("planted", 2, PLANTED)])
    )


@pytest.fixture(params=["memory", "postgresql", "spark"])
def engine(
    request: pytest.FixtureRequest, tables: FreshSchema
) -> Iterator[Callable[[], ReconEngine]]:
    """A maker of the engine under test (one per recon, as the app builds them)."""
    if request.param == "spark":
        request.getfixturevalue("postgresql_jdbc")
        sessions: SparkSessionProvider = request.getfixturevalue("sessions")
        yield lambda: SparkReconEngine(sessions)
    elif request.param == "postgresql":
        yield lambda: SqlReconEngine(engine_for(tables.jdbc(), None, None))
    else:
        yield lambda: _memory(tables)


def _compared(
    found: ReconEngine, spec: ReconSpec
) -> tuple[SideAggregates, SideAggregates, KeyDiff]:
    """What the recon use case asks an engine, in its order: schemas, aggregates, the diff."""
    alignment = align(spec, *found.schemas(spec))
    source, target = found.aggregates(spec, alignment)
    diff = found.diff(spec, alignment, None)
    found.close()
    return source, target, diff


def test_the_schemas_are_the_tables_columns(
    engine: Callable[[], ReconEngine], tables: FreshSchema
) -> None:
    found = engine()
    source, target = found.schemas(_spec(tables, "same"))
    found.close()
    assert source.names == target.names == ("id", "amount", "at", "note")


def test_the_same_rows_at_another_scale_aggregate_alike_and_diff_to_nothing(
    engine: Callable[[], ReconEngine], tables: FreshSchema
) -> None:
    source, target, diff = _compared(engine(), _spec(tables, "same"))
    assert (source.rows, target.rows) == (4, 4)
    assert source.columns["amount"].total == target.columns["amount"].total == Decimal("28.75")
    assert source.columns["at"].nulls == target.columns["at"].nulls == 1
    assert source.columns["note"].nulls == 1
    assert source.row_hashes == target.row_hashes
    assert (diff.missing, diff.extra, diff.changed, diff.samples) == (0, 0, 0, ())


def test_the_planted_differences_are_found_key_by_key(
    engine: Callable[[], ReconEngine], tables: FreshSchema
) -> None:
    source, target, diff = _compared(engine(), _spec(tables, "planted"))
    assert source.row_hashes != target.row_hashes
    assert (diff.missing, diff.extra, diff.changed) == (1, 1, 2)
    assert (diff.duplicate_source, diff.duplicate_target) == (0, 0)
    assert dict(diff.by_column) == {"amount": 1, "note": 1}
    samples = {(category, json.loads(key)["id"]) for category, key in diff.samples}
    assert samples == {("missing", 4), ("extra", 9), ("changed", 2), ("changed", 3)}
