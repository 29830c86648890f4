"""`metadata diff` and `metadata check-precision` on the snapshots shipped in examples/drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from apps.metadata.main import cli

DRIFT = Path(__file__).parents[3] / "examples" / "drift"
ORDERS = "postgres://warehouse:5432::sales.public.orders"
LEDGER_SOURCE = "oracle://erp:1521::FIN.LEDGER"
LEDGER_TARGET = "postgres://warehouse:5432::finance.public.ledger"


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    for name in ("orders-snapshots.jsonl", "ledger.jsonl", "customers-snapshots.jsonl"):
        assert CliRunner().invoke(cli, ["--url", url, "emit", str(DRIFT / name)]).exit_code == 0
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--url", url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_diff_puts_refused_changes_first_and_exits_one(url: str) -> None:
    code, out, _ = run(url, "diff", ORDERS)
    assert code == 1
    rows = [line.split()[:3] for line in out.splitlines()[5:10]]
    assert rows == [
        ["refused", "retyped", "customer"],
        ["refused", "retyped", "placed_at"],
        ["widening", "retyped", "order_id"],
        ["widening", "retyped", "amount"],
        ["info", "added", "region"],
    ]


def test_diff_with_a_naive_timezone_and_evolve_is_allowed(url: str) -> None:
    code, out, _ = run(
        url, "diff", ORDERS, "--naive-timezone", "UTC", "--type-changes", "evolve", "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["allowed"]
    assert {c["column"]: c["severity"] for c in report["changes"]}["placed_at"] == "widening"


def test_diff_by_record_ids_and_policy_file(url: str) -> None:
    code, out, _ = run(url, "history", "schema_snapshot", ORDERS, "--json")
    newest, oldest = (r["record_id"] for r in json.loads(out)["records"])
    code, out, _ = run(url, "diff", ORDERS, "--from", newest, "--to", oldest, "--json")
    assert {c["change"] for c in json.loads(out)["changes"]} >= {"removed", "retyped"}
    code, out, _ = run(
        url,
        "diff",
        "postgres://warehouse:5432::sales.public.customers",
        "--policy-file",
        str(DRIFT / "policies.toml"),
        "--json",
    )
    report = json.loads(out)
    assert code == 1
    assert [(c["severity"], c["change"], c["column"]) for c in report["changes"]] == [
        ("refused", "nullability", "email"),
        ("info", "renamed", "customer_name"),
    ]


def test_a_bad_policy_file_names_the_key_and_the_choices(url: str, tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('[default]\ntype_changes = "sometimes"\n')
    code, _, err = run(url, "diff", ORDERS, "--policy-file", str(policy))
    assert code == 2
    assert "type_changes" in err and "evolve, widen_only, freeze" in err


def test_check_precision_reports_fit_and_misfit_and_emits_records(url: str) -> None:
    code, out, _ = run(
        url, "check-precision", "--source", LEDGER_SOURCE, "--target", LEDGER_TARGET, "--json"
    )
    report = json.loads(out)
    assert code == 1 and report["blocked"]
    verdicts = {f["column"]: (f["severity"], f["verdict"]) for f in report["findings"]}
    assert verdicts == {
        "fee": ("violation", "violation"),
        "memo": ("violation", "violation"),
        "entry_id": ("ok", "fits_observed"),
        "amount": ("ok", "fits_observed"),
        "quantity": ("ok", "fits_observed"),
    }
    code, out, _ = run(
        url, "query", "--kind", "precision_check", "--subject", LEDGER_TARGET, "--json"
    )
    assert len(json.loads(out)["records"]) == 5


def test_check_precision_widen_proposes_types_without_blocking(url: str) -> None:
    code, out, _ = run(
        url,
        "check-precision",
        "--source",
        LEDGER_SOURCE,
        "--target",
        LEDGER_TARGET,
        "--policy",
        "widen",
        "--dry-run",
        "--json",
    )
    report = json.loads(out)
    assert code == 0 and not report["blocked"]
    assert {f["column"]: f["proposed_type"] for f in report["findings"] if f["proposed_type"]} == {
        "fee": "decimal(20,4)",
        "memo": "string(1873)",
    }
    code, out, _ = run(url, "query", "--kind", "precision_check", "--json")
    assert json.loads(out)["records"] == []  # --dry-run emitted nothing


def test_missing_snapshots_name_the_fix(url: str) -> None:
    code, _, err = run(
        url, "check-precision", "--source", "file::/nowhere", "--target", LEDGER_TARGET
    )
    assert code == 2 and "no schema_snapshot recorded" in err
    code, _, err = run(url, "diff", "file::/nowhere")
    assert code == 2 and "a diff needs two" in err
