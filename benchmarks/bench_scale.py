"""How reads grow with the store: query and sort over 1,000 / 10,000 / 100,000 runs after
compaction, a 1,000,000-point metric history, and a cold ``mltui query`` process.

mltui stores are built through the real writer (run events and buffered points, flushed, then
``compact``), skipping only the per-run experiment lookup of ``create_run``. MLflow's SQLite store
is built through its own client at the sizes that fit in a few minutes on a small machine; rows
say which size each figure is for and when one was scaled.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import MLFLOW_MISSING, Row, best_of, emit, mlflow_version, mltui_command, quick, scratch

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
    rnd = random.Random(runs)
    for i in range(runs):
        run_id = uuid.uuid4().hex
        start = T0 + i * 1000
        w.record(
            "runs",
            {"run_id": run_id, "experiment_id": exp, "run_name": f"run-{i}", "status": "FINISHED",
             "start_time": start, "end_time": start + 60_000, "lifecycle_stage": "active",
             "user_id": "bench", "host": "bench", "pid": 1},
        )
        for key, value in (("lr", f"{rnd.choice([0.1, 0.01, 0.001])}"), ("batch", "64")):
            w.record("params", {"experiment_id": exp, "run_id": run_id, "key": key, "value": value})
        acc = rnd.random()
        w.buffer(run_id, exp).points.extend(
            [("accuracy", acc * (s + 1) / STEPS, s, start + s) for s in range(STEPS)]
            + [("loss", (1 - acc) / (s + 1), s, start + s) for s in range(STEPS)]
        )
        if i % 20_000 == 19_999:
            w.flush()
    w.flush()
    for run_id in list(w._buffers):
        w.release(run_id)
    compact(root)


def mltui_search(root: Path) -> tuple[float, float, float, int]:
    """Seconds to filter the first time (DuckDB), then as a script searching again does (the
    files listed afresh each time; runs held in memory up to ``run_index.MAX_RUNS``), and to sort."""
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


def mlflow_client(root: Path):
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    return mlflow, mlflow.MlflowClient(uri), uri


def build_mlflow(root: Path, runs: int) -> str:
    mlflow, client, _ = mlflow_client(root)
    from mlflow.entities import Metric, Param

    exp = client.create_experiment("scale")
    rnd = random.Random(runs)
    for i in range(runs):
        run_id = client.create_run(exp).info.run_id
        acc = rnd.random()
        metrics = [Metric("accuracy", acc * (s + 1) / STEPS, T0 + s, s) for s in range(STEPS)]
        metrics += [Metric("loss", (1 - acc) / (s + 1), T0 + s, s) for s in range(STEPS)]
        client.log_batch(
            run_id, metrics=metrics,
            params=[Param("lr", f"{rnd.choice([0.1, 0.01, 0.001])}"), Param("batch", "64")],
        )
    return exp


def mlflow_search(root: Path, exp: str) -> tuple[float, float, float]:
    """Seconds of MLflow's first search in the process, of its search again, and of its sort."""
    mlflow, client, _ = mlflow_client(root)
    start = time.perf_counter()
    mlflow.search_runs([exp], QUERY, max_results=50_000, output_format="list")
    first = time.perf_counter() - start
    filt = best_of(
        lambda: mlflow.search_runs([exp], QUERY, max_results=50_000, output_format="list"), 2
    )
    top = ["metrics.accuracy DESC"]
    sort = best_of(
        lambda: mlflow.search_runs([exp], order_by=top, max_results=100, output_format="list"), 2
    )
    return first, filt, sort


def mlflow_cold_query(root: Path, exp: str) -> float:
    _, _, uri = mlflow_client(root)
    code = (
        "import mlflow, logging; logging.disable(logging.WARNING); "
        f"mlflow.set_tracking_uri({uri!r}); "
        f"print(len(mlflow.search_runs([{exp!r}], {QUERY!r}, max_results=50000, output_format='list')))"
    )
    return best_of(lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True), 2)


def mlflow_history(root: Path, points: int) -> float:
    _, client, _ = mlflow_client(root)
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
    mf_sizes = [300] if small else [1_000]  # MLflow builds ~20 runs/s here: 10,000 would take minutes
    history_points = 100_000 if small else 1_000_000
    mf_history_points = 2_000 if small else 100_000  # MLflow writes ~12,000 points/s
    have_mlflow = mlflow_version() is not None
    missing = "" if have_mlflow else f"; {MLFLOW_MISSING}"
    rows: list[Row] = []
    mf: dict[int, tuple[float, float, float]] = {}
    mf_cold = None
    if have_mlflow:
        for n in mf_sizes:
            with scratch(f"mlflow-{n}") as root:
                exp = build_mlflow(root, n)
                mf[n] = mlflow_search(root, exp)
                if n == mf_sizes[0]:
                    mf_cold = mlflow_cold_query(root, exp)
    cold = None
    for n in sizes:
        with scratch(f"scale-{n}") as root:
            start = time.perf_counter()
            build_mltui(root / "store", n)
            built = time.perf_counter() - start
            first, filt, sort, hits = mltui_search(root / "store")
            files = len(list((root / "store").rglob("*.parquet")))
            if n == sizes[-1]:
                cold = cold_query(root / "store")
        other = mf.get(n)
        how = (
            f"{hits:,} Run objects; the first search of the files {first * 1000:.0f} ms"
            + (f" (MLflow's first {other[0] * 1000:.0f} ms)" if other else "")
            + f"; store built in {built:.0f} s, {files} Parquet files"
        )
        if have_mlflow and not other:
            how += f"; MLflow not measured at {n:,} runs (too slow to build here)"
        rows.append(Row(f"search_runs('{QUERY}'), {n:,} runs", "s", filt,
                        other[1] if other else None, how + missing))
        rows.append(Row(f"sort by accuracy (top 100), {n:,} runs", "s", sort,
                        other[2] if other else None, missing.lstrip("; ")))
    for n in mf_sizes:
        if n not in sizes and n in mf:
            rows.append(Row(f"search_runs('{QUERY}'), {n:,} runs", "s", None, mf[n][1], "MLflow only"))
            rows.append(Row(f"sort by accuracy (top 100), {n:,} runs", "s", None, mf[n][2], "MLflow only"))
    with scratch("history") as root:
        hist = mltui_history(root / "store", history_points)
    mf_hist = None
    if have_mlflow:
        with scratch("mlflow-history") as root:
            mf_hist = mlflow_history(root, mf_history_points) * history_points / mf_history_points
    rows.append(
        Row(
            f"metric history of {history_points:,} points", "s", hist, mf_hist,
            f"MLflow measured at {mf_history_points:,} points, scaled linearly "
            f"x{history_points // mf_history_points}{missing}",
        )
    )
    rows.append(
        Row(
            f"cold `mltui query` process, {sizes[-1]:,} runs", "s", cold, mf_cold,
            ("" if cold is not None else "mltui query not available in this build; ")
            + f"MLflow: fresh python running search_runs on {mf_sizes[0]:,} runs{missing}",
        )
    )
    return rows


if __name__ == "__main__":
    emit(measure())
