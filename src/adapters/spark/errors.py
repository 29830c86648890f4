"""Spark's failures as one line a person can act on (the JVM's stack stays out of it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from domain.ingestion.errors import EngineFailed

_SQLSTATE = re.compile(r"\s*SQLSTATE:\s*\S*\.?\s*$")


def spark_reason(failure: BaseException) -> str:
    """The first line of what Spark (or the JVM behind it) said, without its noise."""
    java = getattr(failure, "java_exception", None)
    text = ""
    if java is not None:
        try:
            cause = java
            while cause.getCause() is not None:  # the root cause names the file or row
                cause = cause.getCause()
            text = str(java.getMessage() or "") or str(cause.getMessage() or "")
        except Exception:  # - the JVM may be gone; fall back to Python's text
            text = ""
    text = text or str(failure)
    line = next(
        (part.strip() for part in text.splitlines() if part.strip()), type(failure).__name__
    )
    return _SQLSTATE.sub("", line.removeprefix(": "))


@contextmanager
def engine_step(what: str, wrap: Callable[[str], Exception] = EngineFailed) -> Iterator[None]:
    """Turn a Spark failure inside the block into ``EngineFailed``: "<what> failed: ..."."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, EngineFailed):
        raise
    except Exception as failure:
        module = type(failure).__module__
        if module.startswith(("py4j", "pyspark")):
            raise wrap(f"{what} failed: {spark_reason(failure)}") from failure
        raise
