"""How two sides' columns compare: drift first, then one normalisation per column so that
equal values compare equal across engines.

- numbers: exact decimals at the common scale (the larger of the two; -0.00 equals 0.00);
  when either side is a binary float, doubles within the column's tolerance (absolute, or
  relative to the larger magnitude), NaN equal to NaN and never to NULL;
- timestamps: UTC instants (a wall-clock time is read as UTC) at the common precision: the
  coarser of the precisions the two sides' values show (seconds, milliseconds,
  microseconds), each value **rounded half up** to it, as PostgreSQL rounds into
  ``timestamp(p)``;
- text: as stored, unless the column's rule trims it or ignores case; NULL is never ``''``;
- everything else (booleans, dates, bytes) exactly; columns whose types share no family are
  compared as text, and said so;
- keys pair rows column by column (never concatenated), NULL key parts as values of their
  own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from domain.recon.spec import ReconSpec, Side
from domain.schema import Column, Schema
from domain.schema.diff import ColumnChangeKind, diff
from domain.schema.types import (
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    NumberType,
    StringType,
    TimestampType,
)

NUMBER_SCALE = 18  # a decimal without a declared scale is read with 18 fractional digits


class Kind(enum.Enum):
    EXACT = "exact"
    DECIMAL = "decimal"
    FLOAT = "float"
    TIMESTAMP = "timestamp"
    TEXT = "text"


class Precision(enum.IntEnum):
    """How fine the values of a timestamp column are: its unit in microseconds."""

    SECONDS = 1_000_000
    MILLISECONDS = 1_000
    MICROSECONDS = 1

    @property
    def label(self) -> str:
        return {1_000_000: "s", 1_000: "ms", 1: "us"}[self.value]


def common_precision(*precisions: Precision | None) -> Precision:
    """The coarsest of the precisions the sides' values show (microseconds when none)."""
    known = [p for p in precisions if p is not None]
    return max(known, default=Precision.MICROSECONDS)


@attrs.frozen
class Comparison:
    """One compared column: its name on each side, how values normalise and compare."""

    source: str
    target: str
    kind: Kind
    precision: int = 38  # DECIMAL: the common type
    scale: int = 0
    absolute: Decimal = Decimal(0)  # tolerances (FLOAT, DECIMAL)
    relative: Decimal = Decimal(0)
    trim: bool = False
    ignore_case: bool = False
    unit: Precision = Precision.MICROSECONDS  # TIMESTAMP: the common precision

    def on(self, role: Side) -> str:
        """The column's name on the ``role`` side."""
        return self.source if role is Side.SOURCE else self.target

    def value(self, found: Any) -> Any:
        """A value an engine returned for this column, as the checks compare it: decimals as
        ``Decimal``, floats as ``float``, timestamps as integer microseconds, the rest as
        text."""
        if found is None:
            return None
        if self.kind is Kind.DECIMAL:
            return Decimal(found)
        if self.kind is Kind.FLOAT:
            return float(found)
        if self.kind is Kind.TIMESTAMP:
            return int(found)
        return str(found)

    @property
    def tolerant(self) -> bool:
        """Equal values may differ in their bits: not part of the exact row hash."""
        return self.kind is Kind.FLOAT or bool(self.absolute) or bool(self.relative)

    def describe(self) -> str:
        name = self.source if self.source == self.target else f"{self.source}->{self.target}"
        if self.kind is Kind.DECIMAL:
            how = f"decimal({self.precision},{self.scale})"
        elif self.kind is Kind.TIMESTAMP:
            how = f"UTC instant at {self.unit.label}"
        else:
            how = self.kind.value
        extras = []
        if self.absolute:
            extras.append(f"within {self.absolute}")
        if self.relative:
            extras.append(f"within {self.relative} relative")
        if self.trim:
            extras.append("trimmed")
        if self.ignore_case:
            extras.append("any case")
        return f"{name} as {how}{' ' + ', '.join(extras) if extras else ''}"


@attrs.frozen
class Alignment:
    """The pairing of two sides: key and value comparisons, and what drifted between them."""

    keys: tuple[Comparison, ...]
    columns: tuple[Comparison, ...]
    added: tuple[str, ...] = ()  # only in the target
    removed: tuple[str, ...] = ()  # only in the source
    retyped: tuple[str, ...] = ()  # "amount: decimal(10,2) -> decimal(12,4)"
    notes: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[Comparison, ...]:
        return (*self.keys, *self.columns)

    @property
    def timestamps(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.all if c.kind is Kind.TIMESTAMP)

    def at(self, units: dict[str, Precision]) -> Alignment:
        """The alignment with each timestamp column at the common precision ``units`` gives
        (by source column name)."""

        def with_unit(c: Comparison) -> Comparison:
            return attrs.evolve(c, unit=units.get(c.source, c.unit))

        return attrs.evolve(
            self,
            keys=tuple(with_unit(c) for c in self.keys),
            columns=tuple(with_unit(c) for c in self.columns),
        )

    @property
    def drifted(self) -> bool:
        return bool(self.added or self.removed)


