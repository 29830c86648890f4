"""`metadata serve`: the metadata gateway over HTTP (Starlette on uvicorn).

Starlette, not Litestar: the service is a handful of routes over our own cattrs converter
and JSON form (the files' form), and it must count a body's bytes and lines as they arrive
to refuse it before buffering; Starlette hands us the raw ASGI stream for that without a
second model layer (Litestar's DTOs and msgspec schemas would duplicate the converter).

Every route but the health checks and the OpenAPI document needs a bearer token; ``read``
for queries, ``write`` for batches. A body larger than ``max_body_bytes`` or holding more
than ``max_records`` lines is refused with 413 while it streams (chunked bodies too), never
buffered whole. Each token has a rate (token bucket): over it, 429 with ``Retry-After``.
Each request writes one JSON access-log line (never the token, only its name).
"""

from __future__ import annotations

import functools
import json
import math
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.http import wire
from adapters.http.access import Limits, RateLimiter, Refused, admitted
from adapters.http.dashboard.routes import Dashboard
from adapters.http.metrics import Metrics
from adapters.serialization.openlineage import from_openlineage
from adapters.serialization.reading import read_records
from adapters.serialization.records import RecordConverter
from domain.dataset import DatasetRef
from domain.metadata.errors import InvalidBatch, RecordConflict, RecordProblem
from domain.metadata.gateway import MetadataGateway
from domain.metadata.kinds import RecordKind
from domain.metadata.tokens import Scope, ServiceToken
from ports.tokens import TokenStore


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


# A path longer than this (a pasted file, a runaway script) is logged cut short.
_LOGGED_PATH = 512


def _logged(path: str) -> str:
    if len(path) <= _LOGGED_PATH:
        return path
    return f"{path[:_LOGGED_PATH]}...({len(path):,} characters)"


