"""How a recon inside PostgreSQL cuts the key space into segments, level by level: buckets
of the key's hash, or ranges of an integer first key read through its index."""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from domain.recon.plan import Segments, explain
from domain.recon.spec import Side


class Cut(Protocol):
    """How the key space is cut into segments, level by level."""

    @property
    def first(self) -> int: ...

    def segments(self, level: int) -> int: ...

    def finer(self, level: int, fan_out: int) -> int | None: ...

    def segment(self, role: Side, level: int) -> str: ...

    def within(
        self, table: str, role: Side, level: int, buckets: list[int], params: dict[str, Any]
    ) -> tuple[str, str]: ...

    def explain(self, plan: Segments, rows: int) -> str: ...


@attrs.frozen
class HashCut:
    """Buckets of the key's 64-bit hash: ``level`` is the modulus; a bucket of ``m * k``
    lies inside the bucket of ``m`` with the same remainder mod ``m``."""

    first: int

    def segments(self, level: int) -> int:
        return level

    def finer(self, level: int, fan_out: int) -> int | None:
        return None if level >= 2**40 else level * fan_out

    def segment(self, role: Side, level: int) -> str:
        return _bucket(level)

    def within(
        self, table: str, role: Side, level: int, buckets: list[int], params: dict[str, Any]
    ) -> tuple[str, str]:
        params[f"b{level}"] = buckets
        # A hashed subplan: membership in thousands of segments stays O(1) per row.
        return table, f"{_bucket(level)} in (select unnest(cast(:b{level} as bigint[])))"

    def explain(self, plan: Segments, rows: int) -> str:
        return explain(plan, rows)


@attrs.frozen
class RangeCut:
    """Ranges of an integer first key from ``low`` to ``high``: ``level`` is the width of a
    range; NULL keys are segment -1. Differing ranges are read through the key's index."""

    count: int
    source: str
    target: str
    low: int
    high: int

    @property
    def first(self) -> int:
        return max(1, -(-(self.high - self.low + 1) // self.count))

    def segments(self, level: int) -> int:
        return max(1, -(-(self.high - self.low + 1) // level))

    def finer(self, level: int, fan_out: int) -> int | None:
        return None if level <= 1 else max(1, -(-level // fan_out))

    def segment(self, role: Side, level: int) -> str:
        return f"coalesce((h.r0::bigint - {self.low}) / {level}, -1)"

    def within(
        self, table: str, role: Side, level: int, buckets: list[int], params: dict[str, Any]
    ) -> tuple[str, str]:
        column = self.source if role is Side.SOURCE else self.target
        params[f"r{level}"] = [b for b in buckets if b >= 0]
        ranged = (
            f"select t.* from {table} t join unnest(cast(:r{level} as bigint[])) r(b) on "
            f"t.{column} >= {self.low} + r.b * {level} and t.{column} < {self.low} + (r.b + 1) * {level}"
        )
        if -1 in buckets:
            ranged += f" union all select t.* from {table} t where t.{column} is null"
        return f"({ranged})", "true"

    def explain(self, plan: Segments, rows: int) -> str:
        return (
            f"{rows:,} rows cut into {self.segments(self.first):,} ranges of the key "
            f"{self.source} ({self.low}..{self.high}, {self.first:,} wide), differing ones "
            f"split {plan.fan_out} ways down to {plan.leaf_rows} rows and read through its index"
        )


def _bucket(modulus: int) -> str:
    """The segment of a row: its key hash modulo ``modulus``, never negative (so a segment
    of ``m * k`` lies inside the segment of ``m`` with the same remainder mod ``m``)."""
    return f"mod(mod(h.kh, {modulus}) + {modulus}, {modulus})"
