"""The SQL of a recon inside PostgreSQL: names, each value normalised as
``domain.recon.compare`` states, the row text and its 64-bit hash, and the derived table of
a side's hashed rows.

Decimals at the common scale, timestamps as UTC microseconds rounded half up to the common
precision, text as stored or trimmed/lower-cased; each value enters the row text as its
length, ':' and the value (NULL as '~'), so no separator inside a value can shift a
boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.ingestion.spec import SourceSpec
from domain.recon.compare import Comparison, Kind, Precision
from domain.recon.spec import Side
from domain.schema import Schema
from domain.schema.types import DataType, DecimalType, IntegerType


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_of(side: SourceSpec) -> tuple[str | None, str]:
    """The side's (schema, table); no schema when the table is not qualified."""
    schema, _, table = (side.table or "").rpartition(".")
    return (schema or None), table


def qualified(side: SourceSpec) -> str:
    schema, table = table_of(side)
    return f"{ident(schema)}.{ident(table)}" if schema else ident(table)


def _micros(column: str) -> str:
    return f"(extract(epoch from {column}) * 1000000)::bigint"


def normalised(
    c: Comparison, column: str, unit: Precision | None = None, declared: DataType | None = None
) -> str:
    """The SQL of ``column``'s value as the comparison compares it; ``declared`` (the
    column's type on its side) spares casts that would not change its text."""
    if c.kind is Kind.DECIMAL:
        if isinstance(declared, IntegerType) and c.scale == 0:
            return column
        if isinstance(declared, DecimalType) and declared.scale == c.scale:
            return column
        if c.scale == 0 and c.precision <= 18:
            return f"({column})::bigint"
        return f"({column})::numeric({c.precision},{c.scale})"
    if c.kind is Kind.TIMESTAMP:
        step = (unit or c.unit).value
        if step == 1:
            return _micros(column)
        return f"(floor(({_micros(column)} + {step // 2})::numeric / {step})::bigint * {step})"
    if c.kind is Kind.FLOAT:
        return f"(case when ({column})::float8 = 0 then 0::float8 else ({column})::float8 end)"
    value = f"({column})::text"
    if c.kind is Kind.TEXT and c.trim:
        value = f"btrim({value}, ' ')"
    if c.kind is Kind.TEXT and c.ignore_case:
        value = f"lower({value})"
    return value


def values(
    comparisons: Sequence[Comparison],
    role: Side,
    schema: Schema | None,
    unit: Precision | None = None,
) -> list[str]:
    """The normalised SQL of each compared column on the ``role`` side (``schema``: that
    side's columns, when known)."""
    found = []
    for c in comparisons:
        column = schema.column(c.on(role)) if schema is not None else None
        declared = column.type if column is not None else None
        found.append(normalised(c, ident(c.on(role)), unit, declared))
    return found


def _framed(refs: Sequence[str]) -> str:
    """Values as one text: each as its length, ':' and itself (NULL: '~'), joined by ','."""
    parts = [f"coalesce(length({r})::text || ':' || {r}, '~')" for r in refs]
    return " || ',' || ".join(parts) or "''"


def row_hash(refs: Sequence[str]) -> str:
    """PostgreSQL's native 64-bit hash of the framed values (references to text values)."""
    return f"hashtextextended({_framed(refs)}, 0)"


def hashed(table: str, where: str, keys: list[str], compared: list[str], first: str) -> str:
    """The rows as a derived table ``h``: normalised key texts ``k*``, value texts ``c*``,
    the key's hash ``kh``, the row's hash ``rh``, ``nk`` (a NULL key part) and ``r0`` (the
    first key as stored). OFFSET 0 keeps PostgreSQL from inlining each expression at every
    reference: each is computed once per row."""
    named = [f"({k})::text as k{i}" for i, k in enumerate(keys)]
    named += [f"({v})::text as c{j}" for j, v in enumerate(compared)]
    key_refs = [f"n.k{i}" for i in range(len(keys))]
    row_refs = [*key_refs, *(f"n.c{j}" for j in range(len(compared)))]
    nulls = " or ".join(f"{r} is null" for r in key_refs) or "false"
    return (
        f"(select n.*, {row_hash(key_refs)} as kh, {row_hash(row_refs)} as rh, ({nulls}) as nk "
        f"from (select {', '.join(named)}, t.{first} as r0 from {table} t where {where} "
        f"offset 0) n offset 0) h"
    )
