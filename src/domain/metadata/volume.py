"""The usual volume of a dataset's loads: a band around the median of the runs' rows
written, and which runs fall outside it (the dashboard flags them)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

import attrs

# How many median absolute deviations from the median a run may stray before it is flagged;
# 3 is the common robust choice (about 2 standard deviations of a normal spread).
SPREAD = 3.0
# Fewer runs than this give no band: nothing to compare with yet.
MIN_RUNS = 3


@attrs.frozen
class VolumeBand:
    """``low``..``high`` rows written count as usual; None when there are too few runs."""

    low: float
    high: float

    @classmethod
    def of(cls, rows: Sequence[int]) -> VolumeBand | None:
        if len(rows) < MIN_RUNS:
            return None
        middle = median(rows)
        deviation = median(abs(r - middle) for r in rows)
        # A spread of zero (every run alike) still lets a run differ by a tenth.
        spread = max(SPREAD * deviation, 0.1 * middle)
        return cls(max(0.0, middle - spread), middle + spread)

    def flags(self, rows_written: int) -> bool:
        return not self.low <= rows_written <= self.high
