"""The registry screen's two questions: confirm a stage change, and name an alias.

Both are modal screens that dismiss with the answer (None when cancelled), so the registry
screen decides what to do with it; neither touches the store.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

ARCHIVE = "archive"
KEEP = "keep"


class ConfirmStageModal(ModalScreen[str | None]):
    """"Move version 3 to Production? This archives version 2." -> ARCHIVE, KEEP or None.

    With nothing to archive there is one choice (``y``); otherwise ``y`` archives the versions
    named and ``k`` keeps them where they are (MLflow's archive_existing_versions=False).
    """

    CSS_PATH = "registry_screen.tcss"
    BINDINGS = [
        Binding("y", "choose('archive')", "Move", tooltip="Confirm (archiving the versions named)"),
        Binding("k", "choose('keep')", "Keep others", tooltip="Move, leave the other versions"),
        Binding("escape,n", "choose('')", "Cancel"),
    ]

    def __init__(self, question: str, archives: bool) -> None:
        super().__init__()
        self.question = question
        self.archives = archives

    def compose(self) -> ComposeResult:
        with Vertical(id="registry-dialog"):
            yield Label(self.question, id="registry-question")
            with Horizontal(id="registry-buttons"):
                label = "Move and archive (y)" if self.archives else "Move (y)"
                yield Button(label, id="archive", variant="primary")
                if self.archives:
                    yield Button("Keep others (k)", id="keep")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#archive", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.archives or parameters != (KEEP,)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_choose({"archive": ARCHIVE, "keep": KEEP}.get(event.button.id or "", ""))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)


class AliasModal(ModalScreen[str | None]):
    """Ask for an alias name (to set on, or remove from, the selected version)."""

    CSS_PATH = "registry_screen.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, value: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="registry-dialog"):
            yield Label(self.prompt, id="registry-question")
            yield Input(self.value, placeholder="champion", id="registry-alias")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
