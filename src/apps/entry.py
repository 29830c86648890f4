"""The packaged apps' entry points: Ctrl-C is exit 130 and one line from the first instant.

Python turns SIGINT into a KeyboardInterrupt wherever the program is, and before an app's
own error handler runs (importing click, SQLAlchemy and the app takes most of a second) that
is a traceback. The PEX files start here instead: SIGINT ends the process at once with
``interrupted`` until the app's command line is up, then its handler takes over.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from types import FrameType


def _interrupted(signum: int, frame: FrameType | None) -> None:
    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(130)  # nothing is started yet: nothing to clean up


def _run(module: str) -> None:
    previous = signal.signal(signal.SIGINT, _interrupted)
    cli = importlib.import_module(module).cli
    signal.signal(signal.SIGINT, previous)  # the app's handler: "interrupted", exit 130
    cli()


def metadata() -> None:
    _run("apps.metadata.main")


def ingestion() -> None:
    _run("apps.ingestion.main")


def recon() -> None:
    _run("apps.recon.main")
