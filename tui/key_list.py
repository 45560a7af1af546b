"""An OptionList that also moves with j/k, as every list in the dashboard does."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import OptionList


class KeyList(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
