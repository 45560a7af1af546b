"""``?``: every key of the screen the user was on, with what it does: the screen's own keys
first, then the app's, then those of the focused widget (cursor movement and the like).

Textual's own keys on every screen and app (focus with tab, copy, ``ctrl+q``) are left out: they
would come first, above mltui's, and ``NAVIGATION`` says what a user needs of them."""

from __future__ import annotations

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

NAVIGATION = [
    ("j/k, arrows", "move"),
    ("tab", "next pane"),
    ("enter", "open / choose"),
    ("escape", "clear / back"),
    ("ctrl+p", "command palette: every action, searchable"),
    ("mouse", "click rows, headers and keys in the footer"),
]
TEXTUAL_KEYS = {
    (key.strip(), b.action)
    for b in (*Screen.BINDINGS, *App.BINDINGS)
    if isinstance(b, Binding)
    for key in b.key.split(",")
}


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        seen = set()

        def rank(active: object) -> int:
            node = active.node  # type: ignore[attr-defined]
            return 0 if node is self.under else 1 if node is self.app else 2

        for active in sorted(self.under.active_bindings.values(), key=rank):
            binding = active.binding
            if not binding.description or binding.key in seen or (binding.key, binding.action) in TEXTUAL_KEYS:
                continue
            seen.add(binding.key)
            key = binding.key_display or self.app.get_key_display(binding)
            table.add_row(key, binding.tooltip or binding.description)
        for key, text in NAVIGATION:
            table.add_row(key, text)
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys (escape to close)"
            yield Static(table)
