"""The typed payload of each record kind.

Each payload names its ``natural_key``: the fields that identify the fact it states within
one (kind, subject, run). Two records with equal keys state the same fact and share a
record_id; the rest of the payload is what was observed about it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from domain.metadata.timestamps import to_utc, utc_only
from domain.schema import Schema
from domain.schema.diff import ColumnChangeKind, severity

NaturalKey = tuple[str, ...]


def _non_negative(instance: object, attribute: attrs.Attribute[int], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name}: expected a non-negative integer, got {value!r}")


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name}: must be a non-empty string, got {value!r}")


@attrs.frozen
class SchemaSnapshot:
    """The schema of a dataset as seen at one moment."""

    schema: Schema

    @property
    def fingerprint(self) -> str:
        return self.schema.fingerprint

    def natural_key(self) -> NaturalKey:
        return (self.schema.fingerprint,)


@attrs.frozen
class ColumnProfile:
    """Statistics of one column. ``min_value``/``max_value`` are rendered as text, so one
    shape serves every type; the digit counts are for decimals and integers.

    Version 2 added ``max_scale_value`` (a value with the most fractional digits, the one a
    rounding violation names) and ``non_finite`` (NaN and infinities, which no bounded
    decimal holds); version 1 records read with both unknown (None).
    """

    name: str = attrs.field(validator=_non_empty)
    nulls: int = attrs.field(validator=_non_negative)
    approx_distinct: int | None = attrs.field(default=None, validator=_non_negative)
    min_value: str | None = None
    max_value: str | None = None
    max_length: int | None = attrs.field(default=None, validator=_non_negative)
    max_integer_digits: int | None = attrs.field(default=None, validator=_non_negative)
    max_scale: int | None = attrs.field(default=None, validator=_non_negative)
    max_scale_value: str | None = None
    non_finite: int | None = attrs.field(default=None, validator=_non_negative)


def _unique_profile_columns(
    instance: object,
    attribute: attrs.Attribute[tuple[ColumnProfile, ...]],
    value: tuple[ColumnProfile, ...],
) -> None:
    names = [c.name.lower() for c in value]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"columns: profiled more than once: {', '.join(duplicates)}")


def _profiles(value: Iterable[ColumnProfile]) -> tuple[ColumnProfile, ...]:
    return tuple(value)


@attrs.frozen
class DatasetProfile:
    """Row count and per-column statistics of a dataset; one per subject and run."""

    row_count: int = attrs.field(validator=_non_negative)
    columns: tuple[ColumnProfile, ...] = attrs.field(
        converter=_profiles, validator=_unique_profile_columns
    )

    def natural_key(self) -> NaturalKey:
        return ()


@attrs.frozen
class ColumnChange:
    """One column-level difference between two schemas. Types are canonical type strings."""

    column: str = attrs.field(validator=_non_empty)
    change: ColumnChangeKind
    old_type: str | None = None
    new_type: str | None = None
    classification: str | None = None
    detail: str = ""

    @property
    def severity(self) -> str:
        """The classification, or ``info`` for a change without a type change."""
        return severity(self.classification)


def _changes(value: Iterable[ColumnChange]) -> tuple[ColumnChange, ...]:
    return tuple(value)


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class SchemaDrift:
    """The difference between two snapshots of a subject, and whether it was allowed."""

    from_fingerprint: str = attrs.field(validator=_non_empty)
    to_fingerprint: str = attrs.field(validator=_non_empty)
    changes: tuple[ColumnChange, ...] = attrs.field(converter=_changes)
    allowed: bool = True
    violations: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    policy: str = ""

    def natural_key(self) -> NaturalKey:
        return (self.from_fingerprint, self.to_fingerprint)


class PrecisionVerdict(enum.Enum):
    FITS = "fits"
    FITS_OBSERVED = "fits_observed"
    VIOLATION = "violation"


@attrs.frozen
class PrecisionCheck:
    """Whether a source column's values fit a target column's type."""

    source_column: str = attrs.field(validator=_non_empty)
    target_column: str = attrs.field(validator=_non_empty)
    source_type: str = attrs.field(validator=_non_empty)
    target_type: str = attrs.field(validator=_non_empty)
    verdict: PrecisionVerdict
    detail: str = ""
    largest_offending_value: str | None = None
    proposed_type: str | None = None

    def natural_key(self) -> NaturalKey:
        return (self.source_column.lower(), self.target_column.lower())


@attrs.frozen
class IngestionVolume:
    """How many rows one ingestion run read, wrote and rejected for a target.

    Version 2 added what the write did to the target: rows inserted, updated, closed (SCD2
    versions ended) and deleted; version 1 records read with those unknown (None). Version 3
    added the snapshot an Iceberg target's run committed (None for other targets).
    """

    rows_read: int = attrs.field(validator=_non_negative)
    rows_written: int = attrs.field(validator=_non_negative)
    rows_rejected: int = attrs.field(default=0, validator=_non_negative)
    bytes_written: int | None = attrs.field(default=None, validator=_non_negative)
    rows_inserted: int | None = attrs.field(default=None, validator=_non_negative)
    rows_updated: int | None = attrs.field(default=None, validator=_non_negative)
    rows_closed: int | None = attrs.field(default=None, validator=_non_negative)
    rows_deleted: int | None = attrs.field(default=None, validator=_non_negative)
    snapshot_id: int | None = None

    def natural_key(self) -> NaturalKey:
        return ()


class RunStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _after_start(
    instance: IngestionRuntime, attribute: attrs.Attribute[datetime], value: datetime
) -> None:
    if value < instance.started_at:
        raise ValueError(
            f"finished_at: {value.isoformat()} is before started_at {instance.started_at.isoformat()}"
        )


def _duration(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        raise ValueError(f"{attribute.name}: expected a duration in seconds >= 0, got {value!r}")


@attrs.frozen
class PhaseTiming:
    """How long one phase of a run took (read, gate, write, commit ...)."""

    phase: str = attrs.field(validator=_non_empty)
    seconds: float = attrs.field(validator=_duration)


def _phases(value: Iterable[PhaseTiming]) -> tuple[PhaseTiming, ...]:
    return tuple(value)


@attrs.frozen
class IngestionRuntime:
    """When an ingestion run started and finished, with which strategy, and how it ended.

    Version 2 added the duration of each phase and the plan's reasons (one sentence each);
    version 3 the watermark window the run read (``window_column`` after ``window_after``,
    up to ``window_upto``, the watermark it committed), which a recon of the run is scoped to.
    """

    strategy: str = attrs.field(validator=_non_empty)
    started_at: datetime = attrs.field(converter=to_utc, validator=utc_only)
    finished_at: datetime = attrs.field(converter=to_utc, validator=[utc_only, _after_start])
    status: RunStatus
    phases: tuple[PhaseTiming, ...] = attrs.field(factory=tuple, converter=_phases)
    plan: tuple[str, ...] = attrs.field(factory=tuple, converter=_texts)
    window_column: str | None = None
    window_after: str | None = None
    window_upto: str | None = None

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def natural_key(self) -> NaturalKey:
        return ()


class ReconStatus(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


def _counts(value: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple((str(name), int(count)) for name, count in value)


def _samples(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(category), str(key)) for category, key in value)


@attrs.frozen
class ReconResult:
    """The outcome of one reconciliation check. Values are exact decimals (never floats).

    Version 2 added what a check counted (``counts``: category -> number), up to N sample
    keys per category (``samples``: category, the key as JSON), the ``threshold`` it was
    judged by and the ``scope`` of rows it covered (empty: the whole tables)."""

    check: str = attrs.field(validator=_non_empty)
    status: ReconStatus
    expected: Decimal | None = None
    actual: Decimal | None = None
    tolerance: Decimal = Decimal(0)
    detail: str = ""
    counts: tuple[tuple[str, int], ...] = attrs.field(factory=tuple, converter=_counts)
    samples: tuple[tuple[str, str], ...] = attrs.field(factory=tuple, converter=_samples)
    threshold: Decimal | None = None
    scope: str = ""

    def natural_key(self) -> NaturalKey:
        return (self.check,)


class RunEventType(enum.Enum):
    STARTED = "started"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


@attrs.frozen
class RunEvent:
    """A step in a run's life. Heartbeats (``running``) carry their ``beat`` number, so each
    is a fact of its own; version 2 added ``running`` and ``beat``."""

    event: RunEventType
    message: str = ""
    beat: int | None = attrs.field(default=None, validator=_non_negative)

    def natural_key(self) -> NaturalKey:
        if self.beat is None:
            return (self.event.value,)
        return (self.event.value, str(self.beat))
