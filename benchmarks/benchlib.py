"""What every benchmark script shares: timing, the machine description, and one row format.

A benchmark script builds a list of ``Row`` (one figure, mltui's value next to MLflow's) and
either prints it as a table (run alone) or as JSON (``--json``, how ``run.py`` collects every
script into one table). MLflow is measured in the same process when it is importable (the venv
made by ``setup_mlflow.sh``); without it the MLflow column says so instead of guessing.

MLflow's figure is its best backend's: SQLite, and for what its file store (``mlruns/``) does
faster (logging, starting and ending runs, reading a history) the better of the two, measured in
the same run. The file store is in maintenance mode in MLflow 3; ``MLFLOW_ALLOW_FILE_STORE``
lets the benchmarks open it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # every script measures the source tree, whatever the venv holds


@dataclass
class Row:
    """One figure: what was measured, each tool's value (None: not measured), and how."""

    figure: str
    unit: str
    mltui: float | None
    mlflow: float | None = None
    note: str = ""
    lower_is_better: bool = True
    backend: str = "SQLite"  # the MLflow backend whose figure is shown

    @property
    def ratio(self) -> float | None:
        """How many times better mltui is (above 1: mltui wins)."""
        if not self.mltui or not self.mlflow:
            return None
        return self.mlflow / self.mltui if self.lower_is_better else self.mltui / self.mlflow


FILE_STORE, SQLITE = "file store", "SQLite"
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses its file store without it


def mlflow_uri(root: Path, backend: str) -> str:
    """MLflow's tracking URI for a backend in a scratch folder."""
    if backend == FILE_STORE:
        return (root / "mlruns").as_uri()
    return f"sqlite:///{root / 'mlflow.db'}"


def best_row(
    figure: str, unit: str, mltui: float | None, mlflow: dict[str, float | None], note: str, lower_is_better: bool = True
) -> Row:
    """A row against MLflow's best backend among those measured (``mlflow``: figure by backend);
    the note ends with the other backends' figures."""
    known = {b: v for b, v in mlflow.items() if v is not None}
    if not known:
        return Row(figure, unit, mltui, None, note, lower_is_better)
    backend = (min if lower_is_better else max)(known, key=known.__getitem__)
    rest = [f"{b} {fmt(v, unit)}" for b, v in known.items() if b != backend]
    others = f" (MLflow's {', '.join(rest)})" if rest else ""
    return Row(figure, unit, mltui, known[backend], note + others, lower_is_better, backend)


def mlflow_version() -> str | None:
    try:
        import mlflow
    except ImportError:
        return None
    return mlflow.__version__


MLFLOW_MISSING = "MLflow is missing (run benchmarks/setup_mlflow.sh, then use its venv's python)"


def timed(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of a few calls: the figure least disturbed by the neighbours on a shared box."""
    return min(timed(fn) for _ in range(repeat))


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"mltui-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def machine() -> str:
    """One line naming the machine, for the record next to the figures."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    versions = f"Python {platform.python_version()}"
    mf = mlflow_version()
    versions += f", MLflow {mf}" if mf else ", MLflow not installed"
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}; {versions}"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("s", "ms", "us") or value < 100:
        return f"{value:,.3g}" if value < 1000 else f"{value:,.0f}"
    return f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    """A plain-text table (it goes into logs and the README as is)."""
    head = ["figure", "unit", "mltui", "MLflow (best backend)", "mltui better by", "how"]
    body = [
        [
            r.figure,
            r.unit,
            fmt(r.mltui, r.unit),
            f"{fmt(r.mlflow, r.unit)} ({r.backend})" if r.mlflow is not None else "-",
            f"{r.ratio:,.0f}x" if r.ratio and r.ratio >= 10 else (f"{r.ratio:.2g}x" if r.ratio else "-"),
            r.note,
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


def emit(rows: list[Row]) -> None:
    """Print the rows: JSON with ``--json`` (for run.py), else a table with the machine."""
    if "--json" in sys.argv[1:]:
        print(json.dumps([asdict(r) for r in rows]))
        return
    print(f"machine: {machine()}")
    if mlflow_version() is None:
        print(MLFLOW_MISSING)
    print(table(rows))


def quick() -> bool:
    """``--quick``: smaller sizes, for a smoke run."""
    return "--quick" in sys.argv[1:]


def mltui_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the ``mltui`` CLI of this interpreter as a fresh process (cold start included).

    Python may cache compiled modules, as on any user's machine (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which would charge every run for compiling mltui's sources).
    """
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=ROOT,
        check=False,
    )
