"""``e``: write the current runs table or comparison to CSV, JSON, Markdown or HTML.

The writers are the CLI's (``store.export``), so a file exported here and one from ``mltui query
-o`` or ``mltui diff -o`` read the same. The file is written in a worker; the path written is
shown in the dialog and in a notification.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from store import export
from store.diff import RunDiff
from store.errors import MltuiError
from store.search import table_columns

SUFFIX = {"csv": ".csv", "json": ".json", "markdown": ".md", "html": ".html"}


class Written(Message):
    def __init__(self, path: Path | None, error: str | None) -> None:
        super().__init__()
        self.path = path
        self.error = error


class ExportScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, what: str, render: Callable[[str], str]) -> None:
        super().__init__()
        self.what = what
        self.make_text = render
        self.stem = f"mltui-{what}-{datetime.now():%Y%m%d-%H%M%S}"

    @classmethod
    def for_table(cls, table: pa.Table, columns: list[str]) -> ExportScreen:
        """Export the runs as shown: their rows in table order, the columns on screen."""
        return cls("runs", lambda fmt: export.render_table(table_columns(table), fmt, columns))

    @classmethod
    def for_diff(cls, diff: RunDiff) -> ExportScreen:
        return cls("diff", lambda fmt: export.render_diff(diff, fmt))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Export {self.what}"
            with RadioSet(id="export-format"):
                for i, fmt in enumerate(export.FORMATS):
                    yield RadioButton(fmt, value=i == 0, name=fmt)
            yield Input(value=self.stem + SUFFIX["csv"], id="export-path")
            yield Static("enter: write · esc: cancel", classes="hint", id="export-result")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @property
    def fmt(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return pressed.name if pressed is not None and pressed.name else "csv"

    @on(RadioSet.Changed)
    def format_changed(self, event: RadioSet.Changed) -> None:
        path = self.query_one("#export-path", Input)
        current = Path(path.value)
        if current.suffix.lower() in export.SUFFIXES or not current.suffix:
            path.value = str(current.with_suffix(SUFFIX[self.fmt]))

    @on(Input.Submitted, "#export-path")
    def submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.write(self.fmt, Path(event.value.strip()).expanduser())

    @work(thread=True, exclusive=True, exit_on_error=False)
    def write(self, fmt: str, path: Path) -> None:
        try:
            export.write(self.make_text(fmt), path)
        except MltuiError as exc:
            self.post_message(Written(None, str(exc)))
            return
        self.post_message(Written(path.absolute(), None))

    def on_written(self, message: Written) -> None:
        if message.error is not None:
            self.query_one("#export-result", Static).update(message.error)
            return
        # The name first: a toast cuts a long folder short, never the file's own name.
        self.app.notify(f"Wrote {message.path.name}\nin {message.path.parent}", title="Export")
        self.dismiss(message.path)
