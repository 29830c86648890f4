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
