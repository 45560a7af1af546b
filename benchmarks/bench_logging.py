"""The cost of logging: one ``log_metric`` call, ``log_batch`` throughput, bytes on disk per point.

mltui and the real MLflow (its SQLite backend and its file store, the better of the two shown)
are measured in the same process on the same synthetic curves. MLflow costs milliseconds a call, so it gets fewer calls (the row
says how many); per-call and per-point figures need no scaling, they are averages over what ran.

Run: ``benchmarks/.venv-mlflow/bin/python benchmarks/bench_logging.py [--quick] [--json]``.
"""

from __future__ import annotations

import logging
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    FILE_STORE,
    MLFLOW_MISSING,
    SQLITE,
    Row,
    best_row,
    emit,
    folder_bytes,
    mlflow_uri,
    mlflow_version,
    quick,
    scratch,
)

KEYS = ("train/loss", "val/loss", "accuracy", "lr", "grad_norm")
T0 = 1_763_000_000_000


def curve(key: str, steps: int, seed: int) -> list[float]:
    """A training-like curve: a decay plus noise, so values have full-entropy mantissas."""
    rnd = random.Random(hash((key, seed)))
    scale = rnd.uniform(0.5, 2.0)
    return [scale * math.exp(-s / (steps / 4 + 1)) + rnd.gauss(0, 0.01) for s in range(steps)]


def points(runs: int, steps: int) -> list[list[tuple[str, float, int, int]]]:
    """Per run: (key, value, step, timestamp) points, interleaved by step as a training loop logs."""
    out = []
    for r in range(runs):
        curves = {k: curve(k, steps, r) for k in KEYS}
        out.append(
            [(k, curves[k][s], s, T0 + s * 37) for s in range(steps) for k in KEYS]
        )
    return out


# ------------------------------------------------------------------------- mltui


def mltui_log_metric(root: Path, calls: int) -> float:
    """Seconds per fluent ``log_metric`` call inside a run (background flushes included)."""
    import store as mlflow

    mlflow.set_tracking_uri(root)
    mlflow.set_experiment("log_metric")
    values = curve("loss", calls, 0)
    with mlflow.start_run():
        log_metric = mlflow.log_metric
        start = time.perf_counter()
        for step, value in enumerate(values):
            log_metric("loss", value, step=step)
        elapsed = time.perf_counter() - start
    return elapsed / calls


def mltui_log_batch(root: Path, data: list[list[tuple[str, float, int, int]]], batch: int) -> float:
    """Points per second through ``Client.log_batch``, until ``flush`` has written them to disk."""
    from store import Client
    from store.entities import Metric

    client = Client(root)
    exp = client.create_experiment("log_batch")
    run_ids = [client.create_run(exp).info.run_id for _ in data]
    client.flush()
    prebuilt = [[Metric(k, v, t, s) for k, v, s, t in run_points] for run_points in data]
    total = sum(len(p) for p in prebuilt)
    start = time.perf_counter()
    for run_id, metrics in zip(run_ids, prebuilt):
        for i in range(0, len(metrics), batch):
            client.log_batch(run_id, metrics[i : i + batch])
    client.flush()
    elapsed = time.perf_counter() - start
    for run_id in run_ids:
        client.set_terminated(run_id)
    return total / elapsed


def mltui_bytes_per_point(root: Path, total_points: int) -> tuple[float, int]:
    """Bytes of the whole store folder per point after ``compact``, and its Parquet file count."""
    from store.compaction import compact

    compact(root)
    files = len(list(root.rglob("*.parquet")))
    return folder_bytes(root) / total_points, files


# ------------------------------------------------------------------------- MLflow


def mlflow_setup(root: Path, backend: str = SQLITE):
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(mlflow_uri(root, backend))
    return mlflow


def mlflow_log_metric(root: Path, calls: int, backend: str = SQLITE) -> float:
    mlflow = mlflow_setup(root, backend)
    mlflow.set_experiment("log_metric")
    values = curve("loss", calls, 0)
    with mlflow.start_run():
        log_metric = mlflow.log_metric
        start = time.perf_counter()
        for step, value in enumerate(values):
            log_metric("loss", value, step=step)
        elapsed = time.perf_counter() - start
    return elapsed / calls


def texts_per_call(mlflow, calls: int) -> tuple[float, float]:  # noqa: ANN001 (either tool's module)
    """Seconds per fluent ``log_param`` call, then per ``set_tag`` call, each in a run of its own
    (a new key each call: a param cannot change), timed from the run's start to its end: mltui
    writes them when the run ends, MLflow at each call."""
    mlflow.set_experiment("texts")
    per_call = []
    for log in (mlflow.log_param, mlflow.set_tag):
        start = time.perf_counter()
        with mlflow.start_run():
            for i in range(calls):
                log(f"k{i}", i)
        per_call.append((time.perf_counter() - start) / calls)
    return per_call[0], per_call[1]


