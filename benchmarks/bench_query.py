"""Query speed side by side with MLflow (issue 3): 10,000 runs, 10 metrics x 100 steps each.

The data set is made once as a real MLflow SQLite store (MLflow creates the schema, experiment
and runs through its own client; points, latest values, params and tags are inserted with sqlite3
in MLflow's own tables, as in bench_import.py, because logging 10 million points through MLflow
takes far longer than the searches measured here), then imported with ``mltui import mlflow``,
so both tools answer the same question on the same data:

- ``mltui query "accuracy > 0.9"`` as a fresh process (cold start included) against
  ``mlflow.search_runs(filter_string="metrics.accuracy > 0.9")`` as a fresh process;
- the search alone, in a warm process (``store.search.runs_table`` / ``search_run_ids`` against
  ``mlflow.search_runs``), on a new snapshot each time as a script does, and on one materialized
  snapshot as the dashboard's filter box does;
- every run sorted by accuracy.

Run: ``benchmarks/.venv-mlflow/bin/python benchmarks/bench_query.py [--quick] [--json]
[--keep DIR]`` (``--keep`` reuses the data set in DIR between runs). Without MLflow (plain
``python``), the same data is written as an MLflow file store (``mlruns/``) and imported from
there; only mltui's figures are printed, and the script says MLflow is missing.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import Row, best_of, emit, mlflow_version, mltui_command, quick, scratch

KEYS = ["accuracy", "loss"] + [f"metric_{i}" for i in range(8)]
T0 = 1_763_000_000_000
QUERY = "accuracy > 0.9"
BROAD_QUERY = "accuracy > 0.5"  # about half the runs: the wide table's worst case on a filter
MLFLOW_FILTER = "metrics.accuracy > 0.9"


def synthetic(runs: int, steps: int) -> Iterator[tuple[list[tuple[str, int, float]], dict[str, str], dict[str, str]]]:
    """Each run's points ``(key, step, value)``, params and tags; the same for every seed-0 run."""
    rng = random.Random(0)
    for _ in range(runs):
        skill = rng.random()
        points = []
        for key in KEYS:
            for s in range(steps):
                value = skill * (s + 1) / steps if key == "accuracy" else math.exp(-s / 30) * rng.uniform(0.5, 2)
                points.append((key, s, value))
        params = {
            "lr": str(rng.choice([0.1, 0.01, 0.001])),
            "batch_size": str(rng.choice([32, 64, 128])),
            "optimizer": rng.choice(["adam", "sgd"]),
        }
        yield points, params, {"team": rng.choice("abc")}


def build_sqlite(db: Path, runs: int, steps: int) -> None:
    """A real MLflow SQLite store: MLflow makes the schema and runs, sqlite3 adds the data."""
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("query-bench")
    run_ids = [client.create_run(exp, run_name=f"run-{i}").info.run_id for i in range(runs)]
    con = sqlite3.connect(db)
    for run_id, (points, params, tags) in zip(run_ids, synthetic(runs, steps)):
        rows = [(key, value, T0 + s * 10, run_id, s, 0) for key, s, value in points]
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        last = {r[0]: r for r in rows}
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)",
            [(k, r[1], r[2], r[4], 0, run_id) for k, r in last.items()],
        )
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", [(k, v, run_id) for k, v in params.items()])
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", [(k, v, run_id) for k, v in tags.items()])
        con.execute("UPDATE runs SET status = 'FINISHED', end_time = start_time + 60000 WHERE run_uuid = ?", (run_id,))
    con.commit()
    con.close()


def build_mlruns(folder: Path, runs: int, steps: int) -> None:
    """The same data as an MLflow file store (``mlruns/``), written without MLflow installed."""
    exp = folder / "1"
    exp.mkdir(parents=True)
    (exp / "meta.yaml").write_text(f"experiment_id: '1'\nname: query-bench\nlifecycle_stage: active\ncreation_time: {T0}\n")
    for i, (points, params, tags) in enumerate(synthetic(runs, steps)):
        run = exp / f"{i:032x}"
        for sub in ("metrics", "params", "tags"):
            (run / sub).mkdir(parents=True)
        start = T0 + i * 1000
        (run / "meta.yaml").write_text(
            f"run_id: {run.name}\nexperiment_id: '1'\nrun_name: run-{i}\nstatus: 3\nstart_time: {start}\n"
            f"end_time: {start + 60000}\nlifecycle_stage: active\nuser_id: bench\n"
        )
        lines: dict[str, list[str]] = {}
        for key, s, value in points:
            lines.setdefault(key, []).append(f"{T0 + s * 10} {value!r} {s}\n")
        for key, text in lines.items():
            (run / "metrics" / key).write_text("".join(text))
        for sub, values in (("params", params), ("tags", tags)):
            for key, value in values.items():
                (run / sub / key).write_text(value)


