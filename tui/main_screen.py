"""The main screen: experiments on the left, the runs table on the right, the filter above it.

It owns the keys that act on runs (sort, columns, mark, details, plot, diff, export). One worker
reads the runs of every experiment matching the filter; choosing an experiment and sorting happen
in Arrow on that result, without reading the store. When the app sees the store change it sends
``StoreChanged`` and the runs are read again; cursor, sort, marks and filter live in the table and
its settings, so a reload never loses them.
"""

from __future__ import annotations

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.markup import escape
from textual.widgets import Static
from textual.worker import get_current_worker

from store.errors import MltuiError
from tui import data
from tui import format as fmt
from tui.experiments_pane import ExperimentsPane
from tui.filter_bar import FilterBar
from tui.key_bar import KeyBar
from tui.messages import QueryFailed, RunsLoaded, StoreChanged
from tui.runs_table import RunsTable
from tui.table_model import in_experiment, label


class MainScreen(Screen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter runs with the query language"),
        Binding("s", "sort", "Sort", tooltip="Sort by the column under the cursor (again: reverse)"),
        Binding("c", "columns", "Columns", show=False, tooltip="Choose which columns to show"),
        Binding("a", "aggregate", "last/min/max", show=False, tooltip="Cycle last/min/max/first for this metric column"),
        Binding("space", "mark", "Mark", tooltip="Mark the run for plot and diff"),
        Binding("enter", "details", "Details", show=False, tooltip="Open the run's details"),
        Binding("p", "plot", "Plot", tooltip="Plot a metric of the marked (or current) runs"),
        Binding("d", "diff", "Diff", tooltip="Compare the marked runs side by side"),
        Binding("e", "export", "Export", show=False, tooltip="Export the runs table to CSV/JSON/Markdown/HTML"),
        Binding("m", "registry", "Models", show=False, tooltip="Open the model registry"),
        Binding("r", "reload", "Refresh", show=False, tooltip="Read the store again now"),
        Binding("escape", "clear", "Clear", show=False, tooltip="Clear the filter, then the marks"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.experiment: str | None = None
        self.show_deleted = False
        self.all_runs: pa.Table | None = None
        self.listed: list[str] = []
        self.pending_query: str | None = None  # typed, not yet answered: a refresh must not drop it
        self.submitted_query: str | None = None  # entered: the table takes the focus once it shows it

    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal():
            yield ExperimentsPane(id="experiments")
            with Vertical(id="runs-pane"):
                yield FilterBar(id="filter")
                yield RunsTable(id="runs")
        yield KeyBar()

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self.filter_bar.display = False
        self.table.focus()
        self.load_runs()

    # ------------------------------------------------------------ the store read (a worker)

    def load_runs(self, query: str | None = None) -> None:
        """Read the runs for ``query``, else for the query being typed, else the current one."""
        if query is not None:
            self.pending_query = query
        elif self.pending_query is not None:
            query = self.pending_query
        self.read_runs(self.table.settings.query if query is None else query)

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False)
    def read_runs(self, query: str) -> None:
        """Runs of every experiment matching the filter; the experiment is chosen in Arrow."""
        reader = self.app.reader  # type: ignore[attr-defined]
        try:
            table = data.runs(reader, query, self.table.settings.aggregates, self.show_deleted)
        except MltuiError as exc:
            if not get_current_worker().is_cancelled:
                self.post_message(QueryFailed(exc, query))
            return
        experiments = data.experiments(reader, table, self.show_deleted)
        if not get_current_worker().is_cancelled:
            self.post_message(RunsLoaded(table, query, experiments))

    # ------------------------------------------------------------ results

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        if message.query == self.pending_query:
            self.pending_query = None
        self.all_runs = message.table
        self.table.settings.query = message.query
        if message.query == self.filter_bar.input.value:
            self.filter_bar.clear_error()  # a refresh under the last good query keeps the error
        self.query_one(ExperimentsPane).set_rows(message.experiments)
        self.listed = [e.name for e in message.experiments]
        self.show_runs()
        if message.query == self.submitted_query:
            self.submitted_query = None
            self.table.focus()

    def show_runs(self) -> None:
        if self.all_runs is not None:
            shown = in_experiment(self.all_runs, self.experiment, self.listed)
            self.table.show(shown, self.table.settings)
            self.update_topbar()

    def on_query_failed(self, message: QueryFailed) -> None:
        if message.query == self.pending_query:
            self.pending_query = None
        self.filter_bar.display = True
        self.filter_bar.show_error(message.error)

    def on_store_changed(self, message: StoreChanged) -> None:
        self.load_runs()

    def update_topbar(self) -> None:
        table = self.table
        parts = [f"[b]mltui[/b] {escape(self.app.client.root.name)}"]  # type: ignore[attr-defined]
        parts.append(fmt.runs(table.row_count))
        if table.marks:
            parts.append(f"{len(table.marks)} marked")
        settings = table.settings
        if settings.sort:
            parts.append(f"sort {escape(label(settings.sort, settings))} {'▼' if settings.descending else '▲'}")
        if settings.query:
            parts.append(f"filter: {escape(settings.query)}")
        self.query_one("#topbar", Static).update(" · ".join(parts))

    # ------------------------------------------------------------ events from children

    @on(ExperimentsPane.Chosen)
    def experiment_chosen(self, event: ExperimentsPane.Chosen) -> None:
        self.experiment = event.experiment
        self.show_runs()

    @on(ExperimentsPane.ShowDeleted)
    def deleted_toggled(self, event: ExperimentsPane.ShowDeleted) -> None:
        self.show_deleted = event.show
        self.load_runs()

    @on(FilterBar.Changed)
    def filter_changed(self, event: FilterBar.Changed) -> None:
        """Read the runs of the typed query; on enter the table takes the focus when it shows
        them (one repaint, not one now and one then), and a bad query keeps it in the box."""
        self.load_runs(event.query)
        if event.submitted:
            self.submitted_query = event.query

    @on(RunsTable.Selected)
    def run_selected(self) -> None:
        self.action_details()

    @on(RunsTable.HeaderClicked)
    def header_clicked(self, event: RunsTable.HeaderClicked) -> None:
        """A click on a column header sorts by it, as ``s`` does on the cursor's column."""
        self.table.settings.toggle_sort(event.column)
        self.show_runs()

    # ------------------------------------------------------------ actions

    def action_filter(self) -> None:
        self.filter_bar.display = True
        self.filter_bar.input.focus()

    def action_clear(self) -> None:
        if self.filter_bar.input.has_focus:
            self.table.focus()
        if self.table.settings.query or self.filter_bar.input.value:
            self.filter_bar.input.value = ""
            self.filter_bar.clear_error()
            self.filter_bar.display = False
            self.load_runs("")
        elif self.table.marks:
            self.table.marks.clear()
            self.show_runs()

    def action_reload(self) -> None:
        self.app.reader.changed()  # type: ignore[attr-defined]
        self.load_runs()

    def action_sort(self) -> None:
        column = self.table.current_column
        if column is not None:
            self.table.settings.toggle_sort(column)
            self.show_runs()

    def action_aggregate(self) -> None:
        column = self.table.current_column
        if not column or not column.startswith("metrics."):
            self.notify("Move to a metric column to switch last/min/max/first", severity="warning")
            return
        agg = self.table.settings.cycle_aggregate(column.removeprefix("metrics."))
        self.notify(f"{column.removeprefix('metrics.')}: showing {agg}")
        self.load_runs()

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.update_topbar()

    def selected_runs(self) -> list[str]:
        """The marked runs, else the run under the cursor."""
        if self.table.marks:
            return list(self.table.marks)
        current = self.table.current_run_id
        return [current] if current else []

    def action_details(self) -> None:
        from tui.details_screen import DetailsScreen

        run_id = self.table.current_run_id
        if run_id:
            self.app.push_screen(DetailsScreen(run_id))

    def action_plot(self) -> None:
        from tui.plot_screen import PlotScreen

        runs = self.selected_runs()
        if runs:
            self.app.push_screen(PlotScreen({r: self.table.run_name(r) for r in runs}))

    def action_diff(self) -> None:
        from tui.diff_screen import DiffScreen

        if len(self.table.marks) < 2:
            self.notify("Mark two or more runs with space, then press d", severity="warning")
            return
        self.app.push_screen(DiffScreen(list(self.table.marks)))

    def action_export(self) -> None:
        from tui.export_screen import ExportScreen

        if self.table.full is None:
            return
        self.app.push_screen(ExportScreen.for_table(self.table.full, self.table.shown_columns))

    def action_columns(self) -> None:
        from tui.columns_screen import ColumnsChoice, ColumnsScreen

        table = self.table
        if table.full is None:
            return

        def chosen(choice: ColumnsChoice | None) -> None:
            if choice is not None:
                table.settings.chosen = choice.columns
                self.show_runs()

        self.app.push_screen(ColumnsScreen(table.full, table.shown_columns, table.settings), chosen)

    def action_registry(self) -> None:
        from tui.registry_screen import RegistryScreen

        self.app.push_screen(RegistryScreen(self.app.client))  # type: ignore[attr-defined]
