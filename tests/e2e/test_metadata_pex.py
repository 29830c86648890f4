"""The packaged metadata app, run as a user runs it: `python metadata.pex ...`."""

from __future__ import annotations

import json
from pathlib import Path

from e2e.pex import ROOT, metadata

EXAMPLES = ROOT / "examples" / "records"


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


def test_pex_emits_and_reads_back_on_the_embedded_store(tmp_path: Path) -> None:
    emitted = metadata("emit", str(EXAMPLES / "orders-run.jsonl"), home=tmp_path / "home")
    assert emitted.returncode == 0, emitted.stderr
    assert (tmp_path / "home" / "metadata.db").is_file()
    latest = metadata(
        "latest",
        "run_event",
        "postgres://warehouse:5432::sales.public.orders",
        "--json",
        home=tmp_path / "home",
    )
    assert latest.returncode == 0, latest.stderr
    assert json.loads(latest.stdout)["payload"]["event"] == "succeeded"


def test_the_ingestion_pex_plans_without_spark(tmp_path: Path) -> None:
    """The ingestion app starts without pyspark (the cluster provides it): plan, state."""
    pex = ROOT / "src.apps.ingestion" / "ingestion.pex"
    pipeline = ROOT / "examples" / "pipelines" / "orders-full.toml"
    result = metadata("plan", str(pipeline), "--json", home=tmp_path, pex=pex)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["strategy"] == "full"
    result = metadata("state", "show", home=tmp_path, pex=pex)
    assert result.returncode == 0 and "no pipeline has committed a run yet" in result.stdout
