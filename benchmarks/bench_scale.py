"""How costs grow with the store: search, sort, a cold ``mltui query`` process, a run's short
history, bytes per point, starting a run, ``log_metric`` and ``log_batch`` in stores of 1,000 /
10,000 / 100,000 runs after compaction, and a 1,000,000-point metric history.

MLflow's figures are its SQLite store's, or its file store's where that is faster (starting and
ending runs, logging, a history); the file store's are measured once, in a store of its own (its
costs do not depend on other runs: no index to update).

mltui stores are built through the real writer (run events and buffered points, flushed, then
``compact``), skipping only the per-run experiment lookup of ``create_run``. MLflow's SQLite stores
of the same runs are laid out by MLflow and filled by sqlite3 (``build_mlflow``: its client makes
~20 runs a second here); rows say when a figure was scaled.

Run: ``benchmarks/.venv-mlflow/bin/python benchmarks/bench_scale.py [--quick] [--json]``.
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logging import KEYS, mlflow_log_batch, mlflow_log_metric, mltui_log_batch, mltui_log_metric, points
from benchlib import (
    FILE_STORE,
    MLFLOW_MISSING,
    SQLITE,
    Row,
    best_of,
    best_row,
    emit,
    mlflow_uri,
    mlflow_version,
    mltui_command,
    quick,
    scratch,
)

QUERY = "metrics.accuracy > 0.9"
STEPS = 5  # points per metric per run in the scale stores
T0 = 1_763_000_000_000


def build_mltui(root: Path, runs: int) -> None:
    """A store of ``runs`` finished runs with two params and accuracy/loss curves, compacted."""
    from store import Client
    from store.compaction import compact

    client = Client(root)
    exp = client.create_experiment("scale")
    w = client.writer
    for i, (params, curves) in enumerate(synthetic(runs)):
        run_id = uuid.uuid4().hex
        start = T0 + i * 1000
        w.record(
            "runs",
            {"run_id": run_id, "experiment_id": exp, "run_name": f"run-{i}", "status": "FINISHED",
             "start_time": start, "end_time": start + 60_000, "lifecycle_stage": "active",
             "user_id": "bench", "host": "bench", "pid": 1},
        )
        for key, value in params.items():
            w.record("params", {"experiment_id": exp, "run_id": run_id, "key": key, "value": value})
        w.buffer(run_id, exp).points.extend((k, v, s, start + s) for k, v, s in curves)
        if i % 20_000 == 19_999:
            w.flush()
    w.flush()
    for run_id in list(w._buffers):
        w.release(run_id)
    compact(root)


def mltui_search(root: Path) -> tuple[float, float, float, int]:
    """Seconds to filter the first time in the process (from the runs ``compact`` saved, where
    they fit: ``run_index_file``), then as a script searching again does (the files listed afresh
    each time; runs held in memory up to ``run_index.MAX_VALUES``), and to sort."""
    from store import Client
    from store.query import parse

    client = Client(root)
    parse("accuracy > 0")  # the parser loaded, as MLflow's modules are: a process starts once (cold rows)
    start = time.perf_counter()
    hits = len(client.search_runs(filter_string=QUERY, max_results=None))
    first = time.perf_counter() - start
    client.search_runs(filter_string=QUERY, max_results=None)  # loads the runs, where they fit
    filt = best_of(lambda: client.search_runs(filter_string=QUERY, max_results=None))
    sort = best_of(
        lambda: client.search_runs(order_by=["metrics.accuracy DESC"], max_results=100)
    )
    return first, filt, sort, hits


def cold_query(root: Path) -> float | None:
    """Seconds for a fresh ``mltui query`` process, or None when the command does not exist."""
    probe = mltui_command("--store", str(root), "query", "--help")
    if probe.returncode != 0:
        return None
    def run() -> None:
        done = mltui_command("--store", str(root), "query", "accuracy > 0.9", "--format", "csv")
        assert done.returncode == 0, done.stderr
    return best_of(run, 2)


def mltui_history(root: Path, points: int) -> float:
    from store import Client

    client = Client(root)
    exp = client.create_experiment("history")
    run_id = client.create_run(exp).info.run_id
    buf = client.writer.buffer(run_id, exp)
    buf.points.extend(("loss", 1.0 / (s + 1), s, T0 + s) for s in range(points))
    client.set_terminated(run_id)
    return best_of(lambda: client.get_metric_history(run_id, "loss"), 3)


# ------------------------------------------------------------------------- MLflow


def mlflow_client(root: Path, backend: str = SQLITE):
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    uri = mlflow_uri(root, backend)
    mlflow.set_tracking_uri(uri)
    return mlflow, mlflow.MlflowClient(uri), uri


def synthetic(runs: int):
    """Each run's params and its accuracy/loss curves: the same data for both tools."""
    rnd = random.Random(runs)
    for _ in range(runs):
        params = {"lr": f"{rnd.choice([0.1, 0.01, 0.001])}", "batch": "64"}
        acc = rnd.random()
        curves = [("accuracy", acc * (s + 1) / STEPS, s) for s in range(STEPS)]
        curves += [("loss", (1 - acc) / (s + 1), s) for s in range(STEPS)]
        yield params, curves


