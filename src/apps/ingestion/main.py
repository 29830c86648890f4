"""`ingestion` - run, plan and inspect pipelines."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from adapters.files.pipelines import PipelineFile, PipelineFileError, load_pipeline
from apps.cli.app import CONTEXT_SETTINGS, bad_input, fail
from apps.cli.options import url_option
from apps.cli.output import echo_json, json_option, progress, table
from apps.cli.spark import spark_available, spark_module, with_spark_log
from apps.ingestion.bootstrap import bootstrap, legacy_outputs
from apps.ingestion.maintain import maintain
from apps.ingestion.migrate import migrate_target
from apps.ingestion.render import show_plan, show_run
from apps.ingestion.state import state
from apps.parity import report_parity, since_option
from apps.runs import heartbeats
from apps.services import Services
from apps.settings import load_settings
from apps.store import StoreAppGroup
from domain.dataset import RunId
from domain.ingestion.errors import AccessProblem, EngineFailed, SourceMismatch
from domain.ingestion.legacy import parity
from domain.ingestion.run import PRODUCER, GateRefused
from domain.metadata import RecordKind
from domain.metadata.gateway import MetadataGateway
from domain.metadata.query import RecordQuery
from domain.runs.lifecycle import RunLifecycle
from ports.ingestion import StateStore


@click.group(cls=StoreAppGroup, context_settings=CONTEXT_SETTINGS)
@url_option
@click.pass_context
def cli(ctx: click.Context, url: str | None) -> None:
    """Load data with pipelines: full, incremental, SCD1 and SCD2, atomic and idempotent.

    A pipeline is a TOML file naming a source, a target and a mode. Every run records what it
    read, wrote and changed in the metadata store (run_event, ingestion_volume,
    ingestion_runtime, schema_snapshot, schema_drift). Try:

    \b
      ingestion plan examples/pipelines/orders-full.toml
      ingestion run examples/pipelines/orders-full.toml
      ingestion runs orders-full
      ingestion state show

    Exit status: 0 ok, 1 the run failed or a gate refused it, 2 bad input, 130 interrupted.
    """
    if ctx.obj is None:
        ctx.obj = bootstrap(load_settings(url=url))


pipeline_argument = click.argument(
    "pipeline_file", metavar="PIPELINE.toml", type=click.Path(path_type=Path)
)


def _load(path: Path) -> PipelineFile:
    try:
        services: Services = click.get_current_context().obj
        pipeline = load_pipeline(path, home=services.store.settings.home)
    except PipelineFileError as invalid:
        bad_input(str(invalid))
    for warning in pipeline.warnings:
        click.echo(f"warning: {warning}", err=True)
    return pipeline


def _confirm_rebuild(pipeline: PipelineFile) -> None:
    """Ask before a rebuild (it drops what the target holds); without a terminal to ask on,
    say how to confirm instead of deciding."""
    target = pipeline.spec.target.subject
    question = (
        f"--rebuild replaces {target} with this run's batch, under the batch's schema; its "
        f"rows and history so far are not kept. Go on?"
    )
    if not sys.stdin.isatty():
        bad_input(f"{question.split(';')[0]}: no terminal to ask on; confirm with --yes")
    if not click.confirm(question, default=False, err=True):
        fail("not rebuilt: nothing was written")


def _runtime(services: Services, pipeline: PipelineFile) -> Any:
    # Imported by name: Spark (and a JVM) only when a pipeline runs or is planned.
    module = spark_module("apps.ingestion.spark_runtime", "running a pipeline")
    return module.runtime(services, pipeline)


@cli.command()
@pipeline_argument
@click.option("--full-refresh", is_flag=True, help="Replace the whole target this run.")
@json_option
@click.pass_obj
def plan(services: Services, pipeline_file: Path, full_refresh: bool, as_json: bool) -> None:
    """Show what the next run of PIPELINE.toml would do, and why; writes nothing.

    The plan comes from the pipeline's state, a probe of the source (row estimate, the
    range of an integer key to split it by) and the earlier runs in the metadata store;
    the drift and precision verdicts from the batch the run would read (its schema, and
    the values of columns whose declared type does not vouch for them).
    """
    pipeline = _load(pipeline_file)
    states: StateStore = services.states()  # refuse a stale store before Spark
    note = None
    if not spark_available():
        from adapters.sql.run_access import access_problem
        from domain.ingestion.plan import plan as decide

        try:
            problem = access_problem(pipeline.spec)  # asked here too: it needs no Spark
        except EngineFailed as unreachable:
            fail(str(unreachable))
        if problem is not None:
            bad_input(problem)

        # A PEX without pyspark (the cluster brings it) still plans from the state.
        decided = decide(pipeline.spec, states.get(pipeline.spec.name), full_refresh=full_refresh)
        verdict = None
        note = (
            "planned from the state alone (no probe of the source, no gate verdicts): "
            "pyspark is not installed here and SPARK_HOME names no Spark installation; "
            "install pyspark==4.3.0 into this Python, or set SPARK_HOME to a Spark 4.3 "
            "installation (spark-submit sets it)"
        )
    else:
        runtime = _runtime(services, pipeline)
        try:
            decided, verdict = runtime.use_case.preview(pipeline.spec, full_refresh=full_refresh)
        except (SourceMismatch, AccessProblem) as mismatch:
            bad_input(str(mismatch))
        except EngineFailed as failed:
            fail(with_spark_log(str(failed), services.store.settings.home))
        except ValueError as failed:
            fail(str(failed))
        finally:
            runtime.stop()
    show_plan(pipeline.spec.name, decided, verdict, note, as_json)


@cli.command()
@pipeline_argument
@click.option("--full-refresh", is_flag=True, help="Replace the whole target this run.")
@click.option("--dry-run", is_flag=True, help="Plan only (as `ingestion plan`); write nothing.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Replace the whole target with this run's batch, under the batch's schema, in one "
    "commit: the supported way out of a refused drift (asks first; --yes to not ask).",
)
@click.option("--yes", is_flag=True, help="With --rebuild: do not ask (scripts, CI).")
@json_option
@click.pass_context
def run(
    ctx: click.Context,
    pipeline_file: Path,
    full_refresh: bool,
    dry_run: bool,
    rebuild: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Run PIPELINE.toml once: read, gate, commit the target atomically, record.

    A run commits completely or leaves the target and the state as they were; a reader
    sees the old target or the new one, never a mix. After a refused drift, --rebuild
    replaces the target under the new schema (its rows and SCD2 history so far go; the
    run's records say it was a rebuild). Progress is drawn on a terminal; elsewhere (a
    pipe, a log, CI) each phase is one line starting "progress: ". Spark's own log goes to
    DATAPLATFORM_HOME/logs/spark.log, which a failure names.
    """
    if dry_run:
        ctx.invoke(plan, pipeline_file=pipeline_file, full_refresh=full_refresh, as_json=as_json)
        return
    if yes and not rebuild:
        bad_input("--yes confirms --rebuild; give both, or neither")
    services: Services = ctx.obj
    pipeline = _load(pipeline_file)
    gateway: MetadataGateway = services.gateway()  # refuse a stale store first
    services.states()
    if rebuild and not yes:
        _confirm_rebuild(pipeline)
    runtime = _runtime(services, pipeline)
    lifecycle = RunLifecycle(
        gateway, pipeline.spec.target.subject, RunId.new(), PRODUCER, lambda: datetime.now(UTC)
    )
    try:
        with (
            progress(pipeline.spec.name, unit="phases", plain=not as_json) as ticker,
            heartbeats(lifecycle),
        ):
            report = runtime.use_case.run(
                pipeline.spec,
                lifecycle,
                full_refresh=full_refresh,
                rebuild=rebuild,
                phase=lambda name: ticker.done(0, name),
            )
    except (SourceMismatch, AccessProblem) as mismatch:  # the file names what is not there
        bad_input(str(mismatch))
    except EngineFailed as failed:
        fail(with_spark_log(str(failed), services.store.settings.home))
    except (GateRefused, ValueError) as refused:
        fail(str(refused))
    finally:
        runtime.stop()
    show_run(pipeline.spec.name, report, runtime.records_at, as_json)


