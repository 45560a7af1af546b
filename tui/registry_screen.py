"""``m``: the model registry: models, a model's versions, stage and alias controls, history.

Three stacked tables: registered models (with their Production and Staging versions and
aliases), the versions of the highlighted model (stage, aliases, source run), and the model's
audit trail, newest event last. Every store call runs in a thread worker and comes back as a
message; changes go through a confirmation that names the versions a promotion would archive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable

from store.client import Client
from store.errors import MltuiError
from store.registry_entities import ModelVersion, RegisteredModel, RegistryEvent, Stage
from store.registry_view import (
    HISTORY_COLUMNS,
    archive_warning,
    fmt_aliases,
    fmt_time,
    history_row,
    transition_message,
)
from tui.key_bar import KeyBar
from tui.registry_modals import ARCHIVE, AliasModal, ConfirmStageModal
from tui.table_fill import fill_table

MODEL_COLUMNS = ("Model", "Production", "Staging", "Aliases")
VERSION_COLUMNS = ("Version", "Stage", "Aliases", "Run", "Created")
VERSION_ACTIONS = {"stage", "alias", "unalias", "open_run"}


@dataclass
class ModelsLoaded(Message):
    """Every registered model, as of registry event number ``sequence``."""

    models: list[RegisteredModel]
    sequence: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelsLoaded)


@dataclass
class ModelLoaded(Message):
    """One model's versions (newest first), history and the names of their source runs."""

    name: str
    versions: list[ModelVersion]
    events: list[RegistryEvent]
    run_names: dict[str, str]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelLoaded)


@dataclass
class RegistryChanged(Message):
    """A change was written; ``text`` says what it did."""

    text: str


@dataclass
class RegistryFailed(Message):
    error: MltuiError


