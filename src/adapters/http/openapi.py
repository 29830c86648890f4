"""The OpenAPI document of `metadata serve`, written to match what the routes do (the tests
check it against the running service)."""

from __future__ import annotations

from typing import Any

from adapters.http.openapi_schemas import (
    RUN_ID_PATTERN,
    SEARCH_PATTERN,
    SUBJECT_PATTERN,
    components,
)
from adapters.serialization.openlineage import SCHEMA_FACET
from domain.metadata.kinds import RecordKind
from domain.metadata.query import DEFAULT_LIMIT, MAX_LIMIT

_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}
# Opaque: a next_cursor handed out by the service (schemathesis is told how to make one).
CURSOR_FORMAT = "dataplatform-cursor"


_RECORD_LINE = (
    '{"kind":"run_event","observed_at":"2024-05-01T06:00:00Z","payload":{"event":"started",'
    '"message":"full refresh from landing"},"payload_version":1,"producer":"ingestion",'
    '"run_id":"2024-05-01T06-00-orders","subject":{"name":"sales.public.orders",'
    '"namespace":"postgres://warehouse:5432"}}'
)
_LINEAGE_EVENT = {
    "eventType": "START",
    "eventTime": "2024-05-01T06:00:00Z",
    "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0190a6c4-5b7e-7c3a-9d2f-6e1b8a4c2d10"},
    "job": {"namespace": "airflow", "name": "orders_daily.load"},
    "inputs": [],
    "outputs": [
        {
            "namespace": "postgres://warehouse:5432",
            "name": "sales.public.orders",
            "facets": {
                "schema": {
                    "_producer": "https://github.com/OpenLineage/OpenLineage",
                    "_schemaURL": SCHEMA_FACET,
                    "fields": [
                        {"name": "order_id", "type": "bigint"},
                        {"name": "amount", "type": "decimal(18,2)"},
                    ],
                }
            },
        }
    ],
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_REFUSALS = {
    "401": _error("No bearer token, or an unknown or revoked one."),
    "403": _error("The token lacks the scope this route needs."),
    "429": {
        **_error("The token is over its rate; retry after the seconds of Retry-After."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    "503": _error("The metadata store cannot be used."),
}


def _parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def document(limits: Any) -> dict[str, Any]:
    kinds = sorted(k.value for k in RecordKind)
    record = {"$ref": "#/components/schemas/Record"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "dataplatform metadata service",
            "version": "1",
            "description": (
                "The metadata gateway over HTTP: batches of records in, latest and paged "
                "queries out. Records have the form of record files (`metadata emit`)."
            ),
        },
        "components": components(),
        "paths": {
            "/api/v1/records": {
                "post": {
                    "operationId": "appendRecords",
                    "summary": "Append a batch (idempotent: a stored record is a duplicate)",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "description": (
                            f"JSON Lines, one record per line; at most {limits.max_records:,} "
                            f"records and {limits.max_body_bytes:,} bytes. A line: {_RECORD_LINE}"
                        ),
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "Stored: written, or already there.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Appended"}
                                }
                            },
                        },
                        "400": _error("Invalid records; nothing written. Problems by index."),
                        "409": _error("A record id stored with another payload; nothing written."),
                        "413": _error("Too many bytes or records; nothing written."),
                        **_REFUSALS,
                    },
                },
                "get": {
                    "operationId": "queryRecords",
                    "summary": "Records matching the filters, one page at a time",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "kind",
                            "in": "query",
                            "required": False,
                            "description": "Record kinds (repeat for several).",
                            "schema": {"type": "array", "items": {"type": "string", "enum": kinds}},
                            "style": "form",
                            "explode": True,
                        },
                        _parameter("subject", "namespace::name, exactly.", pattern=SUBJECT_PATTERN),
                        _parameter("namespace_prefix", "Subjects whose namespace starts so."),
                        _parameter("name_prefix", "Subjects whose name starts so."),
                        _parameter("run_id", "One run.", pattern=RUN_ID_PATTERN),
                        _parameter("since", "Observed at or after (ISO 8601).", format="date-time"),
                        _parameter("until", "Observed before (ISO 8601).", format="date-time"),
                        _parameter("producer", "One producer."),
                        _parameter("record_id", "One record."),
                        _parameter(
                            "order", "newest (default) or oldest first.", enum=["newest", "oldest"]
                        ),
                        _LIMIT,
                        _parameter(
                            "cursor",
                            "The next_cursor of the previous page, unchanged.",
                            format=CURSOR_FORMAT,
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "One page.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
                                }
                            },
                            "links": {
                                "NextPage": {
                                    "operationId": "queryRecords",
                                    "description": "The next page of the same query.",
                                    "parameters": {"cursor": "$response.body#/next_cursor"},
                                }
                            },
                        },
                        "400": _error("A parameter that cannot be read."),
                        **_REFUSALS,
                    },
                },
            },
            "/api/v1/latest": {
                "get": {
                    "operationId": "latestRecord",
                    "summary": "The newest record of a kind about a subject",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {**_parameter("kind", "A record kind.", enum=kinds), "required": True},
                        {
                            **_parameter("subject", "namespace::name.", pattern=SUBJECT_PATTERN),
                            "required": True,
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The record, or null when there is none.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["record"],
                                        "properties": {"record": {**record, "nullable": True}},
                                    }
                                }
                            },
                        },
                        "400": _error("A parameter that cannot be read."),
                        **_REFUSALS,
                    },
                }
            },
            "/api/v1/subjects": {
                "get": {
                    "operationId": "listSubjects",
                    "summary": "The datasets with records stored, searched and paged",
                    "security": [{"bearer": []}],
                    "parameters": [
                        _parameter(
                            "contains",
                            "Only subjects whose namespace::name holds this (A-Z any case).",
                            pattern=SEARCH_PATTERN,
                        ),
                        _parameter(
                            "after",
                            "The next_after of the previous page: subjects after it.",
                            pattern=SUBJECT_PATTERN,
                        ),
                        _LIMIT,
                    ],
                    "responses": {
                        "200": {
                            "description": "One page of subjects, by namespace then name.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["subjects", "next_after"],
                                        "properties": {
                                            "subjects": {
                                                "type": "array",
                                                "items": {
                                                    "type": "string",
                                                    "pattern": SUBJECT_PATTERN,
                                                },
                                            },
                                            "next_after": {
                                                "type": "string",
                                                "nullable": True,
                                                "pattern": SUBJECT_PATTERN,
                                            },
                                        },
                                    }
                                }
                            },
                            "links": {
                                "NextSubjects": {
                                    "operationId": "listSubjects",
                                    "description": "The next page of the same search.",
                                    "parameters": {
                                        "after": "$response.body#/next_after",
                                        "contains": "$request.query.contains",
                                    },
                                }
                            },
                        },
                        "400": _error("A parameter that cannot be read."),
                        **_REFUSALS,
                    },
                }
            },
            "/api/v1/lineage": {
                "post": {
                    "operationId": "postLineage",
                    "summary": "One OpenLineage run event (as the OpenLineage clients send it)",
                    "description": (
                        "Stored as a run_event record about the job and a schema_snapshot per "
                        "dataset with a schema facet; what cannot be stored is listed in skipped. "
                        "The body may be gzip-encoded (Content-Encoding: gzip)."
                    ),
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/RunEvent"},
                                "example": _LINEAGE_EVENT,
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Stored (duplicates counted, not stored twice).",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["accepted", "duplicates", "skipped"],
                                        "properties": {
                                            "accepted": {"type": "integer"},
                                            "duplicates": {"type": "integer"},
                                            "skipped": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error("Not an OpenLineage run event; the message names the field."),
                        "409": _error("A record of the event conflicts with a stored one."),
                        "413": _error("The body is larger than the service accepts."),
                        **_REFUSALS,
                    },
                }
            },
            "/health/live": {
                "get": {
                    "summary": "The process answers",
                    "responses": {"200": {"description": "Live."}},
                }
            },
            "/health/ready": {
                "get": {
                    "summary": "The store can be used",
                    "responses": {
                        "200": {"description": "Ready."},
                        "503": {"description": "The store cannot be used."},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text format",
                    "responses": {"200": {"description": "The figures."}},
                }
            },
        },
    }
