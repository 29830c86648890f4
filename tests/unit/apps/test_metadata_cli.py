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


# -- emit / latest / history / query / migrate on a real embedded store --------------------------

ORDERS = "postgres://warehouse:5432::sales.public.orders"
EXAMPLES = Path(__file__).parents[3] / "examples" / "records"


def store(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    result = CliRunner().invoke(cli, ["--url", url, *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_emit_then_latest_history_and_query(tmp_path: Path) -> None:
    code, out, _ = store(tmp_path, "emit", str(EXAMPLES / "orders-run.jsonl"))
    assert (code, out.strip()) == (
        0,
        f"{EXAMPLES / 'orders-run.jsonl'}: 7 record(s) written, 0 duplicate(s) skipped",
    )
    code, out, _ = store(tmp_path, "emit", str(EXAMPLES / "orders-run.jsonl"))
    assert "0 record(s) written, 7 duplicate(s) skipped" in out
    code, out, _ = store(tmp_path, "latest", "ingestion_volume", ORDERS, "--json")
    assert code == 0 and json.loads(out)["payload"]["rows_written"] == 1199998
    code, out, _ = store(tmp_path, "history", "run_event", ORDERS)
    lines = out.splitlines()
    assert code == 0 and "succeeded" in lines[2] and "started" in lines[3]
    code, out, _ = store(
        tmp_path, "query", "--kind", "run_event", "--kind", "recon_result", "--json"
    )
    assert {r["kind"] for r in json.loads(out)["records"]} == {"run_event", "recon_result"}
    code, out, _ = store(tmp_path, "query", "--limit", "2", "--oldest-first", "--json")
    first = json.loads(out)
    code, out, _ = store(
        tmp_path,
        "query",
        "--limit",
        "2",
        "--oldest-first",
        "--json",
        "--cursor",
        first["next_cursor"],
    )
    assert not {r["record_id"] for r in first["records"]} & {
        r["record_id"] for r in json.loads(out)["records"]
    }


def test_datasets_lists_searches_and_pages(tmp_path: Path) -> None:
    code, out, _ = store(tmp_path, "datasets")
    assert code == 0 and "no datasets yet" in out
    store(tmp_path, "emit", str(EXAMPLES / "orders-run.jsonl"))
    store(tmp_path, "emit", "-", stdin=GOOD)
    code, out, _ = store(tmp_path, "datasets", "--json")
    listed = json.loads(out)
    assert (code, listed) == (0, {"subjects": ["file::/data/orders", ORDERS], "next_after": None})
    code, out, _ = store(tmp_path, "datasets", "--contains", "PUBLIC.ORDERS")
    assert out.splitlines() == [ORDERS]
    code, out, _ = store(tmp_path, "datasets", "--limit", "1")
    assert out.splitlines() == ["file::/data/orders", "", "more: add --after 'file::/data/orders'"]
    code, out, _ = store(tmp_path, "datasets", "--after", "file::/data/orders", "--json")
    assert json.loads(out) == {"subjects": [ORDERS], "next_after": None}
    code, out, _ = store(tmp_path, "datasets", "--contains", "no-such")
    assert out.strip() == "no dataset holds 'no-such'"
    code, _, err = store(tmp_path, "datasets", "--contains", "a\tb")
    assert code == 2 and "--contains: 'a\\tb' holds a control character" in err


def test_a_bad_file_writes_nothing(tmp_path: Path) -> None:
    code, _, err = store(tmp_path, "emit", str(EXAMPLES / "bad.jsonl"))
    assert code == 2
    assert "4 of 5 record(s) invalid; nothing written" in err
    code, out, _ = store(tmp_path, "query")
    assert out.strip() == "no records match"


def test_latest_of_nothing_says_so(tmp_path: Path) -> None:
    code, _, err = store(tmp_path, "latest", "schema_snapshot", "file::/nowhere")
    assert code == 1 and "no schema_snapshot record about file::/nowhere" in err


def test_bad_arguments_name_the_fix(tmp_path: Path) -> None:
    code, _, err = store(tmp_path, "history", "run_event", "orders")
    assert code == 2 and "namespace::name" in err
    code, _, err = store(tmp_path, "query", "--since", "2024-05-01T00:00:00")
    assert code == 2 and "no time zone" in err
    code, _, err = store(tmp_path, "query", "--cursor", "garbage!")
    assert code == 2 and "cursor" in err


def test_an_out_of_date_store_is_refused_until_migrated(tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "metadata.db") as connection:  # a store without our schema
        connection.execute("CREATE TABLE unrelated (x INTEGER)")
    code, _, err = store(tmp_path, "query")
    assert code == 1 and "Run `metadata migrate`" in err
    code, out, _ = store(tmp_path, "migrate")
    assert code == 0 and "upgraded from an empty store to revision" in out
    code, out, _ = store(tmp_path, "migrate")
    assert "already at revision" in out
    assert store(tmp_path, "query")[0] == 0


def test_an_unreachable_store_is_one_line_not_a_traceback() -> None:
    result = CliRunner().invoke(
        cli, ["--url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "query"]
    )
    assert result.exit_code == 1
    assert (
        "the metadata store at postgresql+psycopg://nobody@127.0.0.1:1/none (--url) failed"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_text_in_a_sqlite_decimal_column_is_counted_not_taken_for_the_maximum(
    tmp_path: Path,
) -> None:
    import sqlite3

    source = tmp_path / "shop.db"
    with sqlite3.connect(source) as connection:
        connection.execute("create table t (id integer, amount decimal(10,2))")
        connection.executemany("insert into t values (?, ?)", [(1, "12.50"), (2, "abc"), (3, 7)])
    code, out, err = store(tmp_path, "harvest", f"sqlite:///{source}", "--profile", "--details")
    assert code == 0, err
    assert "abc" not in out  # not the maximum of a decimal column
    assert "12.5" in out and "1 value(s) not a finite number" in out
    code, out, _ = store(tmp_path, "latest", "dataset_profile", f"sqlite://{source}::t", "--json")
    amount = next(c for c in json.loads(out)["payload"]["columns"] if c["name"] == "amount")
    assert (amount["max_value"], amount["non_finite"]) == ("12.5", 1)


def test_a_harvest_that_finds_no_tables_is_recorded_as_failed(tmp_path: Path) -> None:
    import sqlite3

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    code, _, err = store(tmp_path, "harvest", f"sqlite:///{empty}")
    assert code == 1 and "no tables" in err
    code, out, _ = store(tmp_path, "query", "--kind", "run_event", "--json")
    events = [r["payload"]["event"] for r in json.loads(out)["records"]]
    assert events == ["failed", "started"], events  # the recorded end agrees with exit 1
