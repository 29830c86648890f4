"""UTC-only datetimes: naive datetimes are refused, aware ones are normalised to UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs


def utc_only(instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{attribute.name}: expected a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{attribute.name}: naive datetime {value.isoformat()} has no time zone; "
            f"give it a UTC offset (e.g. {value.isoformat()}+00:00)"
        )
    if value.tzinfo is not UTC:
        raise ValueError(f"{attribute.name}: expected UTC, got time zone {value.tzinfo}")


def to_utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; leave anything else for the validator to refuse."""
    if isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value
