"""UTC-only datetimes: naive datetimes are refused, aware ones are normalised to UTC."""

from __future__ import annotations

import re
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


def instant_text(value: datetime) -> str:
    """An instant as records write it: ISO-8601 in UTC with ``Z`` (what
    :func:`parse_instant` reads back)."""
    return to_utc(value).isoformat().replace("+00:00", "Z")


_FRACTION = re.compile(r"[T ]\d{2}:\d{2}:\d{2}[.,](\d+)")


_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


def parse_bound(text: str) -> datetime:
    """:func:`parse_instant` for a query's time bound (``since``, ``until``): an instant that
    leaves years 1..9999 once moved to UTC is held to the first or last instant there, since
    nothing can be stored beyond them (``0001-01-01T00:00:00+05:00`` is "from the start")."""
    return parse_instant(text, clamp=True)


def parse_instant(text: str, *, clamp: bool = False) -> datetime:
    """An ISO-8601 instant with an offset, in UTC; ValueError says what is wrong and the fix.

    Refused rather than changed unseen: no offset, more than microsecond precision, and
    instants that leave years 1..9999 once moved to UTC (``clamp`` holds those to the first
    or last instant instead: see :func:`parse_bound`).
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 timestamp (e.g. 2024-05-01T12:00:00Z)"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"naive timestamp {text!r} has no time zone; add Z or an offset like +02:00"
        )
    fraction = _FRACTION.search(text)
    if fraction and len(fraction.group(1)) > 6:
        raise ValueError(
            f"{text!r} has {len(fraction.group(1))} fractional-second digits; timestamps keep "
            f"microseconds (6): round or cut it yourself so nothing changes unseen"
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        if clamp:
            return _FIRST if parsed.year == 1 else _LAST
        raise ValueError(
            f"{text!r} falls outside years 1..9999 once moved to UTC; give an instant inside"
        ) from None
