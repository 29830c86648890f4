"""The dashboard's routes: sign-in and out, the runs, a run's records, the datasets and a
dataset's page. Each parses its request, reads its value through the gateway
(``read_model``) and answers with its page (``pages``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from adapters.http.access import Refused, admitted
from adapters.http.dashboard import pages, read_model
from adapters.http.dashboard.markup import STATIC, alert, static_file
from adapters.http.dashboard.sessions import DashboardSessions
from adapters.serialization.records import RecordConverter
from domain.dataset import DatasetRef, RunId
from domain.metadata.gateway import MetadataGateway
from domain.metadata.record import MetadataRecord
from domain.metadata.tokens import Scope, ServiceToken
from ports.tokens import TokenStore

COOKIE = "dp_session"
_MAX_FORM_BYTES = 4096


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

    async def _login_form(self, request: Request) -> Response:
        return pages.login_form("", request.query_params.get("next", "/ui/datasets"))

    async def _login(self, request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return HTMLResponse("the form is too large", status_code=413)
        secret = (form.get("token") or [""])[0].strip()
        wanted = (form.get("next") or ["/ui/datasets"])[0]
        if not wanted.startswith("/ui/") or wanted.startswith("//"):
            wanted = "/ui/datasets"  # never a redirect off this service
        token = await run_in_threadpool(admitted, self._tokens, secret, Scope.READ)
        # A refusal: the form again with the reason (200: a page to act on).
        if isinstance(token, Refused):
            return pages.login_form(_refusal(token), wanted)
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

    # -- runs and datasets --------------------------------------------------------------

    async def _runs(self, request: Request) -> Response:
        try:
            found = await run_in_threadpool(
                read_model.runs_page, self._gateway, request.query_params.get("cursor") or None
            )
        except ValueError as invalid:
            return alert(str(invalid), 400, "Runs")
        return pages.runs(found)

    async def _run(self, request: Request) -> Response:
        text = request.path_params["run_id"]
        cursor = request.query_params.get("cursor") or None
        try:
            found = await run_in_threadpool(read_model.run_page, self._gateway, RunId(text), cursor)
        except ValueError as invalid:
            return alert(str(invalid), 400, "Run")
        return pages.run(found, self._payload)

    def _payload(self, record: MetadataRecord) -> str:
        unstructured = self._converter.unstructure_payload(record.payload)
        return json.dumps(unstructured, indent=1, sort_keys=True)

    async def _datasets(self, request: Request) -> Response:
        params = request.query_params
        search = params.get("q", "").strip() or None
        try:
            after = DatasetRef.parse(params["after"]) if params.get("after") else None
            found = await run_in_threadpool(read_model.datasets_page, self._gateway, search, after)
        except ValueError as invalid:
            return alert(str(invalid), 400, "Datasets")
        return pages.datasets(found)

    async def _dataset(self, request: Request) -> Response:
        try:
            subject = DatasetRef.parse(request.path_params["subject"])
        except ValueError as invalid:
            return alert(str(invalid), 400, "Dataset")
        params = request.query_params
        if "section" in params or "cursor" in params:
            return await self._older(subject, params.get("section"), params.get("cursor"))
        found = await run_in_threadpool(read_model.dataset_page, self._gateway, subject)
        return pages.dataset(found)

    async def _older(self, subject: DatasetRef, name: str | None, cursor: str | None) -> Response:
        """One section of the dataset page, from a cursor on: its older records."""
        title = f"{subject}: older records"
        if name not in read_model.SECTION_KINDS:
            known = ", ".join(read_model.SECTION_KINDS)
            return alert(f"section: expected one of {known}, got {name!r}", 400, title)
        try:
            found = await run_in_threadpool(
                read_model.section, self._gateway, subject, name, cursor or None
            )
        except ValueError as invalid:
            return alert(str(invalid), 400, title)
        return pages.older(subject, found)


async def _form(request: Request) -> dict[str, list[str]] | None:
    """A posted form's fields; None when it is larger than a sign-in form can be."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return None
    return parse_qs(body.decode("utf-8", "replace"))


def _refusal(refused: Refused) -> str:
    if refused.name is None:
        return "That token is unknown or revoked."
    return f"Token {refused.name!r} has no read scope; the pages need read."
