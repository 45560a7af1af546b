"""The filter box: the query language, checked as the user types.

The bar only edits text and shows errors; the screen owning it runs the query in a worker and
calls ``show_error`` or ``clear_error`` with the outcome, so a bad query never empties the table.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from store.errors import MltuiError, QueryError

DEBOUNCE_SECONDS = 0.25


class FilterBar(Vertical):
    """An input for a query and a line under it for the error, with a caret under the culprit."""

    class Changed(Message):
        """The query text settled (typing paused) or was submitted."""

        def __init__(self, query: str, submitted: bool) -> None:
            super().__init__()
            self.query = query
            self.submitted = submitted

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="filter: e.g. accuracy > 0.9 and params.lr < 0.01   (enter: done, esc: clear)",
            id="filter-input",
        )
        yield Static(id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(
            DEBOUNCE_SECONDS, lambda: self.post_message(self.Changed(event.value, False))
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self.post_message(self.Changed(event.value, True))

    def show_error(self, error: MltuiError) -> None:
        label = self.query_one("#filter-error", Static)
        if isinstance(error, QueryError) and error.position is not None and error.query:
            line = error.query.replace("\n", " ")
            text = Content.assemble(
                line[: error.position],
                (line[error.position :], "bold $error"),
                "\n",
                (" " * error.position + "^ " + error.message, "$error"),
            )
        else:
            text = Content.styled(str(error), "$error")
        label.update(text)
        label.add_class("visible")
        self.input.add_class("invalid")

    def clear_error(self) -> None:
        label = self.query_one("#filter-error", Static)
        label.update("")
        label.remove_class("visible")
        self.input.remove_class("invalid")
