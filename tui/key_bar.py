"""The bottom line of every screen: the keys of what is on screen, clickable.

Textual's ``Footer`` shows the same, but as one widget per key that it composes again, styles
and lays out whenever the bindings change (on every screen push and focus change): about half
of the time it took to open the plot screen. This is one widget that renders one line of text
from the screen's active bindings, with the Footer's colours, and maps a click to its key.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .key-bar--disabled {
        text-style: dim;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of each shown key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        disabled_style = self.get_component_rich_style("key-bar--disabled")
        bindings = self.screen.active_bindings
        palette = bindings.get(self.app.COMMAND_PALETTE_BINDING) if self.app.ENABLE_COMMAND_PALETTE else None
        shown, seen = [], set()
        for active in bindings.values():
            binding = active.binding
            if binding.show and binding.action not in seen and active is not palette:
                seen.add(binding.action)
                shown.append(active)
        if palette is not None:
            shown.append(palette)
        text, self._spans = Text(), []
        for active in shown:
            binding = active.binding
            if active is palette:  # on the right edge, as Textual's Footer puts it
                label = f"▏ {self.app.get_key_display(binding)} {binding.description} "
                text.append(" " * max(1, self.size.width - len(text) - len(label)))
                text.append("▏", style=description_style)
            start = len(text)
            extra = disabled_style if not active.enabled else None
            text.append(f" {self.app.get_key_display(binding)} ", style=key_style + extra if extra else key_style)
            text.append(f"{binding.description} ", style=description_style + extra if extra else description_style)
            self._spans.append((start, len(text), binding.key))
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
