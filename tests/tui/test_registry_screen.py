"""The registry screen (`m`) at 80x24: promote with confirmation, aliases, history, jump to run."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from pilot_helpers import flat, screen_text
from textual.widgets import DataTable, Label
from textual.worker import WorkerCancelled, WorkerFailed

from store import Client
from tui.app import make_app
from tui.details_screen import DetailsScreen
from tui.main_screen import MainScreen
from tui.registry_modals import AliasModal, ConfirmStageModal
from tui.registry_screen import ModelsLoaded, RegistryScreen

SIZE = (80, 24)


@pytest.fixture
def registry_store(store_path: Path) -> Path:
    """Run 'trainer' with a model folder; 'iris' v1 (Production, @champion), v2, v3; 'wine' v1."""
    client = Client(store_path)
    run = client.create_run(run_name="trainer")
    client.log_text(run.info.run_id, "flavors: {}", "model/MLmodel")
    client.set_terminated(run.info.run_id)
    for name in ("iris", "iris", "iris", "wine"):
        client.register_model_version(f"runs:/{run.info.run_id}/model", name)
    client.transition_model_version_stage("iris", 1, "Production")
    client.set_registered_model_alias("iris", "champion", 1)
    return store_path


async def settle(pilot) -> None:  # noqa: ANN001
    """Let every worker finish (a reload may cancel an older one) and the screen catch up."""
    for _ in range(3):
        for worker in list(pilot.app.workers):
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause(0.05)
    await pilot.pause()


async def open_registry(pilot) -> RegistryScreen:  # noqa: ANN001
    """From the runs screen, `m`, then wait for the tables to fill."""
    for _ in range(100):
        await settle(pilot)
        if isinstance(pilot.app.screen, MainScreen):
            break
    await pilot.press("m")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegistryScreen)
    return screen


def rows(screen: RegistryScreen, part: str) -> list[list[str]]:
    table = screen.query_one(f"#registry-{part}", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def notices(app) -> list[str]:  # noqa: ANN001
    """The notifications raised so far (toasts are not part of Textual's screenshot)."""
    return [n.message for n in app._notifications]


def question(app) -> str:  # noqa: ANN001
    """The text of the open dialog."""
    return str(app.screen.query_one("#registry-question", Label).content)


async def select_version(pilot, screen: RegistryScreen, version: int) -> None:  # noqa: ANN001
    await pilot.press("tab")
    table = screen.query_one("#registry-versions", DataTable)
    table.move_cursor(row=[r[0] for r in rows(screen, "versions")].index(str(version)))
    await pilot.pause()


async def test_m_opens_models_versions_and_history(registry_store: Path) -> None:
    """`m` shows models with Production versions and aliases, the versions and the history."""
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        assert rows(screen, "models") == [
            ["iris", "v1", "", "@champion=v1"],
            ["wine", "", "", ""],
        ]
        assert [r[:4] for r in rows(screen, "versions")] == [
            ["3", "None", "", "trainer"],
            ["2", "None", "", "trainer"],
            ["1", "Production", "@champion", "trainer"],
        ]
        assert rows(screen, "history")[-1][2] == "alias @champion -> version 1"
        text = flat(screen_text(app))
        assert "Versions of iris" in text and "Production" in text
        await pilot.press("down")
        await settle(pilot)
        assert [r[:2] for r in rows(screen, "versions")] == [["1", "None"]]


async def test_promote_with_confirmation_archives_and_updates(registry_store: Path) -> None:
    """`p` asks first, naming the version it will archive; `y` promotes, the tables and the
    history update."""
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        await select_version(pilot, screen, 3)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmStageModal)
        assert question(app) == "Move version 3 of 'iris' to Production?\nThis archives version 1 (now Production)."
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert [r[:2] for r in rows(screen, "versions")] == [
            ["3", "Production"],
            ["2", "None"],
            ["1", "Archived"],
        ]
        assert rows(screen, "models")[0][:2] == ["iris", "v3"]
        assert [r[2] for r in rows(screen, "history")[-2:]] == [
            "version 3: None -> Production",
            "version 1: Production -> Archived (archived by version 3 moving to Production)",
        ]
        stages = {v.version: v.current_stage for v in Client(registry_store).search_model_versions("name='iris'")}
        assert stages == {1: "Archived", 2: "None", 3: "Production"}
        assert notices(app)[-1] == (
            "Model 'iris' version 3: None -> Production.\nArchived version 1 (was Production)."
        )


