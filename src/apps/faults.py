"""Crash and race tests only: ``DATAPLATFORM_KILL_AT`` names points (comma-separated) at
which a command SIGKILLs its own process, so tests can show what a crash there leaves
behind; ``DATAPLATFORM_WAIT_AT=POINT:FILE`` makes it stop at POINT (creating FILE.reached)
until FILE exists, so a test can let another process commit in between (a real race).

Ingestion: read, gated, staged, marked, switched (Parquet), applied (inside a database
target's apply transaction), committed, recorded, stated. Relay: appended (the repository
committed a batch the outbox has not marked delivered yet).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

FAULT_VARIABLE = "DATAPLATFORM_KILL_AT"
WAIT_VARIABLE = "DATAPLATFORM_WAIT_AT"
_WAIT_LIMIT = 300.0  # seconds a waiting process waits at most, then goes on


def kill_at(points: str | None = None) -> Callable[[str], None]:
    """A checkpoint that kills this process at the ``points`` (default: the variable's)."""
    named = os.environ.get(FAULT_VARIABLE, "") if points is None else points
    wanted = {p.strip() for p in named.split(",") if p.strip()}
    waited, _, gate = os.environ.get(WAIT_VARIABLE, "").partition(":")

    def checkpoint(point: str) -> None:
        if point in wanted:
            os.kill(os.getpid(), signal.SIGKILL)
        if gate and point == waited:
            Path(f"{gate}.reached").touch()
            deadline = time.monotonic() + _WAIT_LIMIT
            while not Path(gate).exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    return checkpoint
