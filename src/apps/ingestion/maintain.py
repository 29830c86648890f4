"""`ingestion maintain`: compact an Iceberg target's small files, expire its old snapshots and
remove the files no snapshot references (what failed or killed runs left). Needs no Spark."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from adapters.files.pipelines import PipelineFileError, load_pipeline
from adapters.iceberg.compaction import CompactionPlan, apply_compaction, plan_compaction
from adapters.iceberg.maintenance import MaintenancePlan, apply_maintenance, plan_maintenance
from adapters.iceberg.tables import IcebergTable, TableMoved, open_catalog
from adapters.sql.target_urls import catalog_url
from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option
from apps.services import Services
from domain.ingestion.durations import Maintenance, lag_amount

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def _duration(option: str, text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        if text.strip()[-1:] not in "smhd":
            raise ValueError
        return timedelta(seconds=lag_amount(text))
    except (ValueError, IndexError):
        bad_input(f"{option}: {text!r} is not a duration; write 90s, 15m, 1h or 7d")


def _table(
    services: Services, target: str, catalog: str | None
) -> tuple[IcebergTable, Maintenance]:
    """The table TARGET names (a pipeline file, or namespace.table in --catalog) and its
    pipeline's maintenance settings."""
    home = services.store.settings.home
    if target.endswith(".toml") or Path(target).is_file():
        try:
            spec = load_pipeline(Path(target), home=home).spec
        except PipelineFileError as invalid:
            bad_input(str(invalid))
        if not spec.target.is_iceberg:
            bad_input(
                f"{target}: target.kind is {spec.target.kind!r}; only an iceberg target has "
                f"snapshots to maintain"
            )
        if catalog is not None:
            bad_input("--catalog: the pipeline file names its catalog; leave --catalog out")
        url = catalog_url(spec.target.catalog or "", spec.target.password)
        return (
            IcebergTable(open_catalog(url), spec.target.table or "", spec.target.location or ""),
            spec.target.maintenance,
        )
    if not _TABLE.match(target):
        bad_input(
            f"TARGET {target!r} is neither a pipeline file nor a table; give a pipeline "
            f"(.toml) or namespace.table (with --catalog when it is not the home's catalog)"
        )
    url = catalog_url(catalog or f"sqlite:///{home / 'iceberg' / 'catalog.db'}")
    table = IcebergTable(open_catalog(url), target, "")
    if table.table is None:
        bad_input(f"TARGET {target}: no such table in the catalog; `ingestion runs` lists what ran")
    table.location = table.table.location()
    return table, Maintenance()


def _said(plan: MaintenancePlan, compaction: CompactionPlan, dry_run: bool) -> list[str]:
    verb = ("would expire", "would remove") if dry_run else ("expired", "removed")
    others = len(plan.orphans) - plan.data_files
    lines = [
        f"{plan.table}: {'would compact' if dry_run else 'compacted'} {compaction.files} small "
        f"data file(s) into {len(compaction.groups)} (one per partition holding many)"
    ] * bool(compaction.groups)
    for group in compaction.groups:
        where = f"partition {group.partition}" if group.partition else "the table"
        lines.append(
            f"  {where}: {len(group.files)} files, {group.rows:,} rows, {group.bytes:,} bytes"
        )
    lines += [
        f"{plan.table}: {verb[0]} {len(plan.expired)} of {plan.snapshots} snapshot(s); "
        f"{verb[1]} {plan.data_files} orphaned data file(s)"
        + (
            f" in {len(plan.runs)} run director{'y' if len(plan.runs) == 1 else 'ies'}"
            if plan.runs
            else ""
        )
        + (f" and {others} other unreferenced file(s)" if others else "")
        + f" ({plan.orphan_bytes:,} bytes)"
    ]
    for expired in plan.expired:
        when = expired.committed_at.astimezone(UTC).isoformat(timespec="seconds")
        lines.append(f"  snapshot {expired.snapshot_id} ({when}, run {expired.run_id or '-'})")
    for orphan in plan.orphans:
        lines.append(f"  file {orphan.path} ({orphan.bytes:,} bytes)")
    if plan.young:
        lines.append(
            f"  kept {plan.young} unreferenced file(s) younger than the grace: a run may be "
            f"writing them (--grace 0s removes them when none is)"
        )
    return lines


@click.command()
@click.argument("target", metavar="PIPELINE.toml|NAMESPACE.TABLE")
@click.option("--catalog", help="The SQL catalog of NAMESPACE.TABLE (default: the home's).")
@click.option(
    "--keep-snapshots",
    type=click.IntRange(1),
    help="Keep at least the newest N snapshots (default: the pipeline's, else 10).",
)
@click.option(
    "--older-than",
    metavar="DURATION",
    help="Expire only snapshots older than this: 90s, 15m, 1h, 7d (default: the pipeline's, else 7d).",
)
@click.option(
    "--grace",
    metavar="DURATION",
    default="1h",
    show_default=True,
    help="Keep unreferenced files younger than this (a run may be writing them).",
)
@click.option(
    "--compact/--no-compact",
    default=True,
    show_default=True,
    help="Rewrite a partition's small files into one when it holds many (one replace snapshot).",
)
@click.option("--dry-run", is_flag=True, help="Show what would go; change nothing.")
@json_option
@click.pass_obj
def maintain(
    services: Services,
    target: str,
    catalog: str | None,
    keep_snapshots: int | None,
    older_than: str | None,
    grace: str,
    compact: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Compact an Iceberg target, expire its old snapshots, remove unreferenced files.

    A partition whose current files include 8 or more small ones (under 32 MiB: one per
    append run) has them rewritten into one file, committed as one replace snapshot (the
    rows unchanged, the commit marker kept), so planning a read stays flat over many runs.

    Snapshots older than --older-than beyond the newest --keep-snapshots expire (time travel
    to them ends); then the data files and manifests that no remaining snapshot references
    and that are older than --grace are deleted: what failed or killed runs wrote, and what
    only expired snapshots held. The current snapshot and every file it reads are never
    touched. A pipeline's [target.maintenance] sets the defaults (after_each_run = true
    maintains after every successful run).

    \b
      ingestion maintain examples/pipelines/orders-append.toml --dry-run
      ingestion maintain sales.orders --keep-snapshots 5 --older-than 1d
    """
    table, settings = _table(services, target, catalog)
    keep = keep_snapshots or settings.keep_snapshots
    age = _duration("--older-than", older_than)
    if age is None:
        age = timedelta(seconds=settings.older_than_seconds)
    young = _duration("--grace", grace) or timedelta(0)
    now = datetime.now(UTC)
    compaction = plan_compaction(table) if compact else CompactionPlan(table.identifier)
    try:
        if not dry_run:
            apply_compaction(table, compaction)
        plan = plan_maintenance(table, keep=keep, older_than=age, grace=young, now=now)
        if not dry_run:
            apply_maintenance(table, plan)
    except TableMoved as moved:
        fail(str(moved))
    if as_json:
        echo_json(
            {
                "table": plan.table,
                "dry_run": dry_run,
                "compacted": [list(g.files) for g in compaction.groups],
                "snapshots": plan.snapshots,
                "expired": [e.snapshot_id for e in plan.expired],
                "orphans": [o.path for o in plan.orphans],
                "orphan_bytes": plan.orphan_bytes,
                "runs": list(plan.runs),
                "kept_young": plan.young,
            }
        )
        return
    for line in _said(plan, compaction, dry_run):
        click.echo(line)
