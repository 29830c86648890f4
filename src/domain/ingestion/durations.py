"""Durations a pipeline writes ("90s", "15m", "1h", "7d") and what an Iceberg target's
upkeep keeps (``ingestion maintain``)."""

from __future__ import annotations

import re

import attrs

_LAG = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")

_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def lag_amount(text: str) -> float:
    """A lag as an amount: seconds for time watermarks ("90s", "15m", "1h", "2d"), the plain
    number for numeric ones ("100"); ValueError names the forms."""
    match = _LAG.match(text)
    if match is None:
        raise ValueError(
            f"watermark.lag: {text!r} is not a lag; write a number (numeric watermarks) or a "
            f"duration such as 90s, 15m, 1h, 2d (time watermarks)"
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _duration(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not re.match(r"^\s*\d+(\.\d+)?\s*[smhd]\s*$", value or ""):
        raise ValueError(f"{attribute.name}: {value!r} is not a duration; write 90s, 15m, 1h or 7d")


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name}: expected a whole number >= 1, got {value!r}")


@attrs.frozen
class Maintenance:
    """An Iceberg target's upkeep (``ingestion maintain``): snapshots older than
    ``older_than`` beyond the newest ``keep_snapshots`` expire, and the files no snapshot
    references go; ``after_each_run`` does it after every successful run."""

    keep_snapshots: int = attrs.field(default=10, validator=_at_least_one)
    older_than: str = attrs.field(default="7d", validator=_duration)
    after_each_run: bool = False

    @property
    def older_than_seconds(self) -> float:
        return lag_amount(self.older_than)
