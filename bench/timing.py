"""Interleaved timing for the benchmarks: each figure beside its baseline in one run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_times(works: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Medians of ``repeat`` interleaved runs of each work, after a warm-up of each (so
    drift in the machine's speed hits them alike)."""
    for work in works.values():
        work()  # warm-up: JIT, file cache
    times: dict[str, list[float]] = {label: [] for label in works}
    for _ in range(repeat):
        for label, work in works.items():
            start = time.perf_counter()
            work()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}
