"""What the ingestion app prints: a plan and a run's report, for a person or (--json) for a
machine."""

from __future__ import annotations

import click

from apps.cli.output import echo_json
from apps.store import display_url
from domain.ingestion.gate import GateVerdict
from domain.ingestion.plan import Plan
from domain.ingestion.run import RunReport


def show_plan(
    name: str, decided: Plan, verdict: GateVerdict | None, note: str | None, as_json: bool
) -> None:
    """The plan of pipeline ``name``: its strategy and each decision's reason, the
    partitioning, and the gate's verdicts (``note``: why there are none)."""
    parts = decided.partitioning
    if as_json:
        echo_json(
            {
                "pipeline": name,
                "strategy": decided.strategy.value,
                "reasons": list(decided.reasons),
                "partitioning": (
                    None
                    if parts is None
                    else {
                        "column": parts.column,
                        "lowest": parts.lowest,
                        "highest": parts.highest,
                        "count": parts.count,
                        "fetch_size": parts.fetch_size,
                        "predicates": parts.predicates(),
                    }
                ),
                "parallelism": decided.parallelism,
                "gate": (
                    None
                    if verdict is None
                    else {
                        "allowed": verdict.allowed,
                        "verdicts": verdict.summary(),
                        "refusal": verdict.refusal,
                    }
                ),
            }
        )
        return
    click.echo(f"{name}: {decided.strategy.value}")
    for reason in decided.reasons:
        click.echo(f"  - {reason}")
    if note is not None:
        click.echo(f"  note: {note}")
        return
    if verdict is None:
        click.echo("  gate: the target does not exist yet; the first run sets its schema")
        return
    click.echo(f"  gate: {'passes' if verdict.allowed else 'REFUSES'}")
    for line in verdict.summary():
        click.echo(f"    {line}")
    if verdict.refusal:
        click.echo(f"    {verdict.refusal}")


def show_run(name: str, report: RunReport, records_at: str | None, as_json: bool) -> None:
    """A committed run of pipeline ``name``: rows read, written and rejected (each rejection
    also a warning line), its phases, and where its records wait when they went into the
    target's outbox (``records_at``)."""
    written = report.written
    for reason in report.rejections:  # never a silent NULL: the rows left out, named
        click.echo(f"warning: {name}: rejected {reason}", err=True)
    for note in report.notes:  # what the source's policy changed, named
        click.echo(f"warning: {name}: {note}", err=True)
    if as_json:
        echo_json(
            {
                "pipeline": name,
                "run_id": report.run_id.value,
                "strategy": report.plan.strategy.value,
                "rows_read": written.rows_read,
                "rows_written": written.rows_written,
                "rows_rejected": written.rows_rejected,
                "rejections": list(report.rejections),
                "notes": list(report.notes),
                "bytes_written": written.bytes_written,
                "schema_changed": report.schema_changed,
                "phases": {p.phase: p.seconds for p in report.phases},
                "records_outbox": (None if records_at is None else display_url(records_at)),
            }
        )
        return
    seconds = sum(p.seconds for p in report.phases)
    click.echo(
        f"{name}: {report.plan.strategy.value} run {report.run_id} committed: "
        f"{written.rows_read:,} row(s) read, {written.rows_written:,} written"
        + (f", {written.rows_rejected:,} rejected" if written.rows_rejected else "")
        + ("" if written.bytes_written is None else f" ({written.bytes_written:,} bytes)")
        + f" in {seconds:.1f}s"
    )
    click.echo("  " + ", ".join(f"{p.phase} {p.seconds:.2f}s" for p in report.phases))
    if records_at is not None:
        click.echo(
            "  records: committed with the data into the target database's outbox; "
            f"`metadata relay --outbox {display_url(records_at)}` delivers them"
        )
