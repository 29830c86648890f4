"""Differences between two schemas, and how much each type change can lose.

``diff(old, new)`` compares columns by name, case-insensitively; a rename is only seen
where the caller maps it (``renames={"old": "new"}``), never guessed. Every type change is
classified: **widening** (no value can be lost), **narrowing** (some values can be lost) or
**incompatible** (values do not carry over).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from domain.schema.schema import Column, Schema
from domain.schema.types import (
    ArrayType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    MapType,
    NumberType,
    StringType,
    StructType,
    TimestampType,
)


class TypeChange(enum.IntEnum):
    """How a type change treats existing values; ordered from harmless to breaking."""

    SAME = 0
    WIDENING = 1
    NARROWING = 2
    INCOMPATIBLE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def severity(classification: str | None) -> str:
    """A change's severity as `metadata diff` and the dashboard show it: the type change's
    label, or ``info`` for a change without one."""
    return classification or "info"


class ColumnChangeKind(enum.Enum):
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    RETYPED = "retyped"
    NULLABILITY = "nullability"
    REORDERED = "reordered"


# Decimal digits every value of an integer width can need (int8 max 127: 3 digits).
INTEGER_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19}
# Integer widths whose every value a binary float represents exactly (24/53-bit mantissa).
_EXACT_IN_FLOAT = 16
_EXACT_IN_DOUBLE = 32


def classify(old: DataType, new: DataType, *, naive_timezone: str | None = None) -> TypeChange:
    """How a value of type ``old`` fares when stored as ``new``.

    ``naive_timezone`` is the zone a policy assumes for timestamps without one; only with it
    is timestamp_ntz -> timestamp_tz (and date -> timestamp_tz) a widening.
    """
    if old == new:
        return TypeChange.SAME
    match old, new:
        case (IntegerType() | DecimalType()), NumberType():
            return TypeChange.WIDENING  # an unbounded decimal holds every exact value
        case NumberType(), (DecimalType() | IntegerType() | FloatType() | DoubleType()):
            return TypeChange.NARROWING  # only the values seen can say whether they fit
        case IntegerType(bits=a), IntegerType(bits=b):
            return TypeChange.WIDENING if b >= a else TypeChange.NARROWING
        case IntegerType(bits=a), DecimalType():
            return (
                TypeChange.WIDENING
                if new.integer_digits >= INTEGER_DIGITS[a]
                else TypeChange.NARROWING
            )
        case IntegerType(bits=a), FloatType():
            return TypeChange.WIDENING if a <= _EXACT_IN_FLOAT else TypeChange.NARROWING
        case IntegerType(bits=a), DoubleType():
            return TypeChange.WIDENING if a <= _EXACT_IN_DOUBLE else TypeChange.NARROWING
        case DecimalType(), DecimalType():
            fits = new.scale >= old.scale and new.integer_digits >= old.integer_digits
            return TypeChange.WIDENING if fits else TypeChange.NARROWING
        case DecimalType(), IntegerType(bits=b):
            fits = old.scale == 0 and 10**old.precision - 1 <= new.max_value
            return TypeChange.WIDENING if fits else TypeChange.NARROWING
        case (DecimalType() | FloatType() | DoubleType()), (
            FloatType() | DoubleType() | DecimalType() | IntegerType() | NumberType()
        ):
            if isinstance(old, FloatType) and isinstance(new, DoubleType):
                return TypeChange.WIDENING
            return TypeChange.NARROWING  # rounding, range or NaN
        case StringType(max_length=a), StringType(max_length=b):
            fits = b is None or (a is not None and b >= a)
            return TypeChange.WIDENING if fits else TypeChange.NARROWING
        case TimestampType(with_timezone=False), TimestampType(with_timezone=True):
            return TypeChange.WIDENING if naive_timezone else TypeChange.INCOMPATIBLE
        case TimestampType(with_timezone=True), TimestampType(with_timezone=False):
            return TypeChange.NARROWING  # the instant's offset is dropped
        case DateType(), TimestampType(with_timezone=tz):
            return TypeChange.WIDENING if not tz or naive_timezone else TypeChange.INCOMPATIBLE
        case TimestampType(), DateType():
            return TypeChange.NARROWING
        case ArrayType(), ArrayType():
            return max(
                classify(old.element, new.element, naive_timezone=naive_timezone),
                _nullable_change(old.contains_null, new.contains_null),
                TypeChange.WIDENING,
            )
        case MapType(), MapType():
            return max(
                classify(old.key, new.key, naive_timezone=naive_timezone),
                classify(old.value, new.value, naive_timezone=naive_timezone),
                _nullable_change(old.value_contains_null, new.value_contains_null),
                TypeChange.WIDENING,
            )
        case StructType(), StructType():
            return _classify_struct(old, new, naive_timezone)
    return TypeChange.INCOMPATIBLE


def _nullable_change(old_nullable: bool, new_nullable: bool) -> TypeChange:
    if old_nullable and not new_nullable:
        return TypeChange.NARROWING  # existing nulls have nowhere to go
    return TypeChange.SAME


def _classify_struct(old: StructType, new: StructType, naive_timezone: str | None) -> TypeChange:
    worst = TypeChange.WIDENING
    new_fields = {f.name.lower(): f for f in new.fields}
    for field in old.fields:
        match = new_fields.pop(field.name.lower(), None)
        if match is None:
            worst = max(worst, TypeChange.NARROWING)  # the field's values are dropped
            continue
        worst = max(
            worst,
            classify(field.type, match.type, naive_timezone=naive_timezone),
            _nullable_change(field.nullable, match.nullable),
        )
    for added in new_fields.values():
        worst = max(worst, TypeChange.WIDENING if added.nullable else TypeChange.INCOMPATIBLE)
    return worst


@attrs.frozen
class ColumnDiff:
    """One difference. ``column`` is the name in the new schema (the old name for removals)."""

    kind: ColumnChangeKind
    column: str
    old: Column | None = None
    new: Column | None = None
    change: TypeChange = TypeChange.SAME
    detail: str = ""

    @property
    def severity(self) -> str:
        """How the change is shown: its type change (widening, narrowing, incompatible), or
        ``info`` where no type changes (an added, removed, renamed or moved column)."""
        return severity(self.change.label if self.change else None)


@attrs.frozen
class SchemaDiff:
    """Everything that differs between two schemas, in a deterministic order: the new
    schema's columns in order (added, renamed, retyped, nullability, reordered), then the
    removed columns in the old schema's order."""

    changes: tuple[ColumnDiff, ...]
    new_order: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def of_kind(self, kind: ColumnChangeKind) -> tuple[ColumnDiff, ...]:
        return tuple(c for c in self.changes if c.kind is kind)

    def apply(self, old: Schema) -> Schema:
        """``old`` with every change made; ``diff(old, new).apply(old) == new``."""
        columns = {c.name.lower(): c for c in old.columns}
        for change in self.changes:
            if change.kind is ColumnChangeKind.REMOVED:
                assert change.old is not None
                columns.pop(change.old.name.lower())
            elif change.kind is ColumnChangeKind.RENAMED:
                assert change.old is not None and change.new is not None
                columns.pop(change.old.name.lower())
                columns[change.new.name.lower()] = change.new
            elif change.new is not None:
                columns[change.new.name.lower()] = change.new
        return Schema.from_columns(columns[name.lower()] for name in self.new_order)


