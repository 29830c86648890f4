"""The planner: what a run will do, and why, decided before anything is read."""

from __future__ import annotations

import attrs

from domain.ingestion.spec import Mode, PipelineSpec
from domain.ingestion.state import PipelineState


@attrs.frozen
class Window:
    """The rows an incremental run reads: watermark at or after ``after`` minus ``lag``
    (rows at the committed watermark are read again and the ones already loaded skipped)."""

    column: str
    after: str | None  # the committed watermark; None reads everything
    lag: str | None = None


@attrs.frozen
class Plan:
    """What a run does; every decision comes with its reason, one sentence each."""

    strategy: Mode
    reasons: tuple[str, ...]
    window: Window | None = None


def plan(spec: PipelineSpec, state: PipelineState | None, *, full_refresh: bool = False) -> Plan:
    """Decide the strategy and read window of the next run of ``spec`` from its state."""
    reasons = []
    if state is None:
        reasons.append("no earlier run is committed: the target is built from scratch")
    else:
        reasons.append(
            f"the last committed run is {state.last_run_id} at "
            f"{state.committed_at:%Y-%m-%d %H:%M:%S}Z ({state.rows_written:,} rows)"
        )
    if spec.mode is Mode.FULL:
        reasons.insert(0, "full: the pipeline's mode replaces the whole target each run")
        return Plan(Mode.FULL, tuple(reasons))
    if full_refresh:
        reasons.insert(0, "full: --full-refresh asks to replace the whole target")
        return Plan(Mode.FULL, tuple(reasons))
    if spec.mode is Mode.SCD1:
        order = (
            f"the greatest {spec.sequence} wins (business order)"
            if spec.sequence
            else "a key may appear once per batch (no sequence column)"
        )
        deletes = ""
        if spec.deletes is not None and spec.deletes.missing_keys:
            deletes = "; the batch is a full extract: a key it does not hold is deleted"
        elif spec.deletes is not None:
            deletes = f"; rows with {spec.deletes.column} = {spec.deletes.value} remove their key"
        reasons.insert(
            0,
            f"scd1: one row per key ({', '.join(spec.keys)}), the batch's row replacing the "
            f"target's; {order}{deletes}",
        )
        return Plan(Mode.SCD1, tuple(reasons))
    if spec.mode is Mode.SCD2:
        reasons.insert(
            0,
            f"scd2: a version per real change of a key ({', '.join(spec.keys)}), valid from its "
            f"{spec.sequence} to the next change's; the history of every key in the batch is "
            f"rebuilt in {spec.sequence} order, so late batches land where they belong",
        )
        return Plan(Mode.SCD2, tuple(reasons))
    assert spec.watermark is not None  # the spec refuses append without one
    column = spec.watermark.column
    after = None if state is None else state.watermark
    if after is None:
        reasons.insert(0, f"append: every source row is read (no committed {column} yet)")
    else:
        lag = f" minus the lag of {spec.watermark.lag}" if spec.watermark.lag else ""
        reasons.insert(
            0,
            f"append: rows with {column} at or after the committed {after}{lag} are read; "
            f"those the target already holds are skipped, so late rows at the boundary load "
            f"once and none twice",
        )
    reasons.append(
        f"rows with a NULL {column} are handled by null_cursor = "
        f"{spec.watermark.null_cursor.value}"
    )
    return Plan(Mode.APPEND, tuple(reasons), Window(column, after, spec.watermark.lag))
