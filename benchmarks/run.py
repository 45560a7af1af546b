"""Run every benchmark script present and print one table (mltui next to MLflow).

Each ``bench_*.py`` runs in its own process with ``--json`` (so one script's memory and threads
do not disturb the next) and prints a list of rows (see ``benchlib.Row``). A script that does not
speak JSON yet, or fails, gets its output shown under its name instead of being dropped.

Run: ``benchmarks/.venv-mlflow/bin/python benchmarks/run.py [--quick] [NAME ...]`` (make the
venv with ``benchmarks/setup_mlflow.sh``; with another python the MLflow column says MLflow is
missing). NAMEs (``logging``, ``scale``, ...) run only those scripts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import MLFLOW_MISSING, Row, machine, mlflow_version, table

HERE = Path(__file__).resolve().parent
ORDER = ["bench_logging", "bench_scale", "bench_query", "bench_tui"]


def scripts(names: list[str]) -> list[Path]:
    """The benchmark scripts present (or those named), in a stable order."""
    found = [p for p in HERE.glob("bench_*.py") if not names or p.stem.removeprefix("bench_") in names]
    return sorted(found, key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem))


def main() -> None:
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    names = [a.removeprefix("bench_").removesuffix(".py") for a in sys.argv[1:] if not a.startswith("-")]
    rows: list[Row] = []
    others: list[str] = []
    print(f"machine: {machine()}", flush=True)
    if mlflow_version() is None:
        print(MLFLOW_MISSING, flush=True)
    for script in scripts(names):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(script), "--json", *extra], capture_output=True, text=True, check=False
        )
        took = time.perf_counter() - start
        print(f"{script.name}: {took:.0f} s", file=sys.stderr, flush=True)
        try:
            rows += [Row(**r) for r in json.loads(done.stdout.strip().splitlines()[-1])]
        except (ValueError, IndexError, TypeError):
            tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
            others.append(f"--- {script.name} (exit {done.returncode}) ---\n" + "\n".join(tail))
    print(table(rows))
    for block in others:
        print(block)


if __name__ == "__main__":
    main()
