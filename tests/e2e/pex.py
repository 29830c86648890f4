"""Run the packaged metadata app as a user runs it: `python metadata.pex ...`, without the
test runner's PEX and DATAPLATFORM variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
PEX = ROOT / "src.apps.metadata" / "metadata.pex"


def environment(home: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PEX" not in k and "DATAPLATFORM" not in k}
    if home is not None:
        env["DATAPLATFORM_HOME"] = str(home)
    env.update(extra or {})
    return env


def metadata(
    *args: str,
    home: Path | None = None,
    env: dict[str, str] | None = None,
    closed_stdin: bool = False,
    pex: Path = PEX,
) -> subprocess.CompletedProcess[str]:
    """The PEX's result (metadata's unless ``pex`` names another app's); ``closed_stdin``
    starts it with no file descriptor 0 at all."""
    command = [sys.executable, str(pex), *args]
    if closed_stdin:
        command = ["sh", "-c", 'exec "$0" "$@" <&-', *command]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment(home, env),
        stdin=None if closed_stdin else subprocess.DEVNULL,
    )
