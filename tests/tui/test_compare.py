"""Diff and export from the dashboard, at 80x24."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pilot_helpers import cursor_to, flat, make_run, screen_text, settle, until

from store import Client
from tui.app import make_app
from tui.diff_screen import DiffScreen
from tui.main_screen import MainScreen

SIZE = (80, 24)


async def open_diff(pilot, first: str, second: str) -> None:  # noqa: ANN001
    await settle(pilot)
    cursor_to(pilot.app, first)
    await pilot.press("space")
    cursor_to(pilot.app, second)
    await pilot.press("space", "d")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DiffScreen)
    await until(pilot, lambda: "param " in screen_text(pilot.app) or "metric " in screen_text(pilot.app))


def header_line(text: str, words: str) -> str:
    """The line of the diff's two-line header holding ``words``."""
    return next(line for line in text.splitlines() if words in line)


async def test_mark_and_diff_shows_differences(runs_store: Path) -> None:
    """Two marked runs open side by side: differing params and metric deltas, equal rows hidden."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_diff(pilot, "alpha", "bravo")
        text = screen_text(app)
        assert "alpha" in text and "bravo" in text and " baseline " in text
        assert header_line(text, "baseline").index("baseline") < header_line(text, "alpha").index("bravo")
        assert "param lr" in text and "0.01" in text
        assert "metric accuracy" in text and "-0.06 (-6.6%)" in text
        assert "param batch" not in text  # both 32: hidden by default
        await pilot.press("a")
        await settle(pilot)
        assert "param batch" in screen_text(app)


async def test_diff_painted_before_idle_still_fits_its_cells(runs_store: Path) -> None:
    """A frame painted between filling the diff and Textual's idle measuring (a loaded machine)
    must not freeze the columns at their header widths: "param lr", not "par"."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_diff(pilot, "alpha", "bravo")
        app.screen.fill()
        screen_text(app)  # paints now, before the table's idle handler runs
        await settle(pilot)
        text = screen_text(app)
        assert "param lr" in text and "0.85 -0.06 (-6.6%)" in text


async def test_two_runs_with_long_values_fit_80_columns(store_path: Path) -> None:
    """Commit hashes and long keys are cut, so both runs and a metric's whole delta are on an
    80-column screen without scrolling."""
    client = Client(store_path)
    exp = client.create_experiment("sweep")
    runs = (("base", "405453374cc7879547587a56729ab01", 0.12098), ("wide", "bd908a9fdf49124e2ec1", 0.121766))
    for name, commit, loss in runs:
        make_run(client, exp, name, {"lr": 0.1}, [loss], 0.5, tags={"mlflow.source.git.commit": commit})
    client.flush()
    app = make_app(store_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_diff(pilot, "base", "wide")
        text = screen_text(app)
        assert "0.121766 +0.000786 (+0.6%)" in text
        assert "tag mlflow.source.git.c…" in text and "405453374cc78795475…" in text


async def test_long_sweep_names_fit_80_columns_and_tell_apart(store_path: Path) -> None:
    """Two runs named alike at length: both columns fit, each header shows where the names
    differ, and the baseline is marked under its name."""
    client = Client(store_path)
    exp = client.create_experiment("sweep")
    names = ("resnet50-cosine-lr0.003-warmup500-seed17", "resnet50-cosine-lr0.010-warmup500-seed17")
    for name, lr, loss in zip(names, (0.003, 0.01), (0.3, 0.25)):
        make_run(client, exp, name, {"lr": lr}, [loss], 0.9)
    client.flush()
    app = make_app(store_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_diff(pilot, *names)
        text = screen_text(app)
        assert "…-lr0.003-warmup500…  …-lr0.010-warmup500…" in text
        assert "baseline …-lr0.003-warmup500…" in text  # the status line
        assert "0.25 -0.05 (-16.7%)" in text
        assert app.screen.query_one("#diff-table").virtual_size.width <= SIZE[0] - 2


async def test_baseline_follows_the_cursor(runs_store: Path) -> None:
    """b on a run's column makes it the baseline; deltas are then against it."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_diff(pilot, "alpha", "bravo")
        table = app.screen.query_one("#diff-table")
        table.move_cursor(column=2)
        await pilot.press("b")
        await settle(pilot)
        text = screen_text(app)
        assert header_line(text, "baseline").index("baseline") > header_line(text, "alpha").index("bravo")
        assert "+0.06 (+7.1%)" in text


async def test_diff_needs_two_marked_runs(runs_store: Path) -> None:
    """d with fewer than two marked runs says what to do and stays on the table."""
    app = make_app(runs_store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot, 0.2)
        assert isinstance(app.screen, MainScreen)
        assert "Mark two or more runs" in flat(screen_text(app))


async def test_export_table_to_csv(runs_store: Path, tmp_path: Path) -> None:
    """e writes the shown runs to a CSV file a spreadsheet reads, and says where."""
    app = make_app(runs_store)
    target = tmp_path / "runs.csv"
    async with app.run_test(size=(120, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"accuracy > 0.8", "enter")
        await settle(pilot, 0.3)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        shown = flat(screen_text(app))
        assert "Wrote" in shown and "runs.csv" in shown
    rows = list(csv.DictReader(target.open()))
    assert sorted(r["run"] if "run" in r else r["run_name"] for r in rows) == ["alpha", "bravo", "delta"]


async def test_export_diff_to_json(runs_store: Path, tmp_path: Path) -> None:
    """e on the diff screen writes the comparison as JSON, format chosen in the dialog."""
    app = make_app(runs_store)
    target = tmp_path / "diff.json"
    async with app.run_test(size=(120, 24), notifications=True) as pilot:
        await open_diff(pilot, "alpha", "bravo")
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-format").query("RadioButton")[1].value = True
        await pilot.pause()
        path = app.screen.query_one("#export-path")
        assert path.value.endswith(".json")
        path.value = str(target)
        path.focus()
        await pilot.press("enter")
        await settle(pilot)
    data = json.loads(target.read_text())
    assert [r["run_name"] for r in data["runs"]] == ["alpha", "bravo"]
    assert any(row["key"] == "lr" and row["differs"] for row in data["rows"])
