"""Schemathesis hooks for the service's OpenAPI document (loaded by SCHEMATHESIS_HOOKS): a
JSON Lines body is sent as the text it is."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx: Any, value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")
