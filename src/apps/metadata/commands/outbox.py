"""`metadata relay` and `metadata outbox`: drain the outbox into the store, and look after it.

The outbox is where producers' records wait when ``[metadata] transport = "outbox"``
(``DATAPLATFORM_METADATA_TRANSPORT=outbox``); by default a SQLite file beside the embedded
store (``<home>/outbox.db``), any database by ``[metadata] outbox`` or
``DATAPLATFORM_OUTBOX_URL``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import click
import punq
from sqlalchemy.engine import make_url

from adapters.nats.jetstream import JetStreamConsumer, JetStreamSink
from adapters.sql.outbox import SqlOutbox
from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option, table
from apps.cli.params import UtcDateTime
from apps.faults import kill_at
from apps.store import MetadataStore, check_database_url, display_url
from domain.metadata.outbox import OutboxStatus
from domain.metadata.query import RecordQuery
from domain.metadata.transport import (
    Backoff,
    Consumer,
    Relay,
    RelayStep,
    RepositorySink,
    failure_reason,
)
from ports.transport import RecordSink

IDLE_POLL_S = 0.5


def _now() -> datetime:
    return datetime.now(UTC)


def _status_data(status: OutboxStatus, where: str) -> dict[str, Any]:
    return {
        "outbox": where,
        "backlog": status.backlog,
        "oldest_age_s": status.age(_now()),
        "delivered": status.delivered,
        "retrying": status.retrying,
        "retries": status.retries,
        "dead": status.dead,
        "last_error": status.last_error,
    }


def _metrics(outboxes: list[dict[str, Any]]) -> str:
    """The figures in the Prometheus text format, for a scraper: one series per outbox."""
    lines = []
    for name, help_text in (
        ("backlog", "records waiting for the relay"),
        ("oldest_age_s", "seconds the oldest waiting record has waited"),
        ("delivered", "records delivered and kept for replay"),
        ("retries", "failed attempts of waiting records"),
        ("dead", "dead letters"),
    ):
        metric = f"dataplatform_outbox_{name.removesuffix('_s')}" + (
            "_seconds" if name.endswith("_s") else ""
        )
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        for data in outboxes:
            value = data[name] if data[name] is not None else 0
            where = data["outbox"].replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{metric}{{outbox="{where}"}} {value}')
    return "\n".join(lines)


def _store_state(store: MetadataStore) -> str:
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


def _outbox_option(*, many: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
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


def _outboxes(store: MetadataStore, urls: tuple[str, ...]) -> list[tuple[str, SqlOutbox]]:
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
@_outbox_option(many=True)
@click.pass_obj
def status(container: punq.Container, as_json: bool, metrics: bool, extra: tuple[str, ...]) -> None:
    """What waits in the outbox, how long the oldest has waited, retries and dead letters.

    With --outbox, the configured outbox and each one named (a JSON list then).
    """
    store: MetadataStore = container.resolve(MetadataStore)
    reachable = _store_state(store)
    found = []
    for where, box in _outboxes(store, extra):
        data = _status_data(box.status(_now()), where)
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
@_outbox_option(many=False)
@json_option
@click.pass_obj
def retry(container: punq.Container, url: str | None, as_json: bool) -> None:
    """Put every dead letter back in line (attempts reset); the relay delivers them next."""
    store: MetadataStore = container.resolve(MetadataStore)
    moved = _chosen(store, url).retry_dead(_now())
    if as_json:
        echo_json({"requeued": moved})
    else:
        click.echo(f"{moved:,} dead letter(s) back in line; run `metadata relay` to deliver them")


@outbox.command()
@click.option("--from", "first", type=click.IntRange(min=1), help="The first sequence to replay.")
@click.option("--to", "last", type=click.IntRange(min=1), help="The last sequence to replay.")
@_outbox_option(many=False)
@json_option
@click.pass_obj
def replay(
    container: punq.Container, first: int | None, last: int | None, url: str | None, as_json: bool
) -> None:
    """Queue delivered records again, all or the sequences --from .. --to.

    A replayed record the store holds already is a duplicate: a replay, into an empty or a
    filled store, ends with the same answers, and a second replay changes nothing.
    """
    if first is not None and last is not None and first > last:
        bad_input(f"--from {first} --to {last}: --from must not be after --to")
    store: MetadataStore = container.resolve(MetadataStore)
    found = _chosen(store, url).replay(first, last, _now())
    if as_json:
        echo_json({"requeued": found})
    else:
        click.echo(f"{found:,} delivered record(s) back in line; run `metadata relay` to send them")


def _chosen(store: MetadataStore, url: str | None) -> SqlOutbox:
    return store.outbox() if url is None else _outboxes(store, (url,))[1][1]


def _modes(command: Callable[..., None]) -> Callable[..., None]:
    """--once (the default: drain what waits, then stop) or --follow (until Ctrl-C)."""
    command = click.option(
        "--follow", "mode", flag_value="follow", help="Keep draining until Ctrl-C."
    )(command)
    return click.option(
        "--once",
        "mode",
        flag_value="once",
        default=True,
        help="Drain what waits, then stop (the default).",
    )(command)


def _drain(
    step: Callable[[], RelayStep], mode: str, backoff: Backoff, *, chatty: bool
) -> tuple[RelayStep, float]:
    """Run ``step`` until nothing waits (--once) or Ctrl-C (--follow); an outage stops
    --once and makes --follow wait (backoff) and try again. (the total, seconds)."""
    total, started, outages = RelayStep(), time.monotonic(), 0
    try:
        while True:
            done = step()
            total += done
            if done.outage is not None:
                outages += 1
                if mode == "once":
                    break
                wait = backoff.delay(outages)
                click.echo(f"cannot deliver ({done.outage}); trying again in {wait:.0f}s", err=True)
                time.sleep(wait)
                continue
            outages = 0
            if done.taken:
                if chatty and mode == "follow":
                    click.echo(f"delivered {done.delivered:,} ({done.duplicates:,} already stored)")
                continue
            if mode == "once":
                break
            time.sleep(IDLE_POLL_S)
    except KeyboardInterrupt:
        if mode != "follow":
            raise
    return total, max(time.monotonic() - started, 1e-9)


def _report(
    command: str, source: tuple[str, str], total: RelayStep, elapsed: float, as_json: bool
) -> None:
    """What a drain did, for a person or (--json) a machine."""
    rate = total.delivered / elapsed
    if as_json:
        echo_json(
            {
                source[0]: source[1],
                "delivered": total.delivered,
                "duplicates": total.duplicates,
                "failed": total.failed,
                "dead": total.dead,
                "seconds": round(elapsed, 3),
                "per_second": round(rate, 1),
                "outage": total.outage,
            }
        )
        return
    click.echo(
        f"{command}: {total.delivered:,} delivered ({total.duplicates:,} already stored: "
        f"re-sends), {total.failed:,} to retry, {total.dead:,} dead letters, in "
        f"{elapsed:.1f}s ({rate:,.0f}/s)"
    )


@click.command()
@_modes
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Records per repository transaction.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Failed attempts before a record the store refuses becomes a dead letter.",
)
@_outbox_option(many=True)
@json_option
@click.pass_obj
def relay(
    container: punq.Container,
    mode: str,
    batch: int,
    max_attempts: int,
    extra: tuple[str, ...],
    as_json: bool,
) -> None:
    """Deliver the outbox's records to the metadata store, in order, in batches.

    A batch the store refuses is tried record by record: a record it refuses is retried with
    backoff and, after --max-attempts, becomes a dead letter while the others flow on. When
    the store cannot be reached nothing is counted against the records: --once stops and
    says so (exit 1), --follow waits and tries again. Delivery is at least once; a record
    sent twice (after a crash) is a duplicate in the store, never a second row.

    With --outbox it drains the configured outbox and each one named, in turn: a database
    target's runs commit their records into their own database's outbox (with transport
    "outbox" or "nats"), and `ingestion run` prints its URL.
    """
    store: MetadataStore = container.resolve(MetadataStore)
    # With transport "nats" the outbox holds what producers could not publish: the relay
    # publishes it; otherwise it delivers to the store (which may be down at the start).
    sink: RecordSink = (
        JetStreamSink(store.nats_link(), store.converter)
        if store.settings.transport == "nats"
        else RepositorySink(store.lazy_repository())
    )
    backoff = Backoff(max_attempts=max_attempts)
    outboxes = _outboxes(store, extra)
    checkpoint = kill_at()
    workers = [
        Relay(box, sink, _now, backoff=backoff, batch=batch, checkpoint=checkpoint)
        for _, box in outboxes
    ]

    def every() -> RelayStep:
        """A batch from each outbox in turn (an outage stops the round)."""
        total = RelayStep()
        for worker in workers:
            done = worker.step()
            total += done
            if done.outage is not None:
                break
        return total

    total, elapsed = _drain(every, mode, backoff, chatty=not as_json)
    where = ", ".join(w for w, _ in outboxes)
    _report("relay", ("outbox", where), total, elapsed, as_json)
    if total.outage is not None:
        where = "NATS" if store.settings.transport == "nats" else "the metadata store"
        fail(
            f"{where} cannot be used: {total.outage}; the records wait in the outbox "
            f"(`metadata outbox status`); run the relay again once it is up"
        )


@click.command()
@_modes
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=5000,
    show_default=True,
    help="Records per fetch and per store transaction.",
)
@click.option(
    "--max-deliver",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Deliveries of a record the store refuses before it is a dead letter.",
)
@click.option(
    "--ack-wait",
    type=click.FloatRange(1, 3600),
    default=120.0,
    show_default=True,
    help="Seconds the broker waits for a batch's acknowledgement before it redelivers.",
)
@click.option(
    "--replay-from",
    "from_seq",
    type=click.IntRange(min=1),
    metavar="SEQ",
    help="Replay: read the stream again from this sequence (`metadata stream status`).",
)
@click.option(
    "--replay-since",
    "since",
    type=UtcDateTime(),
    help="Replay: read the stream again from this time (ISO 8601 with an offset).",
)
@json_option
@click.pass_obj
def consume(
    container: punq.Container,
    mode: str,
    batch: int,
    max_deliver: int,
    ack_wait: float,
    from_seq: int | None,
    since: datetime | None,
    as_json: bool,
) -> None:
    """Write what NATS JetStream holds for the store into it (transport "nats").

    A durable pull consumer: it resumes where it stopped; a record is acknowledged after the
    store committed it, so a crash re-delivers it and the store counts a duplicate. While
    the store cannot be used nothing is fetched (--once stops, exit 1; --follow waits). A
    record the store refuses --max-deliver times goes to the stream's dead letters.

    \b
    A replay (--replay-from SEQ or --replay-since TIME) reads the stream again from that
    point with a consumer of its own, leaving the durable one where it was. Into a filled
    store every record is a duplicate; into an empty one it rebuilds the same answers.
    """
    if from_seq is not None and since is not None:
        bad_input("--replay-from and --replay-since: give one point to replay from")
    store: MetadataStore = container.resolve(MetadataStore)
    feed = JetStreamConsumer(
        store.nats_link(),
        store.converter,
        ack_wait_s=ack_wait,
        max_deliver=max_deliver,
        replay_from=from_seq if from_seq is not None else since,
    )
    worker = Consumer(feed, store.lazy_repository())
    try:
        total, elapsed = _drain(lambda: worker.step(batch), mode, Backoff(), chatty=False)
    except ConnectionError as down:  # the broker: nothing was taken from it
        fail(f"{down}; nothing was consumed. Check [metadata] nats / DATAPLATFORM_NATS_URL")
    _report("consume", ("stream", store.nats_link().stream), total, elapsed, as_json)
    if total.outage is not None:
        fail(f"the metadata store cannot be used: {total.outage}; the records wait in the stream")


@click.group()
def stream() -> None:
    """Look at the NATS JetStream stream the "nats" transport publishes to.

    \b
      metadata stream status            records kept, sequences, the consumer's lag
      metadata stream status --metrics  the same for a Prometheus scraper
    """


@stream.command("status")
@json_option
@click.option("--metrics", is_flag=True, help="Print the figures in the Prometheus text format.")
@click.pass_obj
def stream_status(container: punq.Container, as_json: bool, metrics: bool) -> None:
    """What the stream keeps, its first and last sequence (the points a replay starts from),
    what the durable consumer has still to store, and the dead letters."""
    store: MetadataStore = container.resolve(MetadataStore)
    try:
        figures = store.nats_link().figures()
    except ConnectionError as down:
        fail(f"{down}. Check [metadata] nats / DATAPLATFORM_NATS_URL")
    data = attrs.asdict(figures)
    data["store"] = _store_state(store)
    if metrics:
        lines = []
        for name, help_text in (
            ("messages", "records and dead letters the stream keeps"),
            ("pending", "records the consumer has not been given yet"),
            ("unacknowledged", "records given to the consumer and not acknowledged"),
            ("redelivered", "records delivered more than once"),
            ("dead", "dead letters"),
        ):
            metric = f"dataplatform_stream_{name}"
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
            lines.append(f'{metric}{{stream="{figures.stream}"}} {data[name] or 0}')
        click.echo("\n".join(lines))
        return
    if as_json:
        echo_json(data)
        return

    def shown(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    click.echo(f"stream {figures.stream} at {store.settings.nats_url}")
    click.echo(
        table(
            ["kept", "sequences", "pending", "unacknowledged", "redelivered", "dead letters"],
            [
                [
                    f"{figures.messages:,}",
                    f"{figures.first_seq:,}..{figures.last_seq:,}" if figures.messages else "-",
                    shown(figures.pending),
                    shown(figures.unacknowledged),
                    shown(figures.redelivered),
                    f"{figures.dead:,}",
                ]
            ],
        )
    )
    click.echo(f"store {display_url(store.url)}: {data['store']}")
    if figures.pending is None:
        click.echo(f"the consumer {figures.consumer} is made by the first `metadata consume`")
