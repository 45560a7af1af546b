"""Cell text fitted to a column: what keeps the runs table's columns aligned."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tui.format import clip_apart, fit

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


@given(st.lists(st.text("ab-0123456789", max_size=40), min_size=2, max_size=2), st.integers(4, 30))
def test_two_names_cut_to_a_column_still_tell_apart(names: list[str], width: int) -> None:
    """Long sweep names sharing a prefix are cut where they differ, not where they agree."""
    out = clip_apart(names, width)
    for name, shown in zip(names, out):
        assert len(shown) <= width
        assert shown == name if len(name) <= width else shown.replace("…", "") in name
    if names[0] != names[1]:
        assert out[0] != out[1]


def test_sweep_names_show_the_part_that_differs() -> None:
    names = ["resnet50-cosine-lr0.003-warmup500-seed17", "resnet50-cosine-lr0.010-warmup500-seed17"]
    assert clip_apart(names, 20) == ["…-lr0.003-warmup500…", "…-lr0.010-warmup500…"]
    assert clip_apart(["alpha", "a-much-longer-run-name"], 20) == ["alpha", "a-much-longer-run-n…"]
