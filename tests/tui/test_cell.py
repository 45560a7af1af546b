"""A runs-table cell fills exactly the width it is given, whatever its text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from tui.cell import Cell

console = Console(width=200, color_system=None)


def drawn(cell: Cell, width: int) -> str:
    return "".join(segment.text for segment in console.render(cell, console.options.update_width(width)))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Mn", "Me", "Cf", "Zl", "Zp")), max_size=30),
       st.integers(1, 40), st.booleans())
def test_a_cell_is_as_wide_as_its_column(text: str, width: int, right: bool) -> None:
    out = drawn(Cell(text, right=right), width)
    assert cell_len(out) == width
    pad = " " * (width - cell_len(text))
    if cell_len(text) <= width:
        assert out == (pad + text if right else text + pad)
    elif width > 1:
        assert out.rstrip(" ").endswith("…")


def test_numbers_align_right_and_names_left() -> None:
    assert drawn(Cell("0.91", right=True), 8) == "    0.91"
    assert drawn(Cell("alpha"), 8) == "alpha   "
    assert drawn(Cell("a very long run name"), 8) == "a very …"
    assert drawn(Cell("学習率の実験"), 7) == "学習率…"


def test_a_cell_measures_as_its_text() -> None:
    assert console.measure(Cell("学習率")).maximum == 6
    assert str(Cell("alpha")) == "alpha"
