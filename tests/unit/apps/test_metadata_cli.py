"""`metadata records validate`, driven through its click entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from apps.metadata.bootstrap import bootstrap
from apps.metadata.main import cli

GOOD = json.dumps(
    {
        "kind": "run_event",
        "subject": {"namespace": "file", "name": "/data/orders"},
        "run_id": "r1",
        "observed_at": "2024-05-01T06:00:00+02:00",
        "producer": "test",
        "payload": {"event": "started", "message": ""},
    }
)
BAD = GOOD.replace('"started"', '"begun"')


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, obj=bootstrap())
    return result.exit_code, result.stdout, result.stderr


def test_valid_file_exits_zero_with_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(f"{GOOD}\n{GOOD}\n")
    code, out, _ = run("records", "validate", str(path))
    assert code == 0
    assert "2 record(s) checked, 2 valid, 0 invalid" in out


def test_bad_lines_are_printed_with_path_and_reason_and_exit_two() -> None:
    code, out, err = run("records", "validate", "-", stdin=f"{GOOD}\n{BAD}\nnot json\n")
    assert code == 2
    assert "<stdin>: line 2: $.payload.event: expected one of 'started'" in err
    assert "<stdin>: line 3: $: malformed JSON at line 3, column 1" in err
    assert "3 record(s) checked, 1 valid, 2 invalid" in out


def test_json_report_for_machines() -> None:
    code, out, _ = run("records", "validate", "--json", "-", stdin=f"{BAD}\n")
    assert code == 2
    report = json.loads(out)
    assert report["checked"] == 1 and report["valid"] == 0
    assert report["invalid"][0]["problems"][0]["path"] == "$.payload.event"


def test_empty_input_is_bad_input() -> None:
    code, _, err = run("records", "validate", "-", stdin="")
    assert code == 2
    assert "no records found" in err


def test_missing_file_is_named() -> None:
    code, _, err = run("records", "validate", "/nonexistent/records.jsonl")
    assert code == 2
    assert "/nonexistent/records.jsonl" in err


def test_the_shipped_examples_validate_as_documented() -> None:
    examples = Path(__file__).parents[3] / "examples" / "records"
    code, _, _ = run("records", "validate", str(examples / "orders-run.jsonl"))
    assert code == 0
    code, _, err = run("records", "validate", str(examples / "bad.jsonl"))
    assert code == 2
    assert len(err.splitlines()) == 4
