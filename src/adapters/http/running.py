"""Run the service with uvicorn: in the foreground (`metadata serve`) or in a thread (tests,
benchmarks), on a given port or a free one."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import resource
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
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


def _open_files() -> int:
    """Raise this process's soft limit of open files to its hard one (a server's sockets
    are files); the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    return soft


class LoopErrors:
    """The event loop's own errors as the service's log lines (one JSON object each), not
    tracebacks: a flood of connections beyond the open-files limit makes every accept fail,
    said once per ``every`` seconds with how many failed."""

    def __init__(self, log: Callable[[str], None], limit: int, every: float = 10.0) -> None:
        self._log, self._limit, self._every = log, limit, every
        self._last: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        failure = context.get("exception")
        message = str(context.get("message") or "event loop error")
        if isinstance(failure, OSError) and failure.errno == errno.EMFILE:
            message = (
                f"too many open files (limit {self._limit}): connections are refused until "
                f"some close; raise the limit (ulimit -n) or put a proxy in front"
            )
        elif failure is not None:
            message = f"{message}: {type(failure).__name__}: {failure}"
        self.say(message)

    def say(self, message: str) -> None:
        """``message`` as a JSON line, or counted when it was said less than ``every``
        seconds ago (the next line says how many times)."""
        self._counts[message] = self._counts.get(message, 0) + 1
        now = time.monotonic()
        if now - self._last.get(message, -self._every) < self._every:
            return
        self._last[message] = now
        count, self._counts[message] = self._counts[message], 0
        self._log(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "event": "server error",
                    "message": message,
                    "times": count,
                },
                separators=(",", ":"),
            )
        )


class _Said(logging.Handler):
    """uvicorn's warnings ("Exceeded concurrency limit.") as the service's JSON lines."""

    def __init__(self, errors: LoopErrors) -> None:
        super().__init__(logging.WARNING)
        self._errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        self._errors.say(record.getMessage().split("\n")[0].strip().rstrip("."))


def serve(app: Any, host: str, port: int, log: Callable[[str], None] = print) -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn finishes the requests under way); the event
    loop's own errors go to ``log`` as JSON lines, and requests beyond what the open-files
    limit allows are answered 503, not dropped with a traceback."""
    limit = _open_files()
    config = _config(app, host, port)
    config.limit_concurrency = max(16, limit - 64)  # files for the store, logs, the listener
    config.log_config = None  # uvicorn's own lines: JSON through ``log``, as below
    errors = LoopErrors(log, limit)
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.handlers[:] = [_Said(errors)]
    uvicorn_log.propagate = False
    server = uvicorn.Server(config)

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(errors)
        await server.serve()

    asyncio.run(main())


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
