"""``d``: the marked runs side by side, what differs highlighted, metric deltas to a baseline.

The diff is read once with every row (``store.diff.diff_runs(show_all=True)``); hiding equal rows
(the default, ``a`` shows them) is a filter on that result. ``b`` makes the run under the cursor
the baseline, which needs new deltas and so a new read.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from store.diff import DiffRow, RunDiff, diff_runs, same_value
from store.export import delta_text
from tui import format as fmt
from tui.key_bar import KeyBar
from tui.messages import StoreChanged
from tui.table_fill import Cell, fill_table


# Long keys and values (commit hashes, paths) are cut so that more runs fit side by side (two
# with short names, deltas included, at 80 columns); the export and the run's details give them whole.
KEY_WIDTH = 24
CELL_WIDTH = 20


def row_cells(diff: RunDiff, row: DiffRow) -> list[Cell]:
    """A key and its value in each run; values that differ from the baseline's in reverse."""
    base = row.values[diff.baseline]
    name = fmt.clip(f"{row.section[:-1]} {row.key}", KEY_WIDTH)
    cells: list[Cell] = [Text(name, style="bold" if row.differs else "dim")]
    for i, value in enumerate(row.values):
        text = fmt.clip(fmt.cell(value), CELL_WIDTH)
        delta = delta_text(row, i)
        if delta:
            text = f"{text} {delta}"
        differs = row.differs and not same_value(value, base)
        cells.append(Text(text, style="bold reverse" if differs else ("" if row.differs else "dim")))
    return cells


def run_names(diff: RunDiff) -> list[str]:
    """The runs' names cut as values are, so that a long name never widens its column, and
    where they differ (see ``format.clip_apart``)."""
    return fmt.clip_apart([run.run_name or run.run_id[:8] for run in diff.runs], CELL_WIDTH)


def run_headers(diff: RunDiff) -> list[Cell]:
    """Each run's column header: its name, then its short id, and which is the baseline the
    deltas are taken against."""
    headers: list[Cell] = []
    for i, (run, name) in enumerate(zip(diff.runs, run_names(diff))):
        header = Text(name, style="bold")
        header.append(f"\n{run.run_id[:8]}", style="dim")
        if i == diff.baseline:
            header.append(" baseline", style="bold italic")
        headers.append(header)
    return headers


class DiffLoaded(Message):
    def __init__(self, diff: RunDiff) -> None:
        super().__init__()
        self.diff = diff


class DiffScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "toggle_equal", "Equal rows", tooltip="Show or hide rows where every run agrees"),
        Binding("b", "baseline", "Baseline", tooltip="Make the run under the cursor the baseline"),
        Binding("e", "export", "Export", tooltip="Export this comparison"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.baseline = run_ids[0]
        self.show_equal = False
        self.diff: RunDiff | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="diff-table", cursor_type="cell", zebra_stripes=True, header_height=2)
        yield Static(id="diff-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#diff-table").border_title = "Diff"
        self.query_one(DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        snapshot = self.app.reader.snapshot()  # type: ignore[attr-defined]
        self.post_message(DiffLoaded(diff_runs(snapshot, self.run_ids, self.baseline, show_all=True)))

    def on_diff_loaded(self, message: DiffLoaded) -> None:
        if message.diff == self.diff:
            return  # a refresh that changed nothing these runs show: keep the frame as it is
        self.diff = message.diff
        self.fill()

    def on_store_changed(self, message: StoreChanged) -> None:
        self.load()

    def shown_rows(self) -> list:
        if self.diff is None:
            return []
        return [row for row in self.diff.rows if row.differs or self.show_equal]

    def fill(self) -> None:
        diff = self.diff
        if diff is None:
            return
        table = self.query_one(DataTable)
        cursor = table.cursor_coordinate
        labels: list[Cell] = ["key", *run_headers(diff)]
        rows = [row_cells(diff, row) for row in self.shown_rows()]
        fill_table(table, labels, rows, column_keys=["key"] + [run.run_id for run in diff.runs])
        if table.row_count:
            table.cursor_coordinate = cursor if cursor.row < table.row_count else cursor._replace(row=0)
        hidden = len(diff.rows) - len(self.shown_rows())
        status = f"{len(diff.runs)} runs · {diff.differing} differ"
        status += f" · {hidden} equal hidden (a: show)" if hidden else " · equal rows shown (a: hide)"
        status += f" · baseline {run_names(diff)[diff.baseline]}"
        self.query_one("#diff-status", Static).update(status)

    def action_toggle_equal(self) -> None:
        self.show_equal = not self.show_equal
        self.fill()

    def action_baseline(self) -> None:
        table = self.query_one(DataTable)
        key = table.coordinate_to_cell_key(table.cursor_coordinate).column_key.value if table.row_count else None
        if key not in self.run_ids:
            self.notify("Move the cursor to a run's column, then press b", severity="warning")
            return
        self.baseline = key
        self.load()

    def action_export(self) -> None:
        from tui.export_screen import ExportScreen

        if self.diff is not None:
            self.app.push_screen(ExportScreen.for_diff(self.diff))

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()
