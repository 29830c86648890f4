"""The text form of types: :func:`parse_type` reads the canonical string every type prints
as (``decimal(38,10)``, ``array<int64 not null>``, ``struct<id:int64 not null>``), bounded:
numbers of more than 12 digits and types nested deeper than 64 levels are refused by name.
"""

from __future__ import annotations

import re

from domain.schema import types as t

# Types nest (array<struct<...>>); deeper than this is a generated or hostile type, not data.
MAX_TYPE_DEPTH = 64

_SIMPLE: dict[str, t.DataType] = {
    "int8": t.IntegerType(8),
    "int16": t.IntegerType(16),
    "int32": t.IntegerType(32),
    "int64": t.IntegerType(64),
    "number": t.NumberType(),
    "float": t.FloatType(),
    "double": t.DoubleType(),
    "string": t.StringType(),
    "boolean": t.BooleanType(),
    "date": t.DateType(),
    "timestamp_tz": t.TimestampType(with_timezone=True),
    "timestamp_ntz": t.TimestampType(with_timezone=False),
    "binary": t.BinaryType(),
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
        self.depth = 0

    def error(self, reason: str, *, show_grammar: bool = True) -> TypeSyntaxError:
        hint = (
            "; expected e.g. int64, decimal(18,2), number, string(40), timestamp_tz, array<int32>, "
            "struct<id:int64 not null>, map<string,double>"
        )
        shown = repr(self.text) if len(self.text) <= 80 else repr(self.text[:77] + "...")
        return TypeSyntaxError(f"type {shown}: {reason}{hint if show_grammar else ''}")

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
        if len(token) > 12:  # no precision or length has more digits; never int() them all
            raise self.error(
                f"{token[:12]}... is a number of {len(token)} digits; decimal precision is "
                f"1..{t.MAX_DECIMAL_PRECISION}, string length 1..{t.MAX_STRING_LENGTH}",
                show_grammar=False,
            )
        return int(token)

    def not_null(self) -> bool:
        """Read an optional ``not null``; return the nullability it leaves."""
        if self.peek() == "not":
            self.take()
            self.take("null")
            return False
        return True

    def parse(self) -> t.DataType:
        result = self.data_type()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()!r} after the type")
        return result

    def data_type(self) -> t.DataType:
        self.depth += 1
        if self.depth > MAX_TYPE_DEPTH:
            raise self.error(
                f"nested more than {MAX_TYPE_DEPTH} levels deep; a type that deep is not a "
                f"column's",
                show_grammar=False,
            )
        try:
            return self._data_type()
        finally:
            self.depth -= 1

    def _data_type(self) -> t.DataType:
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
                return t.DecimalType(precision, scale)
            if word == "string" and self.peek() == "(":
                self.take("(")
                length = self.number()
                self.take(")")
                return t.StringType(length)
            if word == "array":
                self.take("<")
                element = self.data_type()
                contains_null = self.not_null()
                self.take(">")
                return t.ArrayType(element, contains_null)
            if word == "map":
                self.take("<")
                key = self.data_type()
                self.take(",")
                value = self.data_type()
                value_contains_null = self.not_null()
                self.take(">")
                return t.MapType(key, value, value_contains_null)
            if word == "struct":
                self.take("<")
                fields: list[t.StructField] = []
                while self.peek() != ">":
                    if fields:
                        self.take(",")
                    name = self.take()
                    self.take(":")
                    field_type = self.data_type()
                    fields.append(t.StructField(name, field_type, self.not_null()))
                self.take(">")
                return t.StructType(tuple(fields))
        except TypeSyntaxError:
            raise
        except ValueError as invalid:
            raise self.error(str(invalid), show_grammar=False) from None
        simple = _SIMPLE.get(word)
        if simple is None:
            raise self.error(f"unknown type {word!r}")
        return simple


def parse_type(text: str) -> t.DataType:
    """Read a type from its canonical string form (the inverse of ``str(type)``)."""
    return _Parser(text).parse()
