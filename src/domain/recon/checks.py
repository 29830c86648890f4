"""What each check found, and how it is judged: pure functions from the engine's counts to
``ReconResult`` payloads, one sentence of detail each.

Checks: ``schema`` (drift first), ``row_count``, ``aggregates`` (per column nulls, sum, min,
max), ``row_hash`` (an order-independent hash of all rows), ``three_way`` (source, the
ingestion run's claim, target), ``baseline`` (the row count against recent runs) and
``key_diff`` (keys only in the source, only in the target, in both with other values).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from domain.metadata.payloads import ReconResult, ReconStatus
from domain.recon.compare import Alignment, Comparison, Kind, Precision, common_precision
from domain.recon.spec import Claim, Side, Thresholds

PASSED, FAILED = ReconStatus.PASSED, ReconStatus.FAILED
HASH_MODULUS = 2**64
FLOAT_SUM_SLACK = Decimal("1e-9")  # float sums depend on the order of addition


@attrs.frozen
class ColumnAggregate:
    """One column of one side: nulls, and the sum (numbers), min and max of its normalised
    values (Decimal for decimals, float for floats, microseconds since the epoch for
    timestamps, text otherwise); ``unit`` is the finest precision its timestamps show."""

    nulls: int
    total: Decimal | float | None = None
    lowest: object = None
    highest: object = None
    unit: Precision | None = None


@attrs.frozen
class SideAggregates:
    """One side in one pass: its rows, each compared column (by source name), and the
    order-independent hash of its rows at each timestamp precision (one when it has none)."""

    rows: int
    columns: Mapping[str, ColumnAggregate]
    row_hashes: Mapping[Precision, int]


@attrs.frozen
class KeyDiff:
    """The key-level diff: how many keys fall in each category, how many changed keys
    differ in each column, up to N sample keys per category (each a JSON object)."""

    method: str
    missing: int  # only in the source
    extra: int  # only in the target
    changed: int
    duplicate_source: int = 0
    duplicate_target: int = 0
    null_key_source: int = 0
    null_key_target: int = 0
    by_column: tuple[tuple[str, int], ...] = ()
    samples: tuple[tuple[str, str], ...] = ()


def key_text(names: Sequence[str], values: Sequence[object]) -> str:
    """A key as a JSON object (NULL parts as null): unambiguous whatever the values hold."""
    return json.dumps(dict(zip(names, (_plain(v) for v in values), strict=True)), default=str)


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value if isinstance(value, float) else str(value)


def units(
    source: SideAggregates, target: SideAggregates, alignment: Alignment
) -> dict[str, Precision]:
    """Each timestamp column's common precision: the coarser the two sides' values show."""
    found = {}
    for c in alignment.timestamps:
        a, b = source.columns.get(c.source), target.columns.get(c.source)
        found[c.source] = common_precision(a.unit if a else None, b.unit if b else None)
    return found


T = TypeVar("T")


def one_then_other(work: Callable[[Side], T]) -> tuple[T, T]:
    """``work`` for the source, then for the target."""
    return work(Side.SOURCE), work(Side.TARGET)


def hashed_at_common_precision(
    alignment: Alignment,
    aggregate: Callable[[Alignment, Side], SideAggregates],
    rehash: Callable[[Alignment, Side], int],
    both: Callable[[Callable[[Side], Any]], tuple[Any, Any]] = one_then_other,
) -> tuple[SideAggregates, SideAggregates]:
    """Both sides' aggregates (an engine's one pass a side, the row hash at microseconds),
    with the row hash at the timestamps' common precision too: when it is coarser than
    microseconds, ``rehash`` hashes each side again at it (an engine's second pass), else the
    one pass's hashes stand. ``both`` runs a side's work for the two sides (one after the
    other, or at once)."""
    source, target = both(lambda side: aggregate(alignment, side))
    found = units(source, target, alignment)
    coarser = {u for u in found.values() if u is not Precision.MICROSECONDS}
    if not coarser:
        return source, target
    unit = max(coarser)
    at = alignment.at(found)
    again = both(lambda side: rehash(at, side))
    return (
        attrs.evolve(source, row_hashes={**source.row_hashes, unit: again[0]}),
        attrs.evolve(target, row_hashes={**target.row_hashes, unit: again[1]}),
    )


def _result(check: str, passed: bool, detail: str, scope: str, **fields: object) -> ReconResult:
    return ReconResult(check=check, status=PASSED if passed else FAILED, detail=detail, scope=scope, **fields)  # type: ignore[arg-type]


def schema_check(alignment: Alignment, scope: str = "") -> ReconResult:
    parts = []
    if alignment.removed:
        parts.append(f"only in the source: {', '.join(alignment.removed)}")
    if alignment.added:
        parts.append(f"only in the target: {', '.join(alignment.added)}")
    if alignment.retyped:
        parts.append(f"retyped: {'; '.join(alignment.retyped)}")
    parts.extend(alignment.notes)
    compared = ", ".join(c.describe() for c in alignment.all)
    detail = ("; ".join(parts) + "; " if parts else "the same columns; ") + f"compared: {compared}"
    counts = (
        ("removed", len(alignment.removed)),
        ("added", len(alignment.added)),
        ("retyped", len(alignment.retyped)),
    )
    return _result("schema", not alignment.drifted, detail, scope, counts=counts)


def row_count(source: int, target: int, thresholds: Thresholds, scope: str = "") -> ReconResult:
    gap = abs(source - target)
    detail = f"source {source:,} rows, target {target:,}" + (f": {gap:,} apart" if gap else "")
    return _result(
        "row_count",
        gap <= thresholds.row_count,
        detail,
        scope,
        expected=Decimal(source),
        actual=Decimal(target),
        tolerance=Decimal(thresholds.row_count),
        threshold=Decimal(thresholds.row_count),
        counts=(("source", source), ("target", target)),
    )


def _close(c: Comparison, a: object, b: object, rows: int = 1) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if (
        c.kind in (Kind.FLOAT, Kind.DECIMAL)
        and isinstance(a, int | float | Decimal)
        and isinstance(b, int | float | Decimal)
    ):
        if isinstance(a, float) and isinstance(b, float) and (math.isnan(a) or math.isnan(b)):
            return math.isnan(a) and math.isnan(b)
        x, y = Decimal(str(a)), Decimal(str(b))
        if x == y:
            return True
        if not (x.is_finite() and y.is_finite()):
            return False
        absolute = Decimal(str(c.absolute)) * rows
        relative = Decimal(str(c.relative)) + (
            FLOAT_SUM_SLACK if c.kind is Kind.FLOAT and rows > 1 else 0
        )
        return abs(x - y) <= max(absolute, relative * max(abs(x), abs(y)))
    return a == b


def _rounded(micros: object, unit: Precision) -> object:
    if not isinstance(micros, int):
        return micros
    return ((micros + unit.value // 2) // unit.value) * unit.value


def _shown(c: Comparison, value: object) -> str:
    if c.kind is Kind.TIMESTAMP and isinstance(value, int):
        try:
            return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)).isoformat()
        except OverflowError:
            return f"{value} us"
    return "NULL" if value is None else str(value)


def aggregates(
    source: SideAggregates, target: SideAggregates, alignment: Alignment, scope: str = ""
) -> ReconResult:
    """Per column nulls, sum, min and max, side by side, each at the common normalisation."""
    differences = []
    for c in alignment.all:
        a, b = source.columns.get(c.source), target.columns.get(c.source)
        if a is None or b is None:
            continue
        if a.nulls != b.nulls:
            differences.append(f"{c.source}: nulls {a.nulls:,} vs {b.nulls:,}")
        if not _close(c, a.total, b.total, rows=max(source.rows, target.rows, 1)):
            differences.append(f"{c.source}: sum {a.total} vs {b.total}")
        for measure in ("lowest", "highest"):
            x, y = getattr(a, measure), getattr(b, measure)
            if c.kind is Kind.TIMESTAMP:
                x, y = _rounded(x, c.unit), _rounded(y, c.unit)
            if not _close(c, x, y):
                word = "min" if measure == "lowest" else "max"
                differences.append(f"{c.source}: {word} {_shown(c, x)} vs {_shown(c, y)}")
    detail = (
        "; ".join(differences)
        if differences
        else f"nulls, sums, minima and maxima agree in {len(alignment.all)} column(s)"
    )
    return _result(
        "aggregates", not differences, detail, scope, counts=(("differences", len(differences)),)
    )


def row_hash(
    source: SideAggregates, target: SideAggregates, alignment: Alignment, scope: str = ""
) -> ReconResult:
    unit = (
        common_precision(*(c.unit for c in alignment.timestamps))
        if alignment.timestamps
        else Precision.MICROSECONDS
    )
    a = source.row_hashes.get(unit, 0) % HASH_MODULUS
    b = target.row_hashes.get(unit, 0) % HASH_MODULUS
    outside = [c.source for c in alignment.columns if c.tolerant]
    note = f" ({', '.join(outside)} compared within tolerance, outside the hash)" if outside else ""
    detail = (
        f"the rows hash alike{note}"
        if a == b
        else f"the rows' hashes differ ({a:016x} vs {b:016x}): some row differs{note}; the key diff names which"
    )
    return _result("row_hash", a == b, detail, scope)


def three_way(source: int, claim: Claim | None, target: int, scope: str = "") -> ReconResult:
    """Source, what the ingestion run said, target: where rows went missing."""
    if claim is None:
        return _result(
            "three_way",
            source == target,
            f"source {source:,}, target {target:,}; no ingestion run recorded for this target, so no claim to place a gap",
            scope,
            counts=(("source", source), ("target", target)),
        )
    said = (
        f"source {source:,}, ingestion run {claim.run_id} said {claim.rows_read:,} read, "
        f"{claim.rows_written:,} written + {claim.rows_rejected:,} rejected, target {target:,}"
    )
    counts = (
        ("source", source),
        ("read", claim.rows_read),
        ("written", claim.rows_written),
        ("rejected", claim.rows_rejected),
        ("target", target),
    )
    where = []
    if claim.whole:
        if source != claim.rows_read:
            where.append(
                f"the source holds {source - claim.rows_read:+,} rows against what the run read "
                f"(the source changed since, or the read lost rows)"
            )
        if claim.rows_read != claim.rows_written + claim.rows_rejected:
            lost = claim.rows_read - claim.rows_written - claim.rows_rejected
            where.append(
                f"{lost:,} row(s) read were neither written nor rejected (lost inside the run)"
            )
        if claim.rows_written != target:
            where.append(
                f"the target holds {target - claim.rows_written:+,} rows against what the run "
                f"wrote (lost or added after the write)"
            )
    elif source != target:
        where.append(
            f"the scoped rows differ by {target - source:+,} between source and target; the "
            f"run's claim covers its whole read, so the key diff places them"
        )
    if not where:
        return _result("three_way", True, said + ": all agree", scope, counts=counts)
    return _result("three_way", False, said + ": " + "; ".join(where), scope, counts=counts)


def baseline(
    current: int, recent: Sequence[int], limit: Decimal | None, scope: str = ""
) -> ReconResult:
    """The row count against the median of recent successful runs (failed runs never count)."""
    if limit is None:
        return _result("baseline", True, "no baseline_change threshold set: not checked", scope)
    if not recent:
        return _result(
            "baseline",
            True,
            f"first run: no history yet, {current:,} rows become the baseline",
            scope,
            actual=Decimal(current),
            threshold=limit,
        )
    median = Decimal(str(statistics.median(recent)))
    change = (
        abs(Decimal(current) - median) / median
        if median
        else (Decimal(0) if current == 0 else Decimal("Infinity"))
    )
    passed = change <= limit
    shown = "from none" if not change.is_finite() else f"{float(change):.1%}"
    detail = f"{current:,} rows against a median of {median:,} over the last {len(recent)} run(s): a change of {shown} (limit {float(limit):.0%})"
    return ReconResult(
        check="baseline",
        status=PASSED if passed else FAILED,
        expected=median,
        actual=Decimal(current),
        threshold=limit,
        detail=detail,
        scope=scope,
        counts=tuple((f"run_{i}", n) for i, n in enumerate(recent)),
    )


def key_diff(found: KeyDiff, thresholds: Thresholds, scope: str = "") -> ReconResult:
    counts = (
        ("missing", found.missing),
        ("extra", found.extra),
        ("changed", found.changed),
        ("duplicate_source", found.duplicate_source),
        ("duplicate_target", found.duplicate_target),
        ("null_key_source", found.null_key_source),
        ("null_key_target", found.null_key_target),
        *((f"column:{name}", n) for name, n in found.by_column),
    )
    over = []
    for name, limit in (
        ("missing", thresholds.missing),
        ("extra", thresholds.extra),
        ("changed", thresholds.changed),
    ):
        if getattr(found, name) > limit:
            over.append(f"{getattr(found, name):,} {name} (threshold {limit:,})")
    if found.duplicate_source or found.duplicate_target:
        over.append(
            f"duplicate keys: {found.duplicate_source:,} in the source, {found.duplicate_target:,} in "
            f"the target (a key must name one row on each side)"
        )
    parts = [
        f"{found.missing:,} only in the source",
        f"{found.extra:,} only in the target",
        f"{found.changed:,} changed",
    ]
    if found.by_column:
        parts.append("changed columns: " + ", ".join(f"{n} {c:,}" for n, c in found.by_column))
    if found.null_key_source or found.null_key_target:
        parts.append(
            f"keys with a NULL part: {found.null_key_source:,} in the source, "
            f"{found.null_key_target:,} in the target (paired as values)"
        )
    detail = "; ".join(parts) + f" ({found.method})"
    if over:
        detail = "; ".join(over) + " - " + detail
    return _result("key_diff", not over, detail, scope, counts=counts, samples=found.samples)