def mltui_texts(root: Path, calls: int) -> tuple[float, float]:
    import store as mlflow

    mlflow.set_tracking_uri(root)
    return texts_per_call(mlflow, calls)


def mlflow_log_batch(
    root: Path, data: list[list[tuple[str, float, int, int]]], batch: int, backend: str = SQLITE
) -> tuple[float, float]:
    """Points per second through ``MlflowClient.log_batch``, and bytes the store grew per point."""
    mlflow = mlflow_setup(root, backend)
    from mlflow.entities import Metric

    client = mlflow.MlflowClient()
    exp = client.create_experiment("log_batch")
    run_ids = [client.create_run(exp).info.run_id for _ in data]
    size_before = folder_bytes(root)
    prebuilt = [[Metric(k, v, t, s) for k, v, s, t in run_points] for run_points in data]
    total = sum(len(p) for p in prebuilt)
    start = time.perf_counter()
    for run_id, metrics in zip(run_ids, prebuilt):
        for i in range(0, len(metrics), batch):
            client.log_batch(run_id, metrics=metrics[i : i + batch])
    elapsed = time.perf_counter() - start
    for run_id in run_ids:
        client.set_terminated(run_id)
    return total / elapsed, (folder_bytes(root) - size_before) / total


# ------------------------------------------------------------------------- the table


def measure() -> list[Row]:
    small = quick()
    calls = 100_000 if small else 1_000_000
    runs, steps = (2, 10_000) if small else (4, 50_000)
    mf_calls = 50 if small else 300
    text_calls = 2_000 if small else 10_000
    mf_runs, mf_steps = (1, 400) if small else (2, 2_000)
    batch = 1_000  # MLflow's limit of metrics per log_batch call; used for both
    rows: list[Row] = []

    with scratch("log-metric") as root:
        per_call = mltui_log_metric(root / "store", calls)
    with scratch("texts") as root:
        texts = mltui_texts(root / "store", text_calls)
    data = points(runs, steps)
    total = runs * steps * len(KEYS)
    with scratch("log-batch") as root:
        rate = mltui_log_batch(root / "store", data, batch)
        per_point, files = mltui_bytes_per_point(root / "store", total)
    del data

    mf_call: dict[str, float | None] = {}
    mf_texts: dict[str, tuple[float, float]] = {}
    mf_rate: dict[str, float | None] = {}
    mf_bytes: dict[str, float | None] = {}
    mf_total = mf_runs * mf_steps * len(KEYS)
    if mlflow_version():
        for backend in (SQLITE, FILE_STORE):
            with scratch("mlflow-log-metric") as root:
                mf_call[backend] = mlflow_log_metric(root, mf_calls, backend) * 1e6
            with scratch("mlflow-texts") as root:
                mf_texts[backend] = texts_per_call(mlflow_setup(root, backend), mf_calls)
            with scratch("mlflow-log-batch") as root:
                mf_rate[backend], mf_bytes[backend] = mlflow_log_batch(
                    root, points(mf_runs, mf_steps), batch, backend
                )
    missing = "" if mlflow_version() else f"; {MLFLOW_MISSING}"
    rows.append(
        best_row(
            "log_metric, one call (fluent, in a run)",
            "us",
            per_call * 1e6,
            mf_call,
            f"mltui {calls:,} calls incl. background flushes; MLflow {mf_calls:,} calls{missing}",
        )
    )
    for i, call in enumerate(("log_param", "set_tag")):
        rows.append(
            best_row(
                f"{call}, one call (fluent, in a run)",
                "us",
                texts[i] * 1e6,
                {backend: figures[i] * 1e6 for backend, figures in mf_texts.items()},
                f"a run of {text_calls:,} calls, its start and end included (mltui writes them when the "
                f"run ends, MLflow at each call); MLflow {mf_calls:,} calls{missing}",
            )
        )
    rows.append(
        best_row(
            "log_batch throughput (to disk)",
            "points/s",
            rate,
            mf_rate,
            f"batches of {batch:,}; mltui {total:,} points until flush() returned; "
            f"MLflow {mf_total:,} points{missing}",
            lower_is_better=False,
        )
    )
    rows.append(
        best_row(
            "bytes on disk per metric point",
            "bytes",
            per_point,
            mf_bytes,
            f"mltui: whole store after compact ({files} Parquet files, {total:,} points); "
            f"MLflow: growth of its store over {mf_total:,} points{missing}",
        )
    )
    return rows


if __name__ == "__main__":
    emit(measure())
