"""Reconciliation inside one PostgreSQL database (no Spark): planted differences of every
kind found exactly by segment checksums, and the property that whatever the segment sizes,
the diff returns exactly the planted keys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from adapters.memory.metadata import InMemoryMetadataRepository
from adapters.sql.recon.engine import SqlReconEngine
from domain.dataset import RunId
from domain.ingestion.spec import SourceSpec
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import ReconStatus
from domain.recon.plan import Method, Segments, method, segments
from domain.recon.run import PRODUCER, ReconReport, ReconRun
from domain.recon.spec import ReconSpec
from domain.runs.lifecycle import RunLifecycle
from services import fresh_schema, postgres_url


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[Engine, str, str]]:
    """(engine, jdbc url, schema) of a fresh schema."""
    with fresh_schema() as schema:
        engine = create_engine(schema.server)
        yield engine, schema.jdbc(), schema.name
        engine.dispose()


def run(spec: ReconSpec, plan: Any = segments) -> ReconReport:
    gateway = MetadataGateway(InMemoryMetadataRepository())
    engine = SqlReconEngine.for_spec(spec, plan=plan)
    try:
        lifecycle = RunLifecycle(gateway, spec.subject, RunId.new(), PRODUCER, _now)
        return ReconRun(engine, gateway, _now).run(spec, lifecycle)
    finally:
        engine.close()


def pair(
    jdbc: str, schema: str, source: str, target: str, keys: tuple[str, ...], **fields: Any
) -> ReconSpec:
    return ReconSpec(
        name="pg",
        source=SourceSpec(kind="jdbc", url=jdbc, table=f"{schema}.{source}"),
        target=SourceSpec(kind="jdbc", url=jdbc, table=f"{schema}.{target}"),
        keys=keys,
        **fields,
    )


def sampled(report: ReconReport, category: str) -> list[dict[str, Any]]:
    result = next(r for r in report.results if r.check == "key_diff")
    return [json.loads(k) for c, k in result.samples if c == category]


def test_the_planner_keeps_one_database_in_it(database: tuple[Engine, str, str]) -> None:
    _, jdbc, schema = database
    chosen, reason = method(pair(jdbc, schema, "a", "b", ("id",)))
    assert chosen is Method.SQL and "no Spark" in reason
    other = pair(jdbc, schema, "a", "b", ("id",))
    other = ReconSpec(
        name="x", source=other.source, target=SourceSpec(kind="parquet", path="/x"), keys=("id",)
    )
    assert method(other)[0] is Method.SPARK


def test_planted_differences_of_every_kind(database: tuple[Engine, str, str]) -> None:
    engine, jdbc, schema = database
    with engine.begin() as c:
        c.execute(
            text(
                f'CREATE TABLE "{schema}".src (region text, id int, amount numeric(12,4), '
                "at timestamptz(6), note text)"
            )
        )
        c.execute(
            text(
                f'CREATE TABLE "{schema}".tgt (region text, id int, amount numeric(14,2), '
                "at timestamptz(3), note text)"
            )
        )
        rows = [
            ("eu", 1, "1.5000", "2024-01-01 12:00:00.123456+00", "plain"),  # equal: scale, rounding
            ("eu", 2, "-0.0000", "2024-01-01 12:00:00.999600+00", "a,b|c"),  # equal: -0, rounds up
            ("eu", 3, "2.0000", "2024-01-01 00:00:00+00", None),  # NULL vs '' in the target
            ("e", 11, "1.0000", "2024-01-01 00:00:00+00", "x"),  # (e, 11) vs (eu, 1): tuples
            (None, 4, "4.0000", "2024-01-01 00:00:00+00", "null region"),  # NULL key part, equal
            ("us", 5, "5.0000", "2024-01-01 00:00:00+00", "gone"),  # missing in the target
            ("us", 6, "6.0000", "2024-01-01 00:00:00+00", "sep"),  # changed: ',' moved
        ]
        for r in rows:
            c.execute(
                text(f'INSERT INTO "{schema}".src VALUES (:r, :i, :a, :t, :n)'),
                dict(zip("rian", r[:3] + (r[4],), strict=True), t=r[3]),
            )
        target = [
            ("eu", 1, "1.50", "2024-01-01 12:00:00.123+00", "plain"),
            ("eu", 2, "0.00", "2024-01-01 12:00:01+00", "a,b|c"),
            ("eu", 3, "2.00", "2024-01-01 00:00:00+00", ""),
            ("e", 11, "1.00", "2024-01-01 00:00:00+00", "x"),
            (None, 4, "4.00", "2024-01-01 00:00:00+00", "null region"),
            ("us", 6, "6.00", "2024-01-01 00:00:00+00", "se,p"),
            ("zz", 999999, "1.00", "2024-01-01 00:00:00+00", "outside the source's range"),
            ("dup", 7, "1.00", "2024-01-01 00:00:00+00", "twice"),
            ("dup", 7, "1.00", "2024-01-01 00:00:00+00", "twice"),
        ]
        for r in target:
            c.execute(
                text(f'INSERT INTO "{schema}".tgt VALUES (:r, :i, :a, :t, :n)'),
                dict(zip("rian", r[:3] + (r[4],), strict=True), t=r[3]),
            )
    report = run(pair(jdbc, schema, "src", "tgt", ("region", "id")))
    assert sampled(report, "missing") == [{"region": "us", "id": 5}]
    assert sampled(report, "extra") == [{"region": "dup", "id": 7}, {"region": "zz", "id": 999999}]
    assert sampled(report, "changed") == [{"region": "eu", "id": 3}, {"region": "us", "id": 6}]
    diff = report.diff
    assert dict(diff.by_column) == {"note": 2}
    assert (diff.null_key_source, diff.null_key_target) == (1, 1)
    assert "segment checksums inside PostgreSQL" in diff.method
    schema_result = next(r for r in report.results if r.check == "schema")
    assert "at as UTC instant at ms" in schema_result.detail
    assert not report.passed

    same = run(pair(jdbc, schema, "src", "src", ("region", "id")))
    assert same.passed, [r.detail for r in same.results if r.status is not ReconStatus.PASSED]

    # A key twice on both sides, alike: its segments agree, yet it is reported.
    with engine.begin() as c:
        c.execute(text(f'CREATE TABLE "{schema}".twice AS SELECT * FROM "{schema}".src'))
        c.execute(text(f'INSERT INTO "{schema}".twice SELECT * FROM "{schema}".src WHERE id = 6'))
    alike = run(pair(jdbc, schema, "twice", "twice", ("region", "id")))
    assert sampled(alike, "duplicate") == [{"region": "us", "id": 6}]
    assert (alike.diff.duplicate_source, alike.diff.duplicate_target) == (1, 1)
    assert not alike.passed


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.lists(st.integers(-50, 200), max_size=60, unique=True),
    deleted=st.sets(st.integers(-50, 200)),
    updated=st.sets(st.integers(-50, 200)),
    inserted=st.sets(st.integers(201, 260)),
    first=st.integers(1, 64),
    fan_out=st.integers(2, 8),
    leaf=st.integers(1, 16),
    integer_first=st.booleans(),
)
def test_the_diff_returns_exactly_the_planted_keys_whatever_the_segments(
    database: tuple[Engine, str, str],
    keys: list[int],
    deleted: set[int],
    updated: set[int],
    inserted: set[int],
    first: int,
    fan_out: int,
    leaf: int,
    integer_first: bool,
) -> None:
    """Text or integer first keys (hash buckets or key ranges), a NULL key part among them."""
    engine, jdbc, schema = database
    deleted &= set(keys)
    updated = (updated & set(keys)) - deleted
    name = f"p{uuid.uuid4().hex[:8]}"
    with engine.begin() as c:
        for side in ("s", "t"):
            c.execute(
                text(f'CREATE TABLE "{schema}".{name}_{side} (k text, n int, v numeric(10,2))')
            )
        if keys:
            c.execute(
                text(f'INSERT INTO "{schema}".{name}_s VALUES (:k, :n, :v)'),
                [{"k": f"k{k}", "n": k % 3, "v": k} for k in keys],
            )
        kept = [
            {"k": f"k{k}", "n": k % 3, "v": k + (1 if k in updated else 0)}
            for k in keys
            if k not in deleted
        ] + [{"k": f"k{k}", "n": k % 3, "v": k} for k in inserted]
        if kept:
            c.execute(text(f'INSERT INTO "{schema}".{name}_t VALUES (:k, :n, :v)'), kept)
    report = run(
        pair(jdbc, schema, f"{name}_s", f"{name}_t", ("k", "n"), samples=1000),
        plan=lambda rows: Segments(first, fan_out, leaf),
    )

    def found(category: str) -> set[str]:
        return {s["k"] for s in sampled(report, category)}

    assert found("missing") == {f"k{k}" for k in deleted}
    assert found("extra") == {f"k{k}" for k in inserted}
    assert found("changed") == {f"k{k}" for k in updated}


def test_a_recon_that_finds_differences_is_a_failed_run_named_like_the_ingestion_target(
    database: tuple[Engine, str, str],
) -> None:
    """The recorded end agrees with the exit status (1: failed checks), and the results are
    about the table as ingestion names it (one dataset, one page)."""
    from domain.ingestion.spec import TargetSpec
    from domain.metadata.kinds import RecordKind
    from domain.metadata.payloads import RunEvent, RunEventType
    from domain.runs.lifecycle import outcome

    engine, jdbc, schema = database
    with engine.begin() as c:
        c.execute(text(f'CREATE TABLE "{schema}".left_side (id int, v text)'))
        c.execute(text(f'CREATE TABLE "{schema}".right_side (id int, v text)'))
        c.execute(text(f"INSERT INTO \"{schema}\".left_side VALUES (1, 'a'), (2, 'b')"))
        c.execute(text(f"INSERT INTO \"{schema}\".right_side VALUES (1, 'a'), (2, 'B')"))
    url = make_url(postgres_url())
    ingested = TargetSpec(
        kind="postgresql",
        url=url.set(drivername="postgresql").render_as_string(hide_password=False),
        table=f"{schema}.right_side",
    ).subject
    for target, expected in (
        ("right_side", RunEventType.FAILED),
        ("left_side", RunEventType.SUCCEEDED),
    ):
        spec = pair(jdbc, schema, "left_side", target, ("id",))
        gateway = MetadataGateway(InMemoryMetadataRepository())
        sql = SqlReconEngine.for_spec(spec)
        try:
            lifecycle = RunLifecycle(gateway, spec.subject, RunId.new(), PRODUCER, _now)
            report = ReconRun(sql, gateway, _now).run(spec, lifecycle)
        finally:
            sql.close()
        end = gateway.latest(RecordKind.RUN_EVENT, spec.subject)
        assert end is not None and isinstance(end.payload, RunEvent)
        assert end.payload.event is expected, end.payload
        if expected is RunEventType.FAILED:
            assert spec.subject == ingested
            assert not report.passed
            assert outcome(end.payload.event, end.payload.message) == "failed checks"
            assert "key_diff" in end.payload.message
        else:
            assert outcome(end.payload.event, end.payload.message) == "succeeded"
