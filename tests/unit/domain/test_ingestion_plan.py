"""The planner and the pipeline spec's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dataset import RunId
from domain.ingestion.durations import lag_amount
from domain.ingestion.plan import SNAPSHOTS, PastRun, Probe, Window, plan
from domain.ingestion.spec import (
    Mode,
    NullCursor,
    PipelineSpec,
    SourceSpec,
    TargetSpec,
    Watermark,
)
from domain.ingestion.state import PipelineState

SOURCE = SourceSpec(kind="parquet", path="/data/orders")
TARGET = TargetSpec(kind="parquet", path="/warehouse/orders")


def append_spec(lag: str | None = None) -> PipelineSpec:
    return PipelineSpec(
        "orders", SOURCE, TARGET, Mode.APPEND, ("id",), watermark=Watermark("updated_at", lag)
    )


@given(
    st.none() | st.text(min_size=1, max_size=30),
    st.none() | st.sampled_from(["0", "90s", "15m", "1h", "2d", "100"]),
    st.booleans(),
)
def test_a_window_starts_at_the_committed_watermark_less_the_specs_lag(
    watermark: str | None, lag: str | None, full_refresh: bool
) -> None:
    state = PipelineState("orders", RunId("r1"), datetime(2024, 5, 1, tzinfo=UTC), 10, watermark)
    decided = plan(append_spec(lag), state, full_refresh=full_refresh)
    if full_refresh:
        assert decided.strategy is Mode.FULL and decided.window is None
        assert decided.reasons[0].startswith("full: --full-refresh")
        return
    assert decided.strategy is Mode.APPEND
    # What the engine reads: the spec's watermark column, from the committed value (never
    # a later one), less the spec's lag; and the reason says so.
    assert decided.window == Window("updated_at", watermark, lag)
    first = decided.reasons[0]
    if watermark is None:
        assert first == "append: every source row is read (no committed updated_at yet)"
    else:
        assert f"at or after the committed {watermark}" in first
        assert (f"minus the lag of {lag}" in first) == bool(lag)


# Each mode's first plan, and the sentence its first reason starts with.
FIRST_REASONS = [
    (append_spec("1h"), "append: every source row is read (no committed updated_at yet)"),
    (PipelineSpec("orders", SOURCE, TARGET, Mode.FULL), "full: the pipeline's mode replaces"),
    (PipelineSpec("orders", SOURCE, TARGET, Mode.SCD1, ("id",)), "scd1: one row per key (id)"),
    (
        PipelineSpec("orders", SOURCE, TARGET, Mode.SCD2, ("id",), sequence="updated_at"),
        "scd2: a version per real change of a key (id), valid from its updated_at",
    ),
    (
        PipelineSpec("orders", SOURCE, TARGET, Mode.SCD2, ("id",)),
        "scd2: a version per real change of a key (id), valid from the load time",
    ),
]


@pytest.mark.parametrize(("spec", "first"), FIRST_REASONS, ids=lambda v: getattr(v, "mode", ""))
def test_every_decision_has_its_reason(spec: PipelineSpec, first: str) -> None:
    decided = plan(spec, None)
    assert decided.reasons[0].startswith(first)
    assert "no earlier run is committed: the target is built from scratch" in decided.reasons
    assert all(reason.strip() == reason and reason for reason in decided.reasons)


def test_an_append_plan_says_how_null_cursors_are_handled() -> None:
    assert plan(append_spec(), None).reasons[-1] == (
        "rows with a NULL updated_at are handled by null_cursor = raise"
    )


def test_scd2_without_a_sequence_orders_changes_by_load_time() -> None:
    assert PipelineSpec("orders", SOURCE, TARGET, Mode.SCD2, ("id",)).change_order == "loaded_at"


def test_append_needs_a_watermark() -> None:
    with pytest.raises(ValueError, match=r"^watermark: mode append needs a \[watermark\]"):
        PipelineSpec("orders", SOURCE, TARGET, Mode.APPEND)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: TargetSpec(kind="postgresql", table="public.orders"),
            r"^target: a postgresql target needs url and table",
        ),
        (
            lambda: TargetSpec(kind="sqlite", path="w.db", table="a b"),
            r"^target: table 'a b' is not a table name",
        ),
        (
            lambda: TargetSpec(kind="postgresql", url="mysql://x/y", table="orders"),
            r"^target: url 'mysql://x/y' is not a PostgreSQL URL",
        ),
        (
            lambda: Watermark("updated_at", "soon", NullCursor.RAISE),
            r"^watermark\.lag: 'soon' is not a lag",
        ),
        (lambda: PipelineSpec("bad name", SOURCE, TARGET), "^name:"),
    ],
    ids=["postgresql-without-url", "bad-table-name", "not-postgresql", "bad-lag", "bad-name"],
)
def test_a_bad_spec_names_the_key_and_the_fix(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("2d", 172800), ("100", 100), ("90s", 90), ("1h", 3600)]
)
def test_a_lag_reads_as_seconds(text: str, seconds: int) -> None:
    assert lag_amount(text) == seconds


def test_deletes_are_a_marker_or_missing_keys_and_missing_keys_need_scd1() -> None:
    from domain.ingestion.spec import Deletes

    with pytest.raises(ValueError, match="^deletes: give either column"):
        Deletes()
    with pytest.raises(ValueError, match="^deletes: give either column"):
        Deletes("op", "D", missing_keys=True)
    extract = Deletes(missing_keys=True)
    assert PipelineSpec("c", SOURCE, TARGET, Mode.SCD1, ("id",), deletes=extract).deletes
    with pytest.raises(ValueError, match="^deletes.missing_keys: only mode scd1"):
        PipelineSpec("c", SOURCE, TARGET, Mode.SCD2, ("id",), sequence="s", deletes=extract)
    reasons = plan(PipelineSpec("c", SOURCE, TARGET, Mode.SCD1, ("id",), deletes=extract), None)
    assert "full extract" in reasons.reasons[0]


# -- partitioning: the predicates as a database runs them ------------------------------


@given(
    lowest=st.integers(-(10**12), 10**12),
    span=st.integers(0, 10**6),
    rows=st.integers(0, 10**8),
    slots=st.integers(1, 16),
    values=st.lists(st.one_of(st.none(), st.integers(-(10**13), 10**13)), max_size=40),
)
def test_partitions_hold_every_row_exactly_once_and_never_outnumber_rows(
    lowest: int, span: int, rows: int, slots: int, values: list[int | None]
) -> None:
    import sqlite3

    probe = Probe(rows, rows * 50, "id", lowest, lowest + span, slots=slots)
    decided = plan(spec_full(), None, probe=probe)
    parts = decided.partitioning
    assert parts is not None
    assert 1 <= parts.count <= max(rows, 1) and parts.count <= span + 1
    assert 1 <= decided.parallelism <= min(parts.count, slots)
    predicates = parts.predicates()
    assert len(predicates) == parts.count
    inside = [lowest + (span * i) // 7 for i in range(8)]  # the probed range, ends included
    database = sqlite3.connect(":memory:")
    database.execute('CREATE TABLE t ("id" INTEGER)')
    database.executemany("INSERT INTO t VALUES (?)", [(v,) for v in [*values, *inside]])
    total = database.execute("SELECT count(*) FROM t").fetchone()[0]
    held = [database.execute(f"SELECT rowid FROM t WHERE {p}").fetchall() for p in predicates]
    every = sorted(r for part in held for r in part)
    assert len(every) == total and len(set(every)) == total  # each row in exactly one
    assert any(decided.reasons[-2].startswith(w) for w in ("the source is read in",))


def spec_full() -> PipelineSpec:
    return PipelineSpec("orders", SOURCE, TARGET, Mode.FULL)


def test_the_plan_reads_the_history_of_earlier_runs() -> None:
    probe = Probe(1_000_000, 10**8, "id", 1, 1_000_000, slots=2)
    decided = plan(spec_full(), None, probe=probe, history=(PastRun(500_000, 2.0),) * 3)
    assert any("read 250,000 rows/s" in r and "about 4s" in r for r in decided.reasons)
    assert decided.partitioning is not None and decided.partitioning.count == 4
    assert decided.parallelism == 2


def test_an_iceberg_source_without_a_watermark_is_read_by_snapshot() -> None:
    """From one Iceberg table into another, an append needs no watermark column: the window
    starts at the snapshot the last run read. Into a database target it is still refused."""
    source = SourceSpec(kind="iceberg", table="sales.orders", catalog="sqlite:////c.db")
    lake = TargetSpec(
        kind="iceberg", table="mirror.orders", catalog="sqlite:////c.db", location="/lake/m"
    )
    spec = PipelineSpec("mirror", source, lake, Mode.APPEND, ("id",))
    assert spec.by_snapshot
    first = plan(spec, None)
    assert first.window == Window(SNAPSHOTS, None)
    assert "every row of the source table is read" in first.reasons[0]
    state = PipelineState("mirror", RunId("r1"), datetime(2024, 5, 1, tzinfo=UTC), 6, "42")
    later = plan(spec, state)
    assert later.window == Window(SNAPSHOTS, "42")
    assert "appended after snapshot 42" in later.reasons[0]
    assert plan(spec, state, full_refresh=True).window is None
    database = TargetSpec(kind="postgresql", url="postgresql://db/x", table="public.orders")
    with pytest.raises(ValueError, match="watermark: mode append needs"):
        PipelineSpec("mirror", source, database, Mode.APPEND, ("id",))
