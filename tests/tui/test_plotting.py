"""The plot's step axis: whole, round, evenly spaced ticks inside the drawn range."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.plotting import step_ticks


def test_round_steps_instead_of_an_even_split() -> None:
    assert step_ticks(0, 299, 6) == ([0, 50, 100, 150, 200, 250], ["0", "50", "100", "150", "200", "250"])
    assert step_ticks(0, 100_000, 6)[1] == ["0", "20k", "40k", "60k", "80k", "100k"]
    assert step_ticks(0, 2_500_000, 8)[1] == ["0", "0.5M", "1M", "1.5M", "2M", "2.5M"]
    assert step_ticks(0, 2, 6) == ([0, 1, 2], ["0", "1", "2"])


@given(st.integers(-10**7, 10**7), st.integers(0, 10**7), st.integers(3, 30))
def test_ticks_are_whole_evenly_spaced_and_inside_the_range(lo: int, span: int, count: int) -> None:
    positions, labels = step_ticks(lo, lo + span, count)
    assert 1 <= len(positions) <= count and len(labels) == len(positions)
    assert all(isinstance(p, int) and lo <= p <= lo + span for p in positions)
    assert len({b - a for a, b in zip(positions, positions[1:])}) <= 1
    assert len(set(labels)) == len(labels)