async def test_keep_others_and_cancel(registry_store: Path) -> None:
    """`k` promotes without archiving; escape changes nothing."""
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        await select_version(pilot, screen, 2)
        await pilot.press("s")
        await pilot.pause()
        assert question(app).endswith("No other version is in Staging.")
        await pilot.press("escape")
        await settle(pilot)
        assert rows(screen, "versions")[1][:2] == ["2", "None"]
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("k")
        await settle(pilot)
        assert [r[1] for r in rows(screen, "versions")] == ["None", "Production", "Production"]


async def test_alias_set_move_and_remove(registry_store: Path) -> None:
    """`@` points an alias at the version (moving it), `x` removes it; a reserved name is refused."""
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        await select_version(pilot, screen, 2)
        await pilot.press("at")
        await pilot.pause()
        assert isinstance(app.screen, AliasModal)
        await pilot.press(*"champion", "enter")
        await settle(pilot)
        assert [r[2] for r in rows(screen, "versions")] == ["", "@champion", ""]
        assert rows(screen, "models")[0][3] == "@champion=v2"
        assert rows(screen, "history")[-1][2] == "alias @champion -> version 2 (was version 1)"
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert [r[2] for r in rows(screen, "versions")] == ["", "", ""]
        await pilot.press("at")
        await pilot.pause()
        await pilot.press(*"latest", "enter")
        await settle(pilot)
        assert notices(app)[-1] == "'latest' alias name (case insensitive) is reserved."
        assert Client(registry_store).get_registered_model("iris").aliases == {}


async def test_enter_on_a_version_opens_its_run(registry_store: Path) -> None:
    """enter on a version jumps to the run it was registered from."""
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        await select_version(pilot, screen, 1)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        assert "trainer" in flat(screen_text(app))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_changes_from_elsewhere_appear_live(registry_store: Path) -> None:
    """A promotion made by another process (here: another client) shows up without a key press."""
    app = make_app(registry_store, refresh_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        Client(registry_store).transition_model_version_stage("iris", 2, "Staging")
        for _ in range(100):
            await settle(pilot)
            if rows(screen, "versions")[1][1] == "Staging":
                break
        assert rows(screen, "versions")[1][:2] == ["2", "Staging"]
        assert rows(screen, "models")[0][:3] == ["iris", "v1", "v2"]


async def test_a_model_painted_before_idle_shows_its_whole_name(registry_store: Path) -> None:
    """A new model whose name is wider than the column, painted at once (a busy machine paints
    before Textual measures), still shows whole once the screen settles."""
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        client = Client(registry_store)
        client.create_registered_model("fraud-detector-xgboost")
        screen.on_models_loaded(ModelsLoaded(client.search_registered_models(), client.registry_sequence()))
        screen_text(app)  # paints now, before the table's idle handler runs
        await settle(pilot)
        assert "fraud-detector-xgboost" in screen_text(app)


async def test_stage_keys_need_a_version(registry_store: Path) -> None:
    """On a model without versions the stage keys do nothing and no dialog opens."""
    Client(registry_store).create_registered_model("empty")
    app = make_app(registry_store, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registry(pilot)
        screen.query_one("#registry-models", DataTable).move_cursor(row=0)
        await settle(pilot)
        assert rows(screen, "models")[0][0] == "empty" and rows(screen, "versions") == []
        await pilot.press("p", "at")
        await pilot.pause()
        assert app.screen is screen
