"""Details, plot, help, palette and the welcome screen, at 80x24."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from pilot_helpers import cursor_to, flat, make_run, screen_text, settle

from store import Client
from tui.app import make_app
from tui.details_screen import DetailsScreen
from tui.empty_screen import EmptyScreen
from tui.help_screen import HelpScreen
from tui.main_screen import MainScreen
from tui.plot_screen import PlotScreen
from tui.runs_table import RunsTable

SIZE = (80, 24)


async def test_missing_store_shows_how_to_log(tmp_path: Path) -> None:
    """A store that does not exist yet opens a welcome screen explaining how to log a run."""
    app = make_app(tmp_path / "nowhere")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EmptyScreen)
        text = screen_text(app)
        assert "No runs in this store yet" in text
        assert "mlflow.start_run()" in text


async def test_welcome_turns_into_runs_when_first_run_arrives(store_path: Path) -> None:
    """Logging a first run while the welcome screen is open switches to the runs table."""
    app = make_app(store_path, refresh_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EmptyScreen)

        def log() -> None:
            client = Client(store_path)
            make_run(client, client.create_experiment("first"), "hello", {"lr": 1}, [1.0], 0.5)

        thread = threading.Thread(target=log)
        thread.start()
        thread.join()
        for _ in range(300):  # a loaded CI machine may take seconds; stops as soon as it shows
            await pilot.pause(0.1)
            if isinstance(app.screen, MainScreen):
                break
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert "hello" in screen_text(app)


async def test_not_a_store_is_explained(tmp_path: Path) -> None:
    """Pointing at a folder of something else shows what is wrong instead of crashing."""
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_text("meow")
    app = make_app(tmp_path / "photos")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = flat(screen_text(app))
        assert "cannot be opened as a store" in text and "is not an mltui store" in text


async def test_details_show_params_metrics_notes_and_parent(runs_store: Path) -> None:
    """enter opens the run's details: params, metric min/max, notes and its parent."""
    app = make_app(runs_store)
    async with app.run_test(size=(80, 60)) as pilot:
        await settle(pilot)
        cursor_to(app, "delta")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        text = screen_text(app)
        assert "best so far" in text
        assert "lr" in text and "0.05" in text
        loss = next(line for line in text.splitlines() if " loss " in line)
        assert loss.split()[1:6] == ["loss", "0.1", "0.1", "0.9", "3"]
        assert "parent" in text and "alpha" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_details_give_a_crashed_run_its_duration(store_path: Path) -> None:
    """A crashed run never ended: its details say how long it ran until its last heartbeat, as
    the runs table does, instead of leaving the duration blank."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
    from test_faults_helpers import crashed_run

    crashed_run(store_path, Client(store_path).create_experiment("crashes"), 95_000)
    app = make_app(store_path)
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        assert "1m35s" in screen_text(app)  # the runs table
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        rows = [line.split("│")[1].split() for line in screen_text(app).splitlines() if "│" in line]
        assert ["status", "CRASHED"] in rows
        assert ["duration", "1m35s"] in rows


async def test_details_list_children(runs_store: Path) -> None:
    """A parent run's details name its child runs."""
    app = make_app(runs_store)
    async with app.run_test(size=(80, 60)) as pilot:
        await settle(pilot)
        cursor_to(app, "alpha")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert any("child" in line and "delta" in line for line in text.splitlines())


async def test_plot_overlays_marked_runs(runs_store: Path) -> None:
    """p plots the marked runs with a legend; keys switch log-y and the x axis."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cursor_to(app, "alpha")
        await pilot.press("space")
        cursor_to(app, "bravo")
        await pilot.press("space", "p")
        await settle(pilot)
        assert isinstance(app.screen, PlotScreen)
        await pilot.press("down")  # accuracy -> loss
        await settle(pilot)
        text = screen_text(app)
        assert "alpha" in text and "bravo" in text and "loss" in text
        assert "x step" in text
        await pilot.press("l", "x", "plus")
        await settle(pilot)
        text = screen_text(app)
        assert "log y" in text and "x wall" in text and "ema 0.3" in text


async def test_plot_zoom_to_last_steps(runs_store: Path) -> None:
    """z then a number keeps only the last N steps of each run."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cursor_to(app, "delta")
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("down", "z", "2", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PlotScreen)
        assert "last 2 steps" in screen_text(app)
        assert screen.series["delta"][0] == [2.0, 3.0]


