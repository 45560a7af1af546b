"""The runs table widget: a DataTable showing a window of a sorted Arrow table of runs.

Textual's DataTable keeps every row as Python objects and measures every cell, which costs about
a quarter of a millisecond a row: fine for hundreds of runs, a freeze for ten thousand. So the
full (filtered, sorted) table stays in Arrow and the widget holds a window of ``page`` rows that
slides when the cursor reaches its edge. Cursor and marks are remembered by run id, so they
survive re-sorting, filtering and live refresh.
"""

from __future__ import annotations

import pyarrow as pa
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from tui import table_model as model
from tui.cell import Cell

MARK_COLUMN = "_mark"
MARK = "●"
STATUS_STYLES = {
    "RUNNING": "bold $success",
    "FAILED": "bold $error",
    "CRASHED": "bold $warning",
    "KILLED": "$warning",
}


class RunsTable(DataTable):
    """Runs, one per row; the cursor is a cell so that ``s`` knows which column to sort."""

    class Slid(Message):
        """The window moved to other rows of the full table (the screen shows which)."""

    @property
    def page(self) -> int:
        """Rows held at once: a screen and a half (each is measured and formatted on every fill,
        a fifth of a filter's time at 200x50), at least 40, so the window slides only every
        quarter screen or more of cursor movement."""
        return max(40, self.size.height * 3 // 2)

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("h", "cursor_left", "Left", show=False),
        Binding("l", "cursor_right", "Right", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.full: pa.Table | None = None
        self.shown_columns: list[str] = []
        self.marks: list[str] = []
        self.window_start = 0
        self.settings = model.TableSettings()

    # ------------------------------------------------------------ what is under the cursor

    @property
    def total(self) -> int:
        return self.full.num_rows if self.full is not None else 0

    @property
    def current_run_id(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @property
    def current_column(self) -> str | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).column_key.value
        return None if key == MARK_COLUMN else key

    def run_name(self, run_id: str) -> str:
        if self.full is None:
            return run_id[:8]
        names = self.full.filter(pa.compute.equal(self.full["run_id"], run_id))["run_name"]
        return (names[0].as_py() if len(names) else None) or run_id[:8]

    # ------------------------------------------------------------ filling

    def show(self, table: pa.Table, settings: model.TableSettings) -> None:
        """Show ``table`` sorted and with the columns ``settings`` asks for, keeping the cursor."""
        keep_run, keep_column = self.current_run_id, self.current_column
        self.settings = settings
        self.full = model.sort_table(table, settings.sort, settings.descending)
        self.shown_columns = model.visible_columns(self.full, settings)
        self.marks = [m for m in self.marks if m in set(self.full["run_id"].to_pylist())]
        if keep_run is not None:
            index = self._index_of(keep_run)
            if index is not None and not self.window_start <= index < self.window_start + self.page:
                self.window_start = max(0, index - self.page // 2)
        self.window_start = min(self.window_start, max(0, self.total - self.page))
        self._fill(keep_run, keep_column)

    def move_to_run(self, name: str) -> bool:
        """Put the cursor on the shown run called ``name``; False when no shown row has it."""
        column = self.get_column_index("run_name")
        for row in range(self.row_count):
            if str(self.get_row_at(row)[column]) == name:
                self.move_cursor(row=row, column=column)
                return True
        return False

    def _index_of(self, run_id: str) -> int | None:
        if self.full is None:
            return None
        found = pa.compute.index(self.full["run_id"], run_id).as_py()
        return None if found < 0 else found

    def _header(self, column: str, clashes: frozenset[str]) -> Text:
        text = model.label(column, self.settings, clashes)
        if column == self.settings.sort:
            text += " ▼" if self.settings.descending else " ▲"
        return Text(text, style="bold", justify="right" if model.is_numeric(column) else "left")

    def _fill(self, keep_run: str | None, keep_column: str | None, row: int | None = None) -> None:
        clashes = model.clashing_keys(self.shown_columns)
        headers = [self._header(column, clashes) for column in self.shown_columns]
        if [c.value for c in self.columns] == [MARK_COLUMN, *self.shown_columns]:
            # The same columns (a sort, a scroll, most filters): only the rows change, so the
            # widths stay put instead of jumping with each window of rows.
            self.clear()
            for column, header in zip(self.shown_columns, headers):
                kept = self.columns[ColumnKey(column)]
                kept.label = header
                kept.content_width = max(kept.content_width, header.cell_len)  # room for ▲/▼
        else:
            self.clear(columns=True)
            self.add_column(" ", key=MARK_COLUMN, width=1)
            for column, header in zip(self.shown_columns, headers):
                self.add_column(header, key=column)
        if self.full is None:
            return
        marks = set(self.marks)
        # Every cell is a Cell, never a plain string: a string would be parsed as markup (a run
        # named "[b]x" or ":fire:" shown as something else), and a Cell draws in one segment.
        numeric = [model.is_numeric(column) for column in self.shown_columns]
        for run_id, cells in model.row_cells(
            self.full, self.shown_columns, self.window_start, self.window_start + self.page
        ):
            styled = [Cell(MARK if run_id in marks else "")]
            for column, right, value in zip(self.shown_columns, numeric, cells):
                if column == "status" and value in STATUS_STYLES:
                    styled.append(Cell(value, self._status_style(value)))
                else:
                    styled.append(Cell(value, right=right))
            self.add_row(*styled, key=run_id)
        target_row = row
        if target_row is None and keep_run is not None and keep_run in self.rows:
            target_row = self.get_row_index(keep_run)
        target_col = 1
        if keep_column is not None and keep_column in self.columns:
            target_col = self.get_column_index(keep_column)
        if self.row_count:
            self.cursor_coordinate = Coordinate(
                min(target_row or 0, self.row_count - 1), min(target_col, len(self.columns) - 1)
            )

    def _status_style(self, status: str) -> str:
        variables = self.app.theme_variables
        style = STATUS_STYLES[status]
        for name in ("success", "error", "warning"):
            style = style.replace(f"${name}", variables.get(name, ""))
        return style

    # ------------------------------------------------------------ marks

    def toggle_mark(self) -> None:
        run_id = self.current_run_id
        if run_id is None:
            return
        if run_id in self.marks:
            self.marks.remove(run_id)
        else:
            self.marks.append(run_id)
        self.update_cell(run_id, MARK_COLUMN, Cell(MARK if run_id in self.marks else ""))

    # ------------------------------------------------------------ the sliding window

    def _slide(self, new_offset: int, row_in_window: int) -> None:
        self.window_start = max(0, min(new_offset, max(0, self.total - self.page)))
        self._fill(None, self.current_column, row=row_in_window)
        self.post_message(self.Slid())

    def action_cursor_down(self) -> None:
        at_end = self.cursor_row >= self.row_count - 1
        if at_end and self.window_start + self.row_count < self.total:
            absolute = self.window_start + self.cursor_row + 1
            new_offset = min(absolute - self.page // 2, self.total - self.page)
            self._slide(new_offset, absolute - max(0, new_offset))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row == 0 and self.window_start > 0:
            absolute = self.window_start - 1
            new_offset = max(0, absolute - self.page // 2)
            self._slide(new_offset, absolute - new_offset)
        else:
            super().action_cursor_up()

    def action_scroll_top(self) -> None:
        if self.window_start:
            self._slide(0, 0)
        super().action_scroll_top()

    def action_scroll_bottom(self) -> None:
        if self.window_start + self.row_count < self.total:
            self._slide(self.total - self.page, self.page - 1)
        super().action_scroll_bottom()
