"""`recon` - reconcile a source with a target; report what the checks found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from adapters.files.legacy import FileReconSummaries
from adapters.files.pipelines import PipelineFileError, load_pipeline
from adapters.files.recons import ReconFileError, load_recon, pipeline_recon
from apps.cli.app import CONTEXT_SETTINGS, bad_input, fail
from apps.cli.errors import ExitCode
from apps.cli.options import url_option
from apps.cli.output import echo_json, json_option, progress, table
from apps.cli.spark import spark_module, with_spark_log
from apps.parity import report_parity, since_option
from apps.recon.bootstrap import bootstrap
from apps.recon.render import show
from apps.runs import heartbeats
from apps.services import Services
from apps.settings import load_settings
from apps.store import StoreAppGroup
from domain.dataset import DatasetRef, RunId
from domain.ingestion.errors import EngineFailed
from domain.ingestion.spec import Mode
from domain.metadata import RecordKind
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import IngestionRuntime, ReconResult, ReconStatus, RunStatus
from domain.metadata.query import RecordQuery
from domain.recon.legacy import parity
from domain.recon.run import PRODUCER
from domain.recon.spec import Claim, ReconSpec
from domain.runs.lifecycle import RunLifecycle
from ports.ingestion import StateStore


@click.group(cls=StoreAppGroup, context_settings=CONTEXT_SETTINGS)
@url_option
@click.pass_context
def cli(ctx: click.Context, url: str | None) -> None:
    """Reconcile a source with a target: counts, aggregates, a key-level diff.

    A recon is a TOML file naming two sides (any endpoints), their keys and how values
    compare; or a pipeline, whose last committed run is checked (only the rows that run
    loaded, when it was incremental). Every check leaves a recon_result record in the
    metadata store. Try:

    \b
      recon run examples/recon/orders-ledger.toml
      recon run --pipeline examples/pipelines/orders-full.toml
      recon report
      recon parity

    Exit status: 0 every check passed, 1 a check failed (or the run did), 2 bad input,
    130 interrupted.
    """
    if ctx.obj is None:
        ctx.obj = bootstrap(load_settings(url=url))


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def _runtime(
    services: Services,
    spec: ReconSpec,
    master: str,
    conf: dict[str, str],
    progress: Callable[[str], None],
) -> Any:
    # Imported by name: Spark (and a JVM) only when a recon runs on Spark.
    module = spark_module("apps.recon.runtime", "running a recon")
    return module.runtime(services, spec, master, conf, progress)


def _checked_run(
    gateway: MetadataGateway, states: StateStore, name: str, where: Path, chosen: str | None
) -> tuple[RunId, IngestionRuntime | None]:
    """The run of pipeline ``name`` to check (``chosen``, else its last committed one) and
    its runtime record (its watermark window)."""
    if chosen is None:
        state = states.get(name)
        if state is None:
            fail(f"{where}: pipeline {name!r} has no committed run to check; run it first")
        run = state.last_run_id
    else:
        try:
            run = RunId(chosen)
        except ValueError as invalid:
            bad_input(
                f"--run {chosen!r}: not a run id ({invalid}); `ingestion runs {name}` lists them"
            )
    found = gateway.query(
        RecordQuery(kinds=[RecordKind.INGESTION_RUNTIME], run_id=run, limit=1)
    ).records
    runtime = found[0].payload if found else None
    if chosen is not None and not (
        isinstance(runtime, IngestionRuntime) and runtime.status is RunStatus.SUCCEEDED
    ):
        fail(
            f"--run {chosen}: no succeeded run of this id is recorded for {where}; "
            f"`ingestion runs {name}` lists the pipeline's runs"
        )
    return run, runtime if isinstance(runtime, IngestionRuntime) else None


def _output(path: Path | None) -> str | None:
    if path is None:
        return None
    if path.suffix not in (".parquet", ".csv"):
        bad_input(f"--output {path}: name a .parquet or .csv path for the list of differing keys")
    if path.exists():
        bad_input(f"--output {path}: exists; remove it or name a new path (nothing is overwritten)")
    if not path.parent.resolve().is_dir():
        bad_input(f"--output {path}: the directory {path.parent} does not exist")
    return str(path.resolve())


@cli.command()
@click.argument(
    "spec_file", metavar="[RECON.toml]", required=False, type=click.Path(path_type=Path)
)
@click.option(
    "--pipeline",
    "pipeline_file",
    metavar="PIPELINE.toml",
    type=click.Path(path_type=Path),
    help="Check the pipeline's last committed run instead: its source against its target, "
    "on its keys, scoped to the run's watermark window when it was incremental.",
)
@click.option(
    "--run",
    "chosen_run",
    metavar="RUN_ID",
    help="With --pipeline: check this earlier run instead of the last one (its window; on an "
    "Iceberg target, the snapshot it committed, whatever ran since).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write every differing key (category, changed columns) to this .parquet or .csv path.",
)
@json_option
@click.pass_obj
def run(
    services: Services,
    spec_file: Path | None,
    pipeline_file: Path | None,
    chosen_run: str | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """Run the checks of RECON.toml (or of --pipeline PIPELINE.toml) and record them.

    Checks: schema (drift first), row_count, aggregates (nulls, sum, min, max per column),
    row_hash, three_way (source, the ingestion run's claim, target), baseline (the row count
    against recent runs) and key_diff (keys only in the source, only in the target, changed).
    A run whose checks fail exits 1 and is recorded as failed, the failing checks named.
    Progress is drawn on a terminal; elsewhere (a pipe, a log, CI) each phase is one line
    starting "progress: ". Spark's own log goes to DATAPLATFORM_HOME/logs/spark.log.
    """
    if (spec_file is None) == (pipeline_file is None):
        bad_input("give a RECON.toml file or --pipeline PIPELINE.toml (one of them)")
    if chosen_run is not None and pipeline_file is None:
        bad_input("--run RUN_ID names a run of a pipeline: give --pipeline PIPELINE.toml too")
    home = services.store.settings.home
    gateway: MetadataGateway = services.gateway()  # refuse a stale store first
    claim: Claim | None = None
    claim_run: RunId | None = None
    try:
        if pipeline_file is not None:
            pipeline = load_pipeline(pipeline_file, home=home)
            _warn(pipeline.warnings)
            states: StateStore = services.states()
            claim_run, last = _checked_run(
                gateway, states, pipeline.spec.name, pipeline_file, chosen_run
            )
            window = None
            if last is not None and last.window_column is not None:
                window = (last.window_column, last.window_after, last.window_upto)
            elif pipeline.spec.mode is not Mode.FULL and pipeline.spec.watermark is not None:
                fail(
                    f"{pipeline_file}: the run {claim_run} recorded no watermark window "
                    f"(it predates window records); run the pipeline again, then check it"
                )
            if (
                chosen_run is not None
                and not pipeline.spec.target.is_iceberg
                and pipeline.spec.mode is not Mode.APPEND
            ):
                bad_input(
                    f"--run: the target of {pipeline_file} holds its latest state only (no "
                    f"snapshots); an earlier {pipeline.spec.mode.value} run can be checked on "
                    f"an Iceberg target, or an append run by its window"
                )
            spec = pipeline_recon(pipeline, window=window, run=claim_run.value)
            master, conf = pipeline.spark_master, pipeline.spark_conf
        else:
            assert spec_file is not None
            recon = load_recon(spec_file, home=home)
            _warn(recon.warnings)
            spec, master, conf = recon.spec, recon.spark_master, recon.spark_conf
    except (PipelineFileError, ReconFileError) as invalid:
        bad_input(str(invalid))
    except ValueError as invalid:
        bad_input(str(invalid))
    target = _output(output)
    notes: list[Callable[[str], None]] = []

    def note(text: str) -> None:
        for listener in notes:
            listener(text)

    runtime = _runtime(services, spec, master, conf, note)
    if pipeline_file is not None:
        # Only a full run's rows are its target's; an increment or a merge is a part of it.
        whole = spec.scope is None and pipeline.spec.mode is Mode.FULL
        claim = runtime.use_case.claim(spec.subject, claim_run, whole=whole)
    lifecycle = RunLifecycle(
        gateway, spec.subject, RunId.new(), PRODUCER, lambda: datetime.now(UTC)
    )
    if not as_json:
        click.echo(f"plan: {runtime.reason}")
    if spec.describe_scope() and not as_json:
        run_note = f" (the rows run {claim_run} loaded)" if spec.scope and claim_run else ""
        click.echo(f"scope: {spec.describe_scope()}{run_note}")
    try:
        with progress(spec.name, unit="phases", plain=not as_json) as ticker, heartbeats(lifecycle):
            notes.append(lambda note: ticker.done(0, f"diff: {note}"))
            report = runtime.use_case.run(
                spec,
                lifecycle,
                claim=claim,
                output=target,
                phase=lambda name: ticker.done(0, name),
            )
    except EngineFailed as failed:
        fail(with_spark_log(str(failed), home))
    except ValueError as failed:
        fail(str(failed))
    finally:
        runtime.stop()
    show(report, as_json, target, runtime.reason)
    if not report.passed:
        raise SystemExit(int(ExitCode.CHECK_FAILED))


@cli.command("parity")
@since_option
@json_option
@click.pass_obj
def parity_command(services: Services, since: datetime | None, as_json: bool) -> None:
    """Compare the legacy recon summaries with the gateway's records; exit 1 on a difference.

    Summaries are written while [ingestion] outputs (DATAPLATFORM_INGESTION_OUTPUTS) is
    legacy or both (the default is gateway); each is compared check by check (status, expected,
    actual, counts) with its run's recon_result records.
    """
    home = services.store.settings.home
    gateway: MetadataGateway = services.gateway()
    report_parity(
        FileReconSummaries(home / "recon").summaries,
        home / "recon",
        since,
        lambda summaries: parity(summaries, gateway),
        as_json,
    )


@cli.command()
@click.argument("dataset", required=False)
@click.option("--limit", default=20, show_default=True, help="How many recon runs to show.")
@json_option
@click.pass_obj
def report(services: Services, dataset: str | None, limit: int, as_json: bool) -> None:
    """The latest recon results, newest run first; of DATASET (namespace::name) when given.

    Each run's checks in one row: their status, and the detail of those that failed.
    """
    gateway: MetadataGateway = services.gateway()
    subject = None
    if dataset is not None:
        try:
            subject = DatasetRef.parse(dataset)
        except ValueError as invalid:
            bad_input(str(invalid))
    if not 1 <= limit <= 1000:
        bad_input(f"--limit {limit}: give 1..1000")
    found = gateway.query(
        RecordQuery(kinds=[RecordKind.RECON_RESULT], subject=subject, producer=PRODUCER, limit=1000)
    ).records
    runs: dict[str, list[Any]] = {}
    for record in found:
        key = record.run_id.value if record.run_id else record.record_id
        if key not in runs and len(runs) >= limit:
            continue
        runs.setdefault(key, []).append(record)
    rows = []
    for run_id, records in runs.items():
        results = [r.payload for r in records if isinstance(r.payload, ReconResult)]
        failed = [r for r in results if r.status is not ReconStatus.PASSED]
        rows.append(
            {
                "run_id": run_id,
                "subject": str(records[0].subject),
                "observed_at": records[0].observed_at.isoformat().replace("+00:00", "Z"),
                "status": "passed" if not failed else failed[0].status.value,
                "checks": len(results),
                "failed": [f"{r.check}: {r.detail}" for r in failed],
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no recon results recorded" + ("" if subject is None else f" for {subject}"))
        return
    click.echo(
        table(
            ("run_id", "subject", "observed_at", "status", "checks", "failed"),
            [
                (
                    r["run_id"],
                    r["subject"],
                    r["observed_at"],
                    r["status"],
                    str(r["checks"]),
                    "; ".join(c.split(":")[0] for c in r["failed"]),
                )
                for r in rows
            ],
        )
    )
    for r in rows:
        for line in r["failed"]:
            click.echo(f"  {r['run_id']}: {line}")


if __name__ == "__main__":
    cli()
