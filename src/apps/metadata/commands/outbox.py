"""`metadata outbox`: look after the outbox (`metadata relay` drains it: ``relay``).

The outbox is where producers' records wait when ``[metadata] transport = "outbox"``
(``DATAPLATFORM_METADATA_TRANSPORT=outbox``); by default a SQLite file beside the embedded
store (``<home>/outbox.db``), any database by ``[metadata] outbox`` or
``DATAPLATFORM_OUTBOX_URL``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from adapters.serialization.prometheus import Metric, render
from adapters.sql.outbox import SqlOutbox
from apps.cli.app import bad_input
from apps.cli.output import echo_json, json_option, table
from apps.services import Services
from apps.store import MetadataStore, check_database_url, display_url
from domain.metadata.outbox import OutboxStatus
from domain.metadata.query import RecordQuery
from domain.metadata.relay import failure_reason


def now() -> datetime:
    return datetime.now(UTC)


def _status_data(status: OutboxStatus, where: str) -> dict[str, Any]:
    return {
        "outbox": where,
        "backlog": status.backlog,
        "oldest_age_s": status.age(now()),
        "delivered": status.delivered,
        "retrying": status.retrying,
        "retries": status.retries,
        "dead": status.dead,
        "last_error": status.last_error,
    }


def _metrics(outboxes: list[dict[str, Any]]) -> str:
    """The figures in the Prometheus text format, for a scraper: one series per outbox."""
    return render(
        Metric(
            f"dataplatform_outbox_{name.removesuffix('_s')}"
            + ("_seconds" if name.endswith("_s") else ""),
            help_text,
            "gauge",
            [
                ({"outbox": data["outbox"]}, data[name] if data[name] is not None else 0)
                for data in outboxes
            ],
        )
        for name, help_text in (
            ("backlog", "records waiting for the relay"),
            ("oldest_age_s", "seconds the oldest waiting record has waited"),
            ("delivered", "records delivered and kept for replay"),
            ("retries", "failed attempts of waiting records"),
            ("dead", "dead letters"),
        )
    )


def store_state(store: MetadataStore) -> str:
    """Whether the relay could deliver now: the store answers a read, or why not."""
    try:
        store.lazy_repository().query(RecordQuery(limit=1))
    except Exception as down:  # - any failure means the relay cannot deliver now
        return f"cannot be used ({failure_reason(down)})"
    return "reachable"


@click.group()
def outbox() -> None:
    """Look after the outbox: what waits, what died, and sending again.

    \b
      metadata outbox status            backlog, oldest age, retries, dead letters
      metadata outbox status --metrics  the same for a Prometheus scraper
      metadata outbox retry             put the dead letters back in line
      metadata outbox replay --from 1   deliver a range again (harmless: ids are idempotent)
    """


def outbox_option(*, many: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
    if many:
        return click.option(
            "--outbox",
            "extra",
            multiple=True,
            metavar="URL",
            help="Also the outbox in this database (a database target's: `ingestion run` "
            "names it); repeatable.",
        )
    return click.option(
        "--outbox",
        "url",
        metavar="URL",
        help="The outbox in this database (a database target's) instead of the configured one.",
    )


def outboxes_of(store: MetadataStore, urls: tuple[str, ...]) -> list[tuple[str, SqlOutbox]]:
    """(where, outbox): the configured outbox, then each of ``urls``; an --outbox SQLite
    file must exist (a typo would otherwise create an empty one and report nothing)."""
    found = [(display_url(store.settings.outbox_url), store.outbox())]
    for url in urls:
        parsed = check_database_url(url, "--outbox", what="outbox url")
        path = make_url(parsed).database
        if parsed.startswith("sqlite") and path and not Path(path).is_file():
            bad_input(
                f"--outbox {url}: no such SQLite file; give the target database of a run "
                f"(`ingestion run` prints its outbox's URL)"
            )
        found.append((display_url(parsed), store.outbox(parsed)))
    return found


@outbox.command()
@json_option
@click.option("--metrics", is_flag=True, help="Print the figures in the Prometheus text format.")
@outbox_option(many=True)
@click.pass_obj
def status(services: Services, as_json: bool, metrics: bool, extra: tuple[str, ...]) -> None:
    """What waits in the outbox, how long the oldest has waited, retries and dead letters.

    With --outbox, the configured outbox and each one named (a JSON list then).
    """
    store: MetadataStore = services.store
    reachable = store_state(store)
    found = []
    for where, box in outboxes_of(store, extra):
        data = _status_data(box.status(now()), where)
        data["store"] = reachable
        found.append(data)
    if metrics:
        click.echo(_metrics(found))
        return
    if as_json:
        echo_json(found if extra else found[0])
        return
    rows = []
    for data in found:
        age = data["oldest_age_s"]
        rows.append(
            [
                data["outbox"],
                f"{data['backlog']:,}",
                "-" if age is None else f"{age:,.1f}s",
                f"{data['retrying']:,}",
                f"{data['retries']:,}",
                f"{data['dead']:,}",
                f"{data['delivered']:,}",
            ]
        )
    click.echo(
        table(
            [
                "outbox",
                "backlog",
                "oldest waits",
                "retrying",
                "retries",
                "dead letters",
                "delivered",
            ],
            rows,
        )
    )
    click.echo(f"store {display_url(store.url)}: {reachable}")
    for data in found:
        if data["last_error"]:
            click.echo(f"last error ({data['outbox']}): {data['last_error']}")
    if any(data["dead"] for data in found):
        click.echo("dead letters wait for `metadata outbox retry` once their cause is fixed")


@outbox.command()
@outbox_option(many=False)
@json_option
@click.pass_obj
def retry(services: Services, url: str | None, as_json: bool) -> None:
    """Put every dead letter back in line (attempts reset); the relay delivers them next."""
    store: MetadataStore = services.store
    moved = _chosen(store, url).retry_dead(now())
    if as_json:
        echo_json({"requeued": moved})
    else:
        click.echo(f"{moved:,} dead letter(s) back in line; run `metadata relay` to deliver them")


@outbox.command()
@click.option("--from", "first", type=click.IntRange(min=1), help="The first sequence to replay.")
@click.option("--to", "last", type=click.IntRange(min=1), help="The last sequence to replay.")
@outbox_option(many=False)
@json_option
@click.pass_obj
def replay(
    services: Services, first: int | None, last: int | None, url: str | None, as_json: bool
) -> None:
    """Queue delivered records again, all or the sequences --from .. --to.

    A replayed record the store holds already is a duplicate: a replay, into an empty or a
    filled store, ends with the same answers, and a second replay changes nothing.
    """
    if first is not None and last is not None and first > last:
        bad_input(f"--from {first} --to {last}: --from must not be after --to")
    store: MetadataStore = services.store
    found = _chosen(store, url).replay(first, last, now())
    if as_json:
        echo_json({"requeued": found})
    else:
        click.echo(f"{found:,} delivered record(s) back in line; run `metadata relay` to send them")


def _chosen(store: MetadataStore, url: str | None) -> SqlOutbox:
    return store.outbox() if url is None else outboxes_of(store, (url,))[1][1]
