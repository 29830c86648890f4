"""The parts of the dashboard's pages that show records: a dataset's row in the list, and
the sections of its page (schema versions, drift verdicts, rows written, profile, recon)."""

from __future__ import annotations

from adapters.http.dashboard.markup import dataset_link as link
from adapters.http.dashboard.markup import (
    empty,
    escape,
    plural,
    run_link,
    state,
    table,
    time_html,
)
from adapters.http.dashboard.read_model import DatasetSummary, schema_versions
from adapters.http.dashboard.volume_chart import snapshot_table, volume_chart
from domain.metadata.payloads import DatasetProfile, IngestionVolume, ReconResult, SchemaDrift
from domain.metadata.record import MetadataRecord
from domain.metadata.volume import VolumeBand

DATASET_COLUMNS = ("Dataset", "Last run", "Last drift", "Last recon")


def dataset_row(summary: DatasetSummary) -> tuple[str, str, str, str]:
    """The cells of a dataset's row in the list."""
    run, drift, recon = summary.run, summary.drift, summary.recon
    last_run = "-"
    if run is not None:
        said = run.message[:300] if run.label != run.state else ""
        last_run = f"{state(run.state, run.label, said)} {time_html(run.at)} {run_link(run.run_id)}"
    last_drift = "-"
    if drift is not None:
        last_drift = (
            f"{state(drift.verdict)}, {plural(drift.changes, 'change')} {time_html(drift.at)}"
        )
        if drift.written_after is not None:
            last_drift = (
                f"none in the last write {time_html(drift.written_after)} (a refused "
                f"attempt before it: {plural(drift.changes, 'change')})"
            )
    last_recon = "-"
    if recon is not None:
        last_recon = (
            f"{state(recon.status)} ({plural(recon.checks, 'check')}) {time_html(recon.at)}"
        )
    return link(str(summary.subject)), last_run, last_drift, last_recon


def schema_section(snapshots: list[MetadataRecord]) -> str:
    if not snapshots:
        return (
            "<section><h2>Schema versions</h2>"
            + empty(
                "No schema snapshot yet: a harvest (<code>metadata harvest "
                "URL|ENDPOINTS.toml</code>) or a load (<code>ingestion run "
                "PIPELINE.toml</code>) records one."
            )
            + "</section>"
        )
    items = []
    for version in schema_versions(snapshots):
        columns = ", ".join(
            f"{escape(c.name)} {escape(str(c.type))}" for c in version.snapshot.schema.columns
        )
        changes = ""
        if version.changes is not None and version.changes.is_empty:
            changes = "<p>No change from the version before.</p>"
        elif version.changes is not None:
            found = version.changes.changes
            changes = table(
                ("Column", "Change", "Severity", "Detail"),
                (
                    (
                        escape(c.column),
                        c.kind.value,
                        (c.severity, f"state {c.severity}"),
                        escape(c.detail),
                    )
                    for c in found
                ),
                row_classes=(c.severity for c in found),
            )
        record = version.record
        items.append(
            f"<li><p>{time_html(record.observed_at)}, run {run_link(record.run_id.value)}: "
            f"{len(version.snapshot.schema.columns)} columns ({columns})</p>{changes}</li>"
        )
    return (
        f"<section><h2>Schema versions ({len(snapshots)})</h2>"
        f"<ol reversed>{''.join(reversed(items))}</ol></section>"
    )


def drift_section(drifts: list[MetadataRecord]) -> str:
    """The drift verdicts of the gates (a load's, a harvest's), newest first: allowed or
    refused under which policy, why, and each change severity coloured."""
    items = []
    for record in drifts:
        drift = record.payload
        if not isinstance(drift, SchemaDrift):
            continue
        verdict = "allowed" if drift.allowed else "refused"
        why = "".join(f"<li>{escape(v)}</li>" for v in drift.violations)
        changes = table(
            ("Column", "Change", "From", "To", "Severity", "Detail"),
            (
                (
                    escape(c.column),
                    c.change.value,
                    escape(c.old_type or "-"),
                    escape(c.new_type or "-"),
                    (escape(c.severity), f"state {c.severity}"),
                    escape(c.detail),
                )
                for c in drift.changes
            ),
        )
        items.append(
            f'<li class="drift {verdict}"><p>{state(verdict)} {time_html(record.observed_at)}, '
            f"run {run_link(record.run_id.value)} ({escape(record.producer)}; policy "
            f"{escape(drift.policy or '-')})</p>"
            + (f"<ul>{why}</ul>" if why else "")
            + f"{changes}</li>"
        )
    if not items:
        return ""
    return f"<section><h2>Drift verdicts ({len(items)})</h2><ol>{''.join(items)}</ol></section>"


def volume_section(volumes: list[MetadataRecord]) -> str:
    if not volumes:
        return (
            "<section><h2>Rows written per run</h2>"
            + empty(
                "No load recorded yet: each <code>ingestion run PIPELINE.toml</code> records "
                "the rows it wrote."
            )
            + "</section>"
        )
    oldest_first = list(reversed(volumes))
    written = [
        (r, r.payload.rows_written) for r in oldest_first if isinstance(r.payload, IngestionVolume)
    ]
    band = VolumeBand.of([rows for _, rows in written])
    flagged = [(r, rows) for r, rows in written if band is not None and band.flags(rows)]
    said = (
        "Too few runs for a usual band yet."
        if band is None
        else f"Usual: {band.describe()}; {len(flagged)} run(s) outside."
    )
    return (
        f"<section><h2>Rows written per run ({len(volumes)})</h2>"
        f"{volume_chart(oldest_first, band)}<p>{said}</p>{snapshot_table(oldest_first)}"
        + "".join(
            f'<p class="failed">Flagged: run {escape(r.run_id.value)} wrote '
            f"{rows:,} rows, {time_html(r.observed_at)}</p>"
            for r, rows in flagged
        )
        + "</section>"
    )


def profile_section(profiles: list[MetadataRecord]) -> str:
    if not profiles or not isinstance(profiles[0].payload, DatasetProfile):
        return (
            "<section><h2>Profile</h2>"
            + empty(
                "No profile yet: <code>metadata harvest URL|ENDPOINTS.toml --profile</code> "
                "records one."
            )
            + "</section>"
        )
    profile = profiles[0].payload
    columns = table(
        ("Column", "Nulls", "Distinct", "Min", "Max"),
        (
            (
                escape(c.name),
                f"{c.nulls:,}",
                "-" if c.approx_distinct is None else f"{c.approx_distinct:,}",
                escape(c.min_value or "-"),
                escape(c.max_value or "-"),
            )
            for c in profile.columns
        ),
    )
    return (
        f"<section><h2>Profile ({profile.row_count:,} rows, "
        f"{time_html(profiles[0].observed_at)})</h2>{columns}</section>"
    )


def recon_section(recons: list[MetadataRecord]) -> str:
    if not recons:
        return (
            "<section><h2>Reconciliation</h2>"
            + empty(
                "No recon yet: <code>recon run RECON.toml</code> compares this dataset with its source."
            )
            + "</section>"
        )
    rows = []
    for record in recons:
        result = record.payload
        if not isinstance(result, ReconResult):
            continue
        samples = "; ".join(f"{escape(c)} {escape(k)}" for c, k in result.samples)
        rows.append(
            (
                time_html(record.observed_at),
                escape(result.check),
                (result.status.value, f"state {result.status.value}"),
                escape(result.detail[:300]),
                samples or "-",
            )
        )
    checks = table(("When", "Check", "Status", "Detail", "Differing keys"), rows)
    return f"<section><h2>Reconciliation</h2>{checks}</section>"
