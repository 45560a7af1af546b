"""``c``: choose which columns the runs table shows (or go back to the automatic choice)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from tui import table_model as model

OPTIONAL_RUN_COLUMNS = ("experiment", "end_time", "user_id", "run_id")


@dataclass(frozen=True)
class ColumnsChoice:
    """The user's answer: a list of columns, or ``None`` for the automatic choice."""

    columns: list[str] | None


class ColumnsScreen(ModalScreen[ColumnsChoice | None]):
    BINDINGS = [
        Binding("enter", "apply", "Apply", priority=True),
        Binding("a", "automatic", "Automatic", tooltip="Run, status, what varies, start and duration"),
        Binding("escape", "dismiss(None)", "Cancel"),
    ]

    def __init__(self, table: pa.Table, shown: list[str], settings: model.TableSettings) -> None:
        super().__init__()
        self.columns = [
            *model.LEAD_COLUMNS,
            *model.data_columns(table),
            *model.TRAIL_COLUMNS,
            *(c for c in OPTIONAL_RUN_COLUMNS if c in table.column_names),
        ]
        self.shown = set(shown)
        self.settings = settings

    def compose(self) -> ComposeResult:
        clashes = model.clashing_keys(self.columns)  # a param and a metric both called lr
        with Vertical(classes="dialog") as box:
            box.border_title = "Columns"
            yield Static("space: show/hide · enter: apply · a: automatic · esc: cancel", classes="hint")
            yield SelectionList[str](
                *[(model.label(c, self.settings, clashes), c, c in self.shown) for c in self.columns],
                id="columns-list",
            )

    def action_apply(self) -> None:
        chosen = set(self.query_one(SelectionList).selected)
        self.dismiss(ColumnsChoice([c for c in self.columns if c in chosen]))

    def action_automatic(self) -> None:
        self.dismiss(ColumnsChoice(None))
