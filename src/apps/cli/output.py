"""What the apps print: JSON for machines, tables and progress bars for people."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned plain-text table, never wrapped (a pipe gets whole rows)."""
    grid = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="",
        highlight=False,
    )
    for header in headers:
        grid.add_column(header, no_wrap=True, overflow="ignore")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    buffer = io.StringIO()
    Console(file=buffer, width=100_000, no_color=True, highlight=False, emoji=False).print(
        grid, markup=False
    )
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines() if line.strip())


class RateColumn(ProgressColumn):
    """Items per second (rows/s, tables/s) over the recent window."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self._unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {self._unit}/s")


# Plain progress lines start so: a log reader (or a test) tells them from the result.
PROGRESS_PREFIX = "progress: "


class Ticker:
    """Advances one progress bar; a new ``phase`` starts it again (its rate and time left
    are the phase's own). Without a terminal (a pipe, a log, CI) it writes a plain line
    instead when the phase or note changes, at most one a second (``lines``)."""

    def __init__(self, progress: Progress | None, task: Any, lines: str | None = None) -> None:
        self._progress = progress
        self._task = task
        self._phase: str | None = None
        self._lines = lines  # the label of plain lines; None writes none
        self._said: tuple[str | None, str] = (None, "")
        self._last = 0.0
        self._total: int | None = None

    def total(self, total: int) -> None:
        self._total = total
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def _line(self, completed: int, note: str, phase: str | None) -> None:
        if self._lines is None or (phase, note) == self._said or not (note or phase):
            return
        now = time.monotonic()
        if phase == self._said[0] and now - self._last < 1.0:
            return  # many items of one phase: a line a second is enough for a log
        self._said, self._last = (phase, note), now
        count = f" {completed:,}/{self._total:,}" if self._total else ""
        text = " ".join(part for part in (phase, note) if part)
        sys.stderr.write(f"{PROGRESS_PREFIX}{self._lines}:{count} {text}\n")
        sys.stderr.flush()

    def done(self, completed: int, note: str = "", *, phase: str | None = None) -> None:
        if self._progress is None:
            self._line(completed, note, phase)
            return
        if phase is not None and phase != self._phase:
            self._phase = phase
            self._progress.reset(self._task, description=phase)
        self._progress.update(self._task, completed=completed, note=note)


@contextmanager
def progress(
    label: str, *, total: int | None = None, unit: str = "items", plain: bool = True
) -> Iterator[Ticker]:
    """A progress bar on stderr with the rate and the time left, on a terminal; elsewhere
    a plain line per phase (at most one a second), which a log keeps readably, unless not
    ``plain`` (a --json run: spark-submit merges stderr into the JSON's stdout)."""
    stream = sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        yield Ticker(None, None, lines=label if plain else None)
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(unit),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=Console(file=stream),
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total, note="")
        yield Ticker(bar, task)
