"""Reconciliation inside one PostgreSQL database: no Spark.

Aggregates are one query per side; the key diff compares segment checksums (count and sum
of a 64-bit row hash per segment, PostgreSQL's ``hashtextextended``) computed by the
database, bisects the segments that differ, and pulls keys and row hashes of the differing
leaves only, which ``domain.recon.keydiff`` classifies. Both sides are queried at once, on
two connections. The SQL itself is in ``expressions``, ``scope`` and ``segments``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from adapters.files.key_diff_csv import write_key_diff
from adapters.sql.errors import ReconQueryFailed, database_reason
from adapters.sql.recon import expressions as sql
from adapters.sql.recon.scope import where
from adapters.sql.recon.segments import Cut, HashCut, RangeCut
from adapters.sql.types import from_sql
from domain.recon import checks
from domain.recon.checks import ColumnAggregate, KeyDiff, SideAggregates
from domain.recon.compare import Alignment, Comparison, Kind, Precision
from domain.recon.keydiff import Key, by_key, classify
from domain.recon.plan import Segments, segments
from domain.recon.spec import ReconSpec, Side
from domain.schema import Column, Schema
from domain.schema.types import DataType, IntegerType

_UNITS = (Precision.MICROSECONDS,)
SOURCE, TARGET = Side.SOURCE, Side.TARGET


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
        self._schemas: dict[Side, Schema] = {}
        self._rows: dict[Side, int] = {}
        self._ranges: dict[str, tuple[int, int]] = {}
        self.explained: str = ""

    @classmethod
    def for_spec(cls, spec: ReconSpec, **options: Any) -> SqlReconEngine:
        side = spec.source
        return cls(engine_for(side.url or "", side.user, side.password), **options)

    # -- queries -----------------------------------------------------------------------

    def _query(self, what: str, query: str, **params: Any) -> list[Any]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(text(query), params))
        except DBAPIError as failed:
            raise ReconQueryFailed(f"{what} failed: {database_reason(failed)}") from None

    def _both(self, work: Callable[[Side], Any]) -> tuple[Any, Any]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            source, target = pool.submit(work, SOURCE), pool.submit(work, TARGET)
            return source.result(), target.result()

    # -- the port ----------------------------------------------------------------------

    def schemas(self, spec: ReconSpec) -> tuple[Schema, Schema]:
        return self._schema(spec, SOURCE), self._schema(spec, TARGET)

    def _schema(self, spec: ReconSpec, role: Side) -> Schema:
        if role in self._schemas:
            return self._schemas[role]
        side = spec.side(role)
        schema, table = sql.table_of(side)
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

    def _where(self, spec: ReconSpec, role: Side) -> tuple[str, dict[str, Any]]:
        return where(spec, role, self._schema(spec, role))

    def aggregates(
        self, spec: ReconSpec, alignment: Alignment
    ) -> tuple[SideAggregates, SideAggregates]:
        """One pass per side (both at once), the row hash at microseconds; a second pass
        hashes again only when a timestamp column's common precision is coarser."""
        return checks.hashed_at_common_precision(
            alignment, partial(self._aggregate, spec), partial(self._rehash, spec), self._both
        )

    def _rehash(self, spec: ReconSpec, alignment: Alignment, role: Side) -> int:
        values = self._values(alignment.all, role)
        lateral = ", ".join(f"({v})::text as v{i}" for i, v in enumerate(values))
        refs = [f"x.v{i}" for i in range(len(values))]
        where, params = self._where(spec, role)
        query = (
            f"select sum({sql.row_hash(refs)}::numeric) from (select {lateral} "
            f"from {sql.qualified(spec.side(role))} t where {where} offset 0) x"
        )
        found = self._query(f"{spec.name}: hashing the {role}", query, **params)
        return int(found[0][0] or 0)

    def _aggregate(self, spec: ReconSpec, alignment: Alignment, role: Side) -> SideAggregates:
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
        hashed = sql.row_hash([f"x.v{i}" for i in range(len(values))])
        measures.append(f"sum({hashed}::numeric) as h{units[0].value}")
        where, params = self._where(spec, role)
        # OFFSET 0: each normalised value computed once per row, not at each reference.
        query = (
            f"select {', '.join(measures)} from (select m.*, {texts} from (select {normal} "
            f"from {sql.qualified(spec.side(role))} t where {where} offset 0) m offset 0) x"
        )
        row = self._query(f"{spec.name}: aggregating the {role}", query, **params)[0]._mapping
        columns = {}
        for i, c in enumerate(alignment.all):
            unit = row.get(f"u{i}")
            columns[c.source] = ColumnAggregate(
                nulls=int(row[f"n{i}"] or 0),
                total=c.value(row.get(f"s{i}")),
                lowest=c.value(row[f"lo{i}"]),
                highest=c.value(row[f"hi{i}"]),
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
        rows = max(self._count(spec, SOURCE), self._count(spec, TARGET))
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
        classified = classify(
            alignment, by_key(alignment, pulled[0]), by_key(alignment, pulled[1]), duplicated
        )
        names = [c.source for c in alignment.keys]
        if output is not None:
            write_key_diff(output, names, classified)
        method = f"segment checksums inside PostgreSQL: {self.explained}"
        return classified.key_diff(method, names, spec.samples, nulls)

    def _unique(self, spec: ReconSpec, alignment: Alignment, role: Side) -> bool:
        """Whether the side's primary key or a unique index is its recon keys (or fewer)."""
        schema, table = sql.table_of(spec.side(role))
        keys = {c.on(role).lower() for c in alignment.keys}
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

    def _duplicated(self, spec: ReconSpec, alignment: Alignment, role: Side) -> set[Key]:
        """The side's keys that name more than one row (none asked for when the database
        holds them unique)."""
        if self._unique(spec, alignment, role):
            return set()
        self._progress(f"looking for keys the {role} holds twice")
        hashed, clause, params = self._side_rows(spec, alignment, role, HashCut(1), None)
        key_refs = ", ".join(f"h.k{i}" for i in range(len(alignment.keys)))
        found = self._query(
            f"{spec.name}: looking for the {role}'s duplicated keys",
            f"select {key_refs} from {hashed} where {clause} group by {key_refs} "
            f"having count(*) > 1",
            **params,
        )
        return {
            tuple(c.value(v) for c, v in zip(alignment.keys, row, strict=True)) for row in found
        }

    def _cut(self, alignment: Alignment, count: int) -> Cut:
        """Ranges of the first key when it is an integer on both sides and its range is
        known (from the aggregates): the pulls then read the differing ranges through the
        key's index; else buckets of the key's hash."""
        first = alignment.keys[0]
        ranges = self._ranges.get(first.source)
        declared = [self._declared(first, role) for role in (SOURCE, TARGET)]
        if ranges is None or not all(isinstance(d, IntegerType) for d in declared):
            return HashCut(count)
        low, high = ranges
        return RangeCut(count, sql.ident(first.source), sql.ident(first.target), low, high)

    def _count(self, spec: ReconSpec, role: Side) -> int:
        """The side's rows in scope: as the aggregates counted them, else counted now."""
        if role not in self._rows:
            where, params = self._where(spec, role)
            found = self._query(
                f"{spec.name}: counting the {role}",
                f"select count(*) from {sql.qualified(spec.side(role))} t where {where}",
                **params,
            )
            self._rows[role] = int(found[0][0])
        return self._rows[role]

    def _declared(self, c: Comparison, role: Side) -> DataType | None:
        schema = self._schemas.get(role)
        column = schema.column(c.on(role)) if schema else None
        return column.type if column is not None else None

    def _values(
        self, comparisons: Sequence[Comparison], role: Side, unit: Precision | None = None
    ) -> list[str]:
        return sql.values(comparisons, role, self._schemas.get(role), unit)

    def _side_rows(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        role: Side,
        cut: Cut,
        within: tuple[int, list[int]] | None,
    ) -> tuple[str, str, dict[str, Any]]:
        """The ``role`` side's rows as the derived table ``h`` (``expressions.hashed``),
        restricted to the segments ``within`` (level, segments) when given: (its SQL, the
        condition on ``h`` that restricts it, the query's parameters)."""
        keys, compared = self._values(alignment.keys, role), self._values(alignment.columns, role)
        where, params = self._where(spec, role)
        rows, clause = sql.qualified(spec.side(role)), "true"
        if within is not None:
            level, segments = within
            rows, clause = cut.within(rows, role, level, segments, params)
        first = sql.ident(alignment.keys[0].on(role))
        return sql.hashed(rows, where, keys, compared, first), clause, params

    def _checksums(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        role: Side,
        *,
        cut: Cut,
        level: int,
        within: tuple[int, list[int]] | None,
    ) -> dict[int, tuple[int, int, int]]:
        """Per segment of ``level`` (within the differing ``within`` segments of the level
        above): rows, the sum of their row hashes, rows with a NULL key part."""
        hashed, clause, params = self._side_rows(spec, alignment, role, cut, within)
        query = (
            f"select {cut.segment(role, level)} as b, count(*) as n, sum(h.rh::numeric) as s, "
            f"sum(case when h.nk then 1 else 0 end) as nk from {hashed} "
            f"where {clause} group by 1"
        )
        found = self._query(f"{spec.name}: checksums of the {role}", query, **params)
        return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in found}

    def _pull(
        self,
        spec: ReconSpec,
        alignment: Alignment,
        role: Side,
        *,
        cut: Cut,
        level: int,
        buckets: list[int],
    ) -> list[Any]:
        if not buckets:
            return []
        hashed, clause, params = self._side_rows(spec, alignment, role, cut, (level, buckets))
        key_refs = ", ".join(f"h.k{i}" for i in range(len(alignment.keys)))
        value_refs = "".join(f", h.c{j}" for j in range(len(alignment.columns)))
        query = f"select {key_refs}, h.rh{value_refs} from {hashed} where {clause}"
        return self._query(f"{spec.name}: pulling the {role}'s differing keys", query, **params)

    def close(self) -> None:
        self._engine.dispose()
