"""`metadata harvest`: snapshot, drift-check and profile every table of a source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from apps.cli.app import bad_input, fail
from apps.cli.errors import ExitCode
from apps.cli.output import echo_json, json_option, progress, table
from apps.cli.spark import spark_module
from apps.metadata.bootstrap import sql_harvest
from apps.metadata.commands import gateway
from apps.metadata.commands.policy_options import policies, policy_options
from apps.metadata.render import cell, schema_table
from apps.runs import heartbeats
from apps.services import Services
from apps.store import check_database_url, display_url
from domain.catalog.harvest_run import PRODUCER, NothingHarvested, harvest_run
from domain.dataset import DatasetRef, RunId
from domain.runs.lifecycle import RunLifecycle
from ports.catalog import CatalogError, CatalogUnreachable


@click.command()
@click.argument("source", metavar="URL|ENDPOINTS.toml")
@click.option(
    "--schema",
    "schema_name",
    help="Database schema to harvest (default: public on PostgreSQL, main on SQLite, the "
    "URL's database on MariaDB/MySQL).",
)
@click.option(
    "--profile",
    is_flag=True,
    help="Also profile every table (one scan each) and emit dataset_profile records.",
)
@click.option(
    "--no-distinct",
    "no_distinct",
    is_flag=True,
    help="With --profile: leave out distinct counts, the costliest statistic (about half "
    "of a profile's time).",
)
@click.option(
    "--details", is_flag=True, help="Print each dataset's schema and profile after the summary."
)
@policy_options
@json_option
@click.pass_obj
def harvest(
    services: Services,
    /,
    source: str,
    schema_name: str | None,
    profile: bool,
    no_distinct: bool,
    details: bool,
    policy_file: Path | None,
    as_json: bool,
    **overrides: str | None,
) -> None:
    """Harvest every table of a database schema, or every dataset of an endpoint file.

    URL is a database (postgresql+psycopg://..., mysql://... or mariadb://..., sqlite:///...):
    all tables of --schema (MariaDB/MySQL: of the URL's database unless --schema names one).
    ENDPOINTS.toml lists [[datasets]] (kind parquet, csv, json or jdbc) read through Spark;
    see docs/metadata.md.

    For each table: a schema_snapshot when its schema changed since the last harvest, a
    schema_drift record judged by its drift policy, and with --profile a dataset_profile.
    A table that fails is reported and the others still harvest (exit 1 if any failed).

    A profile is one scan per dataset: row count, nulls, distinct counts, min, max, longest
    string and decimal digits. Parquet files answer row counts, nulls and most min/max from
    their footers; --no-distinct drops the distinct counts for a faster scan.

    \b
      metadata harvest postgresql+psycopg://postgres@127.0.0.1:5432/test --schema sales --profile
      metadata harvest mariadb://root@127.0.0.1:3306/shop --profile --details
      metadata harvest examples/datasets/endpoints.toml --profile --no-distinct --details
    """
    book = policies(policy_file, **overrides)
    sessions = None
    if source.endswith(".toml"):
        shown = source
        if not Path(source).is_file():
            bad_input(f"{source}: no such endpoint file")
        # Imported by name: the Spark adapters (and a JVM) only when an endpoint file asks.
        spark = spark_module("apps.metadata.spark_harvest", "harvesting an endpoint file")
        try:
            job, sessions = spark.spark_harvest(
                services, Path(source), book, distinct=not no_distinct
            )
        except ValueError as invalid:
            bad_input(str(invalid))
    else:
        url = check_database_url(source, "the harvest source", what="database url")
        shown = display_url(url)
        try:
            job = sql_harvest(services, url, schema_name, book, distinct=not no_distinct)
        except ValueError as invalid:
            bad_input(str(invalid))
    # The run's life is recorded about the catalog: started, heartbeats, succeeded/failed.
    catalog = (
        DatasetRef("file", str(Path(source).resolve()))
        if source.endswith(".toml")
        else DatasetRef(shown.replace(" ", "%20"), schema_name or "default")
    )
    lifecycle = RunLifecycle(
        gateway(services), catalog, RunId.new(), PRODUCER, lambda: datetime.now(UTC)
    )
    nothing = (
        f"no tables{'' if schema_name is None else f' in schema {schema_name!r}'}; "
        "nothing harvested"
    )
    try:
        with (
            progress("harvesting", unit="datasets", plain=not as_json) as ticker,
            heartbeats(lifecycle),
        ):

            def advance(done: int, total: int, subject: DatasetRef) -> None:
                ticker.total(total)
                ticker.done(done, str(subject) if done < total else "")

            outcomes = harvest_run(
                job,
                lifecycle,
                what=shown,
                nothing=nothing,
                now=lambda: datetime.now(UTC),
                profile=profile,
                progress=advance,
            )
    except NothingHarvested:
        fail(f"{shown}: {nothing}")
    except CatalogUnreachable as failure:  # the catalog could not be listed
        fail(f"{shown}: {failure}")
    except CatalogError as failure:  # e.g. no such schema
        bad_input(f"{shown}: {failure}")
    finally:
        if sessions is not None:
            sessions.stop()
    rows = [
        {
            "dataset": str(o.subject),
            "columns": o.columns,
            "rows": o.rows,
            "drift": o.drift,
            "error": o.error,
        }
        for o in outcomes
    ]
    if as_json:
        echo_json({"source": shown, "datasets": rows})
    else:
        click.echo(
            table(
                ("dataset", "columns", "rows", "drift"),
                [
                    (
                        str(o.subject),
                        cell(o.columns),
                        cell(o.rows),
                        f"FAILED: {o.error}" if o.error else o.drift,
                    )
                    for o in outcomes
                ],
            )
        )
        if details:
            for outcome in outcomes:
                if outcome.schema is not None:
                    click.echo(f"\n{outcome.subject}")
                    click.echo(schema_table(outcome.schema, outcome.profile))
        failed = sum(1 for o in outcomes if not o.ok)
        click.echo(f"\n{len(outcomes)} dataset(s) harvested, {failed} failed")
    if any(not o.ok for o in outcomes):
        raise SystemExit(ExitCode.CHECK_FAILED)
