"""The runs table: every run of a sorted Arrow table, drawn one line at a time.

Textual's DataTable keeps each row as Python objects and draws each cell through Rich (measure,
wrap, pad, crop: 50-90 µs a cell), so a filter that repaints a 200x50 screen of new rows spent
most of its 100 ms there. This widget uses Textual's Line API instead: the table stays in Arrow,
a row is formatted the first time it is drawn, and a line is one segment per cell. Ten thousand
runs scroll as one table, with no window to slide. The mark and run-name columns stay put while
the others scroll sideways (when they take at most half the width). Cursor and marks are remembered by run id, so they survive
sorting, filtering and live refresh.
"""

from __future__ import annotations

from itertools import accumulate

import pyarrow as pa
import pyarrow.compute as pc
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui import format as fmt
from tui import table_model as model

MARK = "●"
BLOCK = 64  # rows formatted at a time
LINES_KEPT = 2000  # drawn lines kept for redrawing (a few screens of scrolling back and forth)
STATUS_STYLES = {
    "RUNNING": "bold $success",
    "FAILED": "bold $error",
    "CRASHED": "bold $warning",
    "KILLED": "$warning",
}


class RunsTable(ScrollView, can_focus=True):
    """Runs, one per row, under a header that stays on top; the cursor is a cell, so that
    ``s`` knows which column to sort."""

    COMPONENT_CLASSES = {
        "runs-table--header",
        "runs-table--header-cursor",
        "runs-table--cursor",
        "runs-table--even-row",
        "runs-table--odd-row",
        "runs-table--hover",
    }

    DEFAULT_CSS = """
    RunsTable {
        background: $surface;
        color: $foreground;
        & > .runs-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .runs-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .runs-table--header-cursor { text-style: bold; background: $accent-darken-1; color: $foreground; }
        & > .runs-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .runs-table--even-row { background: $surface-darken-1 40%; }
        & > .runs-table--hover { background: $block-hover-background; }
        & > .runs-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .runs-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("left,h", "cursor_left", "Left", show=False),
        Binding("right,l", "cursor_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First run", show=False),
        Binding("end,G", "last", "Last run", show=False),
        Binding("enter", "select", "Details", show=False),
    ]

    class Selected(Message):
        """Enter, or a click on the cursor's cell: the run under the cursor was chosen."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class HeaderClicked(Message):
        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.full: pa.Table | None = None
        self.shown_columns: list[str] = []
        self.marks: list[str] = []
        self.settings = model.TableSettings()
        self.cursor_row = 0
        self.cursor_column = 0
        self.hover_row: int | None = None  # the row under the mouse pointer
        self._ids: list[str] = []
        self._formats: list[model.Formatter] = []
        self._rows: dict[int, list[str]] = {}  # block start -> row texts, formatted when first drawn
        self._headers: list[str] = []
        self._widths: list[int] = []  # per shown column, in terminal cells, without padding
        self._lines: dict[tuple[int, int], Strip] = {}  # (row, cursor column or -1) -> line
        self._styles: dict[str, Style] = {}
        self._fixed_width = 1  # of the columns that stay put, drawn on every line

    # ------------------------------------------------------------ what is under the cursor

    @property
    def row_count(self) -> int:
        return len(self._ids)

    @property
    def cursor_coordinate(self) -> Coordinate:
        return Coordinate(self.cursor_row, self.cursor_column)

    @property
    def current_run_id(self) -> str | None:
        return self._ids[self.cursor_row] if self._ids else None

    @property
    def current_column(self) -> str | None:
        return self.shown_columns[self.cursor_column] if self.shown_columns and self._ids else None

    def run_name(self, run_id: str) -> str:
        index = self._index_of(run_id)
        if index is None or self.full is None:
            return run_id[:8]
        return self.full["run_name"][index].as_py() or run_id[:8]

    def column_index(self, column: str) -> int:
        return self.shown_columns.index(column)

    def header(self, column: str) -> str:
        """A column's header as shown (label, aggregate, sort arrow)."""
        return self._headers[self.column_index(column)]

    def cell(self, row: int, column: str) -> str:
        """A cell's text as shown (before padding)."""
        return self._row_texts(row)[self.column_index(column)]

    def _index_of(self, run_id: str) -> int | None:
        if self.full is None:
            return None
        found = pc.index(self.full["run_id"], run_id).as_py()
        return None if found < 0 else found

    # ------------------------------------------------------------ filling

    def show(self, table: pa.Table, settings: model.TableSettings) -> None:
        """Show ``table`` sorted and with the columns ``settings`` asks for, keeping the cursor
        on its run and column (and the column widths when the columns are the same)."""
        keep_run, keep_column = self.current_run_id, self.current_column
        self.settings = settings
        self.full = model.sort_table(table, settings.sort, settings.descending)
        columns = model.visible_columns(self.full, settings)
        if columns != self.shown_columns:
            self._widths = [0] * len(columns)
        self.shown_columns = columns
        self._ids = self.full["run_id"].to_pylist()
        shown = set(self._ids)
        self.marks = [m for m in self.marks if m in shown]
        self._formats = model.formatters(self.full, columns)
        self._rows = {}
        clashes = model.clashing_keys(columns)
        self._headers = [self._header_text(c, clashes) for c in columns]
        self._widths = [max(w, cell_len(h)) for w, h in zip(self._widths, self._headers)]
        row = self._index_of(keep_run) if keep_run is not None else None
        column = columns.index(keep_column) if keep_column in columns else 0
        self.cursor_row = min(row if row is not None else self.cursor_row, max(0, self.row_count - 1))
        self.cursor_column = min(column, max(0, len(columns) - 1))
        self._measure(self.scroll_offset.y, self.scroll_offset.y + self.size.height)
        self._changed()
        self._scroll_to_cursor()

    def _header_text(self, column: str, clashes: frozenset[str]) -> str:
        text = model.label(column, self.settings, clashes)
        if column == self.settings.sort:
            text += " ▼" if self.settings.descending else " ▲"
        return text

    def _row_texts(self, row: int) -> list[str]:
        start = row - row % BLOCK
        block = self._rows.get(start)
        if block is None:
            assert self.full is not None
            block = self._rows[start] = model.row_cells(
                self.full, self.shown_columns, self._formats, start, start + BLOCK
            )
        return block[row - start]

    def _measure(self, first: int, last: int) -> bool:
        """Widen the columns to fit rows ``first:last`` (formatting them); True if any grew."""
        grew = False
        for row in range(max(0, first), min(last, self.row_count)):
            for i, text in enumerate(self._row_texts(row)):
                width = cell_len(text)
                if width > self._widths[i]:
                    self._widths[i] = width
                    grew = True
        return grew

    def _changed(self) -> None:
        """Everything drawn so far is stale: new rows, widths, marks or styles."""
        self._lines = {}
        self._fixed_width = sum(self._cell_widths()[: self._fixed()])
        self.virtual_size = Size(self._table_width(), self.row_count + 1)
        self.refresh()

    # ------------------------------------------------------------ geometry

    def _cell_widths(self) -> list[int]:
        """Each column's width on screen, padding included (the mark column first)."""
        return [1] + [w + 2 for w in self._widths]

    def _table_width(self) -> int:
        return sum(self._cell_widths())

    def _fixed(self) -> int:
        """How many leading columns (mark, run name) stay put while the rest scroll sideways:
        both, unless they would take more than half the screen."""
        widths = self._cell_widths()
        fixed = 2 if self.shown_columns[:1] == ["run_name"] else 1
        return fixed if sum(widths[:fixed]) <= max(1, self.size.width // 2) else 1

    def _column_at(self, x: int) -> int | None:
        """The shown column under screen column ``x`` (None: the mark column or past the end)."""
        position = x if x < self._fixed_width else x + int(self.scroll_offset.x)
        for i, width in enumerate(self._cell_widths()):
            if position < width:
                return i - 1 if i else None
            position -= width
        return None

    # ------------------------------------------------------------ drawing (the Line API)

    def _style(self, name: str) -> Style:
        """A component's style, a status's or the widget's own (``base``), until styles change."""
        style = self._styles.get(name)
        if style is None:
            if name == "base":
                style = self.rich_style
            elif name.startswith("runs-table--"):
                style = self.get_component_rich_style(name)
            else:  # a status: its colour, or under NO_COLOR only its weight (a red turned grey
                # would be dark grey on black)
                words = STATUS_STYLES[name].split()
                variables = self.app.theme_variables
                if self.app.no_color:
                    words = [w for w in words if not w.startswith("$")]
                style = Style.parse(" ".join(variables.get(w[1:], "") if w.startswith("$") else w for w in words) or "none")
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._lines = {}

    def on_focus(self) -> None:
        self.notify_style_update()  # the cursor's colours differ focused and blurred

    def on_blur(self) -> None:
        self.notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = (int(v) for v in self.scroll_offset)
        if y == 0:
            line = self._header_line()
        elif scroll_y + y - 1 < self.row_count:
            row = scroll_y + y - 1
            key = (row, self.cursor_column if row == self.cursor_row else -1, row == self.hover_row)
            line = self._lines.get(key)
            if line is None:
                if len(self._lines) > LINES_KEPT:
                    self._lines = {}
                line = self._lines[key] = self._row_line(row)
        else:
            return Strip.blank(width, self._style("base"))
        fixed_width = self._fixed_width
        return Strip.join(
            [line.crop(0, fixed_width), line.crop(fixed_width + scroll_x, scroll_x + width)]
        ).extend_cell_length(width, self._style("base"))

    def _header_line(self) -> Strip:
        base = self._style("runs-table--header")
        cursor = base + self._style("runs-table--header-cursor")
        segments = [Segment(" ", base)]
        for i, (column, text, width) in enumerate(zip(self.shown_columns, self._headers, self._widths)):
            style = cursor if i == self.cursor_column and self._ids else base
            segments.append(Segment(f" {fmt.fit(text, width, model.is_numeric(column))} ", style))
        return Strip(segments).extend_cell_length(self.size.width, base)

    def _row_line(self, row: int) -> Strip:
        base = self._style("base") + self._style("runs-table--odd-row" if row % 2 else "runs-table--even-row")
        if row == self.hover_row:
            base += self._style("runs-table--hover")
        cursor = self._style("runs-table--cursor")
        texts = self._row_texts(row)
        segments = [Segment(MARK if self._ids[row] in self.marks else " ", base)]
        for i, (column, text, width) in enumerate(zip(self.shown_columns, texts, self._widths)):
            style = base + self._style(text) if column == "status" and text in STATUS_STYLES else base
            if row == self.cursor_row and i == self.cursor_column:
                style += cursor
            segments.append(Segment(f" {fmt.fit(text, width, model.is_numeric(column))} ", style))
        return Strip(segments).extend_cell_length(self.size.width, base)

    # ------------------------------------------------------------ scrolling

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        self.hover_row = None  # another run is under the pointer now: shown when it moves
        if self._measure(int(new_value), int(new_value) + self.size.height):
            self._changed()
        super().watch_scroll_y(old_value, new_value)

    def on_resize(self) -> None:
        self._measure(int(self.scroll_offset.y), int(self.scroll_offset.y) + self.size.height)
        self._changed()

    def _scroll_to_cursor(self) -> None:
        """Scroll so that the cursor's cell is on screen, below the header and right of the
        columns that stay put; sideways by whole columns, so that none shows cut at the left."""
        view = self.scrollable_content_region.size
        x, y = (int(v) for v in self.scroll_offset)
        rows = max(1, view.height - 1)
        if self.cursor_row < y:
            y = self.cursor_row
        elif self.cursor_row >= y + rows:
            y = self.cursor_row - rows + 1
        widths = self._cell_widths()
        fixed = self._fixed()
        column = self.cursor_column + 1
        if self.shown_columns and column >= fixed:
            starts = list(accumulate(widths[fixed:], initial=0))  # from the first scrolling column
            left, right = starts[column - fixed], starts[column - fixed + 1]
            visible = view.width - sum(widths[:fixed])
            if left < x:
                x = left
            elif right > x + visible:
                x = min(start for start in starts if start >= right - visible)
        if (x, y) != tuple(self.scroll_offset):
            self.scroll_to(x, y, animate=False)

    # ------------------------------------------------------------ the cursor

    def move_cursor(self, row: int | None = None, column: int | None = None) -> None:
        """Put the cursor on a cell (clamped to the table) and scroll it into view."""
        old_row = self.cursor_row
        if row is not None:
            self.cursor_row = max(0, min(row, self.row_count - 1))
        if column is not None:
            self.cursor_column = max(0, min(column, len(self.shown_columns) - 1))
        self._scroll_to_cursor()
        for changed in {old_row, self.cursor_row}:
            self.refresh_line(changed + 1)
        self.refresh_line(int(self.scroll_offset.y))  # the header highlights the cursor's column

    def move_to_run(self, name: str) -> bool:
        """Put the cursor on the run called ``name``; False when no shown run has it."""
        if self.full is None:
            return False
        found = pc.index(self.full["run_name"], name).as_py()
        if found < 0:
            return False
        self.move_cursor(row=found, column=self.column_index("run_name"))
        return True

    def _page(self) -> int:
        return max(1, self.size.height - 2)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_left(self) -> None:
        self.move_cursor(column=self.cursor_column - 1)

    def action_cursor_right(self) -> None:
        self.move_cursor(column=self.cursor_column + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._page())

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    def action_select(self) -> None:
        if self.current_run_id is not None:
            self.post_message(self.Selected(self.current_run_id))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        offset = event.get_content_offset(self)
        row = int(self.scroll_offset.y) + offset.y - 1 if offset is not None and offset.y > 0 else None
        self._hover(row if row is not None and row < self.row_count else None)

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, row: int | None) -> None:
        """Highlight the row under the pointer, as a click would pick it."""
        if row != self.hover_row:
            old, self.hover_row = self.hover_row, row
            for changed in (old, row):
                if changed is not None:
                    self.refresh_line(changed + 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._ids:
            return
        column = self._column_at(offset.x)
        if offset.y == 0:
            if column is not None:
                self.post_message(self.HeaderClicked(self.shown_columns[column]))
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if row >= self.row_count:
            return
        if (row, column) == (self.cursor_row, self.cursor_column):
            self.action_select()
        else:
            self.move_cursor(row=row, column=column)

    # ------------------------------------------------------------ marks

    def toggle_mark(self) -> None:
        run_id = self.current_run_id
        if run_id is None:
            return
        if run_id in self.marks:
            self.marks.remove(run_id)
        else:
            self.marks.append(run_id)
        self._lines = {k: v for k, v in self._lines.items() if k[0] != self.cursor_row}
        self.refresh_line(self.cursor_row + 1)
