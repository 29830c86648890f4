"""The dashboard of `metadata serve`: server-rendered pages over the gateway, for people.

Read scope required, like the API: a person signs in once with a token (`/ui/login`); the
token then rides in an HttpOnly, SameSite=Strict cookie scoped to `/ui`. No script is needed
to read a page; a few lines turn every instant into the viewer's time zone (UTC on hover).

Slice 1: the runs page (recent runs of every runtime, with state, duration and a link to
their records) and a run's records. The datasets list and the dataset timeline come next.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from adapters.serialization.records import RecordConverter
from domain.dataset import RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import RunEvent
from domain.metadata.query import MAX_LIMIT, Order, RecordQuery
from domain.metadata.record import MetadataRecord
from domain.metadata.timestamps import instant_text
from domain.metadata.tokens import Scope, ServiceToken
from ports.tokens import TokenStore

COOKIE = "dp_session"
RUNS_PER_PAGE = 50
_EVENTS_READ = 1000  # run events read per page of runs (a run has a few, plus heartbeats)
_MAX_FORM_BYTES = 4096

_STYLE = """
:root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 1.25rem; margin: 0 1rem 0 0; }
nav a { margin-right: 1rem; }
a { color: #0b57d0; }
a:focus, button:focus, input:focus { outline: 3px solid #f4b400; outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid #d0d7de; }
.state { font-weight: 600; }
.succeeded { color: #116329; } .failed, .aborted { color: #b42318; }
.running, .started { color: #9a6700; }
.empty { padding: 2rem; background: #f6f8fa; border-radius: 6px; }
.wide { overflow-x: auto; }
@media (max-width: 40rem) {
  thead { display: none; }
  tr { display: block; border-bottom: 1px solid #d0d7de; padding: 0.5rem 0; }
  td { display: block; border: 0; padding: 0.1rem 0; overflow-wrap: anywhere; }
  td::before { content: attr(data-label) ": "; color: #57606a; }
}
"""

# Instants are written in UTC; shown in the viewer's zone, UTC on hover.
_LOCAL_TIMES = """
for (const t of document.querySelectorAll("time[datetime]")) {
  const at = new Date(t.getAttribute("datetime"));
  if (!isNaN(at)) { t.title = t.getAttribute("datetime"); t.textContent = at.toLocaleString(); }
}
"""


def _page(title: str, body: str, signed_in: bool = True) -> HTMLResponse:
    nav = (
        '<nav aria-label="pages"><a href="/ui/runs">Runs</a>'
        '<a href="/ui/logout">Sign out</a></nav>'
        if signed_in
        else ""
    )
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel=icon href="data:,">'
        f"<title>{html.escape(title)} - metadata</title><style>{_STYLE}</style></head>"
        f"<body><header><h1>{html.escape(title)}</h1>{nav}</header><main>{body}</main>"
        f"<script>{_LOCAL_TIMES}</script></body></html>",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _time(value: datetime | None) -> str:
    if value is None:
        return "-"
    text = instant_text(value)
    return f'<time datetime="{text}">{html.escape(text)}</time>'


@attrs.frozen
class RunRow:
    """One run as the runs page shows it, from its run_event records."""

    run_id: str
    subject: str
    producer: str
    state: str
    started_at: datetime | None
    last_at: datetime
    message: str

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.state in ("started", "running"):
            return None
        return (self.last_at - self.started_at).total_seconds()


def runs_of(events: Iterable[MetadataRecord]) -> list[RunRow]:
    """Runs from run_event records (any order), newest last event first."""
    by_run: dict[str, list[MetadataRecord]] = {}
    for record in events:
        by_run.setdefault(record.run_id.value, []).append(record)
    rows = []
    for run_id, records in by_run.items():
        records.sort(key=lambda r: r.observed_at)
        last = records[-1]
        payload = last.payload
        started = next(
            (
                r.observed_at
                for r in records
                if isinstance(r.payload, RunEvent) and r.payload.event.value == "started"
            ),
            None,
        )
        rows.append(
            RunRow(
                run_id=run_id,
                subject=str(last.subject),
                producer=last.producer,
                state=payload.event.value if isinstance(payload, RunEvent) else "?",
                started_at=started,
                last_at=last.observed_at,
                message=payload.message if isinstance(payload, RunEvent) else "",
            )
        )
    rows.sort(key=lambda row: row.last_at, reverse=True)
    return rows


class Dashboard:
    """The pages, over the service's gateway and token store."""

    def __init__(
        self, gateway: MetadataGateway, tokens: TokenStore, converter: RecordConverter
    ) -> None:
        self._gateway = gateway
        self._tokens = tokens
        self._converter = converter

    def pages(self) -> list[tuple[str, str, Callable[[Request], Any]]]:
        """(path, method, handler) of every page; the service frames them (access log,
        metrics, errors) as it frames the API."""
        return [
            ("/ui", "GET", self._home),
            ("/ui/login", "GET", self._login_form),
            ("/ui/login", "POST", self._login),
            ("/ui/logout", "GET", self._logout),
            ("/ui/runs", "GET", self._signed_in(self._runs)),
            ("/ui/runs/{run_id}", "GET", self._signed_in(self._run)),
        ]

    async def _token(self, request: Request) -> ServiceToken | None:
        secret = request.cookies.get(COOKIE, "")
        if not secret:
            return None
        token = await run_in_threadpool(self._tokens.find, secret)
        if token is None or not token.active or not token.allows(Scope.READ):
            return None
        return token

    def _signed_in(self, page: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            if await self._token(request) is None:
                target = quote(
                    request.url.path + ("?" + request.url.query if request.url.query else "")
                )
                return RedirectResponse(f"/ui/login?next={target}", status_code=303)
            response: Response = await page(request)
            return response

        return route

    async def _home(self, request: Request) -> Response:
        return RedirectResponse("/ui/runs", status_code=303)

    async def _login_form(self, request: Request, problem: str = "") -> Response:
        wanted = request.query_params.get("next", "/ui/runs")
        shown = f'<p role="alert" class="failed">{html.escape(problem)}</p>' if problem else ""
        return _page(
            "Sign in",
            f"{shown}<form method=post action=/ui/login>"
            f'<input type=hidden name=next value="{html.escape(wanted)}">'
            "<p><label for=token>Token (read scope; <code>metadata tokens create NAME "
            "--scope read</code> makes one)</label></p>"
            "<p><input id=token name=token type=password autocomplete=off size=50 required "
            "autofocus></p><p><button type=submit>Sign in</button></p></form>",
            signed_in=False,
        )

    async def _login(self, request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_FORM_BYTES:
                return HTMLResponse("the form is too large", status_code=413)
        form = parse_qs(body.decode("utf-8", "replace"))
        secret = (form.get("token") or [""])[0].strip()
        wanted = (form.get("next") or ["/ui/runs"])[0]
        if not wanted.startswith("/ui/") or wanted.startswith("//"):
            wanted = "/ui/runs"  # never a redirect off this service
        token = await run_in_threadpool(self._tokens.find, secret) if secret else None
        if token is None or not token.active:
            # The form again with the reason (200: a page to act on, not an API refusal).
            return await self._login_form(request, "That token is unknown or revoked.")
        if not token.allows(Scope.READ):
            return await self._login_form(
                request, f"Token {token.name!r} has no read scope; the pages need read."
            )
        response = RedirectResponse(wanted, status_code=303)
        response.set_cookie(
            COOKIE, secret, httponly=True, samesite="strict", path="/ui", max_age=8 * 3600
        )
        return response

    async def _logout(self, request: Request) -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/ui")
        return response

    async def _runs(self, request: Request) -> Response:
        cursor = request.query_params.get("cursor") or None
        try:
            query = RecordQuery(kinds=[RecordKind.RUN_EVENT], limit=_EVENTS_READ, cursor=cursor)
        except ValueError as invalid:
            return _page("Runs", f'<p role="alert">{html.escape(str(invalid))}</p>')
        page = await run_in_threadpool(self._gateway.query, query)
        rows = runs_of(page.records)[:RUNS_PER_PAGE]
        if not rows:
            return _page(
                "Runs",
                '<p class="empty">No runs recorded yet. Run a pipeline (<code>ingestion run '
                "PIPELINE.toml</code>), a recon (<code>recon run RECON.toml</code>) or a "
                "harvest against this store, or <code>./main-job</code>, and they appear "
                "here.</p>",
            )
        cells = []
        for row in rows:
            seconds = "-" if row.seconds is None else f"{row.seconds:,.1f} s"
            records = f"/ui/runs/{quote(row.run_id, safe='')}"
            cells.append(
                "<tr>"
                f'<td data-label="Run"><a href="{records}">{html.escape(row.run_id)}</a></td>'
                f'<td data-label="Dataset">{html.escape(row.subject)}</td>'
                f'<td data-label="Runtime">{html.escape(row.producer)}</td>'
                f'<td data-label="State" class="state {row.state}">{row.state}</td>'
                f'<td data-label="Started">{_time(row.started_at)}</td>'
                f'<td data-label="Duration">{seconds}</td>'
                f'<td data-label="Message">{html.escape(row.message[:200])}</td>'
                "</tr>"
            )
        older = (
            f'<p><a href="/ui/runs?cursor={quote(page.next_cursor)}">Older runs</a></p>'
            if page.next_cursor
            else ""
        )
        return _page(
            "Runs",
            '<div class="wide"><table><thead><tr><th scope=col>Run</th>'
            "<th scope=col>Dataset</th><th scope=col>Runtime</th><th scope=col>State</th>"
            "<th scope=col>Started</th><th scope=col>Duration</th><th scope=col>Message</th>"
            f"</tr></thead><tbody>{''.join(cells)}</tbody></table></div>{older}",
        )

    async def _run(self, request: Request) -> Response:
        text = request.path_params["run_id"]
        try:
            query = RecordQuery(run_id=RunId(text), order=Order.OLDEST_FIRST, limit=MAX_LIMIT)
        except ValueError as invalid:
            return _page("Run", f'<p role="alert">{html.escape(str(invalid))}</p>')
        page = await run_in_threadpool(self._gateway.query, query)
        title = f"Run {text}"
        if not page.records:
            return _page(title, '<p class="empty">No records of this run are stored.</p>')
        cells = []
        for record in page.records:
            payload = json.dumps(
                self._converter.unstructure_payload(record.payload), indent=1, sort_keys=True
            )
            cells.append(
                "<tr>"
                f'<td data-label="Observed">{_time(record.observed_at)}</td>'
                f'<td data-label="Kind">{record.kind.value}</td>'
                f'<td data-label="Dataset">{html.escape(str(record.subject))}</td>'
                f'<td data-label="Payload"><details><summary>{record.record_id}</summary>'
                f"<pre>{html.escape(payload)}</pre></details></td>"
                "</tr>"
            )
        more = (
            f"<p>The first {len(page.records)} records; more through the API "
            f"(<code>metadata query --run-id {html.escape(text)}</code>).</p>"
            if page.next_cursor
            else ""
        )
        return _page(
            title,
            '<p><a href="/ui/runs">All runs</a></p><div class="wide"><table><thead><tr>'
            "<th scope=col>Observed</th><th scope=col>Kind</th><th scope=col>Dataset</th>"
            f"<th scope=col>Payload</th></tr></thead><tbody>{''.join(cells)}</tbody></table>"
            f"</div>{more}",
        )
