"""The README's main job, as ./main-job runs it: the example orders in two batches through
the append pipeline, then what the metadata store recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from apps.ingestion.main import cli as ingestion
from apps.metadata.main import cli as metadata

EXAMPLES = Path(__file__).parents[3] / "examples"
PIPELINE = EXAMPLES / "pipelines" / "orders-append.toml"


def test_the_example_batches_load_as_documented(tmp_path: Path) -> None:
    env = {"DATAPLATFORM_HOME": str(tmp_path)}
    landing = tmp_path / "landing" / "orders"
    landing.mkdir(parents=True)
    written = []
    for batch in (1, 2, 2):  # the second batch twice: a rerun loads nothing
        shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)
        result = CliRunner().invoke(
            ingestion,
            ["run", str(PIPELINE), "--json"],
            env=env,
        )
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        written.append((report["rows_read"], report["rows_written"]))
    assert written == [(6, 6), (7, 4), (3, 0)]
    target = f"file::{tmp_path / 'warehouse' / 'orders-append'}"
    volumes = CliRunner().invoke(
        metadata, ["history", "ingestion_volume", target, "--json"], env=env
    )
    rejected = [r["payload"]["rows_rejected"] for r in json.loads(volumes.stdout)["records"]]
    assert rejected == [1, 1, 0]  # newest first: the NULL updated_at of batch 2 is rejected


def test_parity_is_clean_after_the_main_job_and_fails_on_a_planted_difference(
    tmp_path: Path,
) -> None:
    env = {"DATAPLATFORM_HOME": str(tmp_path)}
    landing = tmp_path / "landing" / "orders"
    landing.mkdir(parents=True)
    for batch in (1, 2):
        shutil.copy(EXAMPLES / "ingestion" / f"orders-batch{batch}.jsonl", landing)
        assert CliRunner().invoke(ingestion, ["run", str(PIPELINE)], env=env).exit_code == 0
    logs = (tmp_path / "ingestion" / "logs" / "orders-append.jsonl").read_text().splitlines()
    assert {json.loads(line)["event"] for line in logs} >= {"started", "phase", "succeeded"}
    clean = CliRunner().invoke(ingestion, ["parity", "--json"], env=env)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout) == {"compared": 2, "ok": True, "differences": []}
    summary = sorted((tmp_path / "ingestion" / "summaries" / "orders-append").glob("*.json"))[0]
    planted = json.loads(summary.read_text())
    planted["rows_written"] += 1
    summary.write_text(json.dumps(planted))
    failed = CliRunner().invoke(ingestion, ["parity"], env=env)
    assert failed.exit_code == 1
    assert "rows_written" in failed.stdout and "parity FAILED" in failed.stdout
