"""`metadata export --openlineage`: our run events as OpenLineage run events."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import attrs
import click

from adapters.serialization.openlineage import to_openlineage
from apps.cli.app import bad_input
from apps.cli.params import SUBJECT, TIMESTAMP
from apps.metadata.commands import gateway
from apps.services import Services
from domain.dataset import DatasetRef, RunId
from domain.metadata import MetadataRecord, RecordKind
from domain.metadata.gateway import MetadataGateway
from domain.metadata.payloads import SchemaSnapshot
from domain.metadata.query import MAX_LIMIT, Order, RecordQuery
from domain.schema.schema import Schema


def _pages(store: MetadataGateway, query: RecordQuery) -> Iterator[MetadataRecord]:
    while True:
        page = store.query(query)
        yield from page.records
        if page.next_cursor is None:
            return
        query = attrs.evolve(query, cursor=page.next_cursor)


@click.command()
@click.option(
    "--openlineage",
    is_flag=True,
    help="Write OpenLineage 2-0-2 RunEvents, one JSON object a line (the only form so far).",
)
@click.option("--subject", type=SUBJECT, help="Run events about this dataset only.")
@click.option("--run-id", help="This run's events only.")
@click.option("--since", type=TIMESTAMP, help="Observed at or after (ISO-8601 with offset).")
@click.option("--until", type=TIMESTAMP, help="Observed before (ISO-8601 with offset).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (whole or not at all) instead of standard output.",
)
@click.pass_obj
def export(
    services: Services,
    openlineage: bool,
    subject: DatasetRef | None,
    run_id: str | None,
    since: datetime | None,
    until: datetime | None,
    output: Path | None,
) -> None:
    """Export run events for other lineage tools, oldest first.

    \b
    With --openlineage each run_event record is an OpenLineage RunEvent: the job and its
    output are the record's subject (with the schema facet the run recorded for it), the
    event type START, RUNNING, COMPLETE, FAIL or ABORT, the run id a UUID; our own run id
    and heartbeat ride in a "dataplatform" run facet, so `POST /api/v1/lineage` of an
    exported event stores the same record again.

    \b
      metadata export --openlineage --since 2024-05-01T00:00:00Z -o events.jsonl
    """
    if not openlineage:
        bad_input("say which form to export: --openlineage (the only one so far)")
    if since is not None and until is not None and since >= until:
        bad_input(f"--since {since.isoformat()} is not before --until {until.isoformat()}")
    store = gateway(services)
    schemas: dict[tuple[DatasetRef, RunId], Schema | None] = {}

    def schema_of(dataset: DatasetRef, run: RunId) -> Schema | None:
        if (dataset, run) not in schemas:
            found = store.query(
                RecordQuery(
                    kinds=[RecordKind.SCHEMA_SNAPSHOT], subject=dataset, run_id=run, limit=1
                )
            ).records
            payload = found[0].payload if found else None
            schemas[(dataset, run)] = (
                payload.schema if isinstance(payload, SchemaSnapshot) else None
            )
        return schemas[(dataset, run)]

    try:
        query = RecordQuery(
            kinds=[RecordKind.RUN_EVENT],
            subject=subject,
            run_id=None if run_id is None else RunId(run_id),
            since=since,
            until=until,
            order=Order.OLDEST_FIRST,
            limit=MAX_LIMIT,
        )
    except ValueError as invalid:
        bad_input(str(invalid))
    lines = (
        json.dumps(to_openlineage(record, schema_of), separators=(",", ":")) + "\n"
        for record in _pages(store, query)
    )
    if output is None:
        count = 0
        for line in lines:
            click.echo(line, nl=False)
            count += 1
        click.echo(f"{count} OpenLineage event(s) written", err=True)
        return
    if output.parent and not output.parent.is_dir():
        bad_input(f"--output {output}: the folder {output.parent} does not exist; create it first")
    handle, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as written:
            for line in lines:
                written.write(line)
                count += 1
        os.replace(partial, output)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    click.echo(f"{count} OpenLineage event(s) written to {output}", err=True)
