"""A harvest as a run: its life recorded about the catalog (started, then succeeded, or
failed with the reason), the way ingestion and recon record theirs; the recorded end agrees
with what the command then says (a harvest with a failed dataset, or none at all, failed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.catalog.harvest import Harvest, HarvestOutcome, Progress
from domain.runs.lifecycle import RunLifecycle

PRODUCER = "metadata-harvest"


class NothingHarvested(Exception):
    """The catalog holds no dataset (the run is recorded as failed, saying so)."""


def harvest_run(
    job: Harvest,
    lifecycle: RunLifecycle,
    *,
    what: str,
    nothing: str,
    now: Callable[[], datetime],
    profile: bool = False,
    progress: Progress | None = None,
) -> list[HarvestOutcome]:
    """Run ``job`` as the run of ``lifecycle`` (``what``: the catalog in words; ``nothing``:
    what an empty catalog is called). A failure is recorded with its first line and raised;
    an empty catalog is recorded failed and raised as ``NothingHarvested``."""
    lifecycle.start(f"harvest of {what}")
    try:
        outcomes = job.run(
            run_id=lifecycle.run_id,
            producer=lifecycle.producer,
            now=now,
            profile=profile,
            progress=progress,
        )
    except BaseException as failure:
        lifecycle.fail(str(failure).splitlines()[0] if str(failure) else type(failure).__name__)
        raise
    if not outcomes:
        lifecycle.fail(nothing)
        raise NothingHarvested(nothing)
    failed = sum(1 for o in outcomes if not o.ok)
    if failed:
        lifecycle.fail(f"{failed} of {len(outcomes)} dataset(s) failed")
    else:
        lifecycle.succeed(f"{len(outcomes)} dataset(s) harvested")
    return outcomes
