"""The planner: what a run will do, and why, decided before anything is read."""

from __future__ import annotations

import attrs

from domain.ingestion.spec import Mode, PipelineSpec
from domain.ingestion.state import PipelineState


@attrs.frozen
class Plan:
    """What a run does; every decision comes with its reason, one sentence each."""

    strategy: Mode
    reasons: tuple[str, ...]


def plan(spec: PipelineSpec, state: PipelineState | None, *, full_refresh: bool = False) -> Plan:
    """Decide the strategy of the next run of ``spec`` from its last committed state."""
    reasons = []
    if spec.mode is Mode.FULL:
        reasons.append("full: the pipeline's mode replaces the whole target each run")
    elif full_refresh:
        reasons.append("full: --full-refresh asks to replace the whole target")
    if state is None:
        reasons.append("no earlier run is committed: the target is built from scratch")
    else:
        reasons.append(
            f"the last committed run is {state.last_run_id} at "
            f"{state.committed_at:%Y-%m-%d %H:%M:%S}Z ({state.rows_written:,} rows)"
        )
    return Plan(Mode.FULL, tuple(reasons))
