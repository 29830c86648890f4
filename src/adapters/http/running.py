"""Run the service with uvicorn: in the foreground (`metadata serve`) or in a thread (tests,
benchmarks), on a given port or a free one."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # the service writes its own (JSON, without tokens)
        lifespan="off",
        timeout_graceful_shutdown=10,
    )


def serve(app: Any, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn finishes the requests under way)."""
    uvicorn.Server(_config(app, host, port)).run()


@contextlib.contextmanager
def in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The service in a thread of this process; yields its base URL."""
    server = uvicorn.Server(_config(app, host, port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the service did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(15)
