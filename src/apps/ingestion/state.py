"""`ingestion state`: show, set or reset what pipelines committed last."""

from __future__ import annotations

import attrs
import click

from apps.cli.app import bad_input, fail
from apps.cli.output import echo_json, json_option, table
from apps.services import Services
from ports.ingestion import StateStore


@click.group()
def state() -> None:
    """Show, set or reset what pipelines committed last (their state)."""


@state.command("show")
@click.argument("pipeline", required=False)
@json_option
@click.pass_obj
def state_show(services: Services, pipeline: str | None, as_json: bool) -> None:
    """Show PIPELINE's state (by name), or every pipeline's."""
    states: StateStore = services.states()
    found = [s for s in states.pipelines() if pipeline is None or s.pipeline == pipeline]
    if pipeline is not None and not found:
        fail(f"pipeline {pipeline!r} has no state: it has not committed a run")
    rows = [
        {
            "pipeline": s.pipeline,
            "last_run_id": s.last_run_id.value,
            "committed_at": s.committed_at.isoformat().replace("+00:00", "Z"),
            "rows_written": s.rows_written,
            "watermark": s.watermark,
        }
        for s in found
    ]
    if as_json:
        echo_json(rows)
    elif not rows:
        click.echo("no pipeline has committed a run yet")
    else:
        click.echo(
            table(
                tuple(rows[0]),
                [tuple("" if v is None else str(v) for v in r.values()) for r in rows],
            )
        )


@state.command("set")
@click.argument("pipeline")
@click.option(
    "--watermark",
    required=True,
    help="The watermark the next append run starts after (as the state shows it).",
)
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def state_set(services: Services, pipeline: str, watermark: str, yes: bool) -> None:
    """Move PIPELINE's committed watermark (to re-load from an earlier point, or skip ahead).

    Rows the target already holds are still skipped: moving it back re-reads, never
    duplicates.
    """
    states: StateStore = services.states()
    current = states.get(pipeline)
    if current is None:
        fail(f"pipeline {pipeline!r} has no state: run it once before setting its watermark")
    if not watermark.strip() or "\x00" in watermark:
        bad_input("--watermark: give a value, e.g. '2024-05-01 08:00:00' or 1200")
    if not yes and not click.confirm(
        f"set the watermark of {pipeline} from {current.watermark!r} to {watermark!r}?", err=True
    ):
        fail("nothing changed")
    states.put(attrs.evolve(current, watermark=watermark))
    click.echo(f"{pipeline}: watermark {current.watermark!r} -> {watermark!r}")


@state.command("reset")
@click.argument("pipeline")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def state_reset(services: Services, pipeline: str, yes: bool) -> None:
    """Forget PIPELINE's state: its next run starts from scratch (the target is kept)."""
    states: StateStore = services.states()
    if states.get(pipeline) is None:
        fail(f"pipeline {pipeline!r} has no state to reset")
    if not yes and not click.confirm(f"forget the state of {pipeline}?", err=True):
        fail("nothing reset")
    states.reset(pipeline)
    click.echo(f"{pipeline}: state reset")