class MetadataService:
    """The ASGI app over one gateway, token store and set of limits."""

    def __init__(
        self,
        gateway: MetadataGateway,
        converter: RecordConverter,
        tokens: TokenStore,
        *,
        limits: Limits | None = None,
        ready: Callable[[], None] = lambda: None,
        access_log: Callable[[str], None] = lambda line: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._converter = converter
        self._tokens = tokens
        self.limits = limits = limits or Limits()
        self._ready = ready
        self._log = access_log
        self._rates = RateLimiter(limits.rate_per_s, limits.burst, clock)
        self.metrics = Metrics()

    def app(self) -> Starlette:
        append = self._guarded(self._append, Scope.WRITE)
        query = self._guarded(self._query, Scope.READ)
        routes = [
            # One route for both methods, so a 405 lists both in its Allow header.
            Route(
                wire.RECORDS, self._methods({"POST": append, "GET": query}), methods=["GET", "POST"]
            ),
            Route(wire.LATEST, self._guarded(self._latest, Scope.READ), methods=["GET"]),
            Route(wire.SUBJECTS, self._guarded(self._subjects, Scope.READ), methods=["GET"]),
            Route(wire.LINEAGE, self._guarded(self._lineage, Scope.WRITE), methods=["POST"]),
            Route("/health/live", self._open(self._live), methods=["GET"]),
            Route("/health/ready", self._open(self._readiness), methods=["GET"]),
            Route("/metrics", self._open(self._metrics), methods=["GET"]),
            Route("/openapi.json", self._open(self._openapi), methods=["GET"]),
        ]
        dashboard = Dashboard(self._gateway, self._tokens, self._converter)
        by_path: dict[str, dict[str, Callable[[Request], Any]]] = {}
        for path, method, page in dashboard.pages():
            by_path.setdefault(path, {})[method] = self._open(page)
        for path, handlers in by_path.items():
            routes.append(Route(path, self._methods(handlers), methods=sorted(handlers)))
        return Starlette(routes=routes)

    # -- the frame around every route: auth, limits, errors, the access log ----------------

    @staticmethod
    def _methods(handlers: Mapping[str, Callable[[Request], Any]]) -> Callable[[Request], Any]:
        """One route for several methods (a 405 then lists them all), HEAD answered as GET."""

        async def route(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            response: Response = await handlers[method](request)
            return response

        return route

    def _open(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            return await self._answer(request, None, handler)

        return route

    def _guarded(self, handler: Callable[[Request], Any], scope: Scope) -> Callable[[Request], Any]:
        async def route(request: Request) -> Response:
            return await self._answer(request, scope, handler)

        return route

    async def _answer(
        self, request: Request, scope: Scope | None, handler: Callable[[Request], Any]
    ) -> Response:
        started = time.perf_counter()
        token: ServiceToken | None = None
        try:
            if scope is not None:
                token = await self._authorise(request, scope)
                self._within_rate(token)
            response: Response = await handler(request)
        except _Refused as refused:
            response = _error(refused.status, str(refused))
            response.headers.update(refused.headers)
        except wire.BadParameter as bad:
            response = _error(400, str(bad))
        except InvalidBatch as invalid:
            response = _error(400, str(invalid), problems=wire.problems_json(invalid.problems))
        except RecordConflict as conflict:
            response = _error(409, str(conflict), record_ids=conflict.record_ids)
        except Exception as failed:  # - the store's failure: said in one line, no trace
            reason = str(failed).strip().splitlines()[0] if str(failed).strip() else ""
            response = _error(
                503, f"the metadata store cannot be used: {reason or type(failed).__name__}"
            )
        seconds = time.perf_counter() - started
        route = request.scope.get("route")
        path = getattr(route, "path", request.url.path)
        self.metrics.observe(path, response.status_code, seconds)
        self._log(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "method": request.method,
                    "path": _logged(request.url.path),
                    "status": response.status_code,
                    "ms": round(seconds * 1000, 2),
                    "token": None if token is None else token.name,
                    "client": None if request.client is None else request.client.host,
                },
                separators=(",", ":"),
            )
        )
        return response

    async def _authorise(self, request: Request, scope: Scope) -> ServiceToken:
        header = request.headers.get("authorization", "")
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            raise _Refused(
                401,
                "no bearer token: send Authorization: Bearer <token> "
                "(`metadata tokens create NAME` makes one)",
                {"WWW-Authenticate": 'Bearer realm="metadata"'},
            )
        token = await run_in_threadpool(admitted, self._tokens, secret.strip(), scope)
        if isinstance(token, Refused) and token.name is None:
            raise _Refused(
                401,
                "the bearer token is unknown or revoked (`metadata tokens list` shows tokens)",
                {"WWW-Authenticate": 'Bearer realm="metadata", error="invalid_token"'},
            )
        if isinstance(token, Refused):
            raise _Refused(
                403,
                f"token {token.name!r} may not {scope.value} (its scopes: {token.held}); "
                f"create one with --scope {scope.value}",
            )
        return token

    def _within_rate(self, token: ServiceToken) -> None:
        wait = self._rates.take(token.name)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise _Refused(
                429,
                f"token {token.name!r} is over its rate ({self.limits.rate_per_s:g} requests/s, "
                f"bursts of {self.limits.burst}); retry after {seconds}s",
                {"Retry-After": str(seconds)},
            )

    # -- routes -------------------------------------------------------------------------

    async def _body(self, request: Request, *, lines_are_records: bool = True) -> bytes:
        """The body, refused (413) as soon as it is too large or (JSON Lines) holds too
        many lines."""
        limits = self.limits
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise _Refused(413, self._too_large(f"{int(declared):,} bytes declared"))
        body = bytearray()
        lines = 0
        async for chunk in request.stream():
            body += chunk
            lines += chunk.count(b"\n")
            if len(body) > limits.max_body_bytes:
                raise _Refused(413, self._too_large(f"more than {limits.max_body_bytes:,} bytes"))
            if lines_are_records and lines > limits.max_records:
                raise _Refused(413, self._too_large(f"more than {limits.max_records:,} records"))
        return bytes(body)

    def _too_large(self, what: str) -> str:
        return (
            f"the batch is too large ({what}); send at most {self.limits.max_records:,} "
            f"records and {self.limits.max_body_bytes:,} bytes per request (the client splits "
            f"larger batches)"
        )

    async def _append(self, request: Request) -> Response:
        body = await self._body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise _Refused(
                400, f"the body is not UTF-8 (byte {bad.start}); send UTF-8 JSON Lines"
            ) from None
        records = []
        problems: list[RecordProblem] = []
        for index, decoded in enumerate(read_records(text, self._converter)):
            if decoded.record is None:
                problems.extend(RecordProblem(index, p.path, p.message) for p in decoded.problems)
            else:
                records.append(decoded.record)
        if not records and not problems:
            raise _Refused(400, "the body holds no records; send JSON Lines, one record a line")
        if len(records) + len({p.index for p in problems}) > self.limits.max_records:
            raise _Refused(413, self._too_large(f"more than {self.limits.max_records:,} records"))
        if problems:
            raise InvalidBatch(problems)
        result = await run_in_threadpool(
            functools.partial(self._gateway.emit_many, records, decoded=True)
        )
        self.metrics.accepted += result.accepted
        self.metrics.duplicates += result.duplicates
        return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates})

    async def _lineage(self, request: Request) -> Response:
        body = await self._body(request, lines_are_records=False)
        if request.headers.get("content-encoding", "").lower() == "gzip":
            body = self._gunzipped(body)
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as bad:
            raise _Refused(
                400, f"the body is not JSON ({bad}); send one OpenLineage run event"
            ) from None
        try:
            intake = from_openlineage(event)
        except (ValueError, TypeError) as invalid:  # NotALineageEvent, or a refused name
            raise _Refused(
                400, f"not an OpenLineage run event the service can store: {invalid}"
            ) from None
        result = await run_in_threadpool(self._gateway.emit_many, intake.records)
        self.metrics.accepted += result.accepted
        self.metrics.duplicates += result.duplicates
        return JSONResponse(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "skipped": list(intake.skipped),
            }
        )

    def _gunzipped(self, body: bytes) -> bytes:
        """``body`` inflated, refused (413) past the body limit (no gzip bomb is inflated
        whole) and (400) when it is not gzip."""
        inflater = zlib.decompressobj(wbits=31)
        try:
            plain = inflater.decompress(body, self.limits.max_body_bytes + 1)
        except zlib.error as bad:
            raise _Refused(
                400, f"Content-Encoding says gzip, but the body is not ({bad})"
            ) from None
        if len(plain) > self.limits.max_body_bytes or inflater.unconsumed_tail:
            raise _Refused(
                413, self._too_large(f"more than {self.limits.max_body_bytes:,} bytes inflated")
            )
        return plain

    async def _query(self, request: Request) -> Response:
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        query = wire.parse_query(params)
        page = await run_in_threadpool(self._gateway.query, query)
        return JSONResponse(
            {
                "records": [self._converter.unstructure(r) for r in page.records],
                "next_cursor": page.next_cursor,
            }
        )

    async def _latest(self, request: Request) -> Response:
        params = request.query_params
        unknown = sorted(set(params) - {"kind", "subject"})
        if unknown:
            raise wire.BadParameter(
                f"unknown parameter(s) {', '.join(unknown)}; give kind, subject"
            )
        if "kind" not in params or "subject" not in params:
            raise wire.BadParameter("kind and subject are required")
        try:
            kind = RecordKind.parse(params["kind"])
        except ValueError as invalid:
            raise wire.BadParameter(f"kind: {str(invalid).removeprefix('kind: ')}") from None
        try:
            subject = DatasetRef.parse(params["subject"])
        except ValueError as invalid:
            raise wire.BadParameter(f"subject: {invalid}") from None
        found = await run_in_threadpool(self._gateway.latest, kind, subject)
        return JSONResponse(
            {"record": None if found is None else self._converter.unstructure(found)}
        )

    async def _subjects(self, request: Request) -> Response:
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        query = wire.parse_subject_query(params)
        page = await run_in_threadpool(self._gateway.subjects, query)
        return JSONResponse(
            {
                "subjects": [str(s) for s in page.subjects],
                "next_after": None if page.next_after is None else str(page.next_after),
            }
        )

    async def _live(self, request: Request) -> Response:
        return JSONResponse({"status": "live"})

    async def _readiness(self, request: Request) -> Response:
        try:
            await run_in_threadpool(self._ready)
        except Exception as down:  # - any failure means not ready
            reason = str(down).strip().splitlines()[0] if str(down).strip() else type(down).__name__
            return JSONResponse({"status": "not ready", "store": reason}, status_code=503)
        return JSONResponse({"status": "ready", "store": "reachable"})

    async def _metrics(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.text(), media_type="text/plain; version=0.0.4")

    async def _openapi(self, request: Request) -> Response:
        from adapters.http.openapi import document

        return JSONResponse(document(self.limits))
