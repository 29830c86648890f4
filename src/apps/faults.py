"""Crash tests only: ``DATAPLATFORM_KILL_AT`` names points (comma-separated) at which a
command SIGKILLs its own process, so tests can show what a crash there leaves behind.

Ingestion: read, gated, staged, marked, switched (Parquet), applied (inside a database
target's apply transaction), committed, recorded, stated. Relay: appended (the repository
committed a batch the outbox has not marked delivered yet).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

FAULT_VARIABLE = "DATAPLATFORM_KILL_AT"


def kill_at(points: str | None = None) -> Callable[[str], None]:
    """A checkpoint that kills this process at the ``points`` (default: the variable's)."""
    named = os.environ.get(FAULT_VARIABLE, "") if points is None else points
    wanted = {p.strip() for p in named.split(",") if p.strip()}

    def checkpoint(point: str) -> None:
        if point in wanted:
            os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint
