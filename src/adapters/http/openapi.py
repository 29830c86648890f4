"""The OpenAPI document of `metadata serve`, written to match what the routes do (the tests
check it against the running service)."""

from __future__ import annotations

from typing import Any

from domain.metadata.kinds import RecordKind
from domain.metadata.query import DEFAULT_LIMIT, MAX_LIMIT


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
        "components": {
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
        },
        "paths": {
            "/api/v1/records": {
                "post": {
                    "summary": "Append a batch (idempotent: a stored record is a duplicate)",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "description": (
                            f"JSON Lines, one record per line; at most {limits.max_records:,} "
                            f"records and {limits.max_body_bytes:,} bytes."
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
                        _parameter("subject", "namespace::name, exactly."),
                        _parameter("namespace_prefix", "Subjects whose namespace starts so."),
                        _parameter("name_prefix", "Subjects whose name starts so."),
                        _parameter("run_id", "One run."),
                        _parameter("since", "Observed at or after (ISO 8601).", format="date-time"),
                        _parameter("until", "Observed before (ISO 8601).", format="date-time"),
                        _parameter("producer", "One producer."),
                        _parameter("record_id", "One record."),
                        _parameter(
                            "order", "newest (default) or oldest first.", enum=["newest", "oldest"]
                        ),
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": DEFAULT_LIMIT,
                            },
                        },
                        _parameter("cursor", "The next_cursor of the previous page."),
                    ],
                    "responses": {
                        "200": {
                            "description": "One page.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
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
                    "summary": "The newest record of a kind about a subject",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {**_parameter("kind", "A record kind.", enum=kinds), "required": True},
                        {**_parameter("subject", "namespace::name."), "required": True},
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
            "/api/v1/lineage": {
                "post": {
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
                                "schema": {
                                    "type": "object",
                                    "required": ["eventTime", "run", "job", "producer"],
                                    "properties": {
                                        "eventType": {"type": "string"},
                                        "eventTime": {"type": "string"},
                                        "producer": {"type": "string"},
                                        "schemaURL": {"type": "string"},
                                        "run": {"type": "object"},
                                        "job": {"type": "object"},
                                        "inputs": {"type": "array", "items": {"type": "object"}},
                                        "outputs": {"type": "array", "items": {"type": "object"}},
                                    },
                                }
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
