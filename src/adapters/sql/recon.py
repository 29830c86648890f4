"""Reconciliation inside one PostgreSQL database: no Spark.

Aggregates are one query per side; the key diff compares segment checksums (count and sum
of a 64-bit row hash per bucket of the key's hash, PostgreSQL's ``hashtextextended``)
computed by the database, bisects the segments that differ, and pulls keys and row hashes
of the differing leaves only. Both sides are queried at once, on two connections.

Values are normalised in SQL as ``domain.recon.compare`` states (decimals at the common
scale, timestamps as UTC microseconds rounded half up to the common precision, text as
stored or trimmed/lower-cased); each value enters the row text as its length, ':' and the
value (NULL as '~'), so no separator inside a value can shift a boundary.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import attrs
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from adapters.sql.target_urls import database_reason
from adapters.sql.types import from_sql
from domain.ingestion.errors import EngineFailed
from domain.ingestion.spec import SourceSpec, lag_amount
from domain.recon import checks
from domain.recon.checks import ColumnAggregate, KeyDiff, SideAggregates, key_text
from domain.recon.compare import Alignment, Comparison, Kind, Precision
from domain.recon.plan import Segments, explain, segments
from domain.recon.spec import ReconSpec, Scope
from domain.schema import Column, Schema
from domain.schema.types import DataType, DateType, DecimalType, IntegerType, TimestampType

_UNITS = (Precision.MICROSECONDS,)


class ReconQueryFailed(EngineFailed):
    """The database refused or lost a recon query; the message names the side."""


def engine_for(url: str, user: str | None, password: str | None) -> Engine:
    """A SQLAlchemy engine for a ``jdbc:postgresql://host:port/db[?user=..]`` URL."""
    parts = urlsplit(url.removeprefix("jdbc:"))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return create_engine(
        URL.create(
            "postgresql+psycopg",
            username=user or query.get("user") or "postgres",
            password=password or query.get("password"),
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            database=parts.path.lstrip("/"),
        ),
        connect_args={"connect_timeout": 10},
        pool_size=2,
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(side: SourceSpec) -> tuple[str | None, str]:
    schema, _, table = (side.table or "").rpartition(".")
    return (schema or None), table


def _qualified(side: SourceSpec) -> str:
    schema, table = _table(side)
    return f"{_ident(schema)}.{_ident(table)}" if schema else _ident(table)


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


def _framed(refs: Sequence[str]) -> str:
    """Values as one text: each as its length, ':' and itself (NULL: '~'), joined by ','."""
    parts = [f"coalesce(length({r})::text || ':' || {r}, '~')" for r in refs]
    return " || ',' || ".join(parts) or "''"


def _hash(refs: Sequence[str]) -> str:
    """PostgreSQL's native 64-bit hash of the framed values (references to text values)."""
    return f"hashtextextended({_framed(refs)}, 0)"


class SqlReconEngine:
    """Implements the ReconEngine port inside one PostgreSQL database."""

    def __init__(
        self,
        engine: Engine,
        plan: Callable[[int], Segments] = segments,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self._engine = engine
        self._plan = plan
        self._progress = progress or (lambda note: None)
        self._schemas: dict[str, Schema] = {}
        self._rows: dict[str, int] = {}
        self._ranges: dict[str, tuple[int, int]] = {}
        self.explained: str = ""

    @classmethod
    def for_spec(cls, spec: ReconSpec, **options: Any) -> SqlReconEngine:
        side = spec.source
        return cls(engine_for(side.url or "", side.user, side.password), **options)

    # -- queries -----------------------------------------------------------------------

    def _query(self, what: str, sql: str, **params: Any) -> list[Any]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        except DBAPIError as failed:
            raise ReconQueryFailed(f"{what} failed: {database_reason(failed)}") from None

    def _both(self, work: Callable[[str], Any]) -> tuple[Any, Any]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            source, target = pool.submit(work, "source"), pool.submit(work, "target")
            return source.result(), target.result()

    # -- the port ----------------------------------------------------------------------

    def schemas(self, spec: ReconSpec) -> tuple[Schema, Schema]:
        return self._schema(spec, "source"), self._schema(spec, "target")

    def _schema(self, spec: ReconSpec, role: str) -> Schema:
        if role in self._schemas:
            return self._schemas[role]
        side = spec.source if role == "source" else spec.target
        schema, table = _table(side)
        try:
            reflected = inspect(self._engine).get_columns(table, schema=schema)
        except DBAPIError as failed:
            raise ReconQueryFailed(
                f"{spec.name}: reading the {role} table {side.table} failed: {database_reason(failed)}"
            ) from None
        except Exception as missing:  # NoSuchTableError names only the table
            raise ReconQueryFailed(
                f"{spec.name}: the {role} table {side.table} does not exist ({type(missing).__name__}); "
                f"check [{role}] table"
            ) from None
        found = Schema.from_columns(
            Column(c["name"], from_sql(c["type"], where=f"{side.table}.{c['name']}"))
            for c in reflected
        )
        self._schemas[role] = found
        return found

    def _where(self, spec: ReconSpec, role: str) -> tuple[str, dict[str, Any]]:
        """The side's rows in scope, and limited by the spec's row conditions."""
        clauses, params = [], {}
        schema = self._schema(spec, role)
        for n, row in enumerate(spec.rows(role)):
            column = schema.column(row.column)
            if column is None:
                raise ValueError(
                    f"the {role} has no column {row.column!r} to limit its rows by; it has "
                    f"{', '.join(schema.names)}"
                )
            value = f"cast({_ident(column.name)} as text)"
            clauses.append(
                f"({value} is null or {value} <> :row{n})" if row.negate else f"{value} = :row{n}"
            )
            params[f"row{n}"] = row.value
        scope: Scope | None = spec.scope
        if scope is None:
            return " and ".join(clauses) or "true", params
        column = schema.column(scope.column)
        if column is None:
            raise ValueError(
                f"scope: the {role} has no column {scope.column!r}; it has {', '.join(schema.names)}"
            )
        ref = _ident(column.name)
        time = isinstance(column.type, TimestampType | DateType)
        cast = "timestamptz" if time else "numeric"
        if scope.since is not None:
            amount = lag_amount(scope.lag) if scope.lag else 0
            shift = f" - make_interval(secs => {amount})" if time else f" - {amount}"
            clauses.append(f"{ref} >= (cast(:since as {cast}){shift})")
            params["since"] = scope.since
        if scope.upto is not None:
            clauses.append(f"{ref} <= cast(:upto as {cast})")
            params["upto"] = scope.upto
        return " and ".join(clauses) or "true", params

    def aggregates(
        self, spec: ReconSpec, alignment: Alignment
    ) -> tuple[SideAggregates, SideAggregates]:
        """One pass per side (both at once), the row hash at microseconds; a second pass
        hashes again only when a timestamp column's common precision is coarser."""
        source, target = self._both(lambda role: self._aggregate(spec, alignment, role))
        units = checks.units(source, target, alignment)
        coarser = {u for u in units.values() if u is not Precision.MICROSECONDS}
        if not coarser:
            return source, target
        at = alignment.at(units)
        hashes = self._both(lambda role: self._rehash(spec, at, role))
        unit = max(coarser)
        return (
            attrs.evolve(source, row_hashes={**source.row_hashes, unit: hashes[0]}),
            attrs.evolve(target, row_hashes={**target.row_hashes, unit: hashes[1]}),
        )

    def _rehash(self, spec: ReconSpec, alignment: Alignment, role: str) -> int:
        side = spec.source if role == "source" else spec.target
        values = self._values(alignment.all, role)
        lateral = ", ".join(f"({v})::text as v{i}" for i, v in enumerate(values))
        refs = [f"x.v{i}" for i in range(len(values))]
        where, params = self._where(spec, role)
        sql = (
            f"select sum({_hash(refs)}::numeric) from (select {lateral} "
            f"from {_qualified(side)} t where {where} offset 0) x"
        )
        found = self._query(f"{spec.name}: hashing the {role}", sql, **params)
        return int(found[0][0] or 0)

    def _aggregate(self, spec: ReconSpec, alignment: Alignment, role: str) -> SideAggregates:
        side = spec.source if role == "source" else spec.target
        # Each value normalised once (a LATERAL), then measured and hashed.
        values = self._values(alignment.all, role)
        measures = ["count(*) as rows"]
        for i, c in enumerate(alignment.all):
            value = f"x.m{i}"
            measures.append(f"count(*) - count({value}) as n{i}")
            if c.kind in (Kind.DECIMAL, Kind.FLOAT):
                measures.append(f"sum({value}) as s{i}")
            measures += [f"min({value}) as lo{i}", f"max({value}) as hi{i}"]
            if c.kind is Kind.TIMESTAMP:
                measures.append(
                    f"min(case when {value} % 1000 <> 0 then 1 when {value} % 1000000 <> 0 "
                    f"then 1000 when {value} is not null then 1000000 end) as u{i}"
                )
        units = _UNITS[:1]
        normal = ", ".join(f"{v} as m{i}" for i, v in enumerate(values)) or "1 as m"
        texts = ", ".join(f"m.m{i}::text as v{i}" for i in range(len(values))) or "1 as v"
        measures.append(
            f"sum({_hash([f'x.v{i}' for i in range(len(values))])}::numeric) as h{units[0].value}"
        )
        where, params = self._where(spec, role)
        # OFFSET 0: each normalised value computed once per row, not at each reference.
        sql = (
            f"select {', '.join(measures)} from (select m.*, {texts} from (select {normal} "
            f"from {_qualified(side)} t where {where} offset 0) m offset 0) x"
        )
        row = self._query(f"{spec.name}: aggregating the {role}", sql, **params)[0]._mapping
        columns = {}
        for i, c in enumerate(alignment.all):
            unit = row.get(f"u{i}")
            columns[c.source] = ColumnAggregate(
                nulls=int(row[f"n{i}"] or 0),
                total=_python(c, row.get(f"s{i}")),
                lowest=_python(c, row[f"lo{i}"]),
                highest=_python(c, row[f"hi{i}"]),
                unit=None if unit is None else Precision(int(unit)),
            )
        hashes = {u: int(row[f"h{u.value}"] or 0) for u in units}
        self._rows[role] = int(row["rows"])
        first = alignment.keys[0]
        low, high = columns[first.source].lowest, columns[first.source].highest
        if isinstance(low, Decimal) and isinstance(high, Decimal):
            known = self._ranges.get(first.source)
            lows = [int(low), *(known[:1] if known else [])]
            highs = [int(high), *(known[1:] if known else [])]
            self._ranges[first.source] = (min(lows), max(highs))
        return SideAggregates(int(row["rows"]), columns, hashes)

    def diff(self, spec: ReconSpec, alignment: Alignment, output: str | None) -> KeyDiff:
        if output is not None and not output.endswith(".csv"):
            raise ValueError(
                f"--output {output}: a diff inside PostgreSQL writes .csv (no Spark here); "
                f"name a .csv path"
            )
        rows = max(self._count(spec, "source"), self._count(spec, "target"))
        plan = self._plan(rows)
        cut = self._cut(alignment, plan.count)
        self.explained = cut.explain(plan, rows)
        level, parents = cut.first, None
        while True:
            self._progress(f"checksums of {cut.segments(level):,} segments")
            sums = self._both(
                partial(self._checksums, spec, alignment, cut=cut, level=level, within=parents)
            )
            differing = sorted(
                b for b in set(sums[0]) | set(sums[1]) if sums[0].get(b) != sums[1].get(b)
            )
            examined = cut.segments(level) if parents is None else len(parents[1]) * plan.fan_out
            dense = len(differing) > plan.dense_share * examined
            finer = cut.finer(level, plan.fan_out)
            if (
                not differing
                or rows / cut.segments(level) <= plan.leaf_rows
                or dense
                or finer is None
            ):
                break
            parents, level = (level, differing), finer
        self._progress(f"pulling the keys of {len(differing):,} differing segments")
        pulled = self._both(
            partial(self._pull, spec, alignment, cut=cut, level=level, buckets=differing)
        )
        nulls = (sum(n for _, _, n in sums[0].values()), sum(n for _, _, n in sums[1].values()))
        # A key duplicated alike on both sides leaves its segment's checksum equal: a side
        # whose keys the database does not hold unique is asked for them directly.
        duplicated = self._both(partial(self._duplicated, spec, alignment))
        return self._compare(spec, alignment, pulled, nulls, output, duplicated)

    def _unique(self, spec: ReconSpec, alignment: Alignment, role: str) -> bool:
        """Whether the side's primary key or a unique index is its recon keys (or fewer)."""
        side = spec.source if role == "source" else spec.target
        schema, table = _table(side)
        keys = {_named(role)(c).lower() for c in alignment.keys}
        found = inspect(self._engine)
        candidates: list[Sequence[str | None]] = [
            found.get_pk_constraint(table, schema=schema).get("constrained_columns") or []
        ]
        candidates += [
            i["column_names"] for i in found.get_indexes(table, schema=schema) if i["unique"]
        ]
        candidates += [
            u["column_names"] for u in found.get_unique_constraints(table, schema=schema)
        ]
        return any(c and all(n is not None and n.lower() in keys for n in c) for c in candidates)

    def _duplicated(self, spec: ReconSpec, alignment: Alignment, role: str) -> set[tuple[Any, ...]]:
        """The side's keys that name more than one row (none asked for when the database
        holds them unique)."""
        if self._unique(spec, alignment, role):
            return set()
        self._progress(f"looking for keys the {role} holds twice")
        hashed, clause, params = self._side_rows(spec, alignment, role, _HashCut(1), None)
        key_refs = ", ".join(f"h.k{i}" for i in range(len(alignment.keys)))
        found = self._query(
            f"{spec.name}: looking for the {role}'s duplicated keys",
            f"select {key_refs} from {hashed} where {clause} group by {key_refs} "
            f"having count(*) > 1",
            **params,
        )
        return {
            tuple(_python(c, v) for c, v in zip(alignment.keys, row, strict=True)) for row in found
        }

    def _cut(self, alignment: Alignment, count: int) -> _Cut:
        """Ranges of the first key when it is an integer on both sides and its range is
        known (from the aggregates): the pulls then read the differing ranges through the
        key's index; else buckets of the key's hash."""
        first = alignment.keys[0]
        ranges = self._ranges.get(first.source)
        declared = [self._declared(first, role) for role in ("source", "target")]
        if ranges is None or not all(isinstance(d, IntegerType) for d in declared):
            return _HashCut(count)
        low, high = ranges
        return _RangeCut(count, _ident(first.source), _ident(first.target), low, high)

    def _count(self, spec: ReconSpec, role: str) -> int:
        """The side's rows in scope: as the aggregates counted them, else counted now."""
        if role not in self._rows:
            side = spec.source if role == "source" else spec.target
            where, params = self._where(spec, role)
            found = self._query(
                f"{spec.name}: counting the {role}",
                f"select count(*) from {_qualified(side)} t where {where}",
                **params,
            )
            self._rows[role] = int(found[0][0])
        return self._rows[role]

    def _first(self, alignment: Alignment, role: str) -> str:
        return _ident(_named(role)(alignment.keys[0]))

    def _declared(self, c: Comparison, role: str) -> DataType | None:
        schema = self._schemas.get(role)
        column = schema.column(c.source if role == "source" else c.target) if schema else None
        return column.type if column is not None else None

    def _values(
        self, comparisons: Sequence[Comparison], role: str, unit: Precision | None = None
    ) -> list[str]:
        """The normalised SQL of each compared column on the ``role`` side."""
        name = _named(role)
        schema = self._schemas.get(role)
        found = []
        for c in comparisons:
            column = schema.column(name(c)) if schema is not None else None
            declared = column.type if column is not None else None
            found.append(normalised(c, _ident(name(c)), unit, declared))
        return found

    def _keyed(self, alignment: Alignment, role: str) -> tuple[list[str], list[str]]:
        return self._values(alignment.keys, role), self._values(alignment.columns, role)

    def _hashed(
        self, table: str, where: str, keys: list[str], values: list[str], first: str
    ) -> str:
        """The rows as a derived table ``h``: normalised key texts ``k*``, value texts
        ``c*``, the key's hash ``kh``, the row's hash ``rh``, ``nk`` (a NULL key part) and
        ``r0`` (the first key as stored). OFFSET 0 keeps PostgreSQL from inlining each
        expression at every reference: each is computed once per row."""
        named = [f"({k})::text as k{i}" for i, k in enumerate(keys)]
        named += [f"({v})::text as c{j}" for j, v in enumerate(values)]
        key_refs = [f"n.k{i}" for i in range(len(keys))]
        row_refs = [*key_refs, *(f"n.c{j}" for j in range(len(values)))]
        nulls = " or ".join(f"{r} is null" for r in key_refs) or "false"
        return (
            f"(select n.*, {_hash(key_refs)} as kh, {_hash(row_refs)} as rh, ({nulls}) as nk "
            f"from (select {', '.join(named)}, t.{first} as r0 from {table} t where {where} "
            f"offset 0) n offset 0) h"
        )

    def _side_rows(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        role: str,
        cut: _Cut,
        within: tuple[int, list[int]] | None,
    ) -> tuple[str, str, dict[str, Any]]:
        """The ``role`` side's rows as the derived table ``h`` (``_hashed``), restricted to
        the segments ``within`` (level, segments) when given: (its SQL, the condition on
        ``h`` that restricts it, the query's parameters)."""
        side = spec.source if role == "source" else spec.target
        keys, values = self._keyed(alignment, role)
        where, params = self._where(spec, role)
        rows, clause = _qualified(side), "true"
        if within is not None:
            level, segments = within
            rows, clause = cut.within(rows, role, level, segments, params)
        hashed = self._hashed(rows, where, keys, values, self._first(alignment, role))
        return hashed, clause, params

    def _checksums(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        role: str,
        *,
        cut: _Cut,
        level: int,
        within: tuple[int, list[int]] | None,
    ) -> dict[int, tuple[int, int, int]]:
        """Per segment of ``level`` (within the differing ``within`` segments of the level
        above): rows, the sum of their row hashes, rows with a NULL key part."""
        hashed, clause, params = self._side_rows(spec, alignment, role, cut, within)
        sql = (
            f"select {cut.segment(role, level)} as b, count(*) as n, sum(h.rh::numeric) as s, "
            f"sum(case when h.nk then 1 else 0 end) as nk from {hashed} "
            f"where {clause} group by 1"
        )
        found = self._query(f"{spec.name}: checksums of the {role}", sql, **params)
        return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in found}

    def _pull(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        role: str,
        *,
        cut: _Cut,
        level: int,
        buckets: list[int],
    ) -> list[Any]:
        if not buckets:
            return []
        hashed, clause, params = self._side_rows(spec, alignment, role, cut, (level, buckets))
        key_refs = ", ".join(f"h.k{i}" for i in range(len(alignment.keys)))
        value_refs = "".join(f", h.c{j}" for j in range(len(alignment.columns)))
        sql = f"select {key_refs}, h.rh{value_refs} from {hashed} where {clause}"
        return self._query(f"{spec.name}: pulling the {role}'s differing keys", sql, **params)

    def _compare(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        pulled: tuple[list[Any], list[Any]],
        nulls: tuple[int, int],
        output: str | None,
        duplicated: tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]] = (set(), set()),
    ) -> KeyDiff:
        width = len(alignment.keys)
        sides: list[dict[tuple[Any, ...], list[Any]]] = [{}, {}]
        for index, rows in enumerate(pulled):
            for row in rows:
                key = tuple(_python(c, v) for c, v in zip(alignment.keys, row[:width], strict=True))
                sides[index].setdefault(key, []).append(row[width:])
        source, target = sides
        categories: dict[str, list[tuple[Any, ...]]] = {
            c: [] for c in ("missing", "extra", "changed", "duplicate")
        }
        by_column: Counter[str] = Counter()
        changed_columns: dict[tuple[Any, ...], list[str]] = {}
        duplicates = [0, 0]
        for key in source.keys() | target.keys():
            a, b = source.get(key), target.get(key)
            if b is None:
                categories["missing"].append(key)
            elif a is None:
                categories["extra"].append(key)
            elif len(a) > 1 or len(b) > 1:
                categories["duplicate"].append(key)
                duplicates[0] += len(a) > 1
                duplicates[1] += len(b) > 1
            elif a[0][0] != b[0][0]:
                categories["changed"].append(key)
                names = [
                    c.source for j, c in enumerate(alignment.columns) if a[0][1 + j] != b[0][1 + j]
                ]
                changed_columns[key] = names
                by_column.update(names)
        # Duplicated alike on both sides (their segments agree, so they were not pulled).
        for key in (duplicated[0] | duplicated[1]) - source.keys() - target.keys():
            categories["duplicate"].append(key)
            duplicates[0] += key in duplicated[0]
            duplicates[1] += key in duplicated[1]
        names = [c.source for c in alignment.keys]
        samples = []
        for category, found in categories.items():
            for key in sorted(found, key=_sortable)[: spec.samples]:
                samples.append(
                    (
                        category,
                        key_text(names, list(key)),
                    )
                )
        if output is not None:
            with Path(output).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow([*names, "category", "columns"])
                for category, found in categories.items():
                    for key in sorted(found, key=_sortable):
                        writer.writerow(
                            [
                                *("" if v is None else v for v in key),
                                category,
                                ",".join(changed_columns.get(key, [])),
                            ]
                        )
        return KeyDiff(
            method=f"segment checksums inside PostgreSQL: {self.explained}",
            missing=len(categories["missing"]),
            extra=len(categories["extra"]),
            changed=len(categories["changed"]),
            duplicate_source=duplicates[0],
            duplicate_target=duplicates[1],
            null_key_source=nulls[0],
            null_key_target=nulls[1],
            by_column=tuple(
                sorted(
                    by_column.items(),
                    key=lambda kv: [c.source for c in alignment.columns].index(kv[0]),
                )
            ),
            samples=tuple(samples),
        )

    def close(self) -> None:
        self._engine.dispose()


