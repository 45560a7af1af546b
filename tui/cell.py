"""A table cell that is one line of text in one style, drawn as a single segment.

Textual's DataTable draws each cell through Rich: a ``Text`` is measured word by word, wrapped,
justified and cut into segments, about a third of the time a filter takes to paint a 200x50
screen of new rows. A runs table cell never wraps (rows are one line), so this renderable
measures as its length and draws as one padded or cut segment: the same pixels, for a fraction
of the work. Any width is counted in terminal cells, so wide characters in a run name line up.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style


class Cell:
    """``text`` in ``style``, aligned right (numbers) or left, cut with an ellipsis when too wide."""

    __slots__ = ("text", "style", "right", "width")

    def __init__(self, text: str, style: Style | str = "", right: bool = False) -> None:
        self.text = text
        self.style = style
        self.right = right
        self.width = cell_len(text)

    def __str__(self) -> str:
        return self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = options.max_width
        text, width = self.text, self.width
        if width > room:
            text = set_cell_size(text, room - 1) + "…" if room > 1 else set_cell_size(text, room)
            width = room
        pad = " " * (room - width)
        style = console.get_style(self.style) if isinstance(self.style, str) else self.style
        yield Segment(pad + text if self.right else text + pad, style)
