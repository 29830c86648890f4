"""Load strategies as pure DataFrame -> DataFrame functions: what the target holds after a
run, computed from the batch (and, for the incremental ones, the target as it was)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


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
