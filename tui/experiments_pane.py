"""The experiments pane: every experiment with its run count and last activity.

Moving the highlight selects the experiment whose runs the table shows; the first entry stands for
all experiments. Deleted experiments are hidden unless ``x`` asks for them.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui import format as fmt
from tui.data import ExperimentRow
from tui.key_list import KeyList

ALL = "all"
NAME_WIDTH = 18
PREFIX = "exp:"


class ExperimentsPane(KeyList):
    BINDINGS = [
        Binding("x", "toggle_deleted", "Deleted exps", tooltip="Show or hide deleted experiments"),
    ]

    class Chosen(Message):
        """The user moved to another experiment (by name; ``None``: all of them)."""

        def __init__(self, experiment: str | None) -> None:
            super().__init__()
            self.experiment = experiment

    class ShowDeleted(Message):
        def __init__(self, show: bool) -> None:
            super().__init__()
            self.show = show

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "Experiments"
        self.show_deleted = False
        self.chosen: str | None = None
        self._rows: list[ExperimentRow] = []

    def set_rows(self, rows: list[ExperimentRow]) -> None:
        if rows == self._rows and self.option_count:
            return
        self._rows = rows
        total = sum(r.runs for r in rows if not r.deleted)
        options = [Option(Text.assemble(("All experiments", "bold"), f"\n {fmt.runs(total)}"), id=ALL)]
        for row in rows:
            name = Text(fmt.clip(row.name, NAME_WIDTH), style="strike dim" if row.deleted else "bold")
            detail = f"\n {fmt.runs(row.runs)}"
            if row.last_activity:
                detail += f", {fmt.ago(row.last_activity)}"
            options.append(Option(Text.assemble(name, detail), id=PREFIX + row.name))
        self.clear_options()
        self.add_options(options)
        wanted = ALL if self.chosen is None else PREFIX + self.chosen
        ids = [o.id for o in options]
        self.highlighted = ids.index(wanted) if wanted in ids else 0

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        chosen = None if event.option.id == ALL else str(event.option.id).removeprefix(PREFIX)
        if chosen != self.chosen:
            self.chosen = chosen
            self.post_message(self.Chosen(chosen))

    def action_toggle_deleted(self) -> None:
        self.show_deleted = not self.show_deleted
        self.notify("Showing deleted experiments" if self.show_deleted else "Hiding deleted experiments")
        self.post_message(self.ShowDeleted(self.show_deleted))
