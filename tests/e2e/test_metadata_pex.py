"""The packaged metadata app, run as a user runs it: `python metadata.pex ...`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
PEX = ROOT / "src.apps.metadata" / "metadata.pex"
EXAMPLES = ROOT / "examples" / "records"


def metadata(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PEX), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_pex_validates_the_good_example() -> None:
    result = metadata("records", "validate", str(EXAMPLES / "orders-run.jsonl"))
    assert result.returncode == 0, result.stderr
    assert "7 record(s) checked, 7 valid, 0 invalid" in result.stdout


def test_pex_reports_each_bad_line_and_exits_two() -> None:
    result = metadata("records", "validate", str(EXAMPLES / "bad.jsonl"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 4
    assert "line 5: $.payload.rows_written: expected int, got str '1199998'" in lines[3]


def test_pex_help_teaches_the_commands() -> None:
    result = metadata("records", "validate", "--help")
    assert result.returncode == 0
    assert "FILE|-" in result.stdout and "Exit status" in result.stdout
