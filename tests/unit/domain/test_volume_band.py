"""The volume band: usual loads inside, a much smaller or larger one flagged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.metadata.volume import VolumeBand


def test_too_few_runs_give_no_band() -> None:
    assert VolumeBand.of([10, 12]) is None


def test_a_load_far_from_the_usual_is_flagged() -> None:
    band = VolumeBand.of([1000, 1010, 990, 1005, 995, 20])
    assert band is not None
    assert not band.flags(1000) and band.flags(20) and band.flags(5000)


@given(st.lists(st.integers(0, 10**9), min_size=3, max_size=50))
def test_the_median_run_is_never_flagged(rows: list[int]) -> None:
    band = VolumeBand.of(rows)
    assert band is not None
    middle = sorted(rows)[len(rows) // 2]
    assert band.low <= band.high and not band.flags(middle)


def test_the_label_shows_what_is_compared() -> None:
    # median 5, no spread: a tenth of 5 is 0.5, so only 5 is usual; a label that rounded
    # 4.5..5.5 to "4 to 6" and then flagged a 4-row run contradicted itself.
    band = VolumeBand.of([5, 5, 5, 5])
    assert band is not None
    assert band.counts == (5, 5) and band.flags(4) and band.flags(6) and not band.flags(5)
    assert band.describe().startswith("5 rows (the median 5 ± 0.5")


@given(st.lists(st.integers(0, 10**6), min_size=3, max_size=30), st.integers(0, 2 * 10**6))
def test_a_run_is_flagged_exactly_when_it_lies_outside_the_counts_the_label_names(
    rows: list[int], written: int
) -> None:
    band = VolumeBand.of(rows)
    assert band is not None
    lowest, highest = band.counts
    assert band.flags(written) == (not lowest <= written <= highest)
    assert band.flags(written) == (not band.low <= written <= band.high)
