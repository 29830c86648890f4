"""An ingestion engine in memory: sources and targets are lists of rows.

A real adapter of the IngestionEngine port for fast tests of the run use case; it commits
a target by swapping one reference (atomic, like the Parquet link), and can be told to
fail at a step ("read", "write", "commit") to show what a failed run leaves behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from domain.dataset import RunId
from domain.ingestion.plan import Plan
from domain.ingestion.spec import PipelineSpec
from domain.schema import Schema
from ports.ingestion import Committed, Written

Row = Mapping[str, Any]


@attrs.frozen
class MemoryBatch:
    rows: tuple[Row, ...]
    schema: Schema


class EngineFailure(RuntimeError):
    """The failure an in-memory engine was told to raise."""


@attrs.define
class _Version:
    run_id: str
    rows: tuple[Row, ...]
    schema: Schema


class InMemoryIngestionEngine:
    """Sources by path (rows and schema); targets by path (the committed version)."""

    def __init__(self, sources: Mapping[str, tuple[Sequence[Row], Schema]]) -> None:
        self.sources = dict(sources)
        self.targets: dict[str, _Version] = {}
        self.fail_at: str | None = None

    def _maybe_fail(self, step: str) -> None:
        if self.fail_at == step:
            raise EngineFailure(f"told to fail at {step}")

    def read(self, spec: PipelineSpec, plan: Plan) -> MemoryBatch:
        self._maybe_fail("read")
        rows, schema = self.sources[spec.source.path or ""]
        return MemoryBatch(tuple(rows), schema)

    def target_schema(self, spec: PipelineSpec) -> Schema | None:
        version = self.targets.get(spec.target.path or "")
        return None if version is None else version.schema

    def committed_version(self, spec: PipelineSpec) -> str | None:
        version = self.targets.get(spec.target.path or "")
        return None if version is None else version.run_id

    def committed(self, spec: PipelineSpec) -> Committed | None:
        version = self.targets.get(spec.target.path or "")
        return None if version is None else Committed(version.run_id, len(version.rows), None)

    def rows(self, spec: PipelineSpec) -> tuple[Row, ...] | None:
        version = self.targets.get(spec.target.path or "")
        return None if version is None else version.rows

    def write(self, spec: PipelineSpec, batch: object, plan: Plan, run_id: RunId) -> Written:
        assert isinstance(batch, MemoryBatch)
        self._maybe_fail("write")
        staged = _Version(run_id.value, batch.rows, batch.schema)
        self._maybe_fail("commit")
        self.targets[spec.target.path or ""] = staged  # one reference swap: atomic
        return Written(len(batch.rows), len(batch.rows), None, run_id.value)