def prepare(folder: Path, runs: int, steps: int, with_mlflow: bool) -> tuple[Path | None, Path]:
    """The MLflow database (None without MLflow) and the mltui store made from the same data."""
    db, target = folder / "mlflow.db", folder / "mlstore"
    if not (folder / "ready").exists():
        folder.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        for stale in (target, folder / "mlruns"):
            shutil.rmtree(stale, ignore_errors=True)
        started = time.perf_counter()
        source = db if with_mlflow else folder / "mlruns"
        (build_sqlite if with_mlflow else build_mlruns)(source, runs, steps)
        print(f"wrote {source.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        from store.compaction import compact
        from store.importers import import_mlflow

        started = time.perf_counter()
        import_mlflow(source, target)
        compact(target)
        print(f"imported it into mltui in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        (folder / "ready").write_text(f"{runs} {steps} {'sqlite' if with_mlflow else 'mlruns'}\n")
    return (db if db.exists() else None), target


_MLFLOW_CLI = """
import sys, mlflow
mlflow.set_tracking_uri("sqlite:///" + sys.argv[1])
mlflow.search_runs(search_all_experiments=True, filter_string=sys.argv[2]).to_csv(sys.stdout)
"""


def mlflow_fresh(db: Path) -> None:
    """``search_runs`` to CSV as a fresh process, as a user's script would run it."""
    subprocess.run([sys.executable, "-c", _MLFLOW_CLI, str(db), MLFLOW_FILTER], capture_output=True, check=True)


def measure(db: Path | None, target: Path) -> list[Row]:
    import store
    from store.search import runs_table, search_run_ids

    client = store.Client(target)
    with client.snapshot() as snap:
        matched = len(search_run_ids(snap, QUERY))
        total = len(search_run_ids(snap, ""))
    rows: list[Row] = []

    def cli() -> None:
        result = mltui_command("--store", str(target), "query", QUERY, "--format", "csv")
        if result.returncode != 0:
            raise RuntimeError(result.stderr)

    def ours_table() -> None:
        with client.snapshot() as snap:
            runs_table(snap, QUERY)

    def ours_ids() -> None:
        with client.snapshot() as snap:
            search_run_ids(snap, QUERY)

    def ours_sorted() -> None:
        with client.snapshot() as snap:
            runs_table(snap, "", order_by=["metrics.accuracy DESC"])

    with client.snapshot() as snap:
        search_only = best_of(lambda: search_run_ids(snap, QUERY), 5)
    with client.snapshot(materialize=True) as snap:
        runs_table(snap, "")  # the dashboard's first screen, which materializes the snapshot
        wide = {query: best_of(lambda q=query: runs_table(snap, q), 5) for query in (QUERY, BROAD_QUERY)}
        broad = len(search_run_ids(snap, BROAD_QUERY))
    theirs: dict[str, float | None] = {"cli": None, "search": None, "sorted": None}
    if db is not None:
        import mlflow

        logging.getLogger("mlflow").setLevel(logging.ERROR)
        mlflow.set_tracking_uri(f"sqlite:///{db}")
        found = len(mlflow.search_runs(search_all_experiments=True, filter_string=MLFLOW_FILTER))
        if found != matched:
            raise RuntimeError(f"MLflow found {found} runs, mltui {matched}: not the same question")
        theirs["search"] = best_of(
            lambda: mlflow.search_runs(search_all_experiments=True, filter_string=MLFLOW_FILTER), 3
        )
        theirs["sorted"] = best_of(
            lambda: mlflow.search_runs(search_all_experiments=True, order_by=["metrics.accuracy DESC"]), 1
        )
        theirs["cli"] = best_of(lambda: mlflow_fresh(db), 2)
    rows.append(Row(f"whole command, fresh process ({matched:,} of {total:,} runs match)", "s",
                    best_of(cli, 3), theirs["cli"], "mltui query ... --format csv vs python -c search_runs(...).to_csv()"))
    rows.append(Row("search, warm process (ids)", "ms", search_only * 1000, None,
                    "filter on the latest accuracy inside one snapshot; target < 50 ms"))
    rows.append(Row("search + wide table, warm process", "ms", best_of(ours_table, 5) * 1000,
                    theirs["search"] and theirs["search"] * 1000,
                    "runs_table (new snapshot) vs mlflow.search_runs DataFrame"))
    rows.append(Row("search, ids only, new snapshot", "ms", best_of(ours_ids, 5) * 1000, None, ""))
    rows.append(Row("filter, one snapshot (the dashboard's)", "ms", wide[QUERY] * 1000, None,
                    f"runs_table on a materialized snapshot, {matched:,} rows; target < 100 ms"))
    rows.append(Row(f"filter matching {broad:,} runs, one snapshot", "ms", wide[BROAD_QUERY] * 1000, None,
                    f"runs_table {BROAD_QUERY!r} on a materialized snapshot"))
    rows.append(Row(f"sort all {total:,} runs by accuracy", "ms", best_of(ours_sorted, 3) * 1000,
                    theirs["sorted"] and theirs["sorted"] * 1000, "wide table / DataFrame, order_by metrics.accuracy DESC"))
    return rows


def main() -> None:
    runs, steps = (1000, 100) if quick() else (10_000, 100)
    with_mlflow = mlflow_version() is not None
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    if keep:
        emit(measure(*prepare(Path(keep), runs, steps, with_mlflow)))
        return
    with scratch("query") as tmp:
        emit(measure(*prepare(tmp, runs, steps, with_mlflow)))


if __name__ == "__main__":
    main()
