"""``enter``: one run in full: params, metric summaries, tags, artifacts, notes, parent, children."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from tui import data
from tui import format as fmt
from tui.key_bar import KeyBar


class DetailsLoaded(Message):
    def __init__(self, details: data.RunDetails) -> None:
        super().__init__()
        self.details = details


def _section(title: str, columns: list[str], rows: list[list[str]], empty: str) -> Group:
    heading = Text(f"\n{title}", style="bold underline")
    if not rows:
        return Group(heading, Text(f"  {empty}", style="dim"))
    table = Table(box=None, padding=(0, 2, 0, 2), show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return Group(heading, table)


def render(details: data.RunDetails) -> Group:
    """The whole details page as one rich renderable (also what the tests read)."""
    run = details.run
    info = run.info
    overview = [
        ["name", info.run_name],
        ["id", info.run_id],
        ["status", info.status],
        ["start", fmt.short_time(info.start_time)],
        ["end", fmt.short_time(info.end_time)],
        ["duration", fmt.short_duration(details.duration)],
        ["user", info.user_id],
        ["host", f"{info.host or ''} pid {info.pid}" if info.pid else info.host or ""],
        ["artifacts", fmt.display_path(info.artifact_uri)],
    ]
    metrics = [
        [m.key, fmt.number(m.last), fmt.number(m.min), fmt.number(m.max), str(m.last_step), str(m.count)]
        for m in details.metrics
    ]
    tags = [[k, v] for k, v in sorted(run.data.tags.items()) if k != data.NOTE_TAG]
    artifacts = [
        [a.path + ("/" if a.is_dir else ""), "" if a.file_size is None else f"{a.file_size:,} B"]
        for a in details.artifacts
    ]
    family = []
    if details.parent is not None:
        family.append(["parent", details.parent.info.run_name, details.parent.info.run_id])
    family += [["child", c.info.run_name, c.info.run_id] for c in details.children]
    return Group(
        _section("Run", ["", ""], overview, ""),
        _section("Notes", [""], [[details.note]] if details.note else [], "no notes"),
        _section("Parameters", ["key", "value"], [[k, v] for k, v in sorted(run.data.params.items())],
                 "no parameters"),
        _section("Metrics", ["key", "last", "min", "max", "step", "points"], metrics, "no metrics"),
        _section("Tags", ["key", "value"], tags, "no tags"),
        _section("Artifacts", ["path", "size"], artifacts, "no artifacts"),
        _section("Parent and children", ["", "name", "id"], family, "no parent, no children"),
    )


class DetailsScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "plot", "Plot", tooltip="Plot this run's metrics"),
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.details: data.RunDetails | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-body") as body:
            body.border_title = "Run details"
            yield Static("Loading…", id="details")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#details-body").focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        self.post_message(DetailsLoaded(data.run_details(self.app.client, self.run_id)))  # type: ignore[attr-defined]

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        self.details = message.details
        self.query_one("#details-body").border_title = f"Run {message.details.run.info.run_name}"
        self.query_one("#details", Static).update(render(message.details))

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#details-body", VerticalScroll)
        body.scroll_down() if direction == "down" else body.scroll_up()

    def action_plot(self) -> None:
        from tui.plot_screen import PlotScreen

        if self.details is not None:
            self.app.push_screen(PlotScreen({self.run_id: self.details.run.info.run_name}))
