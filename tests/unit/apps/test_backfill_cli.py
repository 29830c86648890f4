"""`metadata backfill DIR`: import a legacy cache idempotently and report parity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from apps.metadata.main import cli

LEGACY = Path(__file__).parents[3] / "examples" / "legacy-cache"


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--url", url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_first_run_imports_and_second_run_imports_nothing_new(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    code, out, _ = run(url, "backfill", str(LEGACY), "--json")
    first = json.loads(out)
    assert code == 0 and first["ok"]
    assert (first["files"], first["in_source"], first["imported"], first["already_stored"]) == (
        6,
        9,
        9,
        0,
    )
    code, out, _ = run(url, "backfill", str(LEGACY))
    assert code == 0
    assert "imported 0, already stored 9  (nothing new)" in out
    assert "parity: 9 match, 0 missing, 0 differing" in out


def test_a_record_that_differs_from_the_store_fails_parity(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    run(url, "backfill", str(LEGACY))
    changed = tmp_path / "cache"
    shutil.copytree(LEGACY, changed)
    volume = changed / "orders" / "003-ingestion_volume.json"
    record = json.loads(volume.read_text())
    record["payload"]["rows_written"] += 1
    volume.write_text(json.dumps(record))
    (changed / "orders" / "broken.jsonl").write_text('{"kind": "run_event"}\n')
    code, out, err = run(url, "backfill", str(changed))
    assert code == 1
    assert "1 differing" in out and "parity FAILED" in out
    assert "broken.jsonl: line 1: $.subject: required field missing" in err
