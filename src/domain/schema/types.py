"""The engine-neutral type system (CDM types) and its canonical text form.

Every type prints as one canonical string (``decimal(38,10)``, ``array<int64 not null>``,
``struct<id:int64 not null,name:string(200)>``) and :func:`parse_type` reads it back, so a
type is stored, compared and shown the same way everywhere (the grammar: type_syntax.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol, TypeAlias

import attrs

MAX_DECIMAL_PRECISION = 38
# The longest text a type may declare: Java's (and so Spark's) largest string, which bounds
# every engine the platform writes to (PostgreSQL's varchar stops at 10,485,760).
MAX_STRING_LENGTH = 2**31 - 1


def _integer_width(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value not in IntegerType.WIDTHS:
        raise ValueError(f"integer bits: expected one of 8, 16, 32, 64, got {value!r}")


@attrs.frozen
class IntegerType:
    """A signed integer of 8, 16, 32 or 64 bits."""

    WIDTHS: ClassVar[tuple[int, ...]] = (8, 16, 32, 64)
    bits: int = attrs.field(validator=_integer_width)

    @property
    def min_value(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def max_value(self) -> int:
        return (1 << (self.bits - 1)) - 1

    def __str__(self) -> str:
        return f"int{self.bits}"


def _precision(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 38:
        raise ValueError(
            f"decimal precision: expected 1 <= precision <= {MAX_DECIMAL_PRECISION}, got {value!r}"
        )


def _scale(instance: DecimalType, attribute: attrs.Attribute[int], value: int) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= instance.precision
    ):
        raise ValueError(
            f"decimal scale: expected 0 <= scale <= precision ({instance.precision}), got {value!r}"
        )


@attrs.frozen
class DecimalType:
    """An exact decimal with ``precision`` digits in all, ``scale`` of them after the point."""

    precision: int = attrs.field(validator=_precision)
    scale: int = attrs.field(default=0, validator=_scale)

    @property
    def integer_digits(self) -> int:
        return self.precision - self.scale

    def __str__(self) -> str:
        return f"decimal({self.precision},{self.scale})"


@attrs.frozen
class NumberType:
    """An exact decimal without a declared precision or scale (PostgreSQL ``numeric``,
    Oracle ``NUMBER``): it holds any finite decimal, so only a profile tells what it holds."""

    def __str__(self) -> str:
        return "number"


@attrs.frozen
class FloatType:
    """A 32-bit binary floating point number."""

    def __str__(self) -> str:
        return "float"


@attrs.frozen
class DoubleType:
    """A 64-bit binary floating point number."""

    def __str__(self) -> str:
        return "double"


def _short_number(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**20:
        return f"a number of {len(str(abs(value)))} digits"
    return repr(value)


def _max_length(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STRING_LENGTH
    ):
        raise ValueError(
            f"string max_length: expected 1 <= length <= {MAX_STRING_LENGTH} or none, "
            f"got {_short_number(value)}"
        )


@attrs.frozen
class StringType:
    """Text, unbounded or with a maximum length in characters."""

    max_length: int | None = attrs.field(default=None, validator=_max_length)

    def __str__(self) -> str:
        return "string" if self.max_length is None else f"string({self.max_length})"


@attrs.frozen
class BooleanType:
    def __str__(self) -> str:
        return "boolean"


@attrs.frozen
class DateType:
    def __str__(self) -> str:
        return "date"


@attrs.frozen
class TimestampType:
    """A timestamp; ``with_timezone`` marks an instant (UTC-normalised), else a wall-clock time."""

    with_timezone: bool

    def __str__(self) -> str:
        return "timestamp_tz" if self.with_timezone else "timestamp_ntz"


@attrs.frozen
class BinaryType:
    def __str__(self) -> str:
        return "binary"


def _not_null_suffix(nullable: bool) -> str:
    return "" if nullable else " not null"


@attrs.frozen
class ArrayType:
    element: DataType
    contains_null: bool = True

    def __str__(self) -> str:
        return f"array<{self.element}{_not_null_suffix(self.contains_null)}>"


_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _field_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _FIELD_NAME.match(value):
        raise ValueError(
            f"struct field name: expected letters, digits and '_' (not starting with a digit), "
            f"got {value!r}"
        )


@attrs.frozen
class StructField:
    name: str = attrs.field(validator=_field_name)
    type: DataType
    nullable: bool = True

    def __str__(self) -> str:
        return f"{self.name}:{self.type}{_not_null_suffix(self.nullable)}"


def first_repeated_name(names: Iterable[str]) -> tuple[str, str] | None:
    """The first name that repeats one before it, ignoring case, and that earlier one (names
    of columns and of struct fields are case-insensitive); None when all differ."""
    seen: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if key in seen:
            return name, seen[key]
        seen[key] = name
    return None


class Named(Protocol):
    @property
    def name(self) -> str: ...


def unique_names(
    field: str, noun: str
) -> Callable[[object, attrs.Attribute[tuple[Any, ...]], tuple[Named, ...]], None]:
    """An attrs validator refusing two items of ``field`` whose names differ only in case
    (``noun``: what the message calls the name)."""

    def validate(
        instance: object, attribute: attrs.Attribute[tuple[Any, ...]], value: tuple[Named, ...]
    ) -> None:
        repeated = first_repeated_name(item.name for item in value)
        if repeated is not None:
            raise ValueError(
                f"{field}: duplicate {noun} {repeated[0]!r} (names are case-insensitive; "
                f"{repeated[1]!r} came first); rename one of them"
            )

    return validate


def _fields(value: Iterable[StructField]) -> tuple[StructField, ...]:
    return tuple(value)


@attrs.frozen
class StructType:
    fields: tuple[StructField, ...] = attrs.field(
        converter=_fields, validator=unique_names("struct fields", "name")
    )

    def __str__(self) -> str:
        return f"struct<{','.join(str(f) for f in self.fields)}>"


@attrs.frozen
class MapType:
    key: DataType
    value: DataType
    value_contains_null: bool = True

    def __str__(self) -> str:
        return f"map<{self.key},{self.value}{_not_null_suffix(self.value_contains_null)}>"


DataType: TypeAlias = (
    IntegerType
    | DecimalType
    | NumberType
    | FloatType
    | DoubleType
    | StringType
    | BooleanType
    | DateType
    | TimestampType
    | BinaryType
    | ArrayType
    | StructType
    | MapType
)
