"""`parity`: the legacy summaries against the gateway's records, as every runtime's app
shows it (ingestion, recon): the seed's check before the legacy outputs are deleted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click

from adapters.files.legacy import LegacyFilesError
from apps.cli.app import bad_input, fail
from apps.cli.errors import ExitCode
from apps.cli.output import echo_json, table
from apps.cli.params import TIMESTAMP
from domain.ingestion.legacy import ParityReport

S = TypeVar("S")

since_option = click.option(
    "--since", type=TIMESTAMP, help="Only runs started at or after (ISO-8601 with offset)."
)


def report_parity(
    read: Callable[[datetime | None], Sequence[S]],
    where: Path,
    since: datetime | None,
    compare: Callable[[Sequence[S]], ParityReport],
    as_json: bool,
) -> None:
    """Read the summaries under ``where`` (since ``since``), compare them, show the
    differences; exit 1 when there is one, or when there are no summaries."""
    try:
        summaries = read(since)
    except LegacyFilesError as unreadable:
        bad_input(str(unreadable))
    if not summaries:
        fail(
            f"no legacy run summaries under {where}"
            + ("" if since is None else f" since {since.isoformat()}")
            + "; runs write them while outputs is legacy or both"
        )
    report = compare(summaries)
    rows = [
        {"run_id": d.run_id, "field": d.field, "legacy": d.legacy, "gateway": d.gateway}
        for d in report.differences
    ]
    if as_json:
        echo_json({"compared": report.compared, "ok": report.ok, "differences": rows})
    else:
        click.echo(f"{report.compared} run(s) compared, {len(rows)} difference(s)")
        if rows:
            click.echo(table(tuple(rows[0]), [tuple(str(v) for v in r.values()) for r in rows]))
        click.echo("parity OK" if report.ok else "parity FAILED")
    if not report.ok:
        raise SystemExit(ExitCode.CHECK_FAILED)
