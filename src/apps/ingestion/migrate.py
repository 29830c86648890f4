"""`ingestion migrate-target`: a pipeline's versioned Parquet target (deprecated) into an
Iceberg table holding its current version, with the committed run and watermark carried
over, so the pipeline goes on incrementally without a reload."""

from __future__ import annotations

import re
from pathlib import Path

import click

from adapters.files.pipelines import PipelineFileError, iceberg_places, load_pipeline
from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option
from apps.cli.spark import spark_module, with_spark_log
from apps.services import Services
from domain.ingestion.errors import EngineFailed
from domain.ingestion.spec import TargetSpec

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


@click.command("migrate-target")
@click.argument("pipeline_file", metavar="PIPELINE.toml", type=click.Path(path_type=Path))
@click.option(
    "--table",
    "identifier",
    required=True,
    metavar="NAMESPACE.NAME",
    help="The Iceberg table to create, e.g. sales.orders.",
)
@click.option("--catalog", help="Its SQL catalog URL (default: the home's SQLite catalog).")
@click.option("--location", help="Where its files live (default: under the home's warehouse).")
@json_option
@click.pass_obj
def migrate_target(
    services: Services,
    pipeline_file: Path,
    identifier: str,
    catalog: str | None,
    location: str | None,
    as_json: bool,
) -> None:
    """Turn PIPELINE's Parquet target into an Iceberg table holding its current version.

    The committed version's rows become the table's first snapshot, which names the run
    that committed them and its watermark: the pipeline's next run, once its [target] names
    the table, goes on from there (an incremental pipeline without a reload). The Parquet
    directory is left as it was (delete it once the pipeline runs on the table). Parquet
    targets are deprecated: they work on one POSIX file system only.

    \b
      ingestion migrate-target examples/pipelines/orders-append.toml --table sales.orders
    """
    home = services.store.settings.home
    try:
        pipeline = load_pipeline(pipeline_file, home=home)
    except PipelineFileError as invalid:
        bad_input(str(invalid))
    if pipeline.spec.target.kind != "parquet":
        bad_input(
            f"{pipeline_file}: target.kind is {pipeline.spec.target.kind!r}; only a parquet "
            f"target is migrated to an iceberg table"
        )
    if not _TABLE.match(identifier):
        bad_input(f"--table {identifier!r}: write namespace.name, e.g. sales.orders")
    # Options are relative to where the command runs; the lines printed are absolute.
    url, place = iceberg_places(Path.cwd(), identifier, home, catalog, location)
    try:
        target = TargetSpec(
            kind="iceberg",
            table=identifier,
            catalog=url,
            location=place,
            partition_by=pipeline.spec.target.partition_by,
            home=pipeline.spec.target.home,
        )
    except ValueError as invalid:
        bad_input(f"{pipeline_file}: {invalid}")
    module = spark_module("apps.ingestion.spark_runtime", "migrating a target")
    try:
        done = module.migrate(services, pipeline, target)
    except EngineFailed as failed:
        fail(with_spark_log(str(failed), home))
    except ValueError as refused:
        fail(str(refused))
    if as_json:
        echo_json(
            {
                "pipeline": pipeline.spec.name,
                "table": identifier,
                "subject": str(target.subject),
                "snapshot_id": done.snapshot_id,
                "run_id": done.run_id,
                "rows": done.rows,
                "watermark": done.watermark,
            }
        )
        return
    click.echo(
        f"{pipeline.spec.name}: {pipeline.spec.target.path} -> iceberg table {identifier} "
        f"(snapshot {done.snapshot_id}, run {done.run_id}, watermark {done.watermark or '-'})"
    )
    click.echo("now write the pipeline's [target] as:")
    click.echo(f'  [target]\n  kind = "iceberg"\n  table = "{identifier}"')
    if catalog:
        click.echo(f'  catalog = "{url}"')
    if location:
        click.echo(f'  location = "{place}"')
    if pipeline.spec.target.partition_by:
        click.echo(
            f"  partition_by = {list(pipeline.spec.target.partition_by)!r}".replace("'", '"')
        )
