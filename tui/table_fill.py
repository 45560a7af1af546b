"""Filling a ``DataTable`` with columns as wide as their widest cell, measured here.

Textual sizes an auto-width column when the table is next idle, after its rows were added. A
frame painted before that (a busy machine, a worker's message arriving mid-frame) caches the
cells at their header widths, and they stay clipped ("par" for "param lr") until something
else changes the table (Textualize/textual#4470). Columns given their width up front are right
in the first frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def _as_text(cell: Cell) -> Text:
    """A plain string stays plain: a model or param name with brackets is not Rich markup."""
    return cell if isinstance(cell, Text) else Text(cell)


def fill_table(
    table: DataTable,
    columns: Sequence[Cell],
    rows: Sequence[Sequence[Cell]],
    column_keys: Sequence[str] | None = None,
    row_keys: Sequence[str] | None = None,
) -> None:
    """Replace the table's columns and rows; the cursor goes back to the first cell."""
    labels = [_as_text(label) for label in columns]
    cells = [[_as_text(cell) for cell in row] for row in rows]
    widths = [max(cell_len(line) for line in label.plain.split("\n")) for label in labels]
    for row in cells:
        widths = [max(width, cell.cell_len) for width, cell in zip(widths, row)]
    table.clear(columns=True)
    for i, (label, width) in enumerate(zip(labels, widths)):
        table.add_column(label, width=width, key=column_keys[i] if column_keys else None)
    for i, row in enumerate(cells):
        table.add_row(*row, key=row_keys[i] if row_keys else None)
