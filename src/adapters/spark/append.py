"""The rows an append run writes: the source's window by watermark, less the rows the
target already holds at the boundary, observed on the way (rows read, NULL watermarks,
the greatest watermark now held)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from adapters.spark import strategies
from domain.dataset import RunId
from domain.ingestion.plan import Plan
from domain.ingestion.spec import NullCursor, PipelineSpec


def append_rows(
    spec: PipelineSpec,
    frame: DataFrame,
    plan: Plan,
    held: DataFrame | None,
    run_id: RunId,
) -> tuple[DataFrame, Observation, Observation]:
    """The rows an append run writes, with observations of what it read (rows, NULL
    watermarks) and of the watermark the target holds afterwards."""
    assert spec.watermark is not None and plan.window is not None
    column, window = spec.watermark.column, plan.window
    data_type, lower = strategies.read_window(spec.name, frame, column, window.after, window.lag)
    watermark = F.col(f"`{column}`")
    # Observation names are per session: one name per run, or a later run reads nothing.
    read = Observation(f"read_{run_id.value}")
    in_window = watermark.isNotNull() if lower is None else watermark >= lower
    source = frame.observe(
        read,
        F.sum(F.when(in_window | watermark.isNull(), 1).otherwise(0)).alias("rows"),
        F.sum(F.when(watermark.isNull(), 1).otherwise(0)).alias("nulls"),
    )
    include = spec.watermark.null_cursor is NullCursor.INCLUDE
    loaded = None
    if held is not None:
        held_window = held.where(
            (watermark >= lower if lower is not None else F.lit(True))
            | (watermark.isNull() if include else F.lit(False))
        )
        loaded = held_window
    identity = list(spec.keys) or list(frame.columns)
    rows = strategies.append(
        source,
        loaded,
        column=column,
        lower=lower,
        identity=identity,
        include_nulls=include,
    )
    top = Observation(f"watermark_{run_id.value}")
    greatest = strategies.greatest_watermark(column, window.after, data_type)
    rows = rows.observe(top, greatest.alias("watermark"))
    return rows, read, top
