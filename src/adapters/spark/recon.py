"""Reconciliation on Spark: both sides read through the endpoints (any kinds, any engines),
normalised column by column (``domain.recon.compare``), aggregated in one pass per side and
diffed by a full outer join on the keys.

Each side is grouped by its keys once (the count of rows per key finds duplicates, the
grouping's partitioning serves the join); only differing keys leave the join, kept by the
executors for the counts, the samples and the ``--output`` file, never collected whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from adapters.spark.declared import declared_or_refused
from adapters.spark.endpoints import endpoint_config, open_endpoint
from adapters.spark.errors import engine_step
from adapters.spark.session import SparkSessionProvider
from adapters.spark.strategies import lower_bound
from adapters.spark.types import schema_from_spark
from domain.recon import checks
from domain.recon.checks import ColumnAggregate, KeyDiff, SideAggregates, key_text
from domain.recon.compare import Alignment, Comparison, Kind, Precision
from domain.recon.keydiff import CATEGORIES
from domain.recon.spec import ReconSpec, Rows, Scope, Side
from domain.schema import Schema

_UNITS = (Precision.MICROSECONDS,)


def _q(name: str) -> Column:
    return F.col(f"`{name}`")


def _latest(frame: DataFrame, keys: tuple[str, ...], order: str) -> DataFrame:
    """A change log's latest row per key (NULL-safe keys: a NULL key part is a key)."""
    missing = [c for c in (*keys, order) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the source has no column {missing[0]!r} to take its latest row per key by; it has "
            f"{', '.join(frame.columns)}"
        )
    rank = F.row_number().over(Window.partitionBy(*(_q(k) for k in keys)).orderBy(_q(order).desc()))
    return frame.withColumn("__latest", rank).where(F.col("__latest") == 1).drop("__latest")


def _limited(frame: DataFrame, rows: tuple[Rows, ...], role: Side) -> DataFrame:
    for row in rows:
        if row.column not in frame.columns:
            raise ValueError(
                f"the {role} has no column {row.column!r} to limit its rows by; it has "
                f"{', '.join(frame.columns)}"
            )
        # A truth value compares as a boolean, whatever the column stores it as (SQLite:
        # an integer); anything else as text.
        truth = row.value.lower() in ("true", "false")
        column = _q(row.column).cast("boolean" if truth else "string")
        value = F.lit(row.value.lower() == "true") if truth else F.lit(row.value)
        frame = frame.where(
            (column.isNull() | (column != value)) if row.negate else column == value
        )
    return frame


def _scoped(frame: DataFrame, scope: Scope | None, role: Side) -> DataFrame:
    if scope is None:
        return frame
    if scope.column not in frame.columns:
        raise ValueError(
            f"scope: the {role} has no column {scope.column!r} (the watermark the scope is "
            f"drawn on); it has {', '.join(frame.columns)}"
        )
    data_type = frame.schema[scope.column].dataType
    column = _q(scope.column)
    if scope.since is not None:
        frame = frame.where(column >= lower_bound(scope.since, scope.lag, data_type))
    if scope.upto is not None:
        frame = frame.where(column <= F.lit(scope.upto).cast(data_type))
    return frame


def _micros(column: Column) -> Column:
    return F.unix_micros(column.cast("timestamp"))


