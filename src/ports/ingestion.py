"""Ports the ingestion runtime needs: where pipeline state is kept, and the engine that
moves the rows (Spark)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from domain.dataset import RunId
from domain.ingestion.legacy import RunSummary
from domain.ingestion.plan import Plan, Probe
from domain.ingestion.spec import PipelineSpec
from domain.ingestion.state import PipelineState
from domain.metadata.payloads import ColumnProfile
from domain.metadata.record import MetadataRecord
from domain.schema import DataType, Schema


class LegacyOutputs(Protocol):
    """The legacy outputs of runs: one summary per run, and structured log lines."""

    def log(self, pipeline: str, run_id: str, event: str, **fields: object) -> None:
        """Append one structured log line about a run."""
        ...

    def summary(self, summary: RunSummary) -> None:
        """Write the run's summary (replacing one of the same run)."""
        ...

    def summaries(self, since: datetime | None = None) -> list[RunSummary]:
        """Every summary (of runs started at or after ``since``), oldest first."""
        ...


class StateStore(Protocol):
    """Pipeline state between runs. Every implementation passes ``tests/contract``."""

    def get(self, pipeline: str) -> PipelineState | None:
        """The last committed state of ``pipeline``, or None before its first run."""
        ...

    def put(self, state: PipelineState) -> None:
        """Replace the state of ``state.pipeline`` (atomically)."""
        ...

    def reset(self, pipeline: str) -> bool:
        """Forget ``pipeline``'s state; False when there was none."""
        ...

    def pipelines(self) -> list[PipelineState]:
        """Every pipeline's state, by name."""
        ...


@attrs.frozen
class Written:
    """What a committed write did."""

    rows_read: int
    rows_written: int
    bytes_written: int | None
    version: str  # the committed version of the target (its commit marker)
    watermark: str | None = None  # the greatest watermark the target now holds
    rows_rejected: int = 0  # e.g. rows with a NULL watermark under null_cursor = exclude
    rows_inserted: int | None = None  # None: all rows written were inserted
    rows_updated: int = 0
    rows_deleted: int = 0
    rows_closed: int = 0  # SCD2: versions that stopped being current
    snapshot_id: int | None = None  # an Iceberg target: the snapshot the run committed
    schema: Schema | None = None  # an Iceberg target: the table's schema after the commit


@attrs.frozen
class Committed:
    """What a target's commit marker records about the run whose version it shows."""

    run_id: str
    rows_written: int
    watermark: str | None


# The records of a run, built from what its write did, as the write's commit asks for them.
CommitRecords = Callable[[Written], Sequence[MetadataRecord]]


class Batch(Protocol):
    """Rows read for one run, not yet materialised (a Spark DataFrame behind it)."""

    @property
    def schema(self) -> Schema: ...

    @property
    def rejections(self) -> tuple[str, ...]:
        """Why rows were left out on read (a declared type a value does not parse as), one
        sentence per column; their count is in the write's ``rows_rejected``."""
        ...

    @property
    def notes(self) -> tuple[str, ...]:
        """What the read changed by the source's policy (zero dates read as NULL), named."""
        ...


class IngestionEngine(Protocol):
    """Reads sources and commits targets; the commit is atomic (all of it, or none)."""

    def access_problem(self, spec: PipelineSpec) -> str | None:
        """Why a run could not read the source or write the target (a file it may not
        read, a missing schema, no privilege, a read-only folder), as one line naming it
        and the fix; None when it could. Asked before anything starts (no engine, no job)."""
        ...

    def probe(self, spec: PipelineSpec) -> Probe:
        """A cheap look at the source (estimates, the range of an integer key) and at
        how many tasks the engine runs at once; reads no rows."""
        ...

    def read(self, spec: PipelineSpec, plan: Plan) -> Batch:
        """The rows this run loads (lazily: nothing is read until the write)."""
        ...

    def target_schema(self, spec: PipelineSpec) -> Schema | None:
        """The committed target's schema, or None before the first run."""
        ...

    def committed_version(self, spec: PipelineSpec) -> str | None:
        """The run id whose version the target shows now (its commit marker), if any."""
        ...

    def committed(self, spec: PipelineSpec) -> Committed | None:
        """The commit marker of the version the target shows now, if any."""
        ...

    def profile(self, batch: Batch, columns: Sequence[str]) -> Mapping[str, ColumnProfile]:
        """Profiles of ``columns`` of the batch, from its values (one pass)."""
        ...

    def key_of(self, batch: Batch, column: str, value: str, keys: Sequence[str]) -> str | None:
        """``k=v, ...`` of a row of the batch whose ``column`` holds ``value`` (all its
        columns when ``keys`` is empty), or None when no row does."""
        ...

    def conform(self, batch: Batch, types: Mapping[str, DataType]) -> Batch:
        """The batch with ``columns`` converted to the given types (lazily)."""
        ...

    def records_in_commit(self, spec: PipelineSpec) -> bool:
        """Whether ``write`` can commit a run's records with its data (a database target's
        outbox, written in the apply transaction)."""
        ...

    def write(
        self,
        spec: PipelineSpec,
        batch: Batch,
        plan: Plan,
        run_id: RunId,
        records: CommitRecords | None = None,
    ) -> Written:
        """Write ``batch`` as the new complete version of the target and switch to it
        atomically: a reader sees the old version or the new one, never a mix. With
        ``records`` (only where ``records_in_commit``), the records it returns are committed
        with the data, into the target's outbox: they exist exactly when the data does."""
        ...
