"""The dashboard application: opens the right first screen and routes between screens.

Screens own their keys and behaviour; the app holds what they share: the store reader, the live
refresh (every ``refresh_seconds`` a worker compares the store's fingerprint, a few stats, and only
when it moved tells every open screen ``StoreChanged``), the global keys (help, quit, palette) and
one handler that turns a failed worker into a notification instead of a crash. ``make_app`` is
the factory the CLI and the tests share.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from store.client import Client
from store.errors import MltuiError
from store.reader import damaged_files
from tui import data
from tui.garbage import IDLE_SECONDS, IdleCollector
from tui.messages import StoreChanged

REFRESH_SECONDS = 2.0


class MltuiApp(App):
    """mltui's dashboard over one store."""

    CSS_PATH = "app.tcss"
    TITLE = "mltui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="Leave mltui"),
        Binding("question_mark", "help", "Help", tooltip="Show every key of this screen"),
        Binding("ctrl+p", "command_palette", "Palette", show=False, tooltip="Every action, searchable"),
    ]

    def __init__(self, store_path: Path | str, refresh_seconds: float = REFRESH_SECONDS) -> None:
        super().__init__()
        self.client = Client(store_path)
        self.reader = data.StoreReader(self.client)
        self.refresh_seconds = refresh_seconds
        self.collector = IdleCollector()
        self._damage_reported: set[Path] = set()
        self.theme = "textual-light" if os.environ.get("MLTUI_THEME") == "light" else "textual-dark"

    def on_mount(self) -> None:
        self.collector.start()
        self.set_interval(IDLE_SECONDS / 2, self.collector.tick)
        self.open_first_screen()
        self.set_interval(self.refresh_seconds, self.poll_store)

    def on_unmount(self) -> None:
        self.collector.stop()
        self.reader.close()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.input_seen()
        await super().on_event(event)

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def poll_store(self) -> None:
        """The live refresh: nearly free when nothing changed (see ``store.watch``)."""
        if self.reader.changed():
            self.call_from_thread(self._broadcast_change)

    def _broadcast_change(self) -> None:
        for screen in self.screen_stack:
            screen.post_message(StoreChanged())

    @work(thread=True, exclusive=True, group="start", exit_on_error=False)
    def open_first_screen(self) -> None:
        """The runs screen, or a welcome screen for a store nobody has logged into yet."""
        self.reader.changed()
        try:
            has_runs = data.store_has_runs(self.reader)
            problem = None
        except MltuiError as exc:
            has_runs, problem = False, str(exc)
        self.call_from_thread(self._show_first, has_runs, problem)

    def _show_first(self, has_runs: bool, problem: str | None) -> None:
        from tui.empty_screen import EmptyScreen
        from tui.main_screen import MainScreen

        self.push_screen(MainScreen() if has_runs else EmptyScreen(problem))

    def show_runs(self) -> None:
        """Leave the welcome screen for the runs screen (the first run was just logged)."""
        from tui.main_screen import MainScreen

        self.switch_screen(MainScreen())

    def action_help(self) -> None:
        from tui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette lists every action bound on the current screen, then the app's own."""
        seen = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.action in seen or not binding.description:
                continue
            seen.add(binding.action)
            key = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                f"{binding.description} ({key})",
                binding.tooltip or binding.description,
                partial(self.run_action, binding.action, active.node),
            )
        yield from super().get_system_commands(screen)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A store read that failed is shown, never fatal; one that skipped a damaged file says so."""
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self._report_damage()
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = str(error) if isinstance(error, MltuiError) else f"{type(error).__name__}: {error}"
            self.notify(message, title="Could not read the store", severity="error", timeout=8)

    def _report_damage(self) -> None:
        """A notification for each damaged file of this store the reads skipped, once: the
        screens show the rest of the store, and would otherwise hide that rows are missing."""
        new = sorted(p for p in damaged_files() - self._damage_reported if p.is_relative_to(self.client.root))
        for path in new:
            self._damage_reported.add(path)
            self.notify(
                f"{path.relative_to(self.client.root)}: its rows are left out. "
                "`mltui doctor` says more; `mltui doctor --fix` moves it to quarantine/.",
                title="Damaged file skipped",
                severity="warning",
                timeout=12,
            )


def make_app(store_path: Path | str, refresh_seconds: float = REFRESH_SECONDS) -> MltuiApp:
    return MltuiApp(store_path, refresh_seconds)


def run_app(store_path: Path | str) -> None:
    """Run the dashboard in the terminal until the user quits."""
    make_app(store_path).run()
