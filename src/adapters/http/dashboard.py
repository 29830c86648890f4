"""The dashboard of `metadata serve`: server-rendered pages over the gateway, for people.

Read scope required, like the API: a person signs in once with a token (`/ui/login`); a
random session id (never the token) then rides in an HttpOnly, SameSite=Strict cookie
scoped to `/ui`, expiring after 8 hours and ending when the token is revoked. No script is needed
to read a page; a few lines turn every instant into the viewer's time zone (UTC on hover).

The datasets list (searchable, with each one's last run, last drift and last recon), the
runs page (recent runs of every runtime, with state, duration and a link to their
records), a run's records, and a dataset's page: its schema versions with each diff
(severity coloured), the rows written per run against the usual band (runs outside it
flagged), its latest profile and its recon results with their differing keys.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from adapters.http.html_parts import dataset_link, time_html
from adapters.http.run_rows import runs_of
from adapters.http.sessions import DashboardSessions
from adapters.http.volume_chart import snapshot_table, volume_chart
from adapters.serialization.records import RecordConverter
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import (
    DatasetProfile,
    IngestionVolume,
    ReconResult,
    ReconStatus,
    RunEvent,
    SchemaDrift,
    SchemaSnapshot,
)
from domain.metadata.query import MAX_LIMIT, Order, RecordQuery, SubjectQuery
from domain.metadata.record import MetadataRecord
from domain.metadata.tokens import Scope, ServiceToken
from domain.metadata.volume import VolumeBand
from domain.runs.lifecycle import outcome
from domain.schema.diff import diff
from ports.tokens import TokenStore

COOKIE = "dp_session"
RUNS_PER_PAGE = 50
DATASETS_PER_PAGE = 50
RUN_RECORDS_PER_PAGE = 200
_EVENTS_READ = 1000  # run events read per page of runs (a run has a few, plus heartbeats)
_MAX_FORM_BYTES = 4096

_STYLE = """
:root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 1.25rem; margin: 0 1rem 0 0; }
h1, h2, p, li, td, pre { overflow-wrap: anywhere; }
pre { white-space: pre-wrap; }
nav a { margin-right: 1rem; }
a { color: #0b57d0; }
a:focus, button:focus, input:focus { outline: 3px solid #f4b400; outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid #d0d7de; }
.state { font-weight: 600; }
/* Short words stay whole (a cell may wrap anywhere only where a long name needs it). */
.state, time, td[data-label=Check], td[data-label=Change], td[data-label=Severity],
td[data-label=Runtime] { white-space: nowrap; }
.succeeded { color: #116329; } .failed, .aborted { color: #b42318; }
.running, .started { color: #9a6700; }
.empty { padding: 2rem; background: #f6f8fa; border-radius: 6px; }
section .empty { padding: .75rem 1rem; }
.chart { max-width: 48rem; min-height: 240px; }
figure { margin: 0; } figcaption { color: #57606a; font-size: 0.9rem; }
.widening, .passed, .allowed { color: #116329; } .narrowing { color: #9a6700; }
.incompatible, .refused, .error { color: #b42318; }
section { margin: 1.5rem 0; }
.wide { overflow-x: auto; }
@media (max-width: 40rem) {
  thead { display: none; }
  tr { display: block; border-bottom: 1px solid #d0d7de; padding: 0.5rem 0; }
  td { display: block; border: 0; padding: 0.1rem 0; overflow-wrap: anywhere; }
  td::before { content: attr(data-label) ": "; color: #57606a; }
}
"""

# Instants are written in UTC; shown in the viewer's zone, UTC on hover.
_STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "uPlot.iife.min.js": "text/javascript; charset=utf-8",
    "uPlot.min.css": "text/css; charset=utf-8",
    "uPlot.LICENSE": "text/plain; charset=utf-8",
}


@functools.cache
def static_file(name: str) -> bytes:
    """A file of the dashboard's static folder (shipped with the package: no build step)."""
    return (resources.files("adapters.http") / "static" / name).read_bytes()


def _page(
    title: str, body: str, signed_in: bool = True, status: int = 200, chart: bool = False
) -> HTMLResponse:
    nav = (
        '<nav aria-label="pages"><a href="/ui/datasets">Datasets</a><a href="/ui/runs">Runs</a>'
        '<a href="/ui/logout">Sign out</a></nav>'
        if signed_in
        else ""
    )
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel=icon href="data:,">'
        + (
            '<link rel=stylesheet href="/ui/static/uPlot.min.css">'
            '<script src="/ui/static/uPlot.iife.min.js" defer></script>'
            if chart
            else ""
        )
        + f"<title>{html.escape(title)} - metadata</title><style>{_STYLE}</style>"
        '<script src="/ui/static/dashboard.js" defer></script></head>'
        f"<body><header><h1>{html.escape(title)}</h1>{nav}</header><main>{body}</main>"
        "</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _short(text: str, keep: int = 12) -> str:
    return html.escape(text[:keep])


class Dashboard:
    """The pages, over the service's gateway and token store."""

    def __init__(
        self, gateway: MetadataGateway, tokens: TokenStore, converter: RecordConverter
    ) -> None:
        self._gateway = gateway
        self._tokens = tokens
        self._converter = converter
        self._sessions = DashboardSessions(tokens)

    def pages(self) -> list[tuple[str, str, Callable[[Request], Any]]]:
        """(path, method, handler) of every page; the service frames them (access log,
        metrics, errors) as it frames the API."""
        return [
            ("/ui", "GET", self._home),
            ("/ui/login", "GET", self._login_form),
            ("/ui/login", "POST", self._login),
            ("/ui/logout", "GET", self._logout),
            ("/ui/static/{name}", "GET", self._static),
            ("/ui/runs", "GET", self._signed_in(self._runs)),
            ("/ui/runs/{run_id}", "GET", self._signed_in(self._run)),
            ("/ui/datasets", "GET", self._signed_in(self._datasets)),
            ("/ui/datasets/{subject:path}", "GET", self._signed_in(self._dataset)),
        ]

    async def _static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return HTMLResponse("no such file", status_code=404)
        return Response(
            static_file(name),
            media_type=_STATIC[name],
            headers={"Cache-Control": "public, max-age=3600"},
        )

    async def _token(self, request: Request) -> ServiceToken | None:
        session = request.cookies.get(COOKIE, "")
        if not session or len(session) > 100:
            return None
        return await run_in_threadpool(self._sessions.token, session)

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
        return RedirectResponse("/ui/datasets", status_code=303)

    async def _login_form(
        self, request: Request, problem: str = "", wanted: str | None = None
    ) -> Response:
        wanted = wanted or request.query_params.get("next", "/ui/datasets")
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
        wanted = (form.get("next") or ["/ui/datasets"])[0]
        if not wanted.startswith("/ui/") or wanted.startswith("//"):
            wanted = "/ui/datasets"  # never a redirect off this service
        token = await run_in_threadpool(self._tokens.find, secret) if secret else None
        if token is None or not token.active:
            # The form again with the reason (200: a page to act on, not an API refusal).
            return await self._login_form(request, "That token is unknown or revoked.", wanted)
        if not token.allows(Scope.READ):
            return await self._login_form(
                request, f"Token {token.name!r} has no read scope; the pages need read.", wanted
            )
        response = RedirectResponse(wanted, status_code=303)
        # A random session id, never the token: the service maps it to the token while
        # both live (it expires, and ends when the token is revoked).
        response.set_cookie(
            COOKIE,
            self._sessions.open(token),
            httponly=True,
            samesite="strict",
            path="/ui",
            max_age=self._sessions.seconds,
        )
        return response

    async def _logout(self, request: Request) -> Response:
        self._sessions.close(request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/ui")
        return response

    async def _runs(self, request: Request) -> Response:
        cursor = request.query_params.get("cursor") or None
        try:
            query = RecordQuery(kinds=[RecordKind.RUN_EVENT], limit=_EVENTS_READ, cursor=cursor)
        except ValueError as invalid:
            return _page("Runs", f'<p role="alert">{html.escape(str(invalid))}</p>', status=400)
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
                f'<td data-label="Dataset">{dataset_link(row.subject)}</td>'
                f'<td data-label="Runtime">{html.escape(row.producer)}</td>'
                f'<td data-label="State" class="state {row.state}">{row.label or row.state}</td>'
                f'<td data-label="Started">{time_html(row.started_at)}</td>'
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
            query = RecordQuery(
                run_id=RunId(text),
                order=Order.OLDEST_FIRST,
                limit=RUN_RECORDS_PER_PAGE,
                cursor=request.query_params.get("cursor") or None,
            )
        except ValueError as invalid:
            return _page("Run", f'<p role="alert">{html.escape(str(invalid))}</p>', status=400)
        page = await run_in_threadpool(self._gateway.query, query)
        title = f"Run {text}"
        if not page.records:
            return _page(title, '<p class="empty">No records of this run are stored.</p>')
        ended = await run_in_threadpool(
            self._gateway.query,
            RecordQuery(kinds=[RecordKind.RUN_EVENT], run_id=RunId(text), limit=1),
        )
        said = ""
        if ended.records and isinstance(ended.records[0].payload, RunEvent):
            event = ended.records[0].payload
            said = (
                f'<p>Outcome: <span class="state {event.event.value}">'
                f"{outcome(event.event, event.message)}</span> "
                f"{html.escape(event.message[:300])}</p>"
            )
        cells = []
        for record in page.records:
            payload = json.dumps(
                self._converter.unstructure_payload(record.payload), indent=1, sort_keys=True
            )
            cells.append(
                "<tr>"
                f'<td data-label="Observed">{time_html(record.observed_at)}</td>'
                f'<td data-label="Kind">{record.kind.value}</td>'
                f'<td data-label="Dataset">{dataset_link(str(record.subject))}</td>'
                f'<td data-label="Payload"><details><summary>{record.record_id}</summary>'
                f"<pre>{html.escape(payload)}</pre></details></td>"
                "</tr>"
            )
        more = (
            f'<p><a href="/ui/runs/{quote(text, safe="")}?cursor={quote(page.next_cursor)}">'
            "Later records</a></p>"
            if page.next_cursor
            else ""
        )
        return _page(
            title,
            f'<p><a href="/ui/runs">All runs</a></p>{said}<div class="wide"><table><thead><tr>'
            "<th scope=col>Observed</th><th scope=col>Kind</th><th scope=col>Dataset</th>"
            f"<th scope=col>Payload</th></tr></thead><tbody>{''.join(cells)}</tbody></table>"
            f"</div>{more}",
        )

    async def _datasets(self, request: Request) -> Response:
        params = request.query_params
        search = params.get("q", "").strip() or None
        try:
            after = DatasetRef.parse(params["after"]) if params.get("after") else None
            query = SubjectQuery(contains=search, after=after, limit=DATASETS_PER_PAGE)
        except ValueError as invalid:
            return _page("Datasets", f'<p role="alert">{html.escape(str(invalid))}</p>', status=400)
        page = await run_in_threadpool(self._gateway.subjects, query)
        rows = await run_in_threadpool(lambda: [self._summary(s) for s in page.subjects])
        form = (
            "<form method=get action=/ui/datasets role=search><label for=q>Find a dataset "
            "(part of namespace::name)</label> <input id=q name=q type=search size=30 "
            f'maxlength=200 value="{html.escape(search or "")}"> <button type=submit>Find'
            "</button></form>"
        )
        if not rows:
            said = (
                f"No dataset matches {html.escape(repr(search))}. "
                '<a href="/ui/datasets">All datasets</a>'
                if search
                else "No dataset is recorded yet. Load one (<code>ingestion run "
                "PIPELINE.toml</code>), harvest some (<code>metadata harvest "
                "ENDPOINTS.toml</code>) or run <code>./main-job</code>, and they appear here."
            )
            return _page("Datasets", f'{form}<p class="empty">{said}</p>')
        more = ""
        if page.next_after is not None:
            link = "/ui/datasets?" + urlencode(
                {**({"q": search} if search else {}), "after": str(page.next_after)}
            )
            more = f'<p><a href="{html.escape(link)}">More datasets</a></p>'
        return _page(
            "Datasets",
            f'{form}<div class="wide"><table><thead><tr><th scope=col>Dataset</th>'
            "<th scope=col>Last run</th><th scope=col>Last drift</th>"
            f"<th scope=col>Last recon</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            f"</table></div>{more}",
        )

    def _summary(self, subject: DatasetRef) -> str:
        """One row of the datasets list: the subject's last run, drift and recon."""
        run = self._gateway.latest(RecordKind.RUN_EVENT, subject)
        drift = self._gateway.latest(RecordKind.SCHEMA_DRIFT, subject)
        recon = self._gateway.latest(RecordKind.RECON_RESULT, subject)
        last_run = "-"
        if run is not None and isinstance(run.payload, RunEvent):
            state = run.payload.event.value
            label = outcome(run.payload.event, run.payload.message)
            named = f' title="{html.escape(run.payload.message[:300])}"' if label != state else ""
            last_run = (
                f'<span class="state {state}"{named}>{label}</span> {time_html(run.observed_at)} '
                f'<a href="/ui/runs/{quote(run.run_id.value, safe="")}">'
                f"{html.escape(run.run_id.value)}</a>"
            )
        last_drift = "-"
        if drift is not None and isinstance(drift.payload, SchemaDrift):
            verdict = "allowed" if drift.payload.allowed else "refused"
            count = len(drift.payload.changes)
            last_drift = (
                f'<span class="state {verdict}">{verdict}</span>, {count} change'
                f'{"" if count == 1 else "s"} {time_html(drift.observed_at)}'
            )
            # A refused attempt is not the target's state once a later write committed:
            # the label is the verdict of the last write (which brought no drift).
            if not drift.payload.allowed:
                wrote = self._gateway.latest(RecordKind.INGESTION_VOLUME, subject)
                if wrote is not None and wrote.observed_at > drift.observed_at:
                    last_drift = (
                        f"none in the last write {time_html(wrote.observed_at)} (a refused "
                        f"attempt before it: {count} change{'' if count == 1 else 's'})"
                    )
        last_recon = "-"
        if recon is not None:
            # The status of that recon run: its worst check about this dataset.
            checks = self._gateway.query(
                RecordQuery(
                    kinds=[RecordKind.RECON_RESULT],
                    subject=subject,
                    run_id=recon.run_id,
                    limit=MAX_LIMIT,
                )
            ).records
            statuses = {r.payload.status for r in checks if isinstance(r.payload, ReconResult)}
            worst = next(
                (s for s in (ReconStatus.ERROR, ReconStatus.FAILED) if s in statuses),
                ReconStatus.PASSED,
            ).value
            last_recon = (
                f'<span class="state {worst}">{worst}</span> ({len(checks)} check'
                f'{"" if len(checks) == 1 else "s"}) {time_html(recon.observed_at)}'
            )
        return (
            f'<tr><td data-label="Dataset">{dataset_link(str(subject))}</td>'
            f'<td data-label="Last run">{last_run}</td>'
            f'<td data-label="Last drift">{last_drift}</td>'
            f'<td data-label="Last recon">{last_recon}</td></tr>'
        )

    async def _history(
        self, kind: RecordKind, subject: DatasetRef, limit: int, cursor: str | None = None
    ) -> tuple[list[Any], str | None]:
        """The newest ``limit`` records of ``kind`` about ``subject`` (from ``cursor``), and
        the cursor of the older ones (None when there are none)."""
        query = RecordQuery(kinds=[kind], subject=subject, limit=limit, cursor=cursor)
        page = await run_in_threadpool(self._gateway.query, query)
        return list(page.records), page.next_cursor

    def _sections(self) -> dict[str, tuple[RecordKind, int, Any, str]]:
        """The dataset page's paged sections: name -> (kind, records a page, renderer, the
        link to the older ones)."""
        return {
            "schema": (RecordKind.SCHEMA_SNAPSHOT, 50, self._schema_section, "schema versions"),
            "drift": (RecordKind.SCHEMA_DRIFT, 20, self._drift_section, "drift verdicts"),
            "volumes": (RecordKind.INGESTION_VOLUME, 100, self._volume_section, "loads"),
            "recon": (RecordKind.RECON_RESULT, 50, self._recon_section, "recon results"),
        }

    @staticmethod
    def _with_older(
        section: str, subject: DatasetRef, name: str, what: str, cursor: str | None
    ) -> str:
        if cursor is None:
            return section
        link = (
            f'<p><a href="/ui/datasets/{quote(str(subject), safe="")}?section={name}'
            f'&amp;cursor={quote(cursor, safe="")}">Older {what}</a></p>'
        )
        return section.removesuffix("</section>") + link + "</section>"

    async def _dataset(self, request: Request) -> Response:
        text = request.path_params["subject"]
        try:
            subject = DatasetRef.parse(text)
        except ValueError as invalid:
            return _page("Dataset", f'<p role="alert">{html.escape(str(invalid))}</p>', status=400)
        sections = self._sections()
        wanted = request.query_params.get("section")
        if wanted is not None or "cursor" in request.query_params:
            return await self._older(subject, wanted, request.query_params.get("cursor"))
        shown: dict[str, str] = {}
        found = False
        for name, (kind, limit, render, what) in sections.items():
            records, older = await self._history(kind, subject, limit)
            found = found or bool(records)
            shown[name] = self._with_older(render(records), subject, name, what, older)
            if name == "volumes":
                chart = bool(records)
        profiles, _ = await self._history(RecordKind.DATASET_PROFILE, subject, 1)
        if not (found or profiles):
            return _page(
                str(subject),
                '<p class="empty">Nothing is recorded about this dataset yet: harvest it '
                "(<code>metadata harvest</code>), load it (<code>ingestion run</code>) or "
                "reconcile it (<code>recon run</code>).</p>",
            )
        body = [shown["schema"], shown["drift"], shown["volumes"]]
        body += [self._profile_section(profiles), shown["recon"]]
        return _page(str(subject), "".join(body), chart=chart)

    async def _older(self, subject: DatasetRef, name: str | None, cursor: str | None) -> Response:
        """One section of the dataset page, from a cursor on: its older records."""
        sections = self._sections()
        title = f"{subject}: older records"
        if name not in sections:
            known = ", ".join(sections)
            return _page(
                title,
                f'<p role="alert">section: expected one of {known}, got '
                f"{html.escape(repr(name))}</p>",
                status=400,
            )
        kind, limit, render, what = sections[name]
        try:
            records, older = await self._history(kind, subject, limit, cursor or None)
        except ValueError as invalid:
            return _page(title, f'<p role="alert">{html.escape(str(invalid))}</p>', status=400)
        back = f"<p>Back to {dataset_link(str(subject))}</p>"
        section = self._with_older(render(records), subject, name, what, older)
        return _page(
            f"{subject}: older {what}", back + section, chart=name == "volumes" and bool(records)
        )

    @staticmethod
    def _schema_section(snapshots: list[MetadataRecord]) -> str:
        if not snapshots:
            return (
                '<section><h2>Schema versions</h2><p class="empty">No schema snapshot yet: a '
                "harvest (<code>metadata harvest URL|ENDPOINTS.toml</code>) or a load "
                "(<code>ingestion run PIPELINE.toml</code>) records one.</p></section>"
            )
        oldest_first = list(reversed(snapshots))
        items = []
        for index, record in enumerate(oldest_first):
            payload = record.payload
            assert isinstance(payload, SchemaSnapshot)
            columns = ", ".join(
                f"{html.escape(c.name)} {html.escape(str(c.type))}" for c in payload.schema.columns
            )
            changes = ""
            if index:
                before = oldest_first[index - 1].payload
                assert isinstance(before, SchemaSnapshot)
                found = diff(before.schema, payload.schema)
                rows = "".join(
                    f'<tr class="{c.severity}"><td data-label="Column">{html.escape(c.column)}'
                    f'</td><td data-label="Change">{c.kind.value}</td>'
                    f'<td data-label="Severity" class="state {c.severity}">{c.severity}'
                    f'</td><td data-label="Detail">{html.escape(c.detail)}</td></tr>'
                    for c in found.changes
                )
                changes = (
                    "<p>No change from the version before.</p>"
                    if found.is_empty
                    else '<div class="wide"><table><thead><tr><th scope=col>Column</th>'
                    "<th scope=col>Change</th><th scope=col>Severity</th>"
                    f"<th scope=col>Detail</th></tr></thead><tbody>{rows}</tbody></table></div>"
                )
            items.append(
                f"<li><p>{time_html(record.observed_at)}, run "
                f'<a href="/ui/runs/{quote(record.run_id.value, safe="")}">'
                f"{html.escape(record.run_id.value)}</a>: {len(payload.schema.columns)} "
                f"columns ({columns})</p>{changes}</li>"
            )
        return (
            f"<section><h2>Schema versions ({len(snapshots)})</h2>"
            f"<ol reversed>{''.join(reversed(items))}</ol></section>"
        )

    @staticmethod
    def _drift_section(drifts: list[MetadataRecord]) -> str:
        """The drift verdicts of the gates (a load's, a harvest's), newest first: allowed or
        refused under which policy, why, and each change severity coloured."""
        if not drifts:
            return ""
        items = []
        for record in drifts:
            drift = record.payload
            if not isinstance(drift, SchemaDrift):
                continue
            verdict = "allowed" if drift.allowed else "refused"
            why = "".join(f"<li>{html.escape(v)}</li>" for v in drift.violations)
            rows = "".join(
                f'<tr><td data-label="Column">{html.escape(c.column)}</td>'
                f'<td data-label="Change">{c.change.value}</td>'
                f'<td data-label="From">{html.escape(c.old_type or "-")}</td>'
                f'<td data-label="To">{html.escape(c.new_type or "-")}</td>'
                f'<td data-label="Severity" class="state {html.escape(c.severity)}">'
                f"{html.escape(c.severity)}</td>"
                f'<td data-label="Detail">{html.escape(c.detail)}</td></tr>'
                for c in drift.changes
            )
            items.append(
                f'<li class="drift {verdict}"><p><span class="state {verdict}">{verdict}</span> '
                f"{time_html(record.observed_at)}, run "
                f'<a href="/ui/runs/{quote(record.run_id.value, safe="")}">'
                f"{html.escape(record.run_id.value)}</a> ({record.producer}; policy "
                f"{html.escape(drift.policy or '-')})</p>"
                + (f"<ul>{why}</ul>" if why else "")
                + '<div class="wide"><table><thead><tr><th scope=col>Column</th>'
                "<th scope=col>Change</th><th scope=col>From</th><th scope=col>To</th>"
                "<th scope=col>Severity</th><th scope=col>Detail</th></tr></thead>"
                f"<tbody>{rows}</tbody></table></div></li>"
            )
        return f"<section><h2>Drift verdicts ({len(items)})</h2><ol>{''.join(items)}</ol></section>"

    @staticmethod
    def _volume_section(volumes: list[MetadataRecord]) -> str:
        if not volumes:
            return (
                '<section><h2>Rows written per run</h2><p class="empty">No load recorded yet: '
                "each <code>ingestion run PIPELINE.toml</code> records the rows it wrote.</p>"
                "</section>"
            )
        oldest_first = list(reversed(volumes))
        band = VolumeBand.of(
            [r.payload.rows_written for r in oldest_first if isinstance(r.payload, IngestionVolume)]
        )
        flagged = [
            (r, r.payload.rows_written)
            for r in oldest_first
            if band is not None
            and isinstance(r.payload, IngestionVolume)
            and band.flags(r.payload.rows_written)
        ]
        said = (
            "Too few runs for a usual band yet."
            if band is None
            else f"Usual: {band.describe()}; {len(flagged)} run(s) outside."
        )
        return (
            f"<section><h2>Rows written per run ({len(volumes)})</h2>"
            f"{volume_chart(oldest_first, band)}<p>{said}</p>{snapshot_table(oldest_first)}"
            + "".join(
                f'<p class="failed">Flagged: run {html.escape(r.run_id.value)} wrote '
                f"{rows:,} rows, {time_html(r.observed_at)}</p>"
                for r, rows in flagged
            )
            + "</section>"
        )

    @staticmethod
    def _profile_section(profiles: list[MetadataRecord]) -> str:
        if not profiles or not isinstance(profiles[0].payload, DatasetProfile):
            return (
                '<section><h2>Profile</h2><p class="empty">No profile yet: <code>metadata '
                "harvest URL|ENDPOINTS.toml --profile</code> records one.</p></section>"
            )
        profile = profiles[0].payload
        rows = "".join(
            f'<tr><td data-label="Column">{html.escape(c.name)}</td>'
            f'<td data-label="Nulls">{c.nulls:,}</td>'
            f'<td data-label="Distinct">{"-" if c.approx_distinct is None else f"{c.approx_distinct:,}"}</td>'
            f'<td data-label="Min">{html.escape(c.min_value or "-")}</td>'
            f'<td data-label="Max">{html.escape(c.max_value or "-")}</td></tr>'
            for c in profile.columns
        )
        return (
            f"<section><h2>Profile ({profile.row_count:,} rows, "
            f"{time_html(profiles[0].observed_at)})</h2><div class=wide><table><thead><tr>"
            "<th scope=col>Column</th><th scope=col>Nulls</th><th scope=col>Distinct</th>"
            f"<th scope=col>Min</th><th scope=col>Max</th></tr></thead><tbody>{rows}</tbody>"
            "</table></div></section>"
        )

    @staticmethod
    def _recon_section(recons: list[MetadataRecord]) -> str:
        if not recons:
            return (
                '<section><h2>Reconciliation</h2><p class="empty">No recon yet: <code>recon run '
                "RECON.toml</code> compares this dataset with its source.</p></section>"
            )
        rows = []
        for record in recons:
            result = record.payload
            if not isinstance(result, ReconResult):
                continue
            samples = "; ".join(f"{html.escape(c)} {html.escape(k)}" for c, k in result.samples)
            rows.append(
                f'<tr><td data-label="When">{time_html(record.observed_at)}</td>'
                f'<td data-label="Check">{html.escape(result.check)}</td>'
                f'<td data-label="Status" class="state {result.status.value}">'
                f"{result.status.value}</td>"
                f'<td data-label="Detail">{html.escape(result.detail[:300])}</td>'
                f'<td data-label="Differing keys">{samples or "-"}</td></tr>'
            )
        return (
            "<section><h2>Reconciliation</h2><div class=wide><table><thead><tr>"
            "<th scope=col>When</th><th scope=col>Check</th><th scope=col>Status</th>"
            "<th scope=col>Detail</th><th scope=col>Differing keys</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div></section>"
        )
