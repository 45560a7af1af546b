"""Cell text fitted to a column: what keeps the runs table's columns aligned."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tui.format import fit

# Printable text, wide characters included; control and combining characters are not run names.
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Mn", "Me", "Cf", "Zl", "Zp")), max_size=30)


@given(TEXT, st.integers(1, 40), st.booleans())
def test_a_fitted_cell_is_exactly_as_wide_as_its_column(text: str, width: int, right: bool) -> None:
    out = fit(text, width, right)
    assert cell_len(out) == width
    pad = " " * (width - cell_len(text))
    if cell_len(text) <= width:
        assert out == (pad + text if right else text + pad)
    elif width > 1:
        assert out.rstrip(" ").endswith("…")


def test_numbers_align_right_names_left_and_long_text_is_cut() -> None:
    assert fit("0.91", 8, right=True) == "    0.91"
    assert fit("alpha", 8) == "alpha   "
    assert fit("a very long run name", 8) == "a very …"
    assert fit("学習率の実験", 7) == "学習率…"
