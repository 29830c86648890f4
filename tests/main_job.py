"""The README's main job (./main-job) as written, run by a test: each `./pants run
src/apps/APP/main.py -- ARGS` becomes `python -m apps.APP.main ARGS` (and `./pants run
tools/TOOL.py -- ARGS` `python -m TOOL ARGS`) in the test's own
interpreter (Pants cannot run inside a Pants sandbox), and what installs and builds is
left out (bin/prerequisites; the sandbox has it all). Every other line runs as the script
has it: its copies into the landing area, its plans and runs, what it prints, its checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import runbooks

ROOT = Path(__file__).parents[1]
_PANTS_RUN = re.compile(r"\./pants run src/apps/(\w+)/main\.py(?::\w+)? --")
_PANTS_TOOL = re.compile(r"\./pants run tools/(\w+)\.py --")


def script() -> str:
    """./main-job's text, its app commands in this interpreter, without bin/prerequisites."""
    text = (ROOT / "main-job").read_text()
    assert "bin/prerequisites\n" in text and _PANTS_RUN.search(text), "main-job changed its form"
    text = text.replace("bin/prerequisites\n", ": installed already\n", 1)
    text = _PANTS_TOOL.sub(r'"${MAIN_JOB_PYTHON}" -m \1', text)
    return _PANTS_RUN.sub(r'"${MAIN_JOB_PYTHON}" -m apps.\1.main', text)


def run(home: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """./main-job on ``home`` with ``env`` (a store URL and token, say), from the root."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PEX")}
    environ.update(
        {
            "DATAPLATFORM_HOME": str(home),
            "MAIN_JOB_PYTHON": sys.executable,
            "PYTHONPATH": os.pathsep.join(sys.path),
            **env,
        }
    )
    return runbooks.run([script()], environ, ROOT)
