"""`metadata` - the command line of the metadata subsystem."""

from __future__ import annotations

import click

from apps.cli.app import CONTEXT_SETTINGS
from apps.cli.options import url_option
from apps.metadata.bootstrap import bootstrap
from apps.metadata.commands.backfill import backfill
from apps.metadata.commands.drift import check_precision, diff
from apps.metadata.commands.export import export
from apps.metadata.commands.harvest import harvest
from apps.metadata.commands.migrate import migrate
from apps.metadata.commands.outbox import outbox
from apps.metadata.commands.reading import datasets, history, latest, query
from apps.metadata.commands.records import emit, records
from apps.metadata.commands.relay import consume, relay
from apps.metadata.commands.serve import serve, tokens
from apps.metadata.commands.stream import stream
from apps.settings import load_settings
from apps.store import StoreAppGroup


@click.group(cls=StoreAppGroup, context_settings=CONTEXT_SETTINGS)
@url_option
@click.pass_context
def cli(ctx: click.Context, url: str | None) -> None:
    """Record, query and check what every run read, wrote, changed and lost.

    Metadata is a stream of records: each states one fact (a schema snapshot, a profile,
    a drift, an ingestion volume ...) about a dataset (SUBJECT, written namespace::name)
    in a run. Try:

    \b
      metadata emit examples/records/orders-run.jsonl
      metadata datasets
      metadata latest ingestion_volume postgres://warehouse:5432::sales.public.orders
      metadata history schema_snapshot postgres://warehouse:5432::sales.public.orders
      metadata query --run-id 2024-05-01T06-00-orders

    Exit status: 0 ok, 1 a check failed or the store could not be used, 2 bad input
    (the message names the input, the field and the fix), 130 interrupted.
    """
    if ctx.obj is None:
        ctx.obj = bootstrap(load_settings(url=url))


for command in (records, emit, datasets, latest, history, query, diff, check_precision, harvest):
    cli.add_command(command)
cli.add_command(backfill)
cli.add_command(export)
cli.add_command(migrate)
cli.add_command(relay)
cli.add_command(outbox)
cli.add_command(consume)
cli.add_command(stream)
cli.add_command(serve)
cli.add_command(tokens)

if __name__ == "__main__":
    cli()
