"""The planner and the pipeline spec's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dataset import RunId
from domain.ingestion.plan import plan
from domain.ingestion.spec import (
    Mode,
    NullCursor,
    PipelineSpec,
    SourceSpec,
    TargetSpec,
    Watermark,
    lag_amount,
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
def test_a_window_never_skips_the_committed_watermark(
    watermark: str | None, lag: str | None, full_refresh: bool
) -> None:
    state = PipelineState("orders", RunId("r1"), datetime(2024, 5, 1, tzinfo=UTC), 10, watermark)
    decided = plan(append_spec(lag), state, full_refresh=full_refresh)
    if full_refresh:
        assert decided.strategy is Mode.FULL and decided.window is None
    else:
        # The read starts at the committed watermark (minus a non-negative lag), never after.
        assert decided.window is not None and decided.window.after == watermark
        assert decided.window.lag is None or lag_amount(decided.window.lag) >= 0
    assert decided.reasons and all(reason.strip() for reason in decided.reasons)


def test_every_decision_has_its_reason() -> None:
    first = plan(append_spec("1h"), None)
    assert first.window is not None and first.window.after is None
    assert any("every source row is read" in r for r in first.reasons)
    assert any("null_cursor = raise" in r for r in first.reasons)


def test_spec_rules_name_the_key_and_the_fix() -> None:
    with pytest.raises(ValueError, match=r"^watermark: mode append needs a \[watermark\]"):
        PipelineSpec("orders", SOURCE, TARGET, Mode.APPEND)
    with pytest.raises(ValueError, match="not available yet"):
        PipelineSpec("orders", SOURCE, TARGET, Mode.SCD2, ("id",))
    with pytest.raises(ValueError, match=r"^watermark\.lag: 'soon' is not a lag"):
        Watermark("updated_at", "soon", NullCursor.RAISE)
    with pytest.raises(ValueError, match="^name:"):
        PipelineSpec("bad name", SOURCE, TARGET)
    assert lag_amount("15m") == 900 and lag_amount("2d") == 172800 and lag_amount("100") == 100


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
