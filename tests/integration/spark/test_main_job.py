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
