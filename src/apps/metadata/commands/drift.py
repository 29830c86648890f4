"""`metadata diff` and `metadata check-precision`: schema drift and precision guardrails."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from apps.cli.app import bad_input
from apps.cli.errors import ExitCode
from apps.cli.output import echo_json, json_option, table
from apps.cli.params import SUBJECT
from apps.metadata.commands import gateway
from apps.metadata.commands.policy_options import policies, policy_options
from apps.services import Services
from domain.dataset import DatasetRef, RunId
from domain.metadata import MetadataRecord, RecordKind, SchemaSnapshot
from domain.metadata.query import RecordQuery
from domain.schema.checks import MissingBaseline, PrecisionGuard, compare
from domain.schema.policy import PrecisionMode

_SEVERITY_RANK = {
    "refused": 0,
    "violation": 0,
    "incompatible": 1,
    "narrowing": 2,
    "warning": 2,
    "widening": 3,
    "info": 4,
    "ok": 5,
}


def _snapshot(services: Services, subject: DatasetRef, record_id: str) -> MetadataRecord:
    page = gateway(services).query(
        RecordQuery(
            kinds=[RecordKind.SCHEMA_SNAPSHOT], subject=subject, record_id=record_id, limit=1
        )
    )
    if not page.records:
        bad_input(
            f"no schema_snapshot {record_id} about {subject}; list them with "
            f"`metadata history schema_snapshot {subject}`"
        )
    return page.records[0]


@click.command()
@click.argument("subject", type=SUBJECT)
@click.option(
    "--from",
    "from_id",
    metavar="RECORD_ID",
    help="The older snapshot (default: the second newest).",
)
@click.option(
    "--to", "to_id", metavar="RECORD_ID", help="The newer snapshot (default: the newest)."
)
@policy_options
@json_option
@click.pass_obj
def diff(
    services: Services,
    /,
    subject: DatasetRef,
    from_id: str | None,
    to_id: str | None,
    policy_file: Path | None,
    as_json: bool,
    **overrides: str | None,
) -> None:
    """Show how SUBJECT's schema changed between two snapshots, judged by its drift policy.

    One row per change, most severe first: refused (the policy forbids it), incompatible,
    narrowing (values can be lost), widening (none can), info. Exit 1 when the policy
    refuses a change.
    """
    policy = policies(policy_file, **overrides).policy_for(subject)
    if (from_id is None) != (to_id is None):
        bad_input("give both --from and --to, or neither (the newest two snapshots)")
    if from_id and to_id:
        old, new = _snapshot(services, subject, from_id), _snapshot(services, subject, to_id)
    else:
        latest_two = gateway(services).history(RecordKind.SCHEMA_SNAPSHOT, subject, limit=2).records
        if len(latest_two) < 2:
            bad_input(f"{subject} has {len(latest_two)} schema snapshot(s); a diff needs two")
        new, old = latest_two
    assert isinstance(old.payload, SchemaSnapshot) and isinstance(new.payload, SchemaSnapshot)
    decision = compare(old.payload.schema, new.payload.schema, policy)
    rows = []
    for change in decision.diff.changes:
        violation = next(
            (
                v
                for v in decision.violations
                if v.column.lower() == change.column.lower()
                and change.kind.value in _ASPECT_KINDS[v.aspect]
            ),
            None,
        )
        severity = "refused" if violation else change.severity
        rows.append(
            {
                "severity": severity,
                "change": change.kind.value,
                "column": change.column,
                "old": (
                    ""
                    if change.old is None
                    else str(change.old.type) + ("" if change.old.nullable else " not null")
                ),
                "new": (
                    ""
                    if change.new is None
                    else str(change.new.type) + ("" if change.new.nullable else " not null")
                ),
                "detail": violation.explanation if violation else change.detail,
            }
        )
    rows.sort(key=lambda row: _SEVERITY_RANK[row["severity"]])
    if as_json:
        echo_json(
            {
                "subject": str(subject),
                "from": {
                    "record_id": old.record_id,
                    "fingerprint": old.payload.schema.fingerprint,
                },
                "to": {
                    "record_id": new.record_id,
                    "fingerprint": new.payload.schema.fingerprint,
                },
                "policy": policy.describe(),
                "allowed": decision.allowed,
                "changes": rows,
                "actions": [str(a) for a in decision.actions],
            }
        )
    else:
        verdict = "ALLOWED" if decision.allowed else "REFUSED"
        click.echo(f"{subject}: {len(rows)} change(s), {verdict} under {policy.describe()}")
        click.echo(
            f"  from {old.record_id} ({old.observed_at:%Y-%m-%d %H:%M}Z)  to {new.record_id} ({new.observed_at:%Y-%m-%d %H:%M}Z)"
        )
        if rows:
            click.echo()
            click.echo(
                table(
                    ("severity", "change", "column", "old", "new", "detail"),
                    [tuple(r.values()) for r in rows],
                )
            )
        if decision.actions:
            click.echo("\nwriter actions: " + "; ".join(str(a) for a in decision.actions))
    if not decision.allowed:
        raise SystemExit(ExitCode.CHECK_FAILED)


_ASPECT_KINDS = {
    "new_columns": ("added",),
    "removed_columns": ("removed",),
    "type_changes": ("retyped",),
    "nullability": ("nullability",),
}


@click.command("check-precision")
@click.option(
    "--source", type=SUBJECT, required=True, help="The dataset values come from (namespace::name)."
)
@click.option("--target", type=SUBJECT, required=True, help="The dataset they are written to.")
@click.option(
    "--policy",
    type=click.Choice([m.value for m in PrecisionMode]),
    default=PrecisionMode.BLOCK.value,
    show_default=True,
    help="block: a misfit refuses the write; warn: report it; widen: propose a target type that fits.",
)
@click.option("--dry-run", is_flag=True, help="Do not emit precision_check records.")
@json_option
@click.pass_obj
def check_precision(
    services: Services,
    source: DatasetRef,
    target: DatasetRef,
    policy: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Check that SOURCE's values fit TARGET's column types, column by column.

    Uses the latest schema snapshots of both and the latest profile of SOURCE. Declared
    fit: every value the source type allows fits. Observed fit: the values seen fit, with
    their margin. Findings are emitted as precision_check records (unless --dry-run).
    Exit 1 when a blocking violation is found.
    """
    guard: PrecisionGuard = services.precision()
    try:
        findings = guard.check(
            source,
            target,
            mode=PrecisionMode(policy),
            run_id=RunId.new(),
            producer="metadata-cli",
            observed_at=datetime.now(UTC),
            emit=not dry_run,
        )
    except MissingBaseline as missing:
        bad_input(str(missing))
    findings.sort(key=lambda f: _SEVERITY_RANK[f.severity])
    rows = [
        {
            "severity": f.severity,
            "column": f.source.name,
            "source": str(f.source.type),
            "target": str(f.target.type),
            "verdict": f.verdict.value,
            "detail": f.detail,
            "largest_offending_value": f.largest_offending_value,
            "proposed_type": None if f.proposed_type is None else str(f.proposed_type),
        }
        for f in findings
    ]
    blocked = any(f.blocking for f in findings)
    if as_json:
        echo_json(
            {
                "source": str(source),
                "target": str(target),
                "policy": policy,
                "blocked": blocked,
                "findings": rows,
            }
        )
    else:
        click.echo(
            f"{source} -> {target}: {len(rows)} shared column(s), policy {policy}: {'BLOCKED' if blocked else 'may proceed'}"
        )
        if rows:
            click.echo()
            click.echo(
                table(
                    ("severity", "column", "source", "target", "verdict", "detail"),
                    [
                        tuple(
                            str(r[k])
                            for k in ("severity", "column", "source", "target", "verdict", "detail")
                        )
                        for r in rows
                    ],
                )
            )
    if blocked:
        raise SystemExit(ExitCode.CHECK_FAILED)


# -- harvest / backfill ----------------------------------------------------------------------------