class RegistryScreen(Screen):
    """The registry of the store ``client`` reads."""

    CSS_PATH = "registry_screen.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "stage('Production')", "Production", tooltip="Move the version to Production"),
        Binding("s", "stage('Staging')", "Staging", tooltip="Move the version to Staging"),
        Binding("a", "stage('Archived')", "Archive", tooltip="Move the version to Archived"),
        Binding("n", "stage('None')", "No stage", show=False, tooltip="Take the version out of any stage"),
        Binding("at", "alias", "Alias", key_display="@", tooltip="Point an alias (@champion) at the version"),
        Binding("x", "unalias", "Unalias", show=False, tooltip="Remove an alias from the version"),
        Binding("r", "reload", "Refresh", show=False, tooltip="Read the registry again"),
    ]

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client
        self.model_name: str | None = None
        self.versions: dict[int, ModelVersion] = {}
        self.run_names: dict[str, str] = {}
        self.seen_sequence = -1

    def compose(self) -> ComposeResult:
        with Vertical(id="registry-body"):
            yield DataTable(id="registry-models", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="registry-versions", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="registry-history", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        titles = {"models": "Registered models", "versions": "Versions", "history": "History"}
        columns = {"models": MODEL_COLUMNS, "versions": VERSION_COLUMNS, "history": HISTORY_COLUMNS}
        for part, title in titles.items():
            table = self.query_one(f"#registry-{part}", DataTable)
            table.border_title = title
            fill_table(table, columns[part], [])
        self.query_one("#registry-models", DataTable).focus()
        self.load_models()
        self.set_interval(getattr(self.app, "refresh_seconds", 2.0), self.watch_registry)

    # ------------------------------------------------------------ reading

    @work(thread=True, exclusive=True, group="registry-models", exit_on_error=False)
    def load_models(self) -> None:
        sequence = self.client.registry_sequence()
        models = self.client.search_registered_models(max_results=100_000)
        self.post_message(ModelsLoaded(models, sequence))

    @work(thread=True, exclusive=True, group="registry-watch", exit_on_error=False)
    def watch_registry(self) -> None:
        """Live refresh: reload when another process (or the CLI) changed the registry."""
        if self.client.registry_sequence() != self.seen_sequence:
            self.app.call_from_thread(self.load_models)

    @work(thread=True, exclusive=True, group="registry-model", exit_on_error=False)
    def load_model(self, name: str) -> None:
        versions = self.client.search_model_versions(f"name = '{name}'")
        events = self.client.history(name)
        run_ids = sorted({v.run_id for v in versions if v.run_id})
        names = {r.info.run_id: r.info.run_name for r in self.client.get_runs(run_ids)}
        self.post_message(ModelLoaded(name, versions, events, names))

    def on_models_loaded(self, message: ModelsLoaded) -> None:
        table = self.query_one("#registry-models", DataTable)
        self.seen_sequence = message.sequence
        keep = self.model_name
        rows = []
        for model in message.models:
            newest = {v.current_stage: f"v{v.version}" for v in model.latest_versions}
            production, staging = newest.get(Stage.PRODUCTION.value, ""), newest.get(Stage.STAGING.value, "")
            rows.append([model.name, production, staging, fmt_aliases(model.aliases)])
        fill_table(table, MODEL_COLUMNS, rows, row_keys=[model.name for model in message.models])
        names = [m.name for m in message.models]
        if not names:
            table.border_title = "Registered models: none yet (mltui models register SOURCE NAME)"
            self.model_name, self.versions = None, {}
            fill_table(self.query_one("#registry-versions", DataTable), VERSION_COLUMNS, [])
            fill_table(self.query_one("#registry-history", DataTable), HISTORY_COLUMNS, [])
            self.refresh_bindings()
            return
        table.border_title = f"Registered models ({len(names)})"
        row = names.index(keep) if keep in names else 0
        table.move_cursor(row=row)
        self._select_model(names[row])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "registry-models" and event.row_key.value is not None:
            self._select_model(str(event.row_key.value))

    def _select_model(self, name: str) -> None:
        if name != self.model_name:
            self.versions = {}
        self.model_name = name
        self.load_model(name)

    def on_model_loaded(self, message: ModelLoaded) -> None:
        if message.name != self.model_name:
            return
        table = self.query_one("#registry-versions", DataTable)
        keep = self.selected_version()
        self.versions = {v.version: v for v in message.versions}
        self.run_names = message.run_names
        rows = [
            [
                str(mv.version),
                mv.current_stage,
                " ".join(f"@{a}" for a in mv.aliases),
                message.run_names.get(mv.run_id or "", (mv.run_id or "")[:8]),
                fmt_time(mv.creation_timestamp, seconds=False),
            ]
            for mv in message.versions
        ]
        fill_table(table, VERSION_COLUMNS, rows, row_keys=[str(mv.version) for mv in message.versions])
        table.border_title = f"Versions of {message.name}"
        order = [v.version for v in message.versions]
        if keep is not None and keep.version in order:
            table.move_cursor(row=order.index(keep.version))
        history = self.query_one("#registry-history", DataTable)
        fill_table(history, HISTORY_COLUMNS, [history_row(event) for event in message.events])
        history.border_title = f"History of {message.name} ({len(message.events)} events)"
        history.move_cursor(row=len(message.events) - 1)
        self.refresh_bindings()

    def selected_version(self) -> ModelVersion | None:
        table = self.query_one("#registry-versions", DataTable)
        if not self.versions or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.versions.get(int(key)) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stage and alias keys apply to a selected version; greyed out otherwise."""
        if action in VERSION_ACTIONS and self.selected_version() is None:
            return None
        return True

    def action_reload(self) -> None:
        self.load_models()

    # ------------------------------------------------------------ changing

    def action_stage(self, stage: str) -> None:
        mv = self.selected_version()
        if mv is None:
            return
        target = Stage.parse(stage)
        others = [
            v
            for v in self.versions.values()
            if v.version != mv.version and v.current_stage == target.value
        ] if target.can_archive_others else []
        question = archive_warning(mv.name, mv.version, target, others)
        self.app.push_screen(
            ConfirmStageModal(question, bool(others)), partial(self._stage_chosen, mv, target)
        )

    def _stage_chosen(self, mv: ModelVersion, target: Stage, choice: str | None) -> None:
        if choice is None:
            return
        archive = choice == ARCHIVE and target.can_archive_others

        def change() -> str:
            archived = (
                self.client.versions_to_archive(mv.name, mv.version, target.value) if archive else []
            )
            before = self.client.get_model_version(mv.name, mv.version).current_stage
            done = self.client.transition_model_version_stage(mv.name, mv.version, target.value, archive)
            return transition_message(done, before, archived)

        self.write(change)

    def action_alias(self) -> None:
        mv = self.selected_version()
        if mv is not None:
            self.app.push_screen(
                AliasModal(f"Alias to point at version {mv.version} of '{mv.name}':"),
                partial(self._alias_chosen, mv),
            )

    def _alias_chosen(self, mv: ModelVersion, alias: str | None) -> None:
        if alias:

            def change() -> str:
                self.client.set_registered_model_alias(mv.name, alias, mv.version)
                return f"@{alias} now points to version {mv.version} of '{mv.name}'."

            self.write(change)

    def action_unalias(self) -> None:
        mv = self.selected_version()
        if mv is None:
            return
        if not mv.aliases:
            self.notify(f"Version {mv.version} has no alias to remove", severity="warning")
            return
        self.app.push_screen(
            AliasModal(f"Remove which alias of version {mv.version}?", mv.aliases[0]),
            partial(self._unalias_chosen, mv),
        )

    def _unalias_chosen(self, mv: ModelVersion, alias: str | None) -> None:
        if alias:

            def change() -> str:
                self.client.delete_registered_model_alias(mv.name, alias)
                return f"@{alias} removed from '{mv.name}'."

            self.write(change)

    @work(thread=True, group="registry-write", exit_on_error=False)
    def write(self, change: Callable[[], str]) -> None:
        """Run one registry change; a refusal (unknown alias, reserved name) is shown, not fatal."""
        try:
            text = change()
        except MltuiError as exc:
            self.post_message(RegistryFailed(exc))
            return
        self.post_message(RegistryChanged(text))

    def on_registry_changed(self, message: RegistryChanged) -> None:
        self.notify(message.text, title="Registry")
        self.load_models()

    def on_registry_failed(self, message: RegistryFailed) -> None:
        self.notify(str(message.error), title="Registry", severity="error", timeout=8)

    # ------------------------------------------------------------ navigation

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """``enter`` on a model shows its versions; on a version, opens its source run."""
        if event.data_table.id == "registry-models":
            self.query_one("#registry-versions", DataTable).focus()
        elif event.data_table.id == "registry-versions":
            self.action_open_run()

    def action_open_run(self) -> None:
        mv = self.selected_version()
        if mv is None:
            return
        if mv.run_id not in self.run_names:
            where = (
                f"comes from run {mv.run_id}, not in this store"
                if mv.run_id
                else "was not registered from a run"
            )
            self.notify(f"Version {mv.version} {where}", severity="warning")
            return
        from tui.details_screen import DetailsScreen

        self.app.push_screen(DetailsScreen(mv.run_id))
