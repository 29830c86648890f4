"""Columns and schemas: ordered, uniquely named (case-insensitively), fingerprinted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs

from domain.schema.types import DataType, unique_names


def _column_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"column name: must be a non-empty string, got {value!r}")


@attrs.frozen
class Column:
    name: str = attrs.field(validator=_column_name)
    type: DataType
    nullable: bool = True

    def __str__(self) -> str:
        return f"{self.name} {self.type}{'' if self.nullable else ' not null'}"


def _columns(value: Iterable[Column]) -> tuple[Column, ...]:
    return tuple(value)


@attrs.frozen
class Schema:
    """An ordered list of columns.

    The fingerprint covers every column's name (as spelled), type (with precision, scale,
    length, time zone and nested fields), nullability and position: it changes when any of
    these change and for nothing else.
    """

    columns: tuple[Column, ...] = attrs.field(
        converter=_columns, validator=unique_names("columns", "column name")
    )

    @classmethod
    def from_columns(cls, columns: Iterable[Column]) -> Schema:
        return cls(tuple(columns))

    @property
    def fingerprint(self) -> str:
        canonical = "\n".join(
            f"{column.name}\t{column.type}\t{'null' if column.nullable else 'not null'}"
            for column in self.columns
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def column(self, name: str) -> Column | None:
        """The column called ``name``, compared case-insensitively."""
        key = name.lower()
        return next((c for c in self.columns if c.name.lower() == key), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)
