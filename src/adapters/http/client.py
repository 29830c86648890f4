"""`HttpMetadataRepository`: the MetadataRepository port over `metadata serve` (httpx).

An ``http(s)://`` metadata URL selects it everywhere. A batch is split by records and bytes
into requests the service accepts (each part is stored atomically; a part refused leaves the
parts before it stored, which a retry of the whole batch finds as duplicates). A request is
retried with backoff when the service cannot be reached, answers 503, or says 429 (its
``Retry-After`` honoured): appends are idempotent, so a retry after a lost answer is a
duplicate, never a second row. When the retries run out it raises
:class:`ServiceUnreachable` (a ``ConnectionError``: producers with an outbox fall back to it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from adapters.http import wire
from adapters.serialization.records import RecordConverter
from domain.dataset import DatasetRef
from domain.metadata.errors import InvalidBatch, MetadataError, RecordConflict, RecordProblem
from domain.metadata.kinds import RecordKind
from domain.metadata.query import AppendResult, RecordPage, RecordQuery, SubjectPage, SubjectQuery
from domain.metadata.record import MetadataRecord

MAX_RECORDS = 5_000
MAX_BYTES = 8 * 1024 * 1024
RETRIES = 5


class ServiceUnreachable(ConnectionError):
    """The service could not be reached (or stayed unavailable) through every retry."""


class ServiceRefused(MetadataError):
    """The service refused the request (token, scope, size); the message says why."""


class HttpMetadataRepository:
    """Implements MetadataRepository against the metadata service at ``url``."""

    def __init__(
        self,
        url: str,
        token: str | None,
        converter: RecordConverter,
        *,
        max_records: int = MAX_RECORDS,
        max_bytes: int = MAX_BYTES,
        retries: int = RETRIES,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self._converter = converter
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._retries = retries
        self._sleep = sleep
        headers = {"User-Agent": "dataplatform-metadata"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    # -- the port ----------------------------------------------------------------------

    def append(self, records: Sequence[MetadataRecord]) -> AppendResult:
        total = AppendResult()
        for start, body in self._parts(records):
            response = self._send("POST", wire.RECORDS, content=body, start=start)
            data = response.json()
            total += AppendResult(int(data["accepted"]), int(data["duplicates"]))
        return total

    def latest(self, kind: RecordKind, subject: DatasetRef) -> MetadataRecord | None:
        response = self._send(
            "GET", wire.LATEST, params={"kind": kind.value, "subject": str(subject)}
        )
        found = response.json()["record"]
        return None if found is None else self._converter.structure(found)

    def query(self, query: RecordQuery) -> RecordPage:
        response = self._send("GET", wire.RECORDS, params=wire.query_params(query))
        data = response.json()
        return RecordPage(
            tuple(self._converter.structure(r) for r in data["records"]), data["next_cursor"]
        )

    def subjects(self, query: SubjectQuery) -> SubjectPage:
        response = self._send("GET", wire.SUBJECTS, params=wire.subject_params(query))
        data = response.json()
        after = data["next_after"]
        return SubjectPage(
            tuple(DatasetRef.parse(s) for s in data["subjects"]),
            None if after is None else DatasetRef.parse(after),
        )

    # -- requests ----------------------------------------------------------------------

    def _parts(self, records: Sequence[MetadataRecord]) -> Iterator[tuple[int, bytes]]:
        """(index of the part's first record, JSON Lines body) within both limits."""
        lines: list[bytes] = []
        size, start = 0, 0
        for index, record in enumerate(records):
            line = (self._converter.dumps(record) + "\n").encode()
            if lines and (len(lines) >= self._max_records or size + len(line) > self._max_bytes):
                yield start, b"".join(lines)
                lines, size, start = [], 0, index
            lines.append(line)
            size += len(line)
        if lines:
            yield start, b"".join(lines)

    def _send(self, method: str, path: str, *, start: int = 0, **request: Any) -> httpx.Response:
        if method == "POST":
            request.setdefault("headers", {})["Content-Type"] = wire.JSON_LINES
        reason = ""
        for attempt in range(self._retries + 1):
            wait = min(30.0, 0.2 * 2**attempt)
            try:
                response = self._client.request(method, path, **request)
            except httpx.TransportError as failed:
                reason = (
                    f"{type(failed).__name__}: {failed}" if str(failed) else type(failed).__name__
                )
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in (429, 502, 503, 504):
                    self._refuse(response, start)
                reason = f"HTTP {response.status_code}: {_message(response)}"
                after = response.headers.get("retry-after", "")
                if after.isdigit():
                    wait = min(60.0, float(after))
            if attempt < self._retries:
                self._sleep(wait)
        raise ServiceUnreachable(
            f"the metadata service at {self.url} cannot be used after {self._retries + 1} "
            f"attempts ({reason})"
        )

    def _refuse(self, response: httpx.Response, start: int) -> None:
        message = _message(response)
        data = _json(response)
        if response.status_code == 400 and isinstance(data, dict) and "problems" in data:
            problems = [
                RecordProblem(p.index + start, p.path, p.message)
                for p in wire.problems_from_json(data["problems"])
            ]
            if problems:
                raise InvalidBatch(problems)
        if response.status_code == 409 and isinstance(data, dict) and data.get("record_ids"):
            raise RecordConflict([str(i) for i in data["record_ids"]])
        raise ServiceRefused(
            f"the metadata service at {self.url} refused the request "
            f"(HTTP {response.status_code}): {message}"
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    data = _json(response)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return (
        response.text.strip().splitlines()[0][:200] if response.text.strip() else "no reason given"
    )
