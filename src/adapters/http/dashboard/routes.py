"""The dashboard's pages: sign-in and out, the runs, a run's records, the datasets and a
dataset's page. Each reads through the gateway (``read_model``) and writes with
``markup`` and ``sections``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from adapters.http.access import Refused, admitted
from adapters.http.dashboard import sections
from adapters.http.dashboard.markup import (
    STATIC,
    alert,
    dataset_link,
    empty,
    escape,
    page,
    run_link,
    state,
    static_file,
    table,
    time_html,
)
from adapters.http.dashboard.read_model import summarise
from adapters.http.dashboard.run_rows import runs_of
from adapters.http.dashboard.sessions import DashboardSessions
from adapters.serialization.records import RecordConverter
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.payloads import RunEvent
from domain.metadata.query import Order, RecordQuery, SubjectQuery
from domain.metadata.record import MetadataRecord
from domain.metadata.tokens import Scope, ServiceToken
from domain.runs.lifecycle import outcome
from ports.tokens import TokenStore

COOKIE = "dp_session"
RUNS_PER_PAGE = 50
DATASETS_PER_PAGE = 50
RUN_RECORDS_PER_PAGE = 200
_EVENTS_READ = 1000  # run events read per page of runs (a run has a few, plus heartbeats)
_MAX_FORM_BYTES = 4096

# The dataset page's paged sections: name -> (kind, records a page, renderer, what the
# link to the older ones calls them).
SECTIONS: dict[str, tuple[RecordKind, int, Callable[[list[MetadataRecord]], str], str]] = {
    "schema": (RecordKind.SCHEMA_SNAPSHOT, 50, sections.schema_section, "schema versions"),
    "drift": (RecordKind.SCHEMA_DRIFT, 20, sections.drift_section, "drift verdicts"),
    "volumes": (RecordKind.INGESTION_VOLUME, 100, sections.volume_section, "loads"),
    "recon": (RecordKind.RECON_RESULT, 50, sections.recon_section, "recon results"),
}


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
        if name not in STATIC:
            return HTMLResponse("no such file", status_code=404)
        return Response(
            static_file(name),
            media_type=STATIC[name],
            headers={"Cache-Control": "public, max-age=3600"},
        )

    # -- signing in ----------------------------------------------------------------------

    async def _token(self, request: Request) -> ServiceToken | None:
        session = request.cookies.get(COOKIE, "")
        if not session or len(session) > 100:
            return None
        return await run_in_threadpool(self._sessions.token, session)

    def _signed_in(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            if await self._token(request) is None:
                target = quote(
                    request.url.path + ("?" + request.url.query if request.url.query else "")
                )
                return RedirectResponse(f"/ui/login?next={target}", status_code=303)
            response: Response = await handler(request)
            return response

        return route

    async def _home(self, request: Request) -> Response:
        return RedirectResponse("/ui/datasets", status_code=303)

    async def _login_form(
        self, request: Request, problem: str = "", wanted: str | None = None
    ) -> Response:
        wanted = wanted or request.query_params.get("next", "/ui/datasets")
        shown = f'<p role="alert" class="failed">{escape(problem)}</p>' if problem else ""
        return page(
            "Sign in",
            f"{shown}<form method=post action=/ui/login>"
            f'<input type=hidden name=next value="{escape(wanted)}">'
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
        token = await run_in_threadpool(admitted, self._tokens, secret, Scope.READ)
        # A refusal: the form again with the reason (200: a page to act on).
        if isinstance(token, Refused) and token.name is None:
            return await self._login_form(request, "That token is unknown or revoked.", wanted)
        if isinstance(token, Refused):
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

    # -- runs ----------------------------------------------------------------------------

    async def _runs(self, request: Request) -> Response:
        cursor = request.query_params.get("cursor") or None
        try:
            query = RecordQuery(kinds=[RecordKind.RUN_EVENT], limit=_EVENTS_READ, cursor=cursor)
        except ValueError as invalid:
            return alert(str(invalid), 400, "Runs")
        found = await run_in_threadpool(self._gateway.query, query)
        rows = runs_of(found.records)[:RUNS_PER_PAGE]
        if not rows:
            return page(
                "Runs",
                empty(
                    "No runs recorded yet. Run a pipeline (<code>ingestion run "
                    "PIPELINE.toml</code>), a recon (<code>recon run RECON.toml</code>) or a "
                    "harvest against this store, or <code>./main-job</code>, and they appear "
                    "here."
                ),
            )
        runs = table(
            ("Run", "Dataset", "Runtime", "State", "Started", "Duration", "Message"),
            (
                (
                    run_link(row.run_id),
                    dataset_link(row.subject),
                    escape(row.producer),
                    (escape(row.label or row.state), f"state {row.state}"),
                    time_html(row.started_at),
                    "-" if row.seconds is None else f"{row.seconds:,.1f} s",
                    escape(row.message[:200]),
                )
                for row in rows
            ),
        )
        older = (
            f'<p><a href="/ui/runs?cursor={quote(found.next_cursor)}">Older runs</a></p>'
            if found.next_cursor
            else ""
        )
        return page("Runs", runs + older)

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
            return alert(str(invalid), 400, "Run")
        found = await run_in_threadpool(self._gateway.query, query)
        title = f"Run {text}"
        if not found.records:
            return page(title, empty("No records of this run are stored."))
        ended = await run_in_threadpool(
            self._gateway.query,
            RecordQuery(kinds=[RecordKind.RUN_EVENT], run_id=RunId(text), limit=1),
        )
        said = ""
        if ended.records and isinstance(ended.records[0].payload, RunEvent):
            event = ended.records[0].payload
            said = (
                f"<p>Outcome: {state(event.event.value, outcome(event.event, event.message))} "
                f"{escape(event.message[:300])}</p>"
            )
        records = table(
            ("Observed", "Kind", "Dataset", "Payload"),
            (
                (
                    time_html(record.observed_at),
                    record.kind.value,
                    dataset_link(str(record.subject)),
                    f"<details><summary>{record.record_id}</summary>"
                    f"<pre>{escape(self._payload(record))}</pre></details>",
                )
                for record in found.records
            ),
        )
        more = (
            f'<p><a href="/ui/runs/{quote(text, safe="")}?cursor={quote(found.next_cursor)}">'
            "Later records</a></p>"
            if found.next_cursor
            else ""
        )
        return page(title, f'<p><a href="/ui/runs">All runs</a></p>{said}{records}{more}')

    def _payload(self, record: MetadataRecord) -> str:
        unstructured = self._converter.unstructure_payload(record.payload)
        return json.dumps(unstructured, indent=1, sort_keys=True)

    # -- datasets ------------------------------------------------------------------------

    async def _datasets(self, request: Request) -> Response:
        params = request.query_params
        search = params.get("q", "").strip() or None
        try:
            after = DatasetRef.parse(params["after"]) if params.get("after") else None
            query = SubjectQuery(contains=search, after=after, limit=DATASETS_PER_PAGE)
        except ValueError as invalid:
            return alert(str(invalid), 400, "Datasets")
        found = await run_in_threadpool(self._gateway.subjects, query)
        summaries = await run_in_threadpool(
            lambda: [summarise(self._gateway, s) for s in found.subjects]
        )
        form = (
            "<form method=get action=/ui/datasets role=search><label for=q>Find a dataset "
            "(part of namespace::name)</label> <input id=q name=q type=search size=30 "
            f'maxlength=200 value="{escape(search or "")}"> <button type=submit>Find'
            "</button></form>"
        )
        if not summaries:
            said = (
                f"No dataset matches {escape(repr(search))}. "
                '<a href="/ui/datasets">All datasets</a>'
                if search
                else "No dataset is recorded yet. Load one (<code>ingestion run "
                "PIPELINE.toml</code>), harvest some (<code>metadata harvest "
                "ENDPOINTS.toml</code>) or run <code>./main-job</code>, and they appear here."
            )
            return page("Datasets", form + empty(said))
        more = ""
        if found.next_after is not None:
            link = "/ui/datasets?" + urlencode(
                {**({"q": search} if search else {}), "after": str(found.next_after)}
            )
            more = f'<p><a href="{escape(link)}">More datasets</a></p>'
        rows = [sections.dataset_row(s) for s in summaries]
        return page("Datasets", form + table(sections.DATASET_COLUMNS, rows) + more)

    async def _history(
        self, kind: RecordKind, subject: DatasetRef, limit: int, cursor: str | None = None
    ) -> tuple[list[MetadataRecord], str | None]:
        """The newest ``limit`` records of ``kind`` about ``subject`` (from ``cursor``), and
        the cursor of the older ones (None when there are none)."""
        query = RecordQuery(kinds=[kind], subject=subject, limit=limit, cursor=cursor)
        found = await run_in_threadpool(self._gateway.query, query)
        return list(found.records), found.next_cursor

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
            return alert(str(invalid), 400, "Dataset")
        wanted = request.query_params.get("section")
        if wanted is not None or "cursor" in request.query_params:
            return await self._older(subject, wanted, request.query_params.get("cursor"))
        shown: dict[str, str] = {}
        found, chart = False, False
        for name, (kind, limit, render, what) in SECTIONS.items():
            records, older = await self._history(kind, subject, limit)
            found = found or bool(records)
            shown[name] = self._with_older(render(records), subject, name, what, older)
            chart = chart or (name == "volumes" and bool(records))
        profiles, _ = await self._history(RecordKind.DATASET_PROFILE, subject, 1)
        if not (found or profiles):
            return page(
                str(subject),
                empty(
                    "Nothing is recorded about this dataset yet: harvest it (<code>metadata "
                    "harvest</code>), load it (<code>ingestion run</code>) or reconcile it "
                    "(<code>recon run</code>)."
                ),
            )
        body = [shown["schema"], shown["drift"], shown["volumes"]]
        body += [sections.profile_section(profiles), shown["recon"]]
        return page(str(subject), "".join(body), chart=chart)

    async def _older(self, subject: DatasetRef, name: str | None, cursor: str | None) -> Response:
        """One section of the dataset page, from a cursor on: its older records."""
        title = f"{subject}: older records"
        if name is None or name not in SECTIONS:
            known = ", ".join(SECTIONS)
            return alert(f"section: expected one of {known}, got {name!r}", 400, title)
        kind, limit, render, what = SECTIONS[name]
        try:
            records, older = await self._history(kind, subject, limit, cursor or None)
        except ValueError as invalid:
            return alert(str(invalid), 400, title)
        back = f"<p>Back to {dataset_link(str(subject))}</p>"
        section = self._with_older(render(records), subject, name, what, older)
        return page(
            f"{subject}: older {what}", back + section, chart=name == "volumes" and bool(records)
        )