@cli.command()
@click.argument("pipeline", required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@click.pass_obj
def runs(services: Services, pipeline: str | None, limit: int, as_json: bool) -> None:
    """Recent ingestion runs (from the metadata store), newest first; of PIPELINE only when
    given (by the name its state knows)."""
    gateway: MetadataGateway = services.gateway()
    query = RecordQuery(kinds=[RecordKind.INGESTION_RUNTIME], producer=PRODUCER, limit=limit)
    if pipeline is not None:
        states: StateStore = services.states()
        known = states.get(pipeline)
        if known is None:
            fail(f"pipeline {pipeline!r} has no committed run; `ingestion state show` lists them")
        last = gateway.query(RecordQuery(run_id=known.last_run_id, limit=1)).records
        if last:
            query = RecordQuery(
                kinds=[RecordKind.INGESTION_RUNTIME], subject=last[0].subject, limit=limit
            )
    found = gateway.query(query).records
    rows = []
    for record in found:
        payload: Any = record.payload
        rows.append(
            {
                "run_id": record.run_id.value,
                "target": str(record.subject),
                "strategy": payload.strategy,
                "status": payload.status.value,
                "started_at": payload.started_at.isoformat().replace("+00:00", "Z"),
                "seconds": round(payload.duration_seconds, 2),
            }
        )
    if as_json:
        echo_json(rows)
    elif not rows:
        click.echo("no ingestion runs recorded")
    else:
        click.echo(table(tuple(rows[0]), [tuple(str(v) for v in r.values()) for r in rows]))


@cli.command("parity")
@since_option
@json_option
@click.pass_obj
def parity_command(services: Services, since: datetime | None, as_json: bool) -> None:
    """Compare the legacy run summaries with the gateway's records; exit 1 on a difference.

    Legacy summaries are written while [ingestion] outputs (or
    DATAPLATFORM_INGESTION_OUTPUTS) is legacy or both (the default is gateway); each one is compared
    field by field with its run's ingestion_volume and ingestion_runtime records.
    """
    home = services.store.settings.home
    gateway: MetadataGateway = services.gateway()
    report_parity(
        legacy_outputs(home).summaries,
        home / "ingestion",
        since,
        lambda summaries: parity(summaries, gateway),
        as_json,
    )


cli.add_command(state)
cli.add_command(maintain)
cli.add_command(migrate_target)

if __name__ == "__main__":
    cli()
