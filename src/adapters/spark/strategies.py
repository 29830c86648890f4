"""Load strategies as pure DataFrame -> DataFrame functions: what the target holds after a
run, computed from the batch (and, for the incremental ones, the target as it was)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from domain.ingestion.durations import lag_amount
from domain.ingestion.spec import HISTORY_COLUMNS as HISTORY_COLUMNS
from domain.ingestion.spec import IS_CURRENT as IS_CURRENT
from domain.ingestion.spec import IS_DELETED as IS_DELETED
from domain.ingestion.spec import SEQUENCES as SEQUENCES
from domain.ingestion.spec import VALID_FROM as VALID_FROM
from domain.ingestion.spec import VALID_TO as VALID_TO


class NullWatermark(ValueError):
    """Rows with a NULL watermark under null_cursor = raise; nothing was written."""


def lower_bound(after: str, lag: str | None, data_type: T.DataType) -> Column:
    """The committed watermark minus the lag, in the column's type."""
    bound = F.lit(after).cast(data_type)
    if not lag:
        return bound
    amount = lag_amount(lag)
    if isinstance(data_type, T.TimestampType | T.TimestampNTZType):
        return bound - F.expr(f"INTERVAL {int(amount)} SECONDS")
    if isinstance(data_type, T.DateType):
        return F.date_sub(bound, int(amount // 86400))
    return bound - F.lit(amount).cast(data_type)


def require_columns(name: str, frame: DataFrame, columns: Sequence[str | None]) -> None:
    """ValueError naming the pipeline, the missing columns and the ones the source has."""
    missing = [c for c in columns if c and c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name}: the source has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(frame.columns)}"
        )


def read_window(
    name: str, frame: DataFrame, column: str, after: str | None, lag: str | None
) -> tuple[T.DataType, Column | None]:
    """The watermark column's type and the window's lower bound (None: read everything)."""
    if column not in frame.columns:
        raise ValueError(
            f"{name}: the source has no watermark column {column!r}; it has "
            f"{', '.join(frame.columns)}"
        )
    data_type = frame.schema[column].dataType
    return data_type, None if after is None else lower_bound(after, lag, data_type)


def greatest_watermark(column: str, after: str | None, data_type: T.DataType) -> Column:
    """The greatest watermark the target holds after the run, as text (an aggregate)."""
    greatest = F.max(F.col(f"`{column}`"))
    if after is not None:
        greatest = F.greatest(greatest, F.lit(after).cast(data_type))
    return greatest.cast("string")


def delete_marker(column: str | None, value: str) -> Column | None:
    """True where the marker ``column`` holds ``value`` (None without a marker column)."""
    if column is None:
        return None
    return F.col(f"`{column}`").cast("string") == F.lit(value)


def full(batch: DataFrame) -> DataFrame:
    """Full refresh: the target becomes exactly the batch."""
    return batch


def _same_identity(left: DataFrame, right: DataFrame, identity: Sequence[str]) -> Column:
    """Column by column and NULL-safe: keys are never concatenated, so ("ab", "c") and
    ("a", "bc") stay different."""
    condition = F.lit(True)
    for name in identity:
        condition = condition & left[name].eqNullSafe(right[name])
    return condition


def append(
    batch: DataFrame,
    loaded: DataFrame | None,
    *,
    column: str,
    lower: Column | None,
    identity: Sequence[str],
    include_nulls: bool,
) -> DataFrame:
    """Append: the batch's rows at or after ``lower`` (and, with ``include_nulls``, rows
    whose watermark is NULL) that ``loaded`` - the target's rows in the same window - does
    not already hold, compared by ``identity``.

    Re-reading from the committed watermark (minus a lag) and skipping what the target holds
    loads late rows at the boundary exactly once and no row twice; what it needs to remember
    is one watermark, however many rows share it.
    """
    watermark = F.col(f"`{column}`")
    in_window = watermark.isNotNull() if lower is None else watermark >= lower
    if include_nulls:
        in_window = in_window | watermark.isNull()
    candidates = batch.where(in_window)
    if loaded is None:
        return candidates
    known = loaded.select(*(F.col(f"`{n}`") for n in identity)).distinct()
    return candidates.join(known, _same_identity(candidates, known, identity), "left_anti")


class DuplicateKey(ValueError):
    """A key repeated within one batch with no sequence to order it, or with the same
    sequence twice; or a NULL sequence. Names the offending key."""


