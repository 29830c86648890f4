"""The port through which reconciliation computes on the two sides (Spark, SQL)."""

from __future__ import annotations

from typing import Protocol

from domain.recon.checks import KeyDiff, SideAggregates
from domain.recon.compare import Alignment
from domain.recon.spec import ReconSpec
from domain.schema import Schema


class ReconEngine(Protocol):
    """Reads both sides of a spec (within its scope) and computes on them."""

    def schemas(self, spec: ReconSpec) -> tuple[Schema, Schema]:
        """The source's and the target's schemas."""
        ...

    def aggregates(
        self, spec: ReconSpec, alignment: Alignment
    ) -> tuple[SideAggregates, SideAggregates]:
        """Both sides' aggregates, one pass per side."""
        ...

    def diff(self, spec: ReconSpec, alignment: Alignment, output: str | None) -> KeyDiff:
        """The key-level diff; the full list of differing keys written to ``output``
        (a .parquet or .csv path) when given."""
        ...

    def close(self) -> None:
        """Release what the engine holds (sessions, connections)."""
        ...
