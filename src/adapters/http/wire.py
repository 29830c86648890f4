"""The metadata service's HTTP form, shared by the server and its client.

- ``POST /api/v1/records``: a batch as JSON Lines (``application/x-ndjson``), each line one
  record in the form of record files (``metadata emit``); answers ``{"accepted": n,
  "duplicates": n}``.
- ``GET /api/v1/records?kind=..&subject=..&run_id=..&producer=..&record_id=..&since=..
  &until=..&namespace_prefix=..&name_prefix=..&order=newest|oldest&limit=..&cursor=..``:
  ``{"records": [...], "next_cursor": "..."|null}``; ``kind`` may repeat.
- ``GET /api/v1/latest?kind=..&subject=..``: ``{"record": {...}|null}``.
- ``GET /api/v1/subjects?contains=..&after=..&limit=..``: ``{"subjects": ["ns::name", ...],
  "next_after": "ns::name"|null}``.
- An error: ``{"error": "<one line>", "problems": [{"index", "path", "message"}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.dataset import DatasetRef, RunId
from domain.metadata.errors import RecordProblem
from domain.metadata.kinds import RecordKind
from domain.metadata.query import Order, RecordQuery, SubjectQuery
from domain.metadata.timestamps import parse_bound

API = "/api/v1"
RECORDS = f"{API}/records"
LATEST = f"{API}/latest"
SUBJECTS = f"{API}/subjects"
LINEAGE = f"{API}/lineage"
JSON_LINES = "application/x-ndjson"

_QUERY_KEYS = frozenset(
    {
        "kind",
        "subject",
        "namespace_prefix",
        "name_prefix",
        "run_id",
        "since",
        "until",
        "producer",
        "record_id",
        "order",
        "limit",
        "cursor",
    }
)


def query_params(query: RecordQuery) -> list[tuple[str, str]]:
    """``query`` as URL parameters (kinds sorted, so equal queries give equal URLs)."""
    params = [("kind", kind.value) for kind in sorted(query.kinds, key=lambda k: k.value)]
    for key, value in (
        ("subject", None if query.subject is None else str(query.subject)),
        ("namespace_prefix", query.namespace_prefix),
        ("name_prefix", query.name_prefix),
        ("run_id", None if query.run_id is None else query.run_id.value),
        ("since", None if query.since is None else query.since.isoformat()),
        ("until", None if query.until is None else query.until.isoformat()),
        ("producer", query.producer),
        ("record_id", query.record_id),
        ("order", query.order.value),
        ("limit", str(query.limit)),
        ("cursor", query.cursor),
    ):
        if value is not None:
            params.append((key, value))
    return params


class BadParameter(ValueError):
    """A URL parameter that cannot be read; the message names it and the fix."""


def _one(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key, ())
    if len(values) > 1:
        raise BadParameter(f"{key}: given {len(values)} times; give it once")
    return values[0] if values else None


def parse_query(params: Mapping[str, Sequence[str]]) -> RecordQuery:
    """A :class:`RecordQuery` from URL parameters (``kind`` repeatable), or
    :class:`BadParameter` naming the parameter."""
    unknown = sorted(set(params) - _QUERY_KEYS)
    if unknown:
        raise BadParameter(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(_QUERY_KEYS))}"
        )
    fields: dict[str, Any] = {}
    try:
        fields["kinds"] = [RecordKind.parse(k) for k in params.get("kind", ())]
    except ValueError as invalid:
        raise BadParameter(f"kind: {str(invalid).removeprefix('kind: ')}") from None
    readers: dict[str, Any] = {
        "subject": DatasetRef.parse,
        "run_id": RunId,
        "since": parse_bound,
        "until": parse_bound,
        "order": Order,
        "limit": int,
    }
    for key in sorted(_QUERY_KEYS - {"kind"}):
        text = _one(params, key)
        if text is None:
            continue
        reader = readers.get(key)
        try:
            fields[key] = text if reader is None else reader(text)
        except ValueError as invalid:
            if key == "order":
                raise BadParameter("order: expected newest or oldest") from None
            raise BadParameter(f"{key}: {invalid}") from None
    try:
        return RecordQuery(**fields)
    except ValueError as invalid:
        raise BadParameter(str(invalid)) from None


_SUBJECT_KEYS = ("after", "contains", "limit")


def subject_params(query: SubjectQuery) -> list[tuple[str, str]]:
    params = [("limit", str(query.limit))]
    if query.contains is not None:
        params.append(("contains", query.contains))
    if query.after is not None:
        params.append(("after", str(query.after)))
    return params


def parse_subject_query(params: Mapping[str, Sequence[str]]) -> SubjectQuery:
    """A :class:`SubjectQuery` from URL parameters, or :class:`BadParameter` naming one."""
    unknown = sorted(set(params) - set(_SUBJECT_KEYS))
    if unknown:
        raise BadParameter(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(_SUBJECT_KEYS)}"
        )
    fields: dict[str, Any] = {}
    for key, reader in (("after", DatasetRef.parse), ("contains", str), ("limit", int)):
        text = _one(params, key)
        if text is None:
            continue
        try:
            fields[key] = reader(text)
        except ValueError as invalid:
            raise BadParameter(f"{key}: {invalid}") from None
    try:
        return SubjectQuery(**fields)
    except ValueError as invalid:
        raise BadParameter(str(invalid)) from None


def problems_json(problems: Sequence[RecordProblem]) -> list[dict[str, Any]]:
    return [{"index": p.index, "path": p.path, "message": p.message} for p in problems]


def problems_from_json(data: Any) -> list[RecordProblem]:
    found = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict):
            found.append(
                RecordProblem(
                    int(item.get("index", 0)), str(item.get("path", "$")), str(item.get("message"))
                )
            )
    return found