def _key_text(row: Any, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={row[k]!r}" for k in keys)


def refuse_ambiguous_changes(batch: DataFrame, keys: Sequence[str], sequence: str | None) -> None:
    """Raise :class:`DuplicateKey` naming the key when the batch cannot say which change of
    a key is the latest: a NULL sequence, a repeated (key, sequence), or a repeated key
    without a sequence column. (Small actions of their own; the write is the big one.)"""
    key_columns = [F.col(f"`{k}`") for k in keys]
    if sequence is None:
        repeated = batch.groupBy(*key_columns).count().where(F.col("count") > 1).limit(1).collect()
        if repeated:
            raise DuplicateKey(
                f"key {_key_text(repeated[0], keys)} appears more than once in the batch and "
                f"the pipeline has no sequence column to say which change is the latest"
            )
        return
    ordering = F.col(f"`{sequence}`")
    nulls = batch.where(ordering.isNull()).limit(1).collect()
    if nulls:
        raise DuplicateKey(
            f"sequence {sequence!r} is NULL for key {_key_text(nulls[0], keys)}; every row "
            f"needs one to order its changes"
        )
    repeated = (
        batch.groupBy(*key_columns, ordering).count().where(F.col("count") > 1).limit(1).collect()
    )
    if repeated:
        raise DuplicateKey(
            f"key {_key_text(repeated[0], keys)} appears twice with {sequence} = "
            f"{repeated[0][sequence]!r}; the order of its changes is ambiguous"
        )


def latest_per_key(batch: DataFrame, keys: Sequence[str], sequence: str | None) -> DataFrame:
    """One row per key: the one with the greatest ``sequence`` (the batch is checked by
    :func:`refuse_ambiguous_changes` first)."""
    if sequence is None:
        return batch
    key_columns = [F.col(f"`{k}`") for k in keys]
    rank = F.row_number().over(
        Window.partitionBy(*key_columns).orderBy(F.col(f"`{sequence}`").desc())
    )
    return batch.withColumn("__rank", rank).where(F.col("__rank") == 1).drop("__rank")


def scd1(
    target: DataFrame | None,
    batch: DataFrame,
    *,
    keys: Sequence[str],
    sequence: str | None,
    deleted: Column | None,
    delete_missing: bool = False,
) -> DataFrame:
    """SCD1: the target with the batch applied, one row per key.

    With ``delete_missing`` the batch is a full extract: a target key it does not hold is
    deleted.

    The batch's latest row of a key replaces the target's (unless the target's has a
    greater sequence: an older batch replayed changes nothing); a row that ``deleted``
    marks removes its key. Keys compare column by column, NULL-safe. The result carries
    ``__action`` (insert, update, keep, delete) so a writer can count each before
    :func:`applied` drops the deleted keys and the column.
    """
    latest = latest_per_key(batch, keys, sequence)
    is_deleted = F.lit(False) if deleted is None else F.coalesce(deleted, F.lit(False))
    incoming = latest.withColumn("__deleted", is_deleted)
    if target is None:
        action = F.when(F.col("__deleted"), F.lit("delete")).otherwise(F.lit("insert"))
        return incoming.withColumn("__action", action).drop("__deleted")
    old = target.select(
        *(F.col(f"`{c}`").alias(f"__old_{c}") for c in target.columns),
        F.lit(True).alias("__old"),
    )
    condition = F.lit(True)
    for key in keys:
        condition = condition & incoming[f"`{key}`"].eqNullSafe(old[f"`__old_{key}`"])
    joined = incoming.join(old, condition, "full_outer")
    has_new, has_old = F.col("__deleted").isNotNull(), F.col("__old").isNotNull()
    older = (
        F.lit(False)
        if sequence is None
        else has_old & has_new & (F.col(f"`__old_{sequence}`") > F.col(f"`{sequence}`"))
    )
    absent = F.lit("delete") if delete_missing else F.lit("keep")
    action = (
        F.when(~has_new, absent)
        .when(older, F.lit("keep"))
        .when(F.col("__deleted"), F.lit("delete"))
        .when(has_old, F.lit("update"))
        .otherwise(F.lit("insert"))
    )
    chosen = [
        # The target's row where it stays, or is deleted for missing from the extract.
        F.when((F.col("__action") == "keep") | ~has_new, F.col(f"`__old_{c}`"))
        .otherwise(F.col(f"`{c}`"))
        .alias(c)
        for c in batch.columns
    ]
    return joined.withColumn("__action", action).select(*chosen, F.col("__action"))


def applied(changes: DataFrame) -> DataFrame:
    """The rows a target holds after ``changes`` (an :func:`scd1` result): deleted keys out."""
    return changes.where(F.col("__action") != "delete").drop("__action")


def scd2(
    target: DataFrame | None,
    batch: DataFrame,
    *,
    keys: Sequence[str],
    sequence: str,
    deleted: Column | None,
) -> DataFrame:
    """SCD2: the target's history with the batch's changes merged in.

    A version per real change of a key: ``valid_from`` is the change's sequence,
    ``valid_to`` the next version's, ``is_current`` marks the open one. A delete is kept as a
    tombstone row (``is_deleted``, no values, never current) that closes the version before
    it. ``sequences`` lists every change a version stands for (a change equal to the version
    before it adds no version, but its sequence is kept): with them every key's events can
    be replayed, so a change that arrives late but happened earlier splits the version it
    falls into exactly as a sorted replay would. Hence batches applied in any order and
    split give the history of one sorted replay; A -> B -> A gives three versions;
    re-applying a batch changes nothing. Check the batch with
    :func:`refuse_ambiguous_changes` first. Keys compare column by column, NULL-safe.
    """
    data = list(batch.columns)
    values = [c for c in data if c not in keys and c != sequence]
    is_deleted = F.lit(False) if deleted is None else F.coalesce(deleted, F.lit(False))
    events = batch.select(
        *(F.col(f"`{c}`") for c in data), is_deleted.alias("__deleted"), F.lit(1).alias("__source")
    )
    untouched = None
    if target is not None:
        touched = batch.select(*(F.col(f"`{k}`") for k in keys)).distinct()
        same_key = F.lit(True)
        for key in keys:
            same_key = same_key & target[f"`{key}`"].eqNullSafe(touched[f"`{key}`"])
        history = target.join(touched, same_key, "left_semi")
        untouched = target.join(touched, same_key, "left_anti")
        # Every change a stored version stands for becomes an event again.
        past = history.select(
            *(
                F.explode(F.col(f"`{SEQUENCES}`")).alias(c) if c == sequence else F.col(f"`{c}`")
                for c in data
            ),
            F.col(f"`{IS_DELETED}`").alias("__deleted"),
            F.lit(0).alias("__source"),
        )
        events = events.unionByName(past)
    by_key = [F.col(f"`{k}`") for k in keys]
    order = F.col(f"`{sequence}`")
    # One event per (key, sequence): the batch's when it restates a stored one.
    first = F.row_number().over(
        Window.partitionBy(*by_key, order).orderBy(F.col("__source").desc())
    )
    events = events.withColumn("__n", first).where(F.col("__n") == 1).drop("__n", "__source")
    timeline = Window.partitionBy(*by_key).orderBy(order)
    state = F.struct(*(F.col(f"`{v}`") for v in values)) if values else F.lit(None)
    events = (
        events.withColumn("__state", state)
        .withColumn("__prev_deleted", F.lag("__deleted").over(timeline))
        .withColumn("__prev_state", F.lag("__state").over(timeline))
    )
    previous_deleted, previous_state = F.col("__prev_deleted"), F.col("__prev_state")
    # A version starts where the event differs from the one before it.
    starts = F.when(F.col("__deleted"), previous_deleted.isNull() | ~previous_deleted).otherwise(
        previous_deleted.isNull() | previous_deleted | ~previous_state.eqNullSafe(F.col("__state"))
    )
    numbered = events.withColumn("__start", starts.cast("int")).withColumn(
        "__run",
        F.sum("__start").over(timeline.rowsBetween(Window.unboundedPreceding, Window.currentRow)),
    )
    runs = numbered.groupBy(*by_key, F.col("__run")).agg(
        F.min(order).alias(VALID_FROM),
        F.sort_array(F.collect_list(order)).alias(SEQUENCES),
        F.min_by(F.col("__deleted"), order).alias("__deleted"),
        *(F.min_by(F.col(f"`{v}`"), order).alias(v) for v in values),
    )
    run_order = Window.partitionBy(*by_key).orderBy(F.col(VALID_FROM))
    nulled = [
        (
            F.when(F.col("__deleted"), F.lit(None).cast(batch.schema[c].dataType))
            .otherwise(F.col(f"`{c}`"))
            .alias(c)
            if c in values
            else (F.col(VALID_FROM).alias(c) if c == sequence else F.col(f"`{c}`"))
        )
        for c in data
    ]
    versions = (
        runs.withColumn(VALID_TO, F.lead(VALID_FROM).over(run_order))
        .withColumn(IS_CURRENT, F.col(VALID_TO).isNull() & ~F.col("__deleted"))
        .withColumn(IS_DELETED, F.col("__deleted"))
        .select(*nulled, VALID_FROM, VALID_TO, IS_CURRENT, IS_DELETED, SEQUENCES)
    )
    return versions if untouched is None else untouched.unionByName(versions)