def _numeric(t: DataType) -> bool:
    return isinstance(t, IntegerType | DecimalType | NumberType | FloatType | DoubleType)


def _scale_and_digits(t: DataType) -> tuple[int, int]:
    if isinstance(t, DecimalType):
        return t.scale, t.integer_digits
    if isinstance(t, IntegerType):
        return 0, len(str(2 ** (t.bits - 1)))
    return NUMBER_SCALE, 38 - NUMBER_SCALE


def _common(
    name: str, target: str, a: DataType, b: DataType, spec: ReconSpec
) -> tuple[Comparison, str | None]:
    rule = spec.rule(name)
    note = None
    if _numeric(a) and _numeric(b):
        if isinstance(a, FloatType | DoubleType) or isinstance(b, FloatType | DoubleType):
            return (
                Comparison(
                    name, target, Kind.FLOAT, absolute=rule.absolute, relative=rule.relative
                ),
                None,
            )
        (scale_a, digits_a), (scale_b, digits_b) = _scale_and_digits(a), _scale_and_digits(b)
        scale = max(scale_a, scale_b)
        digits = min(max(digits_a, digits_b), 38 - scale)
        decimal = Comparison(name, target, Kind.DECIMAL, digits + scale, scale)
        return attrs.evolve(decimal, absolute=rule.absolute, relative=rule.relative), None
    if rule.absolute or rule.relative:
        raise ValueError(
            f"rules.{name}: a tolerance applies to numbers; {name} is {a} in the source and "
            f"{b} in the target; remove absolute/relative"
        )
    if isinstance(a, TimestampType | DateType) and isinstance(b, TimestampType | DateType):
        if isinstance(a, DateType) and isinstance(b, DateType):
            return Comparison(name, target, Kind.EXACT), None
        return Comparison(name, target, Kind.TIMESTAMP), None
    if isinstance(a, StringType) and isinstance(b, StringType):
        return (
            Comparison(name, target, Kind.TEXT, trim=rule.trim, ignore_case=rule.ignore_case),
            None,
        )
    if type(a) is type(b):
        return Comparison(name, target, Kind.EXACT), None
    note = f"{name}: {a} in the source and {b} in the target share no type; compared as text"
    return Comparison(name, target, Kind.TEXT, trim=rule.trim, ignore_case=rule.ignore_case), note


def _find(schema: Schema, name: str, side: str, what: str) -> Column:
    column = schema.column(name)
    if column is None:
        raise ValueError(
            f"{what} {name!r} is not a column of the {side} (it has {', '.join(schema.names)}); "
            f"fix the name, or map it with [columns]"
        )
    return column


def align(spec: ReconSpec, source: Schema, target: Schema) -> Alignment:
    """The comparisons of ``spec`` between the two sides' schemas, and their drift.

    ValueError (bad input) names a key or selected column missing from a side."""
    keys = []
    notes = []
    for key in spec.keys:
        a = _find(source, key, "source", "key")
        b = _find(target, spec.target_name(key), "target", "key")
        comparison, note = _common(a.name, b.name, a.type, b.type, spec)
        keys.append(attrs.evolve(comparison, absolute=Decimal(0), relative=Decimal(0)))
        if note:
            notes.append(note)
    renames = {s: t for s, t in spec.columns}
    changes = diff(source, target, renames=renames)
    own = {c.lower() for c in spec.target_own}
    added = tuple(
        c.column for c in changes.of_kind(ColumnChangeKind.ADDED) if c.column.lower() not in own
    )
    kept = [c.name for c in target.columns if c.name.lower() in own]
    if kept:
        notes.append(f"the target's own columns, not compared: {', '.join(kept)}")
    removed = tuple(c.column for c in changes.of_kind(ColumnChangeKind.REMOVED))
    key_names = {k.lower() for k in spec.keys}
    wanted: Sequence[str] = spec.select or [
        c.name for c in source.columns if c.name not in removed and c.name.lower() not in key_names
    ]
    columns = []
    retyped = []
    for name in wanted:
        if name.lower() in key_names:
            continue
        a = _find(source, name, "source", "select column")
        b = _find(target, spec.target_name(a.name), "target", "column")
        comparison, note = _common(a.name, b.name, a.type, b.type, spec)
        columns.append(comparison)
        if a.type != b.type:
            retyped.append(f"{a.name}: {a.type} -> {b.type}, compared as {comparison.describe()}")
        if note:
            notes.append(note)
    for name, _ in spec.rules:
        if source.column(name) is None:
            raise ValueError(
                f"rules.{name}: not a column of the source (it has {', '.join(source.names)})"
            )
    if spec.select:
        selected = {s.lower() for s in spec.select}
        removed = tuple(r for r in removed if r.lower() in selected)
        added = ()
    return Alignment(tuple(keys), tuple(columns), added, removed, tuple(retyped), tuple(notes))