class _Cut(Protocol):
    """How the key space is cut into segments, level by level."""

    @property
    def first(self) -> int: ...

    def segments(self, level: int) -> int: ...

    def finer(self, level: int, fan_out: int) -> int | None: ...

    def segment(self, role: str, level: int) -> str: ...

    def within(
        self, table: str, role: str, level: int, buckets: list[int], params: dict[str, Any]
    ) -> tuple[str, str]: ...

    def explain(self, plan: Segments, rows: int) -> str: ...


@attrs.frozen
class _HashCut:
    """Buckets of the key's 64-bit hash: ``level`` is the modulus; a bucket of ``m * k``
    lies inside the bucket of ``m`` with the same remainder mod ``m``."""

    first: int

    def segments(self, level: int) -> int:
        return level

    def finer(self, level: int, fan_out: int) -> int | None:
        return None if level >= 2**40 else level * fan_out

    def segment(self, role: str, level: int) -> str:
        return _bucket(level)

    def within(
        self, table: str, role: str, level: int, buckets: list[int], params: dict[str, Any]
    ) -> tuple[str, str]:
        params[f"b{level}"] = buckets
        # A hashed subplan: membership in thousands of segments stays O(1) per row.
        return table, f"{_bucket(level)} in (select unnest(cast(:b{level} as bigint[])))"

    def explain(self, plan: Segments, rows: int) -> str:
        return explain(plan, rows)


