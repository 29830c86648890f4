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


def test_an_empty_directory_is_bad_input_not_parity_ok(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    code, out, err = run(f"sqlite:///{tmp_path / 'm.db'}", "backfill", str(tmp_path / "cache"))
    assert code == 2 and "no *.json or *.jsonl files" in err and "parity OK" not in out


def test_bad_files_are_reported_and_the_others_still_import(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(LEGACY, cache)
    (cache / "latin1.jsonl").write_bytes(b'{"kind": "caf\xe9"}\n')
    (cache / "empty.json").write_bytes(b"\xff\xfe{\x00}\x00")
    first = json.loads((LEGACY / "orders" / "003-ingestion_volume.json").read_text())
    clash = dict(
        first, payload=dict(first["payload"], rows_written=first["payload"]["rows_written"] + 7)
    )
    (cache / "clash.json").write_text(json.dumps([first, clash]))
    code, out, err = run(f"sqlite:///{tmp_path / 'm.db'}", "backfill", str(cache), "--json")
    report = json.loads(out)
    assert code == 1 and "Traceback" not in err
    assert "latin1.jsonl: not UTF-8 (byte 0xE9 at line 1, column 14)" in err
    assert "empty.json: is UTF-16 text" in err
    assert report["imported"] == 9 and report["invalid"] == 2 and report["differing"]
