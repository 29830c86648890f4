"""A reconciliation engine in memory: each side a list of rows (by the side's table name or
path), normalised column by column as ``domain.recon.compare`` states, aggregated in one
pass and diffed key by key (``domain.recon.keydiff``).

A real adapter of the ReconEngine port for fast tests of the recon use case (no JVM, no
database); it passes the same contract suite as the Spark and PostgreSQL engines. Values
compare exactly (a tolerance is the Spark engine's), so a tolerant column counts as changed
whenever its value differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from adapters.files.key_diff_csv import write_key_diff
from domain.recon import checks
from domain.recon.checks import ColumnAggregate, KeyDiff, SideAggregates
from domain.recon.compare import Alignment, Comparison, Kind, Precision
from domain.recon.keydiff import by_key, classify
from domain.recon.spec import ReconSpec, Side
from domain.schema import Schema

Row = Mapping[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: Any) -> int:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) // timedelta(microseconds=1)
    if isinstance(value, date):
        return _micros(datetime(value.year, value.month, value.day))
    return int(value)


def normalised(c: Comparison, value: Any, unit: Precision | None = None) -> Any:
    """``value`` as the comparison compares it (None stays None)."""
    if value is None:
        return None
    if c.kind is Kind.DECIMAL:
        exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-c.scale), ROUND_HALF_UP)
        return exact.copy_abs() if exact == 0 else exact  # -0.00 is 0.00
    if c.kind is Kind.TIMESTAMP:
        step = (unit or c.unit).value
        return (_micros(value) + step // 2) // step * step
    if c.kind is Kind.FLOAT:
        number = float(value)
        return 0.0 if number == 0 else number
    text = str(value)
    if c.kind is Kind.TEXT and c.trim:
        text = text.strip(" ")
    if c.kind is Kind.TEXT and c.ignore_case:
        text = text.lower()
    return text


def _row_hash(values: Sequence[Any]) -> int:
    """A signed 64-bit hash of the values' texts, each framed by its length (NULL: '~')."""
    framed = ",".join("~" if v is None else f"{len(str(v))}:{v}" for v in values)
    return int.from_bytes(
        hashlib.blake2b(framed.encode(), digest_size=8).digest(), "big", signed=True
    )


def _finest(micros: int) -> Precision:
    if micros % 1000:
        return Precision.MICROSECONDS
    if micros % 1_000_000:
        return Precision(1000)
    return Precision(1_000_000)


class InMemoryReconEngine:
    """Implements the ReconEngine port over rows held in memory: ``tables`` maps a side's
    table name (or path) to its rows and schema."""

    def __init__(self, tables: Mapping[str, tuple[Sequence[Row], Schema]]) -> None:
        self.tables = dict(tables)
        self.closed = False

    def _side(self, spec: ReconSpec, role: Side) -> tuple[Sequence[Row], Schema]:
        side = spec.side(role)
        name = side.table or side.path or ""
        if name not in self.tables:
            raise ValueError(f"{spec.name}: the {role} {name!r} is not held in memory")
        rows, schema = self.tables[name]
        kept = [
            row
            for row in rows
            if all((str(row.get(r.column)) == r.value) != r.negate for r in spec.rows(role))
        ]
        return kept, schema

    def schemas(self, spec: ReconSpec) -> tuple[Schema, Schema]:
        return self._side(spec, Side.SOURCE)[1], self._side(spec, Side.TARGET)[1]

    def aggregates(
        self, spec: ReconSpec, alignment: Alignment
    ) -> tuple[SideAggregates, SideAggregates]:
        return checks.hashed_at_common_precision(
            alignment, partial(self._aggregate, spec), partial(self._hash, spec)
        )

    def _values(self, alignment: Alignment, row: Row, role: Side) -> list[Any]:
        return [normalised(c, row.get(c.on(role))) for c in alignment.all]

    def _hash(self, spec: ReconSpec, alignment: Alignment, role: Side) -> int:
        rows, _ = self._side(spec, role)
        return sum(_row_hash(self._values(alignment, row, role)) for row in rows)

    def _aggregate(self, spec: ReconSpec, alignment: Alignment, role: Side) -> SideAggregates:
        rows, _ = self._side(spec, role)
        columns = {}
        for c in alignment.all:
            raw = [row.get(c.on(role)) for row in rows]
            found = [normalised(c, v) for v in raw if v is not None]
            total = None
            if c.kind in (Kind.DECIMAL, Kind.FLOAT) and found:
                total = sum(found, Decimal(0) if c.kind is Kind.DECIMAL else 0.0)
            unit = None
            if c.kind is Kind.TIMESTAMP and found:
                unit = min((_finest(_micros(v)) for v in raw if v is not None), default=None)
            columns[c.source] = ColumnAggregate(
                nulls=len(raw) - len(found),
                total=total,
                lowest=min(found, default=None),
                highest=max(found, default=None),
                unit=unit,
            )
        hashes = {Precision.MICROSECONDS: self._hash(spec, alignment, role)}
        return SideAggregates(len(rows), columns, hashes)

    def _pulled(self, spec: ReconSpec, alignment: Alignment, role: Side) -> list[list[Any]]:
        """Each row as the SQL engine pulls it: key texts, row hash, value texts."""
        rows, _ = self._side(spec, role)
        pulled = []
        for row in rows:
            values = self._values(alignment, row, role)
            keys, rest = values[: len(alignment.keys)], values[len(alignment.keys) :]
            texts = [None if v is None else str(v) for v in rest]
            key_texts = [None if v is None else str(v) for v in keys]
            pulled.append([*key_texts, _row_hash(values), *texts])
        return pulled

    def diff(self, spec: ReconSpec, alignment: Alignment, output: str | None) -> KeyDiff:
        if output is not None and not output.endswith(".csv"):
            raise ValueError(
                f"--output {output}: the in-memory engine writes .csv; name a .csv path"
            )
        source = self._pulled(spec, alignment, Side.SOURCE)
        target = self._pulled(spec, alignment, Side.TARGET)
        width = len(alignment.keys)
        nulls = (
            sum(any(v is None for v in row[:width]) for row in source),
            sum(any(v is None for v in row[:width]) for row in target),
        )
        classified = classify(alignment, by_key(alignment, source), by_key(alignment, target))
        names = [c.source for c in alignment.keys]
        if output is not None:
            write_key_diff(output, names, classified)
        return classified.key_diff("rows compared in memory", names, spec.samples, nulls)

    def close(self) -> None:
        self.closed = True
