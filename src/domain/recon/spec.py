"""A reconciliation: two sides (any endpoints), the keys that pair their rows, which columns
to compare and how, and the thresholds each check is judged by.

Values only; the TOML edge (``adapters/files/recons.py``) builds them and names the file,
the key and the fix for every problem, and ``from_pipeline`` derives one from a pipeline's
last committed run.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal

import attrs

from domain.dataset import DatasetRef
from domain.ingestion.durations import lag_amount
from domain.ingestion.spec import SourceSpec

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Side(enum.StrEnum):
    """One of a reconciliation's two sides; reads as its name in messages."""

    SOURCE = "source"
    TARGET = "target"


SIDES = (Side.SOURCE, Side.TARGET)


def _name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"name: expected 1-128 letters, digits and '._-' starting with a letter or digit, "
            f"got {value!r}"
        )


def _non_negative(instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not value.is_finite() or value < 0:
        raise ValueError(f"{attribute.name}: expected a number >= 0, got {value}")


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"expected a number, got {value!r}") from None


def _lag(instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        lag_amount(value)


@attrs.frozen
class ColumnRule:
    """How one column's values compare: within ``absolute`` or ``relative`` of each other
    (numbers), trimmed and/or case-folded (text)."""

    absolute: Decimal = attrs.field(default=Decimal(0), converter=_decimal, validator=_non_negative)
    relative: Decimal = attrs.field(default=Decimal(0), converter=_decimal, validator=_non_negative)
    trim: bool = False
    ignore_case: bool = False


@attrs.frozen
class Thresholds:
    """How many differences each check tolerates before it fails (default: none), and how
    far a row count may move from its baseline (a relative change; None: not checked)."""

    missing: int = 0  # keys only in the source
    extra: int = 0  # keys only in the target
    changed: int = 0  # keys in both with different values
    row_count: int = 0  # |source rows - target rows|
    baseline_change: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("missing", "extra", "changed", "row_count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"thresholds.{name}: expected a count >= 0, got {value!r}")
        change = self.baseline_change
        if change is not None and (not change.is_finite() or change < 0):
            raise ValueError(
                f"thresholds.baseline_change: expected a relative change >= 0 such as 0.2, "
                f"got {change}"
            )


@attrs.frozen
class Scope:
    """The rows both sides are compared on: ``column`` from ``since`` (inclusive; less
    ``lag``, a duration or a number, when given) up to ``upto`` (inclusive). A pipeline's
    run is checked on the window it read: since its committed watermark less its lag, up to
    the watermark it committed."""

    column: str
    since: str | None = None
    upto: str | None = None
    lag: str | None = attrs.field(default=None, validator=_lag)

    def describe(self) -> str:
        low = "the start" if self.since is None else self.since
        if self.since is not None and self.lag:
            low += f" less {self.lag}"
        high = "the end" if self.upto is None else self.upto
        return f"{self.column} from {low} up to {high}"


@attrs.frozen
class Rows:
    """A side's rows limited to those whose ``column``, read as text, equals ``value`` (with
    ``negate``: does not, NULL included): an SCD2 target's current versions, a source without
    the rows its delete marker removed from the target."""

    column: str
    value: str
    negate: bool = False

    def describe(self, role: str) -> str:
        return f"{role} {self.column} {'is not' if self.negate else '='} {self.value!r}"


@attrs.frozen
class Claim:
    """What an ingestion run said it did (its ``ingestion_volume``), for the three-way check."""

    run_id: str
    rows_read: int
    rows_written: int
    rows_rejected: int
    whole: bool  # the run replaced the target (full): its rows are the target's


@attrs.frozen
class ReconSpec:
    """One reconciliation. ``columns`` maps source column names to target names (the same
    name when absent); ``select`` limits the comparison to these source columns (all common
    ones when empty); ``rules`` holds per-source-column tolerances and normalisation."""

    name: str = attrs.field(validator=_name)
    source: SourceSpec
    target: SourceSpec
    keys: tuple[str, ...]
    columns: tuple[tuple[str, str], ...] = ()
    select: tuple[str, ...] = ()
    rules: tuple[tuple[str, ColumnRule], ...] = ()
    thresholds: Thresholds = Thresholds()
    scope: Scope | None = None
    samples: int = 10
    subject_override: DatasetRef | None = None
    pipeline: str | None = None
    # The source as a change log: its latest row per key by this column (before source_rows).
    source_latest: str | None = None
    source_rows: tuple[Rows, ...] = ()
    target_rows: tuple[Rows, ...] = ()
    # Columns the target keeps of its own (an SCD2 target's history): not drift, not compared.
    target_own: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.keys:
            raise ValueError(
                'keys: a reconciliation pairs rows by their keys, e.g. keys = ["order_id"] '
                "(composite keys: list them all)"
            )
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"keys: a column is listed twice in {list(self.keys)}")
        if not 0 <= self.samples <= 1000:
            raise ValueError(
                f"samples: expected 0..1000 sample keys per category, got {self.samples}"
            )
        mapped = [target for _, target in self.columns]
        if len(set(mapped)) != len(mapped):
            raise ValueError("columns: two source columns map to one target column")

    def side(self, role: Side) -> SourceSpec:
        """The endpoint read as the ``role`` side."""
        return self.source if role is Side.SOURCE else self.target

    def rows(self, role: Side) -> tuple[Rows, ...]:
        return self.source_rows if role is Side.SOURCE else self.target_rows

    def describe_scope(self) -> str:
        """The rows both sides are compared on, in words ('' when all)."""
        parts = [] if self.scope is None else [self.scope.describe()]
        if self.source_latest is not None:
            parts.append(f"source: the latest row per key by {self.source_latest}")
        parts.extend(r.describe("source") for r in self.source_rows)
        parts.extend(r.describe("target") for r in self.target_rows)
        return "; ".join(parts)

    def target_name(self, source_column: str) -> str:
        return dict(self.columns).get(source_column, source_column)

    def rule(self, source_column: str) -> ColumnRule:
        return dict(self.rules).get(source_column, ColumnRule())

    @property
    def subject(self) -> DatasetRef:
        """What the recon_result records are about: the target."""
        if self.subject_override is not None:
            return self.subject_override
        return self.target.subject
