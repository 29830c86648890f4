"""A keyed batch (scd1, scd2) checked before a database target stages it: its keys are its
primary key there, so a NULL key or an ambiguous change stops the run with its reason."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from adapters.spark import strategies
from adapters.spark.errors import engine_step
from domain.ingestion.spec import PipelineSpec


class NullKey(ValueError):
    """A key column is NULL in the batch: a database target's keys are its primary key."""


def checked_keys(spec: PipelineSpec, frame: DataFrame) -> int:
    """The batch's keys are usable: columns present, no NULL key, no ambiguous change;
    returns the batch's rows."""
    marker = None if spec.deletes is None else spec.deletes.column
    strategies.require_columns(spec.name, frame, [*spec.keys, spec.change_order, marker])
    with engine_step(f"{spec.name}: checking the batch's keys"):
        null_key = F.lit(False)
        for key in spec.keys:
            null_key = null_key | F.col(f"`{key}`").isNull()
        counts = frame.agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.when(null_key, 1).otherwise(0)).alias("null_keys"),
        ).first()
        assert counts is not None
        found = frame.where(null_key).limit(1).collect() if counts["null_keys"] else []
        if found:
            shown = ", ".join(f"{k}={found[0][k]!r}" for k in spec.keys)
            raise NullKey(
                f"{spec.name}: a row has a NULL key ({shown}); the keys of a database "
                f"target are its primary key: fix or filter those rows at the source"
            )
        strategies.refuse_ambiguous_changes(frame, spec.keys, spec.change_order)
    return int(counts["rows"])


def deleted_flag(spec: PipelineSpec) -> Column:
    """The delete flag of each batch row (False without a marker column)."""
    marker = (
        None
        if spec.deletes is None
        else strategies.delete_marker(spec.deletes.column, spec.deletes.value)
    )
    return F.lit(False) if marker is None else F.coalesce(marker, F.lit(False))