def build_mlflow(root: Path, runs: int) -> str:
    """MLflow's SQLite store of the same runs. MLflow makes the schema, the experiment and a first
    run; sqlite3 copies that run's row and tags for the others and adds every run's params, points
    and latest values, as MLflow's SQL store lays them out. MLflow's client creates ~20 runs a
    second here: 100,000 would take over an hour."""
    import sqlite3

    _, client, _ = mlflow_client(root)
    exp = client.create_experiment("scale")
    template = client.create_run(exp).info.run_id
    con = sqlite3.connect(root / "mlflow.db")
    columns = [c[1] for c in con.execute("PRAGMA table_info(runs)")]
    model = dict(zip(columns, con.execute("SELECT * FROM runs WHERE run_uuid = ?", [template]).fetchone()))
    tags = con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", [template]).fetchall()
    con.execute("DELETE FROM tags WHERE run_uuid = ?", [template])
    con.execute("DELETE FROM runs WHERE run_uuid = ?", [template])
    rows: dict[str, list[tuple]] = {"runs": [], "tags": [], "params": [], "metrics": [], "latest_metrics": []}
    for i, (params, curves) in enumerate(synthetic(runs)):
        run_id, start = uuid.uuid4().hex, T0 + i * 1000
        run = {**model, "run_uuid": run_id, "name": f"run-{i}", "status": "FINISHED", "start_time": start,
               "end_time": start + 60_000, "artifact_uri": model["artifact_uri"].replace(template, run_id)}
        rows["runs"].append(tuple(run[c] for c in columns))
        rows["tags"] += [(k, f"run-{i}" if k == "mlflow.runName" else v, run_id) for k, v in tags]
        rows["params"] += [(k, v, run_id) for k, v in params.items()]
        rows["metrics"] += [(k, v, start + s, run_id, s, 0) for k, v, s in curves]
        rows["latest_metrics"] += [(k, v, start + s, s, 0, run_id) for k, v, s in curves if s == STEPS - 1]
    con.executemany(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows["runs"])
    con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", rows["tags"])
    con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", rows["params"])
    con.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", rows["metrics"]
    )
    con.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)",
        rows["latest_metrics"],
    )
    con.commit()
    con.close()
    return exp


class Costs(NamedTuple):
    """One tool's figures on one store (seconds; sort None: stopped after SORT_LIMIT)."""

    first: float
    search: float
    sort: float | None
    cold: float | None
    new_run: float
    log_metric: float
    log_batch: float  # points/s
    history: tuple[float, float]  # a run's short history: the first read in the process, again
    bytes_per_point: float  # the whole store as built, per metric point


