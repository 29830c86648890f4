"""Load strategies as pure DataFrame -> DataFrame functions: what the target holds after a
run, computed from the batch (and, for the incremental ones, the target as it was)."""

from __future__ import annotations

from pyspark.sql import DataFrame


def full(batch: DataFrame) -> DataFrame:
    """Full refresh: the target becomes exactly the batch."""
    return batch
