"""Heartbeats for a run while it works: the one place the apps start a timer thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from domain.runs.lifecycle import RunLifecycle

HEARTBEAT_SECONDS = 30.0


@contextmanager
def heartbeats(lifecycle: RunLifecycle, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Emit a RUNNING heartbeat every ``every`` seconds until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            lifecycle.heartbeat()

    thread = threading.Thread(target=beat, name=f"heartbeat-{lifecycle.run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