def rounded(micros: Column, unit: Precision) -> Column:
    """Microseconds rounded half up to ``unit`` (floor division, so before 1970 too)."""
    if unit is Precision.MICROSECONDS:
        return micros
    shifted = micros + F.lit(unit.value // 2)
    return shifted - F.pmod(shifted, F.lit(unit.value))


def normalised(c: Comparison, column: Column, unit: Precision | None = None) -> Column:
    """The value of ``column`` as the comparison compares it (see domain.recon.compare)."""
    if c.kind is Kind.DECIMAL:
        return column.cast(f"decimal({c.precision},{c.scale})")
    if c.kind is Kind.FLOAT:
        value = column.cast("double")
        return F.when(value == 0, F.lit(0.0)).otherwise(value)  # -0.0 is 0.0
    if c.kind is Kind.TIMESTAMP:
        return rounded(_micros(column), unit or c.unit)
    if c.kind is Kind.TEXT:
        value = column.cast("string")
        if c.trim:
            value = F.trim(value)
        if c.ignore_case:
            value = F.lower(value)
        return value
    return column


def _row_hash(parts: Sequence[Column]) -> Column:
    # Each value preceded by its NULL flag: (NULL, 'a') and ('a', NULL) hash apart, and
    # NULL apart from ''; values are hashed one by one, never joined by a separator.
    flagged = [x for p in parts for x in (p.isNull(), p)]
    return F.xxhash64(*flagged) if flagged else F.lit(0).cast("long")


def _unit_needed(micros: Column) -> Column:
    return (
        F.when(F.pmod(micros, F.lit(1000)) != 0, F.lit(Precision.MICROSECONDS.value))
        .when(F.pmod(micros, F.lit(1_000_000)) != 0, F.lit(Precision.MILLISECONDS.value))
        .when(micros.isNotNull(), F.lit(Precision.SECONDS.value))
    )


def _filler(data_type: T.DataType) -> Column:
    """A non-NULL value of ``data_type`` standing in for a NULL key part (beside its flag)."""
    if isinstance(data_type, T.DateType):
        return F.to_date(F.lit("1970-01-01"))
    if isinstance(data_type, T.TimestampType | T.TimestampNTZType):
        return F.lit(0).cast("timestamp").cast(data_type)
    if isinstance(data_type, T.BinaryType):
        return F.lit(bytearray())
    return F.lit(0).cast(data_type)


class SparkReconEngine:
    """Implements the ReconEngine port with Spark."""

    def __init__(self, sessions: SparkSessionProvider) -> None:
        self._sessions = sessions
        self._frames: dict[tuple[str, Side], DataFrame] = {}

    def _frame(self, spec: ReconSpec, role: Side) -> DataFrame:
        cached = self._frames.get((spec.name, role))
        if cached is not None:
            return cached
        side = spec.side(role)
        with engine_step(f"{spec.name}: reading the {role}"):
            frame = open_endpoint(
                endpoint_config(f"{spec.name}-{role}", side), self._sessions
            ).read()
        if side.columns:
            frame = declared_or_refused(frame, side.columns, role)
        # Not cached: reading a side again costs less than caching it (measured:
        # docs/benchmarks.md); each pass reads it through its endpoint.
        frame = _scoped(frame, spec.scope, role)
        if role is Side.SOURCE and spec.source_latest is not None:
            frame = _latest(frame, spec.keys, spec.source_latest)
        frame = _limited(frame, spec.rows(role), role)
        self._frames[(spec.name, role)] = frame
        return frame

    def schemas(self, spec: ReconSpec) -> tuple[Schema, Schema]:
        return (
            schema_from_spark(self._frame(spec, Side.SOURCE).schema, where=f"{spec.name} source"),
            schema_from_spark(self._frame(spec, Side.TARGET).schema, where=f"{spec.name} target"),
        )

    def aggregates(
        self, spec: ReconSpec, alignment: Alignment
    ) -> tuple[SideAggregates, SideAggregates]:
        """One pass per side, the row hash at microseconds; a second pass hashes again only
        when a timestamp column's common precision is coarser."""
        return checks.hashed_at_common_precision(
            alignment, partial(self._aggregate, spec), partial(self._rehash, spec)
        )

    def _rehash(self, spec: ReconSpec, alignment: Alignment, role: Side) -> int:
        parts = [normalised(c, _q(c.on(role))) for c in alignment.all if not c.tolerant]
        with engine_step(f"{spec.name}: hashing the {role}"):
            row = (
                self._frame(spec, role)
                .agg(F.sum(_row_hash(parts).cast("decimal(38,0)")).alias("h"))
                .collect()[0]
            )
        return int(row["h"] or 0)

    def _aggregate(self, spec: ReconSpec, alignment: Alignment, role: Side) -> SideAggregates:
        frame = self._frame(spec, role)
        measures: list[Column] = [F.count(F.lit(1)).alias("rows")]
        for i, c in enumerate(alignment.all):
            raw = _q(c.on(role))
            value = _micros(raw) if c.kind is Kind.TIMESTAMP else normalised(c, raw)
            measures.append(F.sum(F.when(raw.isNull(), 1).otherwise(0)).alias(f"n{i}"))
            if c.kind in (Kind.DECIMAL, Kind.FLOAT):
                measures.append(F.try_sum(value).alias(f"s{i}"))
            measures.append(F.min(value).alias(f"lo{i}"))
            measures.append(F.max(value).alias(f"hi{i}"))
            if c.kind is Kind.TIMESTAMP:
                measures.append(F.min(_unit_needed(value)).alias(f"u{i}"))
        units = _UNITS[:1]
        exact = [c for c in alignment.all if not c.tolerant]
        for unit in units:
            parts = [normalised(c, _q(c.on(role)), unit) for c in exact]
            measures.append(F.sum(_row_hash(parts).cast("decimal(38,0)")).alias(f"h{unit.value}"))
        with engine_step(f"{spec.name}: aggregating the {role}"):
            row = frame.agg(*measures).collect()[0]
        columns = {}
        for i, c in enumerate(alignment.all):
            total = row[f"s{i}"] if c.kind in (Kind.DECIMAL, Kind.FLOAT) else None
            needed = row[f"u{i}"] if c.kind is Kind.TIMESTAMP else None
            columns[c.source] = ColumnAggregate(
                nulls=int(row[f"n{i}"] or 0),
                total=c.value(total),
                lowest=c.value(row[f"lo{i}"]),
                highest=c.value(row[f"hi{i}"]),
                unit=None if needed is None else Precision(int(needed)),
            )
        hashes = {unit: int(row[f"h{unit.value}"] or 0) for unit in units}
        return SideAggregates(int(row["rows"]), columns, hashes)

    def _keyed(self, spec: ReconSpec, alignment: Alignment, role: Side) -> DataFrame:
        frame = self._frame(spec, role)
        keys = [normalised(c, _q(c.on(role))).alias(f"k{i}") for i, c in enumerate(alignment.keys)]
        values = [
            normalised(c, _q(c.on(role))).alias(f"c{j}") for j, c in enumerate(alignment.columns)
        ]
        exact = [normalised(c, _q(c.on(role))) for c in alignment.columns if not c.tolerant]
        shaped = frame.select(*keys, *values, _row_hash(exact).alias("h"))
        # Keys without NULLs (a flag and a value per part): the join is a plain equi-join on
        # the columns the grouping partitioned by, so it shuffles nothing again.
        parts = []
        for i in range(len(alignment.keys)):
            key = F.col(f"k{i}")
            parts += [
                key.isNull().alias(f"kn{i}"),
                F.coalesce(key, _filler(shaped.schema[f"k{i}"].dataType)).alias(f"kv{i}"),
            ]
        value_names = ["h", *(f"c{j}" for j in range(len(alignment.columns)))]
        count = len(alignment.keys)
        by_key = [f"kn{i}" for i in range(count)] + [f"kv{i}" for i in range(count)]
        # Rows per key by a window over the key: its exchange and sort are the ones the
        # join needs, so Spark shuffles and sorts each side once (no aggregation buffers).
        return shaped.select(
            *parts, *(F.col(f"k{i}") for i in range(count)), *value_names
        ).withColumn("n", F.count(F.lit(1)).over(Window.partitionBy(*by_key)))

    def diff(self, spec: ReconSpec, alignment: Alignment, output: str | None) -> KeyDiff:
        source = self._keyed(spec, alignment, Side.SOURCE).alias("s")
        target = self._keyed(spec, alignment, Side.TARGET).alias("t")
        count = len(alignment.keys)
        names_ = [f"kn{i}" for i in range(count)] + [f"kv{i}" for i in range(count)]
        condition = [F.col(f"s.{n}") == F.col(f"t.{n}") for n in names_]
        joined = source.join(target, on=condition, how="full")
        differs = [self._differs(c, j) for j, c in enumerate(alignment.columns)]
        exact_differs = ~F.col("s.h").eqNullSafe(F.col("t.h"))
        any_differs = F.lit(False)
        for flag in differs:
            any_differs = any_differs | flag
        category = (
            F.when(F.col("s.n").isNull(), "extra")
            .when(F.col("t.n").isNull(), "missing")
            .when((F.col("s.n") > 1) | (F.col("t.n") > 1), "duplicate")
            .when(exact_differs | any_differs, "changed")
        )
        null_key_s, null_key_t = F.lit(False), F.lit(False)
        for i in range(count):
            null_key_s = null_key_s | F.coalesce(F.col(f"s.kn{i}"), F.lit(False))
            null_key_t = null_key_t | F.coalesce(F.col(f"t.kn{i}"), F.lit(False))
        null_s = F.when(F.col("s.n").isNotNull() & null_key_s, F.col("s.n")).otherwise(0)
        null_t = F.when(F.col("t.n").isNotNull() & null_key_t, F.col("t.n")).otherwise(0)
        keys = [F.coalesce(F.col(f"s.k{i}"), F.col(f"t.k{i}")).alias(f"k{i}") for i in range(count)]
        names = [c.source for c in alignment.columns]
        changed_columns = F.concat_ws(
            ",", *(F.when(flag, F.lit(n)) for flag, n in zip(differs, names, strict=True))
        )
        shaped = joined.select(
            *keys,
            category.alias("category"),
            F.when(category == "changed", changed_columns).alias("columns"),
            *(flag.alias(f"d{j}") for j, flag in enumerate(differs)),
            F.col("s.n").alias("sn"),
            F.col("t.n").alias("tn"),
            null_s.alias("null_s"),
            null_t.alias("null_t"),
        ).where(F.col("category").isNotNull() | (null_s > 0) | (null_t > 0))
        # A key on several rows of a side meets the other side's rows several times: one
        # row per key and category is what is counted and sampled.
        shaped = shaped.dropDuplicates(["category", *(f"k{i}" for i in range(count))])
        with engine_step(f"{spec.name}: diffing the keys"):
            kept = shaped.persist(StorageLevel.MEMORY_AND_DISK)
            try:
                return self._summarise(spec, alignment, kept, output)
            finally:
                kept.unpersist()

    @staticmethod
    def _differs(c: Comparison, j: int) -> Column:
        a, b = F.col(f"s.c{j}"), F.col(f"t.c{j}")
        if not c.tolerant:
            return ~a.eqNullSafe(b)
        gap = F.abs(a - b)
        allowed = F.greatest(
            F.lit(float(c.absolute)).cast("double"),
            F.lit(float(c.relative)) * F.greatest(F.abs(a), F.abs(b)),
        )
        close = a.eqNullSafe(
            b
        ) | (  # NULL with NULL, NaN with NaN (Spark's NaN equals NaN), inf with inf
            a.isNotNull() & b.isNotNull() & ~F.isnan(a) & ~F.isnan(b) & (gap <= allowed)
        )
        return F.coalesce(~close, F.lit(True))

    def _summarise(
        self, spec: ReconSpec, alignment: Alignment, kept: DataFrame, output: str | None
    ) -> KeyDiff:
        category = F.col("category")
        measures = [
            F.sum(F.when(category == name, 1).otherwise(0)).alias(name) for name in CATEGORIES
        ]
        measures += [
            F.sum(F.when((category == "duplicate") & (F.col("sn") > 1), 1).otherwise(0)).alias(
                "dup_s"
            ),
            F.sum(F.when((category == "duplicate") & (F.col("tn") > 1), 1).otherwise(0)).alias(
                "dup_t"
            ),
            F.sum("null_s").alias("null_s"),
            F.sum("null_t").alias("null_t"),
        ]
        measures += [
            F.sum(F.when((category == "changed") & F.col(f"d{j}"), 1).otherwise(0)).alias(f"d{j}")
            for j in range(len(alignment.columns))
        ]
        row = kept.agg(*measures).collect()[0]
        key_names = [c.source for c in alignment.keys]
        key_columns = [f"k{i}" for i in range(len(alignment.keys))]
        samples: list[tuple[str, str]] = []
        if spec.samples:
            ranked = kept.where(category.isNotNull()).withColumn(
                "rank", F.row_number().over(Window.partitionBy("category").orderBy(*key_columns))
            )
            for found in (
                ranked.where(F.col("rank") <= spec.samples).orderBy("category", "rank").collect()
            ):
                samples.append(
                    (found["category"], key_text(key_names, [found[k] for k in key_columns]))
                )
        if output is not None:
            self._write(kept, key_names, key_columns, output)
        by_column = tuple(
            (c.source, int(row[f"d{j}"] or 0))
            for j, c in enumerate(alignment.columns)
            if row[f"d{j}"]
        )
        return KeyDiff(
            method="both sides read in Spark, grouped by key and joined on the keys column by column",
            missing=int(row["missing"] or 0),
            extra=int(row["extra"] or 0),
            changed=int(row["changed"] or 0),
            duplicate_source=int(row["dup_s"] or 0),
            duplicate_target=int(row["dup_t"] or 0),
            null_key_source=int(row["null_s"] or 0),
            null_key_target=int(row["null_t"] or 0),
            by_column=by_column,
            samples=tuple(samples),
        )

    @staticmethod
    def _write(kept: DataFrame, key_names: list[str], key_columns: list[str], output: str) -> None:
        listed = kept.where(F.col("category").isNotNull()).select(
            *(F.col(k).alias(n) for k, n in zip(key_columns, key_names, strict=True)),
            F.col("category"),
            F.col("columns"),
        )
        writer = listed.coalesce(1).write.mode("overwrite")
        if output.endswith(".csv"):
            writer.option("header", "true").csv(output)
        else:
            writer.parquet(output)

    def close(self) -> None:
        self._frames.clear()
