"""The runs screen at 80x24: what a user sees, filters, sorts and marks."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pilot_helpers import make_run, screen_text, settle, until

from store import Client
from tui.app import make_app
from tui.key_bar import KeyBar
from tui.main_screen import MainScreen
from tui.runs_table import RunsTable

SIZE = (80, 24)


def names(app) -> list[str]:  # noqa: ANN001
    table = app.screen.query_one(RunsTable)
    return [table.cell(i, "run_name") for i in range(table.row_count)]


async def open_app(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    assert isinstance(pilot.app.screen, MainScreen)


async def test_runs_and_experiments_are_listed(runs_store: Path) -> None:
    """Opening the dashboard shows every run, newest first, and each experiment's run count."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        assert names(app) == ["echo", "delta", "charlie", "bravo", "alpha"]
        text = screen_text(app)
        assert "mnist" in text and "4 runs" in text and "cifar" in text
        assert "FAILED" in text


async def test_a_single_run_is_counted_in_the_singular(store_path: Path) -> None:
    """One run: "1 run" for the store, its experiment and the top bar, never "1 runs"."""
    client = Client(store_path)
    make_run(client, client.create_experiment("solo"), "only", {"lr": 0.1}, [1.0], 0.5)
    client.flush()
    app = make_app(store_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        text = screen_text(app)
        assert "1 runs" not in text and text.count("1 run") == 3


async def test_choosing_an_experiment_shows_its_runs(runs_store: Path) -> None:
    """Moving down the experiments pane narrows the table to that experiment."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        await pilot.press("shift+tab")
        await pilot.press("down")
        await settle(pilot)
        assert names(app) == ["echo"]


async def test_filter_narrows_the_table(runs_store: Path) -> None:
    """A query typed after / keeps only the matching runs."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        await pilot.press("slash", *"accuracy > 0.9", "enter")
        await settle(pilot, 0.3)
        assert names(app) == ["delta", "alpha"]
        assert "filter: accuracy > 0.9" in screen_text(app)
        assert app.focused is app.screen.query_one(RunsTable)  # enter hands the keys to the table
        await pilot.press("escape")
        await settle(pilot)
        assert len(names(app)) == 5


async def test_bad_filter_shows_error_and_keeps_table(runs_store: Path) -> None:
    """A query with a syntax error shows the error with a caret, and the rows stay."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        await pilot.press("slash", *"accuracy >> 2")
        await settle(pilot, 0.4)
        text = screen_text(app)
        assert "^" in text
        caret_line = next(line for line in text.splitlines() if "^" in line)
        query_line = text.splitlines()[text.splitlines().index(caret_line) - 1]
        assert query_line.index("accuracy >> 2") + len("accuracy >") in (
            caret_line.index("^") - 1, caret_line.index("^"), caret_line.index("^") + 1
        )
        assert len(names(app)) == 5
        await pilot.press("enter")
        await settle(pilot, 0.3)
        assert app.focused is app.screen.filter_bar.input  # entered anyway: stays put to be fixed
        assert len(names(app)) == 5


async def test_sort_both_ways(runs_store: Path) -> None:
    """s sorts by the column under the cursor, highest first; s again reverses."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        table.move_cursor(column=table.column_index("metrics.accuracy"))
        await pilot.press("s")
        await pilot.pause()
        assert names(app) == ["delta", "alpha", "bravo", "echo", "charlie"]
        header = next(line for line in screen_text(app).splitlines() if "status" in line)
        assert "accuracy ▼" in header  # the column header shows the order, not only the top bar
        await pilot.press("s")
        await pilot.pause()
        assert names(app) == ["charlie", "echo", "bravo", "alpha", "delta"]
        header = next(line for line in screen_text(app).splitlines() if "status" in line)
        assert "accuracy ▲" in header


async def test_metric_column_switches_aggregate(runs_store: Path) -> None:
    """a on a metric column shows its min, then its max, instead of its last value; s sorts by it."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)

        def loss_of(name: str) -> float:
            row = names(app).index(name)
            return float(table.cell(row, "metrics.loss"))

        table.move_cursor(column=table.column_index("metrics.loss"))
        assert loss_of("alpha") == 0.3
        await pilot.press("a", "a")
        await settle(pilot)
        assert table.header("metrics.loss").startswith("loss (max)")
        assert loss_of("alpha") == 1 and loss_of("echo") == 3
        await pilot.press("s")
        await pilot.pause()
        assert names(app) == ["echo", "charlie", "bravo", "alpha", "delta"]


async def test_metric_columns_line_up(runs_store: Path) -> None:
    """A metric column's values share one format and are right-aligned: decimal points line up."""
    client = Client(runs_store)
    make_run(client, client.get_experiment_by_name("cifar").experiment_id, "foxtrot", {"lr": 0.2}, [12.5], 0.1)
    client.flush()
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        column = table.column_index("metrics.loss")
        table.move_cursor(column=column)  # scrolled into view
        await settle(pilot)
        lines = screen_text(app).splitlines()
        points = set()
        for row in range(table.row_count):
            name, loss = (table.cell(row, c) for c in ("run_name", "metrics.loss"))
            line = next(line for line in lines if f" {name} " in line)
            assert line.count(f" {loss} ") == 1, (loss, line)
            points.add(line.index(f" {loss} ") + 1 + loss.index("."))
        assert len(points) == 1, lines


async def test_marks_survive_refresh(runs_store: Path) -> None:
    """Marked runs and the cursor stay where they were after a reload."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        await pilot.press("space", "down", "space", "down")
        table = app.screen.query_one(RunsTable)
        cursor_run = table.current_run_id
        await pilot.press("r")
        await settle(pilot)
        assert len(table.marks) == 2
        assert table.current_run_id == cursor_run
        assert "2 marked" in screen_text(app)


async def test_run_logged_elsewhere_appears(runs_store: Path) -> None:
    """A run logged by another thread while the app is open appears without a key press."""
    app = make_app(runs_store, refresh_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)

        def log() -> None:
            client = Client(runs_store)
            exp = client.get_experiment_by_name("mnist")
            make_run(client, exp.experiment_id, "foxtrot", {"lr": 0.2, "batch": 8}, [0.5], 0.99)

        worker = threading.Thread(target=log)
        worker.start()
        worker.join()
        await until(pilot, lambda: "foxtrot" in names(app))
        assert "foxtrot" in names(app)


LOG_SCRIPT = """
import store as mlflow
mlflow.set_tracking_uri({path!r})
mlflow.set_experiment("mnist")
with mlflow.start_run(run_name="golf"):
    mlflow.log_param("lr", 0.3)
    mlflow.log_metric("loss", 0.25, step=1)
"""


async def test_run_logged_by_another_process_appears(runs_store: Path) -> None:
    """A training script in another process shows up in the open dashboard by itself."""
    app = make_app(runs_store, refresh_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        script = LOG_SCRIPT.format(path=str(runs_store))
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        await until(pilot, lambda: "golf" in names(app))
        assert "golf" in names(app)
        assert "golf" in screen_text(app)


async def test_deleted_experiments_hidden_until_asked(runs_store: Path) -> None:
    """A deleted experiment is not listed; x on the experiments pane shows it (struck out)."""
    client = Client(runs_store)
    client.delete_experiment(client.get_experiment_by_name("cifar").experiment_id)
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        assert "cifar" not in screen_text(app)
        assert "echo" not in names(app)
        await pilot.press("shift+tab", "x")
        await settle(pilot)
        assert "cifar" in screen_text(app)


async def test_header_click_sorts(runs_store: Path) -> None:
    """Clicking a column header sorts by that column, like s; again reverses."""
    app = make_app(runs_store)
    async with app.run_test(size=(120, 24)) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        await pilot.click(RunsTable, offset=(4, 1))  # the border, then the header of "run"
        await settle(pilot)
        assert names(app) == ["echo", "delta", "charlie", "bravo", "alpha"]
        assert table.settings.sort == "run_name" and table.settings.descending
        assert "run ▼" in screen_text(app)
        await pilot.click(RunsTable, offset=(4, 1))
        await settle(pilot)
        assert names(app) == ["alpha", "bravo", "charlie", "delta", "echo"]


async def test_clicking_a_run_twice_opens_its_details(runs_store: Path) -> None:
    """A click puts the cursor on a cell; a click on the cursor's cell opens the run."""
    app = make_app(runs_store)
    async with app.run_test(size=(120, 24)) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        await pilot.click(RunsTable, offset=(4, 4))  # the third run's name
        await settle(pilot)
        assert table.run_name(table.current_run_id) == "charlie" and table.current_column == "run_name"
        await pilot.click(RunsTable, offset=(4, 4))
        await settle(pilot)
        assert "charlie" in screen_text(app) and not isinstance(app.screen, MainScreen)


async def test_the_row_under_the_pointer_is_highlighted(runs_store: Path) -> None:
    """Moving the mouse over a run highlights its whole row, as a click would pick it; moving
    off the table clears it."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        hover = table.get_component_rich_style("runs-table--hover").bgcolor

        def backgrounds(row: int) -> set[object]:
            return {segment.style.bgcolor for segment in table.render_line(row + 1) if segment.style}

        await pilot.hover(RunsTable, offset=(4, 4))  # the border, the header, then the third run
        await settle(pilot)
        assert "charlie" in "".join(segment.text for segment in table.render_line(3))
        assert backgrounds(2) == {hover} and hover not in backgrounds(1) | backgrounds(3)
        await pilot.hover(RunsTable, offset=(4, 1))  # the header: no run
        await settle(pilot)
        assert hover not in backgrounds(2)
        await pilot.hover(RunsTable, offset=(4, 4))
        await pilot.hover(KeyBar)  # off the table
        await settle(pilot)
        assert hover not in backgrounds(2)


async def test_bad_filter_survives_live_refresh(runs_store: Path) -> None:
    """While a bad query is shown, new runs still arrive and the error stays until fixed."""
    app = make_app(runs_store, refresh_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        await pilot.press("slash", *"accuracy >> 2")
        await settle(pilot, 0.4)

        def log() -> None:
            client = Client(runs_store)
            exp = client.get_experiment_by_name("mnist")
            make_run(client, exp.experiment_id, "hotel", {"lr": 0.7, "batch": 8}, [0.5], 0.2)

        worker = threading.Thread(target=log)
        worker.start()
        worker.join()
        await until(pilot, lambda: "hotel" in names(app))
        assert "hotel" in names(app)
        assert "syntax error" in screen_text(app)


async def test_status_change_appears(runs_store: Path) -> None:
    """A RUNNING run turns FINISHED on screen when it ends, without a key press."""
    client = Client(runs_store)
    exp = client.get_experiment_by_name("mnist").experiment_id
    run_id = make_run(client, exp, "india", {"lr": 0.9, "batch": 8}, [0.5], 0.3, status="RUNNING")
    app = make_app(runs_store, refresh_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        row = next(line for line in screen_text(app).splitlines() if "india" in line)
        assert "RUNNING" in row
        client.set_terminated(run_id)

        def india() -> str:
            return next(line for line in screen_text(app).splitlines() if "india" in line)

        await until(pilot, lambda: "FINISHED" in india())
        assert "FINISHED" in india()


async def test_moving_through_hundreds_of_runs(store_path: Path) -> None:
    """Every run is one scroll away: the ends, a page down and single steps all land on the
    right run, shown on screen under the header."""
    client = Client(store_path)
    exp = client.create_experiment("many")
    for i in range(300):
        run_id = client.create_run(exp, run_name=f"run-{i:03d}").info.run_id
        client.log_metric(run_id, "loss", float(i))
        client.set_terminated(run_id)
    client.flush()
    app = make_app(store_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        assert table.row_count == 300 and "300 runs" in screen_text(app)
        await pilot.press("G")
        await settle(pilot)
        assert table.run_name(table.current_run_id) == "run-000"  # newest first: the oldest is last
        assert "run-000" in screen_text(app) and "run-299" not in screen_text(app)
        await pilot.press("g")
        await settle(pilot)
        assert table.run_name(table.current_run_id) == "run-299"
        for _ in range(40):
            await pilot.press("j")
        await settle(pilot)
        assert table.run_name(table.current_run_id) == "run-259"
        assert "run-259" in screen_text(app) and "run-299" not in screen_text(app)
        assert "run" in screen_text(app).splitlines()[2]  # the header stays on top
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.cursor_row > 40 and table.run_name(table.current_run_id) in screen_text(app)

async def test_the_run_column_stays_put_when_scrolling_sideways(runs_store: Path) -> None:
    """Moving right to the last column scrolls the table sideways; the run names stay on screen
    and the header scrolls with the rows."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot)
        table = app.screen.query_one(RunsTable)
        first = screen_text(app)
        last = table.shown_columns[-1]
        assert table.header(last) not in first  # too wide for 80 columns
        for _ in table.shown_columns:
            await pilot.press("l")
        await settle(pilot)
        text = screen_text(app)
        assert table.current_column == last and table.header(last) in text
        assert all(name in text for name in ("alpha", "bravo", "charlie", "delta", "echo"))
        assert "status" not in text  # scrolled out, while "run" stayed
        assert " run " in text


async def test_statuses_read_well_with_and_without_colour(runs_store: Path, monkeypatch) -> None:  # noqa: ANN001
    """A failed run's status is drawn bold and red; under NO_COLOR bold only (a red turned grey
    would be dark grey on black)."""
    for no_color in (False, True):
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        app = make_app(runs_store)
        async with app.run_test(size=SIZE) as pilot:
            await open_app(pilot)
            table = app.screen.query_one(RunsTable)
            row = next(i for i in range(table.row_count) if table.cell(i, "status") == "FAILED")
            line = table.render_line(row + 1 - int(table.scroll_offset.y))
            failed = next(segment for segment in line if "FAILED" in segment.text)
            value = table.cell(row, "metrics.accuracy")
            plain = next(segment for segment in line if value in segment.text)
            assert failed.style.bold and not plain.style.bold
            assert (failed.style.color == plain.style.color) == no_color  # red, or the text's own


@pytest.mark.filterwarnings("ignore:mltui. skipping damaged file")
async def test_a_damaged_file_is_named_in_a_notification(runs_store: Path) -> None:
    """The runs table shows what the store's readable files hold, and a notification names the
    damaged file it skipped, with what to do about it."""
    victim = sorted((runs_store / "params").rglob("*.parquet"))[0]
    victim.write_bytes(b"PAR1 cut short")
    app = make_app(runs_store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await open_app(pilot)
        await until(pilot, lambda: "Damaged file skipped" in screen_text(app))
        text = " ".join(screen_text(app).split())
        assert "alpha" in names(app)
        assert victim.name[:12] in text.replace("▌ ", "") and "mltui doctor" in text