NEW_RUNS = 20
FILE_STORE_RUNS = 200  # MLflow's file store reads a run's history from its own file: other runs cost nothing
CALLS = 100_000
MLFLOW_CALLS = 300
BATCH_STEPS, MLFLOW_BATCH_STEPS = 20_000, 400  # x len(KEYS) points, one run: MLflow writes ~13,000 points/s


def new_runs(mlflow, runs: int = NEW_RUNS) -> float:
    """Seconds to start a run, log a param and end it, with either tool's fluent API: the best of
    three sweeps of ``runs``, after one run not timed (a first run sets up what every later one
    reuses, in both tools)."""
    with mlflow.start_run():
        mlflow.log_param("warm", 1)

    def sweep() -> None:
        for i in range(runs):
            with mlflow.start_run():
                mlflow.log_param("i", i)

    return best_of(sweep) / runs


def mltui_new_run(root: Path) -> float:
    import store as mlflow

    mlflow.set_tracking_uri(root)
    mlflow.set_experiment("scale")
    return new_runs(mlflow)


def mlflow_new_run(root: Path, backend: str = SQLITE) -> float:
    mlflow, _, _ = mlflow_client(root, backend)
    mlflow.set_experiment("scale")
    return new_runs(mlflow)


SORT_LIMIT = 180  # seconds: MLflow's sort of 100,000 runs by a metric ran over 5 minutes here


def mlflow_search(root: Path, exp: str) -> tuple[float, float, float | None]:
    """Seconds of MLflow's first search in the process, of its search again, and of its sort
    (None: over SORT_LIMIT, stopped)."""
    mlflow, _, uri = mlflow_client(root)
    start = time.perf_counter()
    mlflow.search_runs([exp], QUERY, max_results=50_000, output_format="list")
    first = time.perf_counter() - start
    filt = best_of(
        lambda: mlflow.search_runs([exp], QUERY, max_results=50_000, output_format="list"), 2
    )
    code = (
        "import logging, time, mlflow; logging.disable(logging.WARNING); "
        f"mlflow.set_tracking_uri({uri!r}); times = []\n"
        "for _ in range(2):\n"
        "    start = time.perf_counter()\n"
        f"    mlflow.search_runs([{exp!r}], order_by=['metrics.accuracy DESC'], max_results=100, output_format='list')\n"
        "    times.append(time.perf_counter() - start)\n"
        "print(min(times))"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                              timeout=SORT_LIMIT)
    except subprocess.TimeoutExpired:
        return first, filt, None
    return first, filt, float(done.stdout.split()[-1])


def short_history(client, run_id: str) -> tuple[float, float]:  # noqa: ANN001 (either tool's client)
    """Seconds to read one run's 5-point history the first time in the process, then again."""
    start = time.perf_counter()
    assert len(client.get_metric_history(run_id, "accuracy")) == STEPS
    return time.perf_counter() - start, best_of(lambda: client.get_metric_history(run_id, "accuracy"), 5)