@attrs.frozen
class _RangeCut:
    """Ranges of an integer first key from ``low`` to ``high``: ``level`` is the width of a
    range; NULL keys are segment -1. Differing ranges are read through the key's index."""

    count: int
    source: str
    target: str
    low: int
    high: int

    @property
    def first(self) -> int:
        return max(1, -(-(self.high - self.low + 1) // self.count))

    def segments(self, level: int) -> int:
        return max(1, -(-(self.high - self.low + 1) // level))

    def finer(self, level: int, fan_out: int) -> int | None:
        return None if level <= 1 else max(1, -(-level // fan_out))

    def segment(self, role: str, level: int) -> str:
        return f"coalesce((h.r0::bigint - {self.low}) / {level}, -1)"

    def within(
        self, table: str, role: str, level: int, buckets: list[int], params: dict[str, Any]
    ) -> tuple[str, str]:
        column = self.source if role == "source" else self.target
        params[f"r{level}"] = [b for b in buckets if b >= 0]
        ranged = (
            f"select t.* from {table} t join unnest(cast(:r{level} as bigint[])) r(b) on "
            f"t.{column} >= {self.low} + r.b * {level} and t.{column} < {self.low} + (r.b + 1) * {level}"
        )
        if -1 in buckets:
            ranged += f" union all select t.* from {table} t where t.{column} is null"
        return f"({ranged})", "true"

    def explain(self, plan: Segments, rows: int) -> str:
        return (
            f"{rows:,} rows cut into {self.segments(self.first):,} ranges of the key "
            f"{self.source} ({self.low}..{self.high}, {self.first:,} wide), differing ones "
            f"split {plan.fan_out} ways down to {plan.leaf_rows} rows and read through its index"
        )


def _named(role: str) -> Callable[[Comparison], str]:
    def name(c: Comparison) -> str:
        return c.source if role == "source" else c.target

    return name


def _bucket(modulus: int) -> str:
    """The segment of a row: its key hash modulo ``modulus``, never negative (so a segment
    of ``m * k`` lies inside the segment of ``m`` with the same remainder mod ``m``)."""
    return f"mod(mod(h.kh, {modulus}) + {modulus}, {modulus})"


def _sortable(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """Keys in order, NULL parts first (a key column holds one kind of value)."""
    return tuple((v is not None, "" if v is None else v) for v in key)


def _python(c: Comparison, value: Any) -> Any:
    if value is None:
        return None
    if c.kind is Kind.DECIMAL:
        return Decimal(value)
    if c.kind is Kind.FLOAT:
        return float(value)
    if c.kind is Kind.TIMESTAMP:
        return int(value)
    return str(value)
