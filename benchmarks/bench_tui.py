"""How the dashboard feels on a big store: first paint, filter, sort, plot, and a refresh cycle.

Two synthetic stores are built in a scratch folder: 10,000 finished runs over 5 experiments
(5 params, 3 metrics each), and 10 runs of 100,000 steps (a million points). They are written in
bulk through the store's writer, as the MLflow importer does, because creating 10,000 runs one
``create_run`` at a time measures the tracking API, not the dashboard. The dashboard then runs
headless (Textual's ``run_test``) at 80x24 and at 200x50 (more cells to draw), driven by key
presses as a user would (``enter`` in the filter box, ``s``, ``space`` then ``p``), and each figure
is timed from the key to the screen showing its result. The MLflow column stays empty: MLflow's UI is a web app with no
terminal equivalent to time.

Targets (issue 4): first paint < 1 s, filter and sort < 100 ms, plot < 200 ms, a refresh cycle
with nothing changed < 50 ms.

The plot's parts are also timed alone (the store's downsampling, plotext's drawing), outside
the app, where they do not share the two cores with the UI thread.

Run: ``python benchmarks/bench_tui.py [--quick] [--json] [--keep DIR]`` (``--keep`` builds the
stores in DIR once and reuses them on the next runs).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow as pa
from textual import events

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import Row, best_of, emit, quick, scratch  # noqa: E402

from store import Client, series  # noqa: E402
from store.compaction import compact  # noqa: E402
from store.watch import Watcher  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.main_screen import MainScreen  # noqa: E402
from tui.plot_screen import PlotScreen  # noqa: E402
from tui.plotting import PlotOptions, draw  # noqa: E402
from tui.runs_table import RunsTable  # noqa: E402

T0 = 1_790_000_000_000
SIZES = {"80x24": (80, 24), "200x50": (200, 50)}


def build_store(root: Path, runs: int, steps: int, experiments: int) -> list[str]:
    """A store of finished runs written in bulk; returns the run ids."""
    client = Client(root)
    exp_ids = [client.create_experiment(f"exp-{i}") for i in range(experiments)]
    writer = client.writer
    rng = random.Random(7)
    ids = []
    for i in range(runs):
        run_id, exp = uuid.uuid4().hex, exp_ids[i % experiments]
        ids.append(run_id)
        start = T0 + i * 60_000
        writer.record("runs", {
            "run_id": run_id, "experiment_id": exp, "run_name": f"run-{i:05d}", "status": "FINISHED",
            "start_time": start, "end_time": start + 30_000 + i, "lifecycle_stage": "active",
            "user_id": "bench",
        })
        writer.record("tags", {"experiment_id": exp, "run_id": run_id, "key": "mlflow.runName",
                               "value": f"run-{i:05d}"})
        for p, choices in (("lr", [0.1, 0.01, 0.001]), ("batch", [32, 64]), ("depth", [18, 34, 50]),
                           ("opt", ["adam", "sgd"]), ("seed", list(range(100)))):
            writer.record("params", {"experiment_id": exp, "run_id": run_id, "key": p,
                                     "value": str(rng.choice(choices))})
    for e, exp in enumerate(exp_ids):
        mine = ids[e::experiments]
        n = len(mine) * steps
        run_col = [r for r in mine for _ in range(steps)]
        step_col = [s for _ in mine for s in range(steps)]
        for key in ("loss", "accuracy", "grad_norm"):
            values = [math.exp(-s / (steps / 4 + 1)) + rng.gauss(0, 0.02) for s in step_col]
            writer.append_table("metrics", exp, pa.table({
                "experiment_id": [exp] * n, "run_id": run_col, "key": [key] * n,
                "step": step_col, "timestamp": [T0 + s * 100 for s in step_col], "value": values,
            }))
        writer.flush()
    writer.flush()
    compact(root)
    return ids


async def until(pilot, done, timeout: float = 60.0) -> float:  # noqa: ANN001
    """Seconds until ``done()`` holds, looking every millisecond. A plain sleep, not the pilot's
    pause, which walks the whole screen each time and would slow the app it is timing."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the dashboard did not get there in time")
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