def middle_run(client, runs: int) -> str:  # noqa: ANN001 (either tool's client)
    """The id of the scale store's run in the middle."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, f"attributes.run_name = 'run-{runs // 2}'")[0].info.run_id


def mltui_short_history(root: Path, runs: int) -> tuple[float, float]:
    from store import Client

    client = Client(root)
    return short_history(client, middle_run(client, runs))


def mlflow_short_history(root: Path, runs: int, backend: str = SQLITE) -> tuple[float, float]:
    _, client, _ = mlflow_client(root, backend)
    return short_history(client, middle_run(client, runs))


def mlflow_file_store_runs(root: Path, runs: int) -> None:
    """MLflow's file store with ``runs`` runs of the scale stores' curves (through its client)."""
    from mlflow.entities import Metric, Param

    _, client, _ = mlflow_client(root, FILE_STORE)
    exp = client.create_experiment("scale")
    for i, (params, curves) in enumerate(synthetic(runs)):
        run_id = client.create_run(exp, run_name=f"run-{i}").info.run_id
        client.log_batch(run_id, [Metric(k, v, T0 + s, s) for k, v, s in curves],
                         [Param(k, v) for k, v in params.items()])


def store_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def mlflow_cold_query(root: Path, exp: str) -> float:
    _, _, uri = mlflow_client(root)
    code = (
        "import mlflow, logging; logging.disable(logging.WARNING); "
        f"mlflow.set_tracking_uri({uri!r}); "
        f"print(len(mlflow.search_runs([{exp!r}], {QUERY!r}, max_results=50000, output_format='list')))"
    )
    return best_of(lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True), 2)


def mlflow_history(root: Path, points: int, backend: str = SQLITE) -> float:
    _, client, _ = mlflow_client(root, backend)
    from mlflow.entities import Metric

    exp = client.create_experiment("history")
    run_id = client.create_run(exp).info.run_id
    for i in range(0, points, 1000):
        batch = [Metric("loss", 1.0 / (s + 1), T0 + s, s) for s in range(i, i + 1000)]
        client.log_batch(run_id, batch)
    return best_of(lambda: client.get_metric_history(run_id, "loss"), 3)


# ------------------------------------------------------------------------- the table


def measure() -> list[Row]:
    small = quick()
    sizes = [1_000, 10_000] if small else [1_000, 10_000, 100_000]
    history_points = 100_000 if small else 1_000_000
    mf_history_points = 2_000 if small else 100_000  # MLflow writes ~12,000 points/s
    have_mlflow = mlflow_version() is not None
    missing = "" if have_mlflow else f"; {MLFLOW_MISSING}"
    rows: list[Row] = []
    mf: dict[int, Costs] = {}
    files_mf: dict[str, float] = {}  # MLflow's file store, in a store of its own
    if have_mlflow:
        with scratch("mlflow-files") as root:
            files_mf["new_run"] = mlflow_new_run(root, FILE_STORE)
            files_mf["log_metric"] = mlflow_log_metric(root, MLFLOW_CALLS, FILE_STORE)
        with scratch("mlflow-files-batch") as root:
            files_mf["log_batch"] = mlflow_log_batch(root, points(1, MLFLOW_BATCH_STEPS), 1_000, FILE_STORE)[0]
        with scratch("mlflow-files-history") as root:
            mlflow_file_store_runs(root, FILE_STORE_RUNS)
            files_mf["history"] = mlflow_short_history(root, FILE_STORE_RUNS, FILE_STORE)[1]
        for n in sizes:
            with scratch(f"mlflow-{n}") as root:
                exp = build_mlflow(root, n)
                size = store_bytes(root / "mlflow.db") / (n * STEPS * 2)
                first, filt, sort = mlflow_search(root, exp)
                cold = mlflow_cold_query(root, exp)
                history = mlflow_short_history(root, n)
                batch = mlflow_log_batch(root, points(1, MLFLOW_BATCH_STEPS), 1_000)[0]
                mf[n] = Costs(first, filt, sort, cold, mlflow_new_run(root), mlflow_log_metric(root, MLFLOW_CALLS), batch,
                              history, size)
    for n in sizes:
        with scratch(f"scale-{n}") as root:
            start = time.perf_counter()
            build_mltui(root / "store", n)
            built = time.perf_counter() - start
            files = len(list((root / "store").rglob("*.parquet")))
            size = store_bytes(root / "store") / (n * STEPS * 2)
            first, filt, sort, hits = mltui_search(root / "store")
            cold = cold_query(root / "store")
            history = mltui_short_history(root / "store", n)
            ours = Costs(first, filt, sort, cold, mltui_new_run(root / "store"),
                         mltui_log_metric(root / "store", CALLS),
                         mltui_log_batch(root / "store", points(1, BATCH_STEPS), 1_000), history, size)
        other = mf.get(n)
        how = (
            f"{hits:,} Run objects; the first search in the process {first * 1000:.0f} ms"
            + (f" (MLflow's first {other.first * 1000:.0f} ms)" if other else "")
            + f"; store built in {built:.0f} s, {files} Parquet files"
        )
        rows.append(Row(f"search_runs('{QUERY}'), {n:,} runs", "s", filt, other and other.search, how + missing))
        slow = f"MLflow's sort stopped after {SORT_LIMIT} s" if other and other.sort is None else ""
        rows.append(Row(f"sort by accuracy (top 100), {n:,} runs", "s", sort, other and other.sort,
                        slow or missing.lstrip("; ")))
        rows.append(Row(f"cold `mltui query` process, {n:,} runs", "s", ours.cold, other and other.cold,
                        f"MLflow: a fresh python running search_runs on the same runs{missing}"))
        new_run = {SQLITE: other and other.new_run * 1000, FILE_STORE: _get(files_mf, "new_run", 1000)}
        rows.append(best_row(f"start_run, log_param, end_run, {n:,} runs in the store", "ms", ours.new_run * 1000,
                             new_run, f"fluent, best of 3 x {NEW_RUNS} runs in the experiment of the {n:,}; "
                             f"mltui writes the run's files at its end{missing}"))
        per_call = {SQLITE: other and other.log_metric * 1e6, FILE_STORE: _get(files_mf, "log_metric", 1e6)}
        rows.append(best_row(f"log_metric, one call, {n:,} runs in the store", "us", ours.log_metric * 1e6,
                             per_call, f"mltui {CALLS:,} calls, MLflow {MLFLOW_CALLS}{missing}"))
        history = {SQLITE: other and other.history[1] * 1000, FILE_STORE: _get(files_mf, "history", 1000)}
        rows.append(best_row(
            f"a run's 5-point history, {n:,} runs in the store", "ms", ours.history[1] * 1000, history,
            f"get_metric_history again; the first in the process {ours.history[0] * 1000:.1f} ms"
            + (f" (MLflow's SQLite {other.history[0] * 1000:.1f} ms)" if other else "")
            + f"; MLflow's file store in a store of {FILE_STORE_RUNS} runs{missing}",
        ))
        rows.append(Row(f"bytes on disk per metric point, {n:,} runs", "bytes", ours.bytes_per_point,
                        other and other.bytes_per_point,
                        f"the whole store as built ({STEPS * 2} points a run): mltui's after compact, its "
                        f"saved runs included; MLflow's SQLite file{missing}"))
        rate = {SQLITE: other and other.log_batch, FILE_STORE: _get(files_mf, "log_batch", 1)}
        rows.append(best_row(f"log_batch, {n:,} runs in the store", "points/s", ours.log_batch, rate,
                             f"batches of 1,000 until written; mltui {BATCH_STEPS * len(KEYS):,} points, "
                             f"MLflow {MLFLOW_BATCH_STEPS * len(KEYS):,}{missing}", lower_is_better=False))
    with scratch("history") as root:
        hist = mltui_history(root / "store", history_points)
    mf_hist: dict[str, float | None] = {}
    if have_mlflow:
        for backend in (SQLITE, FILE_STORE):
            with scratch("mlflow-history") as root:
                mf_hist[backend] = mlflow_history(root, mf_history_points, backend) * history_points / mf_history_points
    rows.append(
        best_row(
            f"metric history of {history_points:,} points", "s", hist, mf_hist,
            f"MLflow measured at {mf_history_points:,} points, scaled linearly "
            f"x{history_points // mf_history_points}{missing}",
        )
    )
    return rows


def _get(figures: dict[str, float], name: str, scale: float) -> float | None:
    return figures[name] * scale if name in figures else None


if __name__ == "__main__":
    emit(measure())
