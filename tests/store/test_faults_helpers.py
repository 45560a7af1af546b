"""What the fault, compaction and doctor tests share: worker processes and the invariants.

Workers are started from a fork server that has already imported the store, so a trial costs
milliseconds rather than an interpreter start, and no child inherits a parent's threads or
DuckDB connections. A child leaves with ``os._exit`` (no atexit flush): what it logged is on
disk only because the writer put it there.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from pathlib import Path

from store.reader import Snapshot

CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload([
    "store", "store.compaction", "store.doctor", "duckdb", "pyarrow.parquet", "pandas"
])

KEY = "x"


def log_forever(root: str, experiment_id: str, started=None, flush_interval: float = 0.05) -> None:  # noqa: ANN001
    """A training loop that logs ``x = step`` at every step until it is killed; sets
    ``started`` once its run is on disk."""
    os.environ["MLTUI_FLUSH_INTERVAL"] = str(flush_interval)
    import store as mlflow

    mlflow.set_tracking_uri(root)
    run = mlflow.start_run(experiment_id=experiment_id)
    mlflow.log_param("lr", "0.01")
    mlflow.Client(root).flush()
    if started is not None:
        started.set()
    del run
    for step in itertools.count():
        mlflow.log_metric(KEY, float(step), step=step)
        if step % 500 == 499:
            time.sleep(0.002)


def log_points(root: str, experiment_id: str, points: int, burst: int = 0, pause: float = 0.0) -> None:
    """Log ``x = step`` for ``points`` steps (pausing after every ``burst``), then end the run."""
    os.environ["MLTUI_FLUSH_INTERVAL"] = "0.05"
    import store as mlflow

    mlflow.set_tracking_uri(root)
    with mlflow.start_run(experiment_id=experiment_id):
        for step in range(points):
            mlflow.log_metric(KEY, float(step), step=step)
            if burst and step % burst == burst - 1:
                time.sleep(pause)


def compact_forever(root: str) -> None:
    """A compactor run over and over (to be killed at a random moment)."""
    from store.compaction import compact

    while True:
        compact(Path(root))


def start(target, *args) -> multiprocessing.process.BaseProcess:  # noqa: ANN001
    proc = CTX.Process(target=target, args=args, daemon=True)
    proc.start()
    return proc


def start_logging(root: Path, experiment_id: str, flush_interval: float = 0.05):  # noqa: ANN201
    """A ``log_forever`` process, returned once its run is on disk (or it died trying)."""
    started = CTX.Event()
    proc = start(log_forever, str(root), experiment_id, started, flush_interval)
    while not started.wait(0.05):
        assert proc.is_alive(), f"logging process died with status {proc.exitcode}"
    return proc


def crashed_run(root: Path, experiment_id: str, lasted_ms: int) -> str:
    """The id of a run whose process was killed, last seen ``lasted_ms`` after its start."""
    from store import Client, liveness

    proc = start_logging(root, experiment_id)
    proc.kill()
    proc.join()
    (run,) = Client(root).search_runs([experiment_id])
    seen = (run.info.start_time + lasted_ms) * 1_000_000
    os.utime(liveness.live_file(root, run.info.run_id), ns=(seen, seen))
    return run.info.run_id


def histories(root: Path) -> dict[str, tuple[int, int, int, int, bool]]:
    """Per run: (points, distinct steps, lowest step, highest step, every value == its step)."""
    with Snapshot(root) as snap:
        rows = snap.rows(
            "SELECT run_id, count(*) AS n, count(DISTINCT step) AS d, min(step) AS lo, "
            "max(step) AS hi, bool_and(value = step) AS exact FROM metrics WHERE key = ? "
            "GROUP BY run_id",
            [KEY],
        )
    return {r["run_id"]: (r["n"], r["d"], r["lo"], r["hi"], r["exact"]) for r in rows}


def assert_exact(root: Path) -> dict[str, int]:
    """Every run's history is steps 0..n-1, each once, with its own value; returns n per run."""
    counts = {}
    for run_id, (n, d, lo, hi, exact) in histories(root).items():
        assert (n, d, lo, hi, exact) == (n, n, 0, n - 1, True), run_id
        counts[run_id] = n
    return counts


def summary_counts(root: Path) -> dict[str, int]:
    with Snapshot(root) as snap:
        rows = snap.rows("SELECT run_id, count FROM metric_summaries WHERE key = ?", [KEY])
    return {r["run_id"]: r["count"] for r in rows}


def small_files(root: Path, runs: int = 4, flushes: int = 6, points: int = 50) -> dict[str, int]:
    """Runs written by this process in many small flushes (its own merging held off);
    returns the points per run."""
    from store import Client, writer
    from store.entities import Metric

    client = Client(root)
    exp = client.create_experiment(f"small-{os.urandom(3).hex()}")
    saved, writer.OWN_SEGMENTS_BEFORE_MERGE = writer.OWN_SEGMENTS_BEFORE_MERGE, 10**9
    try:
        run_ids = [client.create_run(exp).info.run_id for _ in range(runs)]
        for f in range(flushes):
            for run_id in run_ids:
                steps = range(f * points, (f + 1) * points)
                client.log_batch(run_id, [Metric(KEY, float(s), 0, s) for s in steps])
                client.set_tag(run_id, "flush", str(f))
            client.flush()
    finally:
        writer.OWN_SEGMENTS_BEFORE_MERGE = saved
    return {run_id: flushes * points for run_id in run_ids}


def damage(path: Path, how: str) -> None:
    """Break a Parquet file the ways disks and killed copies do."""
    data = path.read_bytes()
    if how == "zero-byte":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # garbage over the middle, footer intact
        mid = len(data) // 2
        path.write_bytes(data[:4] + b"\xff" * (mid - 4) + data[mid:])
