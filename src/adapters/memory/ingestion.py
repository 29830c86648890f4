"""An ingestion engine in memory: sources and targets are lists of rows.

A real adapter of the IngestionEngine port for fast tests of the run use case; it commits
a target by swapping one reference (atomic, like the Parquet link), and can be told to
fail at a step ("read", "write", "commit") to show what a failed run leaves behind. Given
an outbox (a list), it commits a run's records there with the data, as a database target
does in its apply transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from domain.dataset import RunId
from domain.ingestion.plan import Plan, Probe
from domain.ingestion.spec import PipelineSpec
from domain.metadata.payloads import ColumnProfile
from domain.metadata.record import MetadataRecord
from domain.schema import DataType, DecimalType, IntegerType, Schema
from domain.schema.precision import ObservedDecimals, decimal_digits
from ports.ingestion import CommitRecords, Committed, Written

Row = Mapping[str, Any]


@attrs.frozen
class MemoryBatch:
    rows: tuple[Row, ...]
    schema: Schema
    rejections: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class EngineFailure(RuntimeError):
    """The failure an in-memory engine was told to raise."""


@attrs.define
class _Version:
    run_id: str
    rows: tuple[Row, ...]
    schema: Schema


class InMemoryIngestionEngine:
    """Sources by path (rows and schema); targets by path (the committed version)."""

    def __init__(
        self,
        sources: Mapping[str, tuple[Sequence[Row], Schema]],
        *,
        outbox: list[MetadataRecord] | None = None,
    ) -> None:
        self.sources = dict(sources)
        self.targets: dict[str, _Version] = {}
        self.fail_at: str | None = None
        # Given: the target's outbox, where a run's records are committed with its data.
        self.outbox = outbox

    def _maybe_fail(self, step: str) -> None:
        if self.fail_at == step:
            raise EngineFailure(f"told to fail at {step}")

    def access_problem(self, spec: PipelineSpec) -> str | None:
        return None  # memory is always writable

    def probe(self, spec: PipelineSpec) -> Probe:
        rows, _ = self.sources.get(spec.source.path or "", ((), None))
        return Probe(rows=len(rows), slots=1, files=True)

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

    def profile(self, batch: object, columns: Sequence[str]) -> Mapping[str, ColumnProfile]:
        assert isinstance(batch, MemoryBatch)
        return {name: _profile(name, [row.get(name) for row in batch.rows]) for name in columns}

    def key_of(self, batch: object, column: str, value: str, keys: Sequence[str]) -> str | None:
        assert isinstance(batch, MemoryBatch)
        for row in batch.rows:
            held = row.get(column)
            if held is not None and _same(held, value):
                shown = list(keys) or list(row)
                return ", ".join(f"{k}={row.get(k)!r}" for k in shown)
        return None

    def conform(self, batch: object, types: Mapping[str, DataType]) -> MemoryBatch:
        assert isinstance(batch, MemoryBatch)
        schema = Schema.from_columns(
            attrs.evolve(c, type=types[c.name]) if c.name in types else c
            for c in batch.schema.columns
        )
        rows = tuple(
            {k: _converted(v, types[k]) if k in types else v for k, v in row.items()}
            for row in batch.rows
        )
        return MemoryBatch(rows, schema)

    def records_in_commit(self, spec: PipelineSpec) -> bool:
        return self.outbox is not None

    def write(
        self,
        spec: PipelineSpec,
        batch: object,
        plan: Plan,
        run_id: RunId,
        records: CommitRecords | None = None,
    ) -> Written:
        assert isinstance(batch, MemoryBatch)
        self._maybe_fail("write")
        staged = _Version(run_id.value, batch.rows, batch.schema)
        written = Written(len(batch.rows), len(batch.rows), None, run_id.value)
        queued = [] if records is None else list(records(written))
        self._maybe_fail("commit")
        self.targets[spec.target.path or ""] = staged  # one reference swap: atomic
        if queued:
            assert self.outbox is not None, "records in the commit need an outbox"
            self.outbox.extend(queued)
        return written


def _same(held: Any, value: str) -> bool:
    try:
        return Decimal(str(held)) == Decimal(value)
    except InvalidOperation:
        return str(held) == value


def _converted(value: Any, data_type: DataType) -> Any:
    """A value in ``data_type``: decimals rounded to the scale, integers truncated."""
    if value is None:
        return None
    if isinstance(data_type, DecimalType):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-data_type.scale))
    if isinstance(data_type, IntegerType):
        return int(value)
    return value


def _profile(name: str, values: Sequence[Any]) -> ColumnProfile:
    """What the precision gate asks of a column: extremes, digits, lengths."""
    present = [v for v in values if v is not None]
    numbers = [Decimal(str(v)) for v in present if isinstance(v, int | float | Decimal)]
    texts = [v for v in present if isinstance(v, str)]
    if numbers:
        observed = ObservedDecimals.of(n for n in numbers if n.is_finite())
        widest = max(numbers, key=lambda n: decimal_digits(n)[1] if n.is_finite() else -1)
        return attrs.evolve(
            observed.profile(name),
            nulls=len(values) - len(present),
            max_scale_value=str(widest) if observed.max_scale else None,
            non_finite=sum(1 for n in numbers if not n.is_finite()),
        )
    return ColumnProfile(
        name=name,
        nulls=len(values) - len(present),
        max_length=max((len(t) for t in texts), default=None),
    )
