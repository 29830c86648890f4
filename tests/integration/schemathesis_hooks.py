"""Schemathesis hooks for the service's OpenAPI document (loaded by SCHEMATHESIS_HOOKS).

What a JSON Schema cannot say, told here with the project's own strategies: a batch body is
JSON Lines of well-formed records (the `application/x-ndjson` media type), and a cursor is one
the service hands out (the `dataplatform-cursor` format: an encoded position in the store).
"""

from __future__ import annotations

from datetime import UTC, datetime

import schemathesis
from hypothesis import strategies as st

from adapters.http.openapi import CURSOR_FORMAT
from adapters.serialization.records import RecordConverter
from domain.metadata.query import Position
from strategies import records

_converter = RecordConverter()

schemathesis.openapi.media_type(
    "application/x-ndjson",
    st.lists(records, min_size=1, max_size=5, unique_by=lambda record: record.record_id).map(
        lambda batch: "\n".join(_converter.dumps(record) for record in batch).encode("utf-8")
    ),
)

schemathesis.openapi.format(
    CURSOR_FORMAT,
    st.builds(
        Position,
        st.datetimes(
            min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
        ),
        st.integers(0, 2**63 - 1),
    ).map(Position.encode),
)
