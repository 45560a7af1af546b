"""`mltui compact` and `mltui doctor` as a user runs them: output, exit status, effect."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from cli import cli
from store import compaction

sys.path.insert(0, str(Path(__file__).resolve().parent / "store"))
from test_faults_helpers import assert_exact, damage, small_files  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def invoke(store_path: Path, *args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, ["--store", str(store_path), *args])


def run_mltui(store_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``mltui --store STORE ARGS`` as a process: what a terminal or a pipe shows."""
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "--store", str(store_path), *args],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_compact_prints_files_before_and_after(store_path: Path) -> None:
    """`mltui compact` merges the small files and says how many there were and are."""
    expected = small_files(store_path, runs=2, flushes=5)
    before = len(list(store_path.rglob("*.parquet")))
    result = invoke(store_path, "compact")
    assert result.exit_code == 0, result.output
    after = len(list(store_path.rglob("*.parquet")))
    assert after < before
    assert result.output.startswith(f"files: {before} -> {after}; bytes: ")
    assert assert_exact(store_path) == expected


def test_compact_in_a_pipe_prints_no_progress_bar(store_path: Path) -> None:
    """In a pipe (a cron job, a log file) compact prints its one summary line and nothing else."""
    small_files(store_path, flushes=3)
    done = run_mltui(store_path, "compact")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("files: ")
    assert done.stderr == ""


def test_compact_without_a_store_fails_clearly(tmp_path: Path) -> None:
    """Compacting a folder that is not a store exits 1 with one line naming it."""
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "nothing"), "compact"], standalone_mode=False)
    assert "no mltui store at" in str(result.exception)
    done = run_mltui(tmp_path / "nothing", "compact")
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: no mltui store at {tmp_path / 'nothing'}: pass --store PATH or set MLTUI_STORE"


def test_doctor_healthy_store_exits_zero(store_path: Path) -> None:
    """On a healthy store doctor says so and exits 0."""
    small_files(store_path, flushes=1)
    result = invoke(store_path, "doctor")
    assert result.exit_code == 0
    assert result.output == f"store {store_path}: healthy\n"


def test_doctor_reports_then_fixes(store_path: Path) -> None:
    """doctor lists each problem and exits 1; doctor --fix repairs and exits 0."""
    small_files(store_path, flushes=3)
    victim = sorted((store_path / "tags").rglob("*.parquet"))[0]
    damage(victim, "truncated")
    stale = store_path / "runs" / ".dead.parquet.tmp"
    stale.write_bytes(b"x")
    old = time.time() - 120
    os.utime(stale, (old, old))
    result = invoke(store_path, "doctor")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    rel = victim.relative_to(store_path)
    assert lines[0].startswith(f"damaged: {rel}: unreadable Parquet file")
    assert lines[0].endswith("[--fix repairs this]")
    assert lines[1].startswith("temp: runs/.dead.parquet.tmp: ")
    fixed = invoke(store_path, "doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert f"[fixed: moved to {compaction.QUARANTINE}/{rel}.damaged]" in fixed.output
    assert fixed.output.endswith(f"store {store_path}: healthy (2 repaired)\n")
    assert invoke(store_path, "doctor").exit_code == 0


def test_a_damaged_file_is_one_warning_line(store_path: Path) -> None:
    """A query over a damaged file answers from the rest and says which file it skipped, in one
    line, without Python's source location."""
    small_files(store_path, runs=2, flushes=2)
    victim = sorted((store_path / "tags").rglob("*.parquet"))[0]
    damage(victim, "zero-byte")
    done = run_mltui(store_path, "query", "", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 3  # the header and both runs
    assert done.stderr == f"mltui: skipping damaged file {victim}: Parquet file size is 0 bytes\n"


def test_doctor_names_a_model_version_that_cannot_be_loaded(store_path: Path, tmp_path: Path) -> None:
    """A registered model whose folder was deleted: one line naming the version, exit 1;
    --fix leaves the registry's history as it is."""
    from store import Client

    (tmp_path / "exported").mkdir()
    Client(store_path).register_model_version(str(tmp_path / "exported"), "iris")
    (tmp_path / "exported").rmdir()
    for args in (["doctor"], ["doctor", "--fix"]):
        result = invoke(store_path, *args)
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            f"registry: model 'iris' version 1 cannot be loaded: model source does not exist: {tmp_path / 'exported'}",
            f"store {store_path}: 1 problem(s)",
        ]
