"""`metadata latest`, `history` and `query`: reading records back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option
from apps.cli.params import SUBJECT, TIMESTAMP
from apps.metadata.commands import converter, gateway
from apps.metadata.render import records_table
from apps.services import Services
from domain.dataset import DatasetRef, RunId
from domain.metadata import MetadataRecord, RecordKind
from domain.metadata.query import MAX_LIMIT, Order, RecordPage, RecordQuery, SubjectQuery

KINDS = [kind.value for kind in RecordKind]
kind_argument = click.argument("kind", type=click.Choice(KINDS), metavar="KIND")

limit_option = click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=20,
    show_default=True,
    help=f"Records per page (at most {MAX_LIMIT}).",
)
cursor_option = click.option("--cursor", help="Continue after the page that printed this cursor.")
since_option = click.option(
    "--since", type=TIMESTAMP, help="Observed at or after (ISO-8601 with offset)."
)
until_option = click.option(
    "--until", type=TIMESTAMP, help="Observed before (ISO-8601 with offset)."
)


def _window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        bad_input(
            f"--since {since.isoformat()} is not before --until {until.isoformat()}; "
            f"the window would be empty: swap them"
        )


def _payloads(services: Services, found: tuple[MetadataRecord, ...]) -> list[dict[str, Any]]:
    return [converter(services).unstructure_payload(r.payload) for r in found]


def _print_page(services: Services, page: RecordPage, as_json: bool) -> None:
    if as_json:
        echo_json(
            {
                "records": [converter(services).unstructure(r) for r in page.records],
                "next_cursor": page.next_cursor,
            }
        )
        return
    if not page.records:
        click.echo("no records match")
        return
    click.echo(records_table(page.records, _payloads(services, page.records)))
    if page.next_cursor:
        click.echo(f"\nmore: add --cursor {page.next_cursor}")


@click.command()
@kind_argument
@click.argument("subject", type=SUBJECT)
@json_option
@click.pass_obj
def latest(services: Services, kind: str, subject: DatasetRef, as_json: bool) -> None:
    """Show the newest KIND record about SUBJECT (namespace::name).

    KIND is one of: schema_snapshot, dataset_profile, schema_drift, precision_check,
    ingestion_volume, ingestion_runtime, recon_result, run_event. Exit 1 when there is none.
    """
    found = gateway(services).latest(RecordKind(kind), subject)
    if found is None:
        if as_json:
            click.echo("null")
        fail(f"no {kind} record about {subject}")
    data = converter(services).unstructure(found)
    if as_json:
        echo_json(data)
        return
    envelope = [
        (key, str(data[key]))
        for key in ("record_id", "kind", "observed_at", "run_id", "producer", "payload_version")
    ]
    envelope.insert(2, ("subject", str(found.subject)))
    width = max(len(k) for k, _ in envelope)
    for key, value in envelope:
        click.echo(f"{key.ljust(width)}  {value}")
    click.echo("payload:")
    click.echo(json.dumps(data["payload"], indent=2))


@click.command()
@kind_argument
@click.argument("subject", type=SUBJECT)
@since_option
@until_option
@limit_option
@cursor_option
@json_option
@click.pass_obj
def history(
    services: Services,
    kind: str,
    subject: DatasetRef,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List the KIND records about SUBJECT, newest first."""
    _window(since, until)
    try:
        page = gateway(services).history(
            RecordKind(kind), subject, since=since, until=until, limit=limit, cursor=cursor
        )
    except ValueError as invalid:
        bad_input(str(invalid))
    _print_page(services, page, as_json)


@click.command()
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Record kind (repeatable)."
)
@click.option("--subject", type=SUBJECT, help="Exactly this dataset (namespace::name).")
@click.option("--namespace-prefix", help="Subjects whose namespace starts with this.")
@click.option("--name-prefix", help="Subjects whose name starts with this.")
@click.option("--run-id", help="Records of this run.")
@click.option("--producer", help="Records from this producer.")
@since_option
@until_option
@click.option("--oldest-first", is_flag=True, help="Oldest first (default: newest first).")
@limit_option
@cursor_option
@json_option
@click.pass_obj
def query(
    services: Services,
    kinds: tuple[str, ...],
    subject: DatasetRef | None,
    namespace_prefix: str | None,
    name_prefix: str | None,
    run_id: str | None,
    producer: str | None,
    since: datetime | None,
    until: datetime | None,
    oldest_first: bool,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Find records by kind, subject, run, producer and time; all filters combine (AND)."""
    _window(since, until)
    try:
        request = RecordQuery(
            kinds=[RecordKind(k) for k in kinds],
            subject=subject,
            namespace_prefix=namespace_prefix,
            name_prefix=name_prefix,
            run_id=RunId(run_id) if run_id is not None else None,
            producer=producer,
            since=since,
            until=until,
            order=Order.OLDEST_FIRST if oldest_first else Order.NEWEST_FIRST,
            limit=limit,
            cursor=cursor,
        )
        page = gateway(services).query(request)
    except ValueError as invalid:
        bad_input(str(invalid))
    _print_page(services, page, as_json)


@click.command()
@click.option(
    "--contains",
    metavar="TEXT",
    help="Only datasets whose namespace::name holds TEXT (A-Z in any case).",
)
@click.option("--after", type=SUBJECT, help="Continue after this dataset (the 'more:' line).")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=50,
    show_default=True,
    help=f"Datasets per page (at most {MAX_LIMIT}).",
)
@json_option
@click.pass_obj
def datasets(
    services: Services,
    contains: str | None,
    after: DatasetRef | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the datasets the store holds records about, by namespace then name.

    \b
      metadata datasets
      metadata datasets --contains orders
      metadata datasets --after 'file::/lake/orders'     # the next page

    The same list as the dashboard's /ui/datasets (`metadata serve`).
    """
    try:
        query = SubjectQuery(contains=contains, after=after, limit=limit)
    except ValueError as invalid:
        bad_input(f"--{invalid}")
    page = gateway(services).subjects(query)
    if as_json:
        echo_json(
            {
                "subjects": [str(s) for s in page.subjects],
                "next_after": None if page.next_after is None else str(page.next_after),
            }
        )
        return
    if not page.subjects:
        click.echo(
            f"no dataset holds {contains!r}"
            if contains
            else "no datasets yet: records arrive "
            "with `metadata emit`, `metadata harvest`, `ingestion run` or `recon run`"
        )
        return
    for subject in page.subjects:
        click.echo(str(subject))
    if page.next_after is not None:
        click.echo(f"\nmore: add --after '{page.next_after}'")
