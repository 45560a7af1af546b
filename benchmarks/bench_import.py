"""Import rate of an MLflow SQLite store: 1,000 runs, 1,000,000 metric points (issue 6).

The source is a real MLflow database: MLflow creates its schema, the experiment and the 1,000
runs through its own client; the points (10 metrics x 100 steps a run) and params are then
inserted with sqlite3 in MLflow's own table layout (``metrics`` and ``latest_metrics``), because
logging a million points through MLflow's ``log_batch`` alone takes over a minute here and
measures MLflow, not the import. Then ``mltui import mlflow`` is timed end to end, run twice
(the second run shows the cost of an import that finds nothing new).

Run: ``benchmarks/.venv-mlflow/bin/python benchmarks/bench_import.py [--quick] [--json]``.
"""

from __future__ import annotations

import logging
import math
import random
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import MLFLOW_MISSING, Row, emit, mlflow_version, quick, scratch, timed

KEYS = [f"metric_{i}" for i in range(10)]
T0 = 1_763_000_000_000


def build_source(db: Path, runs: int, steps: int) -> int:
    """An MLflow SQLite store with ``runs`` runs of len(KEYS) x ``steps`` points; returns points."""
    import mlflow
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    uri = f"sqlite:///{db}"
    client = MlflowClient(uri)
    exp = client.create_experiment("import-bench")
    run_ids = []
    for i in range(runs):
        run = client.create_run(exp, run_name=f"run-{i}")
        run_ids.append(run.info.run_id)
    del mlflow
    rng = random.Random(0)
    con = sqlite3.connect(db)
    total = 0
    for run_id in run_ids:
        rows = []
        for key in KEYS:
            scale = rng.uniform(0.5, 2)
            for s in range(steps):
                rows.append((key, scale * math.exp(-s / 30) + rng.gauss(0, 0.01), T0 + s * 10, run_id, s, 0))
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        last = {r[0]: r for r in rows}
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)",
            [(k, r[1], r[2], r[4], 0, run_id) for k, r in last.items()],
        )
        con.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            [("lr", str(rng.choice([0.1, 0.01, 0.001])), run_id), ("batch_size", "128", run_id)],
        )
        con.execute("UPDATE runs SET status = 'FINISHED', end_time = start_time + 60000 WHERE run_uuid = ?", (run_id,))
        total += len(rows)
    con.commit()
    con.close()
    return total


def main() -> None:
    runs, steps = (100, 100) if quick() else (1000, 100)
    if mlflow_version() is None:
        print(MLFLOW_MISSING)
        emit([Row("import an MLflow SQLite store", "s", None, note="needs MLflow to write the source")])
        return
    from store.importers import import_mlflow

    with scratch("import") as tmp:
        db = tmp / "mlflow.db"
        points = build_source(db, runs, steps)
        target = tmp / "store"
        first = timed(lambda: import_mlflow(db, target))
        again = timed(lambda: import_mlflow(db, target))
        size = f"{runs:,} runs, {points:,} points"
        emit(
            [
                Row(f"import ({size})", "s", first, note="target: under 20 s; no MLflow equivalent"),
                Row("import rate", "points/s", points / first, lower_is_better=False),
                Row("re-import, nothing new", "s", again, note="idempotent: compares summaries, adds nothing"),
            ]
        )


if __name__ == "__main__":
    main()
