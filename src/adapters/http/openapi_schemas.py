"""The OpenAPI document's patterns and schemas: the rules the service enforces on what it
reads (subjects, run ids, producers, searches, OpenLineage events), and the shapes of what
it reads and answers (records, pages, lineage events, errors)."""

from __future__ import annotations

from typing import Any

from adapters.serialization.openlineage import EVENT_TYPES
from domain.metadata.kinds import RecordKind
from domain.metadata.query import SEARCH_MAX

# The rules the service enforces, as patterns (Python's and ECMA's regex syntax alike), so
# the document admits exactly what the service accepts; tests/unit checks them against the
# domain's validators. A namespace: no whitespace, no control character. A name: trimmed, no
# "::" inside, no control character; in a subject, what follows the last "::".
_CONTROL = r"\x00-\x1f\x7f"
# Python's whitespace (str.isspace) beyond the controls, spelled out: "\\s" differs between
# regex engines (schemathesis generates with Python's and validates with Rust's).
_SPACE = " \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAMESPACE = f"[^{_SPACE}{_CONTROL}]+"
NAME = (
    f"[^{_SPACE}:{_CONTROL}]"
    f"(?:(?:[^:{_CONTROL}]|:[^:{_CONTROL}])*(?:[^{_SPACE}:{_CONTROL}]|:[^{_SPACE}:{_CONTROL}]|:))?"
)
NAMESPACE_PATTERN = f"^{NAMESPACE}$"
# A name given on its own (not after "::") may start with a colon.
NAME_PATTERN = f"^(?=[^{_SPACE}{_CONTROL}])(?!.*::)[^{_CONTROL}]*[^{_SPACE}{_CONTROL}]$"
SUBJECT_PATTERN = f"^{NAMESPACE}::{NAME}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
# A producer: some text that is not only whitespace, on one line.
PRODUCER_PATTERN = f"^[^{_CONTROL}]*[^{_SPACE}{_CONTROL}][^{_CONTROL}]*$"
# A search: 1-{SEARCH_MAX} characters, no control character.
SEARCH_PATTERN = f"^[^{_CONTROL}]{{1,{SEARCH_MAX}}}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# How many a page holds (records or subjects).


def _lineage_schemas() -> dict[str, Any]:
    """The part of OpenLineage's RunEvent the service reads, with the rules it enforces
    (other fields and facets are allowed and ignored)."""
    facets = {"type": "object"}
    dataset = {
        "type": "object",
        "required": ["namespace", "name"],
        "properties": {
            "namespace": {"type": "string", "pattern": NAMESPACE_PATTERN},
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "facets": facets,
        },
    }
    return {
        "LineageDataset": dataset,
        "RunEvent": {
            "type": "object",
            "required": ["eventTime", "run", "job", "producer"],
            "properties": {
                "eventType": {"type": "string", "enum": list(EVENT_TYPES)},
                "eventTime": {"type": "string", "format": "date-time"},
                "producer": {"type": "string", "pattern": PRODUCER_PATTERN},
                "run": {
                    "type": "object",
                    "required": ["runId"],
                    "properties": {
                        "runId": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
                        "facets": facets,
                    },
                },
                "job": dataset,
                "inputs": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/LineageDataset"},
                },
                "outputs": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/LineageDataset"},
                },
            },
        },
    }


def components() -> dict[str, Any]:
    """The document's ``components``: the bearer scheme and every schema."""
    kinds = sorted(k.value for k in RecordKind)
    record = {"$ref": "#/components/schemas/Record"}
    return {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Record": {
                "type": "object",
                "required": ["kind", "subject", "run_id", "observed_at", "producer", "payload"],
                "properties": {
                    "record_id": {"type": "string"},
                    "kind": {"type": "string", "enum": kinds},
                    "subject": {
                        "type": "object",
                        "required": ["namespace", "name"],
                        "properties": {
                            "namespace": {"type": "string"},
                            "name": {"type": "string"},
                        },
                    },
                    "run_id": {"type": "string"},
                    "observed_at": {"type": "string", "format": "date-time"},
                    "producer": {"type": "string"},
                    "payload_version": {"type": "integer"},
                    "payload": {"type": "object"},
                },
            },
            **_lineage_schemas(),
            "Page": {
                "type": "object",
                "required": ["records", "next_cursor"],
                "properties": {
                    "records": {"type": "array", "items": record},
                    "next_cursor": {"type": "string", "nullable": True},
                },
            },
            "Appended": {
                "type": "object",
                "required": ["accepted", "duplicates"],
                "properties": {
                    "accepted": {"type": "integer", "minimum": 0},
                    "duplicates": {"type": "integer", "minimum": 0},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "problems": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "index": {"type": "integer"},
                                "path": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                    "record_ids": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }
