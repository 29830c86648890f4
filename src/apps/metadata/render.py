"""What the metadata CLI prints for people: aligned tables and short payload summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.cli.output import table
from domain.metadata import MetadataRecord

_SUMMARY_WIDTH = 70


def summary(payload: dict[str, Any]) -> str:
    """The payload's scalar fields as key=value, shortened to one line."""
    parts = []
    for key, value in payload.items():
        if isinstance(value, dict | list):
            count = (
                len(value["columns"])
                if isinstance(value, dict) and "columns" in value
                else len(value)
            )
            parts.append(f"{key}=[{count}]")
        elif value is not None and value != "":
            parts.append(f"{key}={value}")
    text = " ".join(parts)
    return text if len(text) <= _SUMMARY_WIDTH else text[: _SUMMARY_WIDTH - 1] + "…"


def records_table(records: Sequence[MetadataRecord], payloads: Sequence[dict[str, Any]]) -> str:
    rows = [
        (
            r.observed_at.isoformat().replace("+00:00", "Z"),
            r.kind.value,
            str(r.subject),
            r.run_id.value,
            r.producer,
            summary(p),
        )
        for r, p in zip(records, payloads, strict=True)
    ]
    return table(("observed_at", "kind", "subject", "run_id", "producer", "payload"), rows)
