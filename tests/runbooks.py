"""The runbooks' shell blocks (docs/runbooks/*.md), as the tests run them: as written, in
order, under `set -euo pipefail`."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).parents[1]
RUNBOOKS = ROOT / "docs" / "runbooks"


def blocks(page: str, fence: str = "bash", folder: Path = RUNBOOKS) -> list[str]:
    """The blocks of ``folder/page``.md fenced exactly ```` ```fence ```` (``bash cluster``
    blocks are not ``bash`` ones)."""
    pattern = re.compile(rf"^```{re.escape(fence)}\n(.*?)^```", re.MULTILINE | re.DOTALL)
    return pattern.findall((folder / f"{page}.md").read_text())


def run(
    script: Sequence[str], env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The blocks as one bash script that stops at the first failing command."""
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + "\n".join(script)],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        # A guard against a hang, well above the slowest script (./main-job: about 470 s
        # on a quiet machine, 600 s with the other test processes beside it).
        timeout=1200,
        check=False,
        stdin=subprocess.DEVNULL,
    )
