"""The contract of the StateStore port, for every adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.stores import ADAPTERS, Harness, open_harness
from domain.dataset import RunId
from domain.ingestion.state import PipelineState
from ports.ingestion import StateStore

T0 = datetime(2024, 5, 1, 6, tzinfo=UTC)


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with open_harness(request.param) as opened:
        yield opened


def state(pipeline: str = "orders", run: str = "r1", **changes: object) -> PipelineState:
    values: dict[str, object] = {
        "pipeline": pipeline,
        "last_run_id": RunId(run),
        "committed_at": T0,
        "rows_written": 10,
        "watermark": None,
    }
    values.update(changes)
    return PipelineState(**values)  # type: ignore[arg-type]


def test_a_new_pipeline_has_no_state(harness: Harness) -> None:
    store = harness.state_store()
    assert store.get("orders") is None and store.pipelines() == []
    assert store.reset("orders") is False


def test_put_replaces_and_reset_forgets(harness: Harness) -> None:
    store = harness.state_store()
    store.put(state(run="r1"))
    store.put(state(run="r2", rows_written=20, watermark="2024-05-01T06:00:00Z"))
    store.put(state("customers", run="c1"))
    assert store.get("orders") == state(run="r2", rows_written=20, watermark="2024-05-01T06:00:00Z")
    assert [s.pipeline for s in store.pipelines()] == ["customers", "orders"]
    assert store.reset("orders") is True
    assert store.get("orders") is None and store.get("customers") is not None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.text(string.ascii_letters + string.digits, min_size=1, max_size=8),
            st.integers(0, 2**62),
            st.none() | st.text(max_size=30).filter(lambda t: "\x00" not in t),
        ),
        max_size=8,
    )
)
def test_every_store_keeps_what_a_dict_would(
    harness: Harness, writes: list[tuple[str, str, int, str | None]]
) -> None:
    store: StateStore = harness.state_store()
    for pipeline in ("a", "b", "c"):
        store.reset(pipeline)
    model: dict[str, PipelineState] = {}
    for pipeline, run, rows, watermark in writes:
        written = state(pipeline, run, rows_written=rows, watermark=watermark)
        store.put(written)
        model[pipeline] = written
    assert {s.pipeline: s for s in store.pipelines()} == model
