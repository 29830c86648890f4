"""`metadata stream status`: what the NATS JetStream stream of the "nats" transport keeps."""

from __future__ import annotations

import attrs
import click

from adapters.serialization.prometheus import Metric, render
from apps.cli.app import fail
from apps.cli.output import echo_json, json_option, table
from apps.metadata.commands.outbox import store_state
from apps.services import Services
from apps.store import MetadataStore, display_url


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
def stream_status(services: Services, as_json: bool, metrics: bool) -> None:
    """What the stream keeps, its first and last sequence (the points a replay starts from),
    what the durable consumer has still to store, and the dead letters."""
    store: MetadataStore = services.store
    try:
        figures = store.nats_link().figures()
    except ConnectionError as down:
        fail(f"{down}. Check [metadata] nats / DATAPLATFORM_NATS_URL")
    data = attrs.asdict(figures)
    data["store"] = store_state(store)
    if metrics:
        click.echo(
            render(
                Metric(
                    f"dataplatform_stream_{name}",
                    help_text,
                    "gauge",
                    [({"stream": figures.stream}, data[name] or 0)],
                )
                for name, help_text in (
                    ("messages", "records and dead letters the stream keeps"),
                    ("pending", "records the consumer has not been given yet"),
                    ("unacknowledged", "records given to the consumer and not acknowledged"),
                    ("redelivered", "records delivered more than once"),
                    ("dead", "dead letters"),
                )
            )
        )
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
