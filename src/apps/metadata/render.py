"""What the metadata CLI prints for people: aligned tables and short payload summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.cli.output import table
from domain.metadata import DatasetProfile, MetadataRecord
from domain.metadata.payloads import ColumnProfile
from domain.schema import Schema

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


def schema_table(schema: Schema, profile: DatasetProfile | None) -> str:
    """A dataset's columns with their types and, when profiled, their statistics."""
    stats = {c.name.lower(): c for c in profile.columns} if profile is not None else {}
    rows = []
    for column in schema.columns:
        seen = stats.get(column.name.lower())
        rows.append(
            (
                column.name,
                str(column.type) + ("" if column.nullable else " not null"),
                "" if seen is None else f"{seen.nulls:,}",
                "" if seen is None or profile is None else distinct_cell(seen, profile.row_count),
                "" if seen is None or seen.min_value is None else seen.min_value[:26],
                "" if seen is None or seen.max_value is None else seen.max_value[:26],
                "" if seen is None or not seen.non_finite else _not_numbers(seen.non_finite),
            )
        )
    return table(("column", "type", "nulls", "distinct", "min", "max", "note"), rows)


def _not_numbers(count: int) -> str:
    # NaN, infinities, or (SQLite) text in a numeric column: none of them is a decimal.
    return f"{count:,} value(s) not a finite number (min/max leave them out)"


def distinct_cell(seen: ColumnProfile, rows: int) -> str:
    if seen.approx_distinct is None:
        return ""
    # An approximate count can exceed the values it counted; never show more than there are.
    return f"~{min(seen.approx_distinct, rows - seen.nulls):,}"


def cell(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