def _describe(old: DataType, new: DataType, change: TypeChange) -> str:
    if isinstance(old, DecimalType) and isinstance(new, DecimalType):
        lost = []
        if new.integer_digits < old.integer_digits:
            lost.append(f"{old.integer_digits - new.integer_digits} integer digit(s)")
        if new.scale < old.scale:
            lost.append(f"{old.scale - new.scale} fractional digit(s)")
        if lost:
            return f"values can lose {' and '.join(lost)} (rounding or overflow)"
    if (
        isinstance(old, StringType)
        and isinstance(new, StringType)
        and change is TypeChange.NARROWING
    ):
        return f"text longer than {new.max_length} characters would be cut"
    if (
        change is TypeChange.INCOMPATIBLE
        and isinstance(old, TimestampType)
        and isinstance(new, TimestampType)
    ):
        return "timestamps without a time zone need the policy's naive_timezone to become instants"
    return {
        TypeChange.WIDENING: "every value fits the new type",
        TypeChange.NARROWING: "some values may not fit the new type",
        TypeChange.INCOMPATIBLE: "values do not carry over to the new type",
        TypeChange.SAME: "",
    }[change]


def diff(
    old: Schema,
    new: Schema,
    *,
    renames: Mapping[str, str] | None = None,
    naive_timezone: str | None = None,
) -> SchemaDiff:
    """The differences from ``old`` to ``new`` (see the module docstring)."""
    new_of_old = {k.lower(): v.lower() for k, v in (renames or {}).items()}
    old_by_new_key: dict[str, Column] = {}
    for column in old.columns:
        key = new_of_old.get(column.name.lower(), column.name.lower())
        old_by_new_key[key] = column
    changes: list[ColumnDiff] = []
    common_new_order: list[str] = []
    for column in new.columns:
        before = old_by_new_key.get(column.name.lower())
        if before is None:
            changes.append(
                ColumnDiff(
                    ColumnChangeKind.ADDED, column.name, new=column, detail=f"new column {column}"
                )
            )
            continue
        common_new_order.append(column.name.lower())
        if before.name != column.name:
            # A mapped rename, or the same name spelled differently (names match by case).
            same_name = before.name.lower() == column.name.lower()
            detail = f"spelled {before.name} before" if same_name else f"renamed from {before.name}"
            changes.append(
                ColumnDiff(
                    ColumnChangeKind.RENAMED, column.name, old=before, new=column, detail=detail
                )
            )
        if before.type != column.type:
            change = classify(before.type, column.type, naive_timezone=naive_timezone)
            changes.append(
                ColumnDiff(
                    ColumnChangeKind.RETYPED,
                    column.name,
                    old=before,
                    new=column,
                    change=change,
                    detail=_describe(before.type, column.type, change),
                )
            )
        if before.nullable != column.nullable:
            change = TypeChange.WIDENING if column.nullable else TypeChange.NARROWING
            detail = (
                "now accepts nulls"
                if column.nullable
                else "now refuses nulls; existing nulls would fail"
            )
            changes.append(
                ColumnDiff(
                    ColumnChangeKind.NULLABILITY,
                    column.name,
                    old=before,
                    new=column,
                    change=change,
                    detail=detail,
                )
            )
    kept = set(common_new_order)
    common_old_order = [key for key in old_by_new_key if key in kept]  # dicts keep old order
    if common_old_order != common_new_order:
        old_index = {key: i for i, key in enumerate(common_old_order)}
        for position, key in enumerate(common_new_order):
            if old_index[key] != position:
                moved = new.column(key)
                assert moved is not None
                changes.append(
                    ColumnDiff(
                        ColumnChangeKind.REORDERED,
                        moved.name,
                        old=old_by_new_key[key],
                        new=moved,
                        detail=f"position {old_index[key] + 1} -> {position + 1} among kept columns",
                    )
                )
    new_keys = {c.name.lower() for c in new.columns}
    for key, column in old_by_new_key.items():
        if key not in new_keys:
            changes.append(
                ColumnDiff(
                    ColumnChangeKind.REMOVED,
                    column.name,
                    old=column,
                    detail=f"column {column} is gone",
                )
            )
    return SchemaDiff(_ordered(changes, new), tuple(c.name for c in new.columns))


_KIND_ORDER = {kind: i for i, kind in enumerate(ColumnChangeKind)}


def _ordered(changes: list[ColumnDiff], new: Schema) -> tuple[ColumnDiff, ...]:
    position = {c.name.lower(): i for i, c in enumerate(new.columns)}

    def key(change: ColumnDiff) -> tuple[int, int, int]:
        if change.kind is ColumnChangeKind.REMOVED:
            return (1, 0, 0)  # removals keep their (old-order) sequence after the rest
        return (0, position[change.column.lower()], _KIND_ORDER[change.kind])

    return tuple(sorted(changes, key=key))
