"""The engine-neutral type system (CDM types) and its canonical text form.

Every type prints as one canonical string (``decimal(38,10)``, ``array<int64 not null>``,
``struct<id:int64 not null,name:string(200)>``) and :func:`parse_type` reads it back, so a
type is stored, compared and shown the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar, TypeAlias

import attrs

MAX_DECIMAL_PRECISION = 38


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


def _max_length(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"string max_length: expected a positive integer or none, got {value!r}")


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


def _unique_field_names(
    instance: object,
    attribute: attrs.Attribute[tuple[StructField, ...]],
    value: tuple[StructField, ...],
) -> None:
    seen: dict[str, str] = {}
    for item in value:
        key = item.name.lower()
        if key in seen:
            raise ValueError(
                f"struct fields: duplicate name {item.name!r} (names are case-insensitive; "
                f"{seen[key]!r} came first)"
            )
        seen[key] = item.name


def _fields(value: Iterable[StructField]) -> tuple[StructField, ...]:
    return tuple(value)


@attrs.frozen
class StructType:
    fields: tuple[StructField, ...] = attrs.field(converter=_fields, validator=_unique_field_names)

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

_SIMPLE: dict[str, DataType] = {
    "int8": IntegerType(8),
    "int16": IntegerType(16),
    "int32": IntegerType(32),
    "int64": IntegerType(64),
    "number": NumberType(),
    "float": FloatType(),
    "double": DoubleType(),
    "string": StringType(),
    "boolean": BooleanType(),
    "date": DateType(),
    "timestamp_tz": TimestampType(with_timezone=True),
    "timestamp_ntz": TimestampType(with_timezone=False),
    "binary": BinaryType(),
}

_TOKEN = re.compile(r"\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>\d+)|(?P<punct>[<>(),:]))")


class TypeSyntaxError(ValueError):
    """A type string that is not in the canonical form."""


class _Parser:
    """Recursive descent over the canonical type grammar."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[str] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                if text[position:].strip() == "":
                    break
                raise self.error(f"unexpected character {text[position]!r} at offset {position}")
            self.tokens.append(match.group(match.lastgroup or "word"))
            position = match.end()
        self.index = 0

    def error(self, reason: str, *, show_grammar: bool = True) -> TypeSyntaxError:
        hint = (
            "; expected e.g. int64, decimal(18,2), number, string(40), timestamp_tz, array<int32>, "
            "struct<id:int64 not null>, map<string,double>"
        )
        return TypeSyntaxError(f"type {self.text!r}: {reason}{hint if show_grammar else ''}")

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise self.error("ends too early")
        if expected is not None and token != expected:
            raise self.error(f"expected {expected!r}, got {token!r}")
        self.index += 1
        return token

    def number(self) -> int:
        token = self.take()
        if not token.isdigit():
            raise self.error(f"expected a number, got {token!r}")
        return int(token)

    def not_null(self) -> bool:
        """Read an optional ``not null``; return the nullability it leaves."""
        if self.peek() == "not":
            self.take()
            self.take("null")
            return False
        return True

    def parse(self) -> DataType:
        result = self.data_type()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()!r} after the type")
        return result

    def data_type(self) -> DataType:
        word = self.take()
        try:
            if word == "decimal":
                self.take("(")
                precision = self.number()
                scale = 0
                if self.peek() == ",":
                    self.take(",")
                    scale = self.number()
                self.take(")")
                return DecimalType(precision, scale)
            if word == "string" and self.peek() == "(":
                self.take("(")
                length = self.number()
                self.take(")")
                return StringType(length)
            if word == "array":
                self.take("<")
                element = self.data_type()
                contains_null = self.not_null()
                self.take(">")
                return ArrayType(element, contains_null)
            if word == "map":
                self.take("<")
                key = self.data_type()
                self.take(",")
                value = self.data_type()
                value_contains_null = self.not_null()
                self.take(">")
                return MapType(key, value, value_contains_null)
            if word == "struct":
                self.take("<")
                fields: list[StructField] = []
                while self.peek() != ">":
                    if fields:
                        self.take(",")
                    name = self.take()
                    self.take(":")
                    field_type = self.data_type()
                    fields.append(StructField(name, field_type, self.not_null()))
                self.take(">")
                return StructType(tuple(fields))
        except TypeSyntaxError:
            raise
        except ValueError as invalid:
            raise self.error(str(invalid), show_grammar=False) from None
        simple = _SIMPLE.get(word)
        if simple is None:
            raise self.error(f"unknown type {word!r}")
        return simple


def parse_type(text: str) -> DataType:
    """Read a type from its canonical string form (the inverse of ``str(type)``)."""
    return _Parser(text).parse()
