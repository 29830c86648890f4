"""What the recon app prints: a recon's report for a person, or as JSON for a machine."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import click

from apps.cli.output import echo_json
from domain.metadata.payloads import ReconResult, ReconStatus
from domain.recon.run import ReconReport


def result_json(result: ReconResult) -> dict[str, Any]:
    """One check's result as JSON (decimals as text, sample keys as objects)."""

    def number(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "check": result.check,
        "status": result.status.value,
        "detail": result.detail,
        "expected": number(result.expected),
        "actual": number(result.actual),
        "threshold": number(result.threshold),
        "counts": dict(result.counts),
        "samples": [{"category": c, "key": json.loads(k)} for c, k in result.samples],
        "scope": result.scope,
    }


def show(report: ReconReport, as_json: bool, output: str | None, plan: str) -> None:
    """A recon's report: each check with its detail and sample keys, or (--json) all of it
    for a machine."""
    if as_json:
        echo_json(
            {
                "recon": report.spec,
                "plan": plan,
                "run_id": report.run_id.value,
                "subject": str(report.subject),
                "status": report.status.value,
                "results": [result_json(r) for r in report.results],
                "output": output,
            }
        )
        return
    click.echo(f"{report.spec}: {report.status.value} (run {report.run_id}, {report.subject})")
    for result in report.results:
        mark = "ok  " if result.status is ReconStatus.PASSED else "FAIL"
        click.echo(f"  {mark} {result.check:<10} {result.detail}")
        for category, key in result.samples:
            click.echo(f"         {category:<9} {key}")
    if output is not None:
        click.echo(f"  differing keys written to {output}")
