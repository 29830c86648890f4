"""The usual volume of a dataset's loads: a band around the median of the runs' rows
written, and which runs fall outside it (the dashboard flags them)."""

from __future__ import annotations

import math
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
    middle: float = 0.0
    spread: float = 0.0

    @classmethod
    def of(cls, rows: Sequence[int]) -> VolumeBand | None:
        if len(rows) < MIN_RUNS:
            return None
        middle = median(rows)
        deviation = median(abs(r - middle) for r in rows)
        # A spread of zero (every run alike) still lets a run differ by a tenth.
        spread = max(SPREAD * deviation, 0.1 * middle)
        return cls(max(0.0, middle - spread), middle + spread, float(middle), float(spread))

    @property
    def counts(self) -> tuple[int, int]:
        """The row counts the band holds: what a run is compared with (whole rows)."""
        return math.ceil(self.low), math.floor(self.high)

    def flags(self, rows_written: int) -> bool:
        lowest, highest = self.counts
        return not lowest <= rows_written <= highest

    def describe(self) -> str:
        """The band in words, as it is compared: whole row counts, and where they come from."""
        lowest, highest = self.counts
        held = (
            f"{lowest:,} rows"
            if lowest == highest
            else f"{lowest:,} to {highest:,} rows" if lowest < highest else "no whole row count"
        )
        return (
            f"{held} (the median {self.middle:,.6g} ± {self.spread:,.6g}: "
            f"{SPREAD:g} median absolute deviations, at least a tenth of the median)"
        )
