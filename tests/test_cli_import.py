"""`mltui import mlflow`: one summary line, clear errors with the right exit status."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mlflow"


def run(args: list[str]) -> tuple[int, str, str]:
    """Run the real entry point (with its error mapping) and return exit code, stdout, stderr."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_import_prints_a_summary_and_repeats_idempotently(tmp_path: Path) -> None:
    """The summary counts what came over; a second import says nothing new came."""
    db = tmp_path / "mlflow.db"
    shutil.copy(FIXTURES / "mlflow.db", db)
    target = tmp_path / "store"
    result = CliRunner().invoke(cli, ["--store", str(target), "import", "mlflow", str(db)])
    assert result.exit_code == 0, result.output
    assert "3 experiments, 9 new runs (0 updated), 141 metric points" in result.output
    assert "1 models, 3 model versions" in result.output
    again = CliRunner().invoke(cli, ["--store", str(target), "import", "mlflow", f"sqlite:///{db}"])
    assert "0 experiments, 0 new runs (0 updated), 0 metric points" in again.output
    import store

    names = {e.name for e in store.Client(target).search_experiments()}
    assert names == {"Default", "vision ✓ ünïcode"}


def test_import_errors_are_one_line_with_exit_status(tmp_path: Path) -> None:
    """A missing source exits 1, a file that is not MLflow's exits 2, each with one line."""
    code, out, err = run(["--store", str(tmp_path / "s"), "import", "mlflow", str(tmp_path / "nope.db")])
    assert (code, out) == (1, "")
    assert err.strip() == f"Error: no such file or folder: {tmp_path / 'nope.db'}"
    bad = tmp_path / "bad.db"
    bad.write_text("not a database at all" * 50)
    code, out, err = run(["--store", str(tmp_path / "s"), "import", "mlflow", str(bad)])
    assert code == 2
    assert err.startswith(f"Error: {bad} is not a readable SQLite database")
    assert len(err.strip().splitlines()) == 1
