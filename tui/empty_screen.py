"""What a new user sees on a store with no runs: how to log the first one, not a blank table.

When the store changes the screen checks for runs and turns into the runs screen as soon as one
appears, so the user can start a training script in another pane and watch it arrive.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Center, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui import data
from tui import format as fmt
from tui.key_bar import KeyBar
from tui.messages import StoreChanged

WELCOME = """\
[b]No runs in this store yet[/b]

Store: [b]{path}[/b]
Log a first run from Python:

[b $accent]    import store as mlflow

    mlflow.set_tracking_uri("{path}")
    with mlflow.start_run():
        mlflow.log_param("lr", 0.01)
        for step in range(100):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)[/]

or open another store with [b]mltui --store PATH[/b] (or MLTUI_STORE).
This screen switches to the runs table by itself when the first run arrives.\
"""


class EmptyScreen(Screen):
    def __init__(self, problem: str | None = None) -> None:
        super().__init__()
        self.problem = problem

    def compose(self) -> ComposeResult:
        from textual.markup import escape

        path = escape(fmt.display_path(self.app.client.root))  # type: ignore[attr-defined]
        if self.problem:
            text = f"[b $error]This folder cannot be opened as a store[/]\n\n{escape(self.problem)}"
        else:
            text = WELCOME.format(path=path)
        with VerticalScroll():
            with Center():
                yield Static(text, id="welcome")
        yield KeyBar()

    def on_store_changed(self, message: StoreChanged) -> None:
        if self.problem is None:
            self.check_for_runs()

    @work(thread=True, exclusive=True, group="first-run", exit_on_error=False)
    def check_for_runs(self) -> None:
        if data.store_has_runs(self.app.reader):  # type: ignore[attr-defined]
            self.app.call_from_thread(self.app.show_runs)  # type: ignore[attr-defined]
