"""The dashboard's HTML: the page frame, tables, links and instants, escaping in one place,
and the static files (script, styles, the chart library) served beside the pages."""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Sequence
from datetime import datetime
from importlib import resources
from urllib.parse import quote

from starlette.responses import HTMLResponse

from domain.metadata.timestamps import instant_text

STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "uPlot.iife.min.js": "text/javascript; charset=utf-8",
    "uPlot.min.css": "text/css; charset=utf-8",
    "uPlot.LICENSE": "text/plain; charset=utf-8",
}

escape = html.escape


@functools.cache
def static_file(name: str) -> bytes:
    """A file of the dashboard's static folder (shipped with the package: no build step)."""
    return (resources.files("adapters.http") / "static" / name).read_bytes()


def page(
    title: str, body: str, signed_in: bool = True, status: int = 200, chart: bool = False
) -> HTMLResponse:
    """A whole page: ``body`` (HTML) under ``title`` (text), with the navigation when signed
    in and the chart library when the page draws one."""
    nav = (
        '<nav aria-label="pages"><a href="/ui/datasets">Datasets</a><a href="/ui/runs">Runs</a>'
        '<a href="/ui/logout">Sign out</a></nav>'
        if signed_in
        else ""
    )
    charting = (
        '<link rel=stylesheet href="/ui/static/uPlot.min.css">'
        '<script src="/ui/static/uPlot.iife.min.js" defer></script>'
        if chart
        else ""
    )
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel=icon href="data:,"><link rel=stylesheet href="/ui/static/dashboard.css">'
        f"{charting}<title>{escape(title)} - metadata</title>"
        '<script src="/ui/static/dashboard.js" defer></script></head>'
        f"<body><header><h1>{escape(title)}</h1>{nav}</header><main>{body}</main>"
        "</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def alert(problem: str, status: int, title: str) -> HTMLResponse:
    """A page that says what was wrong with the request."""
    return page(title, f'<p role="alert">{escape(problem)}</p>', status=status)


def empty(what: str) -> str:
    """A placeholder saying there is nothing yet, and how to get something (HTML)."""
    return f'<p class="empty">{what}</p>'


# A cell: its HTML, or (its HTML, its class).
Cell = str | tuple[str, str]


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    row_classes: Iterable[str] | None = None,
    table_id: str = "",
) -> str:
    """A table that scrolls when wide and, on a phone, lists each row's cells under their
    headers (``data-label``); cells are HTML."""
    head = "".join(f"<th scope=col>{escape(h)}</th>" for h in headers)
    classes = iter(row_classes) if row_classes is not None else None
    body = []
    for row in rows:
        cells = []
        for header, cell in zip(headers, row, strict=True):
            content, css = (cell, "") if isinstance(cell, str) else cell
            styled = f' class="{escape(css)}"' if css else ""
            cells.append(f'<td data-label="{escape(header)}"{styled}>{content}</td>')
        css = next(classes) if classes is not None else ""
        opening = f'<tr class="{escape(css)}">' if classes is not None else "<tr>"
        body.append(opening + "".join(cells) + "</tr>")
    named = f' id="{table_id}"' if table_id else ""
    return (
        f'<div class="wide"><table{named}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def state(word: str, shown: str | None = None, title: str = "") -> str:
    """A state word, coloured by its class (``shown`` instead of the word when given)."""
    named = f' title="{escape(title)}"' if title else ""
    return f'<span class="state {escape(word)}"{named}>{escape(shown or word)}</span>'


def time_html(value: datetime | None) -> str:
    """An instant as <time>: UTC in the page, turned into the viewer's zone by script."""
    if value is None:
        return "-"
    text = instant_text(value)
    return f'<time datetime="{text}">{escape(text)}</time>'


def dataset_link(subject: str) -> str:
    """A link to the dataset's page."""
    return f'<a href="/ui/datasets/{quote(subject, safe="")}">{escape(subject)}</a>'


def run_link(run_id: str) -> str:
    """A link to the run's records."""
    return f'<a href="/ui/runs/{quote(run_id, safe="")}">{escape(run_id)}</a>'


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