async def test_plot_is_drawn_again_after_a_resize(runs_store: Path) -> None:
    """Making the terminal smaller redraws the plot to fit, instead of cutting it off; making it
    larger fills the new room."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cursor_to(app, "delta")
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PlotScreen)
        plot = screen.query_one("#plot")

        def drawn() -> tuple[int, int]:
            lines = str(plot.render()).splitlines()
            return max(len(line) for line in lines), len(lines)

        assert drawn() == (plot.size.width, plot.size.height)
        await pilot.resize_terminal(66, 18)
        await settle(pilot)
        assert plot.size.width < 50 and drawn() == (plot.size.width, plot.size.height)
        assert "delta" in screen_text(app)
        await pilot.resize_terminal(200, 50)  # larger than any terminal plotext may measure
        await settle(pilot)
        assert plot.size.width > 150 and drawn() == (plot.size.width, plot.size.height)


async def test_help_lists_the_screen_keys(runs_store: Path) -> None:
    """? shows every key of the runs screen with what it does, mltui's first: Textual's own
    focus and copy keys are not listed above them."""
    app = make_app(runs_store)
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for words in ("Filter runs with the query language", "Mark the run", "Open the model registry"):
            assert words in text
        first_key = text.split("Keys (escape to close)")[1].split("\n")[1]
        assert "/" in first_key and "Filter runs" in first_key
        for words in ("Copy selected text", "Focus Next", "super+c"):
            assert words not in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_palette_lists_screen_actions(runs_store: Path) -> None:
    """The command palette offers the runs screen's actions by name."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for action in ("Filter", "Sort", "Plot", "Diff", "Export", "Models"):
            assert any(t.startswith(action) for t in titles), action


async def test_plot_without_colour_tells_runs_apart(runs_store: Path, monkeypatch) -> None:  # noqa: ANN001
    """With NO_COLOR the plot gives each run its own marker and the legend shows it."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cursor_to(app, "alpha")
        await pilot.press("space")
        cursor_to(app, "bravo")
        await pilot.press("space", "p", "down")
        await settle(pilot)
        text = screen_text(app)
        assert "⠿ alpha" in text and "• bravo" in text
        assert "•" in text.split("• bravo")[0]  # bravo's marker is drawn in the plot itself


async def test_columns_can_be_chosen(runs_store: Path) -> None:
    """c lets the user hide a column; a (automatic) brings back what varies."""
    app = make_app(runs_store)
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        selection = app.screen.query_one("#columns-list")
        selection.deselect("params.lr")
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(RunsTable)
        assert "params.lr" not in table.shown_columns and "metrics.loss" in table.shown_columns
        await pilot.press("c", "a")
        await settle(pilot)
        assert "params.lr" in app.screen.query_one(RunsTable).shown_columns


async def test_column_chooser_lists_metrics_first_and_tells_clashing_keys_apart(runs_store: Path) -> None:
    """The chooser lists columns in the table's order (run, status, metrics, params, start,
    duration) and names a key logged both as a param and a metric with its prefix."""
    client = Client(runs_store)
    run_id = client.search_runs(filter_string="attributes.run_name = 'alpha'")[0].info.run_id
    client.log_metric(run_id, "lr", 0.1)
    client.flush()
    app = make_app(runs_store)
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        lines = [line for line in screen_text(app).splitlines() if "▐X▌" in line]  # the list's entries
        listed = [line.split("▌", 1)[1].split("  ")[0].strip() for line in lines]
        order = ["run", "status", "loss", "metrics.lr", "batch", "params.lr", "start", "duration", "user"]
        assert [listed.index(label) for label in order] == sorted(listed.index(label) for label in order)


async def test_no_columns_chosen_leaves_a_usable_table(runs_store: Path) -> None:
    """Deselecting every column shows the runs with no columns; moving, marking and sorting do
    nothing harmful, and a brings the columns back."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#columns-list").deselect_all()
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(RunsTable)
        assert table.shown_columns == [] and table.row_count == 5
        await pilot.press("l", "j", "h", "s", "space", "G")
        await settle(pilot)
        assert "1 marked" in screen_text(app)
        await pilot.press("c", "a")
        await settle(pilot)
        assert "alpha" in screen_text(app)


async def test_m_opens_the_registry(runs_store: Path) -> None:
    """m opens the model registry screen and escape comes back to the runs."""
    from tui.registry_screen import RegistryScreen

    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, RegistryScreen)


async def test_key_bar_lists_the_screens_keys_and_clicks_them(runs_store: Path) -> None:
    """The bottom line names the keys of the screen shown, and clicking one presses it."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bottom = screen_text(app).splitlines()[-1]
        assert "/ Filter" in bottom and "s Sort" in bottom and "^p Palette" in bottom
        assert bottom.rstrip().endswith("^p Palette")  # the palette key sits on the right edge
        bar = app.screen.query_one("KeyBar")
        column = bottom.index("? Help")
        await pilot.click(bar, offset=(column + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("p")
        await settle(pilot, 0.3)
        assert isinstance(app.screen, PlotScreen)
        bottom = screen_text(app).splitlines()[-1]
        assert "esc Back" in bottom and "l log-y" in bottom and "Sort" not in bottom
