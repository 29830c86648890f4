"""`metadata relay` and `metadata consume`: drain the outbox, or the NATS stream, into the
store (the drain itself is ``domain.metadata.relay.drain``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click

from adapters.nats.consumer import JetStreamConsumer
from adapters.nats.jetstream import JetStreamSink
from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option
from apps.cli.params import UtcDateTime, option_rows
from apps.faults import kill_at
from apps.metadata.commands.outbox import now, outbox_option, outboxes_of
from apps.services import Services
from apps.store import MetadataStore
from domain.metadata.consumer import Consumer
from domain.metadata.relay import Backoff, Relay, RelayStep, RepositorySink, drain
from ports.transport import RecordSink


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
    return drain(
        step,
        follow=mode == "follow",
        backoff=backoff,
        say=click.echo,
        warn=lambda line: click.echo(line, err=True),
        chatty=chatty,
    )


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
@option_rows(
    ("--batch", click.IntRange(1, 100_000), 1000, "Records per repository transaction."),
    (
        "--max-attempts",
        click.IntRange(1, 100),
        5,
        "Failed attempts before a record the store refuses becomes a dead letter.",
    ),
)
@outbox_option(many=True)
@json_option
@click.pass_obj
def relay(
    services: Services,
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
    store: MetadataStore = services.store
    # With transport "nats" the outbox holds what producers could not publish: the relay
    # publishes it; otherwise it delivers to the store (which may be down at the start).
    sink: RecordSink = (
        JetStreamSink(store.nats_link(), store.converter)
        if store.settings.transport == "nats"
        else RepositorySink(store.lazy_repository())
    )
    backoff = Backoff(max_attempts=max_attempts)
    outboxes = outboxes_of(store, extra)
    checkpoint = kill_at()
    workers = [
        Relay(box, sink, now, backoff=backoff, batch=batch, checkpoint=checkpoint)
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
@option_rows(
    ("--batch", click.IntRange(1, 10_000), 5000, "Records per fetch and per store transaction."),
    (
        "--max-deliver",
        click.IntRange(1, 100),
        5,
        "Deliveries of a record the store refuses before it is a dead letter.",
    ),
    (
        "--ack-wait",
        click.FloatRange(1, 3600),
        120.0,
        "Seconds the broker waits for a batch's acknowledgement before it redelivers.",
    ),
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
    services: Services,
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
    store: MetadataStore = services.store
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