def send_key(app, key: str, char: str | None) -> None:  # noqa: ANN001
    """Deliver a key as the terminal driver does, without the pilot's wait for the whole process
    (workers included) to go idle: the figure is key to screen, not key to quiet machine."""
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def measure_table(root: Path, label: str) -> list[Row]:
    rows = []
    start = time.perf_counter()
    app = make_app(root, refresh_seconds=3600)
    async with app.run_test(size=SIZES[label]) as pilot:
        def painted() -> bool:
            tables = app.screen.query(RunsTable) if isinstance(app.screen, MainScreen) else []
            return bool(tables) and tables[0].row_count > 0

        await until(pilot, painted)
        rows.append(Row(f"first paint of the runs table ({label})", "s", time.perf_counter() - start,
                        note=f"{app.screen.query_one(RunsTable).row_count:,} runs, app start to rows shown"))
        screen = app.screen
        table = screen.query_one(RunsTable)
        await pilot.pause(0.5)

        times = []
        for query in ("params.lr = '0.01'", "metrics.loss < 0.5 and params.opt = 'adam'") * 2 + ("",):
            await pilot.press("slash")
            screen.filter_bar.input.value = query  # typed; the debounced live filter not waited for
            start = time.perf_counter()
            send_key(app, "enter", "\r")
            await until(pilot, lambda q=query: table.settings.query == q)
            await pilot.pause(0)  # the frame that paints the new rows
            times.append(time.perf_counter() - start)
            await pilot.pause(0.3)
        runs = f"{table.row_count:,} runs"
        rows.append(Row(f"apply a filter ({label})", "ms", 1000 * min(times[:4]), note=f"{runs}, enter to rows painted"))

        table.move_cursor(column=table.column_index("metrics.loss"))
        sorts = []
        for _ in range(4):
            before = (table.settings.sort, table.settings.descending)
            start = time.perf_counter()
            send_key(app, "s", "s")
            await until(pilot, lambda b=before: (table.settings.sort, table.settings.descending) != b)
            await pilot.pause(0)
            sorts.append(time.perf_counter() - start)
            await pilot.pause(0.3)
        rows.append(Row(f"sort by a metric column ({label})", "ms", 1000 * min(sorts), note=f"{runs}, key to rows painted"))

        watcher = Watcher(root)
        watcher.changed()
        cycles = []
        for _ in range(20):
            start = time.perf_counter()
            watcher.changed()
            cycles.append(time.perf_counter() - start)
        rows.append(Row(f"refresh cycle, nothing changed ({label})", "ms", 1000 * min(cycles),
                        note="store fingerprint: folder mtimes + live runs"))
        before = table.full
        start = time.perf_counter()
        screen.load_runs()
        await until(pilot, lambda: table.full is not before)
        await pilot.pause(0)
        rows.append(Row(f"refresh cycle, store changed ({label})", "ms", 1000 * (time.perf_counter() - start),
                        note=f"re-read {runs}, keep cursor, sort, marks"))
    return rows


async def measure_plot(root: Path, run_ids: list[str], label: str) -> list[Row]:
    app = make_app(root, refresh_seconds=3600)
    async with app.run_test(size=SIZES[label]) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and any(t.row_count for t in app.screen.query(RunsTable)))
        await app.workers.wait_for_complete()
        for _ in run_ids:  # mark the ten runs, as a user does
            await pilot.press("space", "down")
        times = []
        for _ in range(3):
            start = time.perf_counter()
            send_key(app, "p", "p")
            await until(pilot, lambda: isinstance(app.screen, PlotScreen) and bool(app.screen.series))
            times.append(time.perf_counter() - start)
            screen = app.screen
            await pilot.press("escape")
            await pilot.pause(0.3)
    total = sum(len(v[0]) for v in screen.series.values())
    steps = int(max(max(v[0]) for v in screen.series.values())) + 1
    return [Row(f"plot 10 runs x {steps:,} steps ({label})", "ms", 1000 * min(times),
                note=f"p to drawn; DuckDB M4 downsampling to {total:,} points")]


def measure_downsampling(root: Path, run_ids: list[str]) -> list[Row]:
    """The plot's two parts alone, outside the app: the store's downsampling and plotext."""
    with Client(root).snapshot(materialize=True) as snap:
        found = series.metric_series(snap, run_ids, "loss", buckets=75)
        reading = best_of(lambda: series.metric_series(snap, run_ids, "loss", buckets=75), 5)
        zoomed = best_of(lambda: series.metric_series(snap, run_ids, "loss", buckets=75, last_steps=1000), 5)
        small = series.metric_series(snap, run_ids, "loss", buckets=32)  # what the 80x24 plot reads
    drawing = best_of(lambda: draw(small, PlotOptions("loss"), 58, 21), 5)
    points = sum(len(xs) for xs, _ in found.values())
    return [
        Row("downsample 10 runs x 100,000 steps", "ms", 1000 * reading,
            note=f"store.series.metric_series, one statement, to {points:,} points"),
        Row("downsample the last 1,000 steps of 10 runs", "ms", 1000 * zoomed, note="the plot's zoom (z)"),
        Row("draw the 80x24 plot with plotext", "ms", 1000 * drawing,
            note=f"{sum(len(xs) for xs, _ in small.values()):,} points in 58x21 cells (the 80x24 plot), in its worker"),
    ]


def build(folder: Path) -> list[str]:
    """The two stores in ``folder`` (kept from an earlier run with ``--keep``); the long runs' ids."""
    runs, steps = (2_000, 1_000) if quick() else (10_000, 100_000)
    ids_file = folder / "long-run-ids.txt"
    if not ids_file.exists():
        build_store(folder / "runs", runs, 3, 5)
        ids_file.write_text("\n".join(build_store(folder / "long", 10, steps, 1)))
    return ids_file.read_text().split()


def table_rows(root: Path, label: str) -> list[Row]:
    return asyncio.run(measure_table(root, label))


def measure(folder: Path) -> list[Row]:
    ids = build(folder)
    rows = []
    for label in SIZES:  # each in a fresh process: a first paint must not find the last one's tables
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows += pool.submit(table_rows, folder / "runs", label).result()
    for label in SIZES:
        rows += asyncio.run(measure_plot(folder / "long", ids, label))
    return rows + measure_downsampling(folder / "long", ids)


def main() -> None:
    if "--keep" in sys.argv:
        folder = Path(sys.argv[sys.argv.index("--keep") + 1])
        folder.mkdir(parents=True, exist_ok=True)
        emit(measure(folder))
        return
    with scratch("tui") as folder:
        emit(measure(folder))


if __name__ == "__main__":
    main()
