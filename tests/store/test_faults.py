"""Faults a training box meets: kill -9, a full disk, a read-only store, a vanished process."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_faults_helpers import (
    assert_exact,
    compact_forever,
    log_points,
    small_files,
    start,
    start_logging,
    summary_counts,
)

import store
from store import liveness, writer
from store.compaction import compact
from store.doctor import diagnose

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 50  # kill -9 at random moments, of a writer and of a compactor each


def test_kill_9_while_logging_keeps_flushed_histories_exact(store_path: Path) -> None:
    """kill -9 at any moment of a training loop leaves the store readable and every surviving
    history exact (steps 0..n-1, none twice), and the dead runs show CRASHED."""
    client = store.Client(store_path)
    exp = client.create_experiment("crashes")
    rnd = random.Random(7)
    for _ in range(TRIALS):
        proc = start_logging(store_path, exp)
        time.sleep(rnd.uniform(0.0, 0.2))
        proc.kill()
        proc.join()
        assert_exact(store_path)
    runs = client.search_runs([exp], max_results=None)
    assert len(runs) == TRIALS
    assert {r.info.status for r in runs} == {"CRASHED"}
    counts = assert_exact(store_path)
    assert sum(counts.values()) > 0
    diagnose(store_path, fix=True)  # summaries of a flush cut short are recomputed
    assert summary_counts(store_path) == counts


def test_kill_9_of_compaction_never_loses_or_doubles_rows(store_path: Path) -> None:
    """A compaction killed at any moment leaves every row visible exactly once, and the next
    compaction (or doctor --fix) finishes the job."""
    rnd = random.Random(11)
    expected: dict[str, int] = {}
    for _ in range(TRIALS):
        expected |= small_files(store_path, runs=2, flushes=6, points=20)
        proc = start(compact_forever, str(store_path))
        time.sleep(rnd.uniform(0.0, 0.15))
        proc.kill()
        proc.join()
        assert assert_exact(store_path) == expected
    files_before = len(list(store_path.rglob("*.parquet")))
    compact(store_path)
    assert assert_exact(store_path) == expected
    # A killed compactor may already have merged everything; then there is nothing left to do.
    assert len(list(store_path.rglob("*.parquet"))) <= files_before
    again = compact(store_path)
    assert again.files_after == again.files_before
    diagnose(store_path, fix=True)
    assert diagnose(store_path).healthy


def test_eight_processes_log_every_point_exactly_once(store_path: Path) -> None:
    """8 trainings logging 50,000 points each into one store at once: all 400,000 points are
    there, none twice."""
    client = store.Client(store_path)
    exp = client.create_experiment("parallel")
    procs = [start(log_points, str(store_path), exp, 50_000) for _ in range(8)]
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    counts = assert_exact(store_path)
    assert sorted(counts.values()) == [50_000] * 8
    assert summary_counts(store_path) == counts
    runs = client.search_runs([exp], max_results=None)
    assert {r.info.status for r in runs} == {"FINISHED"}


def test_failing_disk_keeps_points_and_never_interrupts_training(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """While the disk refuses writes, log_metric keeps working and nothing is lost: the points
    are written once the disk is back."""
    real_write = writer.stage_parquet

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with store.start_run() as run:
        store.log_metric(KEY := "loss", 0.0, step=0)
        store.Client(store_path).flush()
        monkeypatch.setattr(writer, "stage_parquet", disk_full)
        with caplog.at_level(logging.WARNING, logger="mltui.store"):
            for step in range(1, 5_000):
                store.log_metric(KEY, float(step), step=step)
            store.log_param("lr", "0.1")
            assert writer.writer_for(store_path).flush() is False
        assert "will retry" in caplog.text
        monkeypatch.setattr(writer, "stage_parquet", real_write)
    history = store.Client(store_path).get_metric_history(run.info.run_id, KEY)
    assert [m.step for m in history] == list(range(5_000))
    assert [m.value for m in history] == [float(s) for s in range(5_000)]
    got = store.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.1"}
    assert got.info.status == "FINISHED"


def test_flush_failing_half_way_loses_and_doubles_nothing(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush whose files are moved into place one after another fails after the first (a
    disk error on rename): what was published stays, the rest is written by the next flush, no
    temporary file is left, and every param, tag and point reads back once. The run's end is
    published after its params: no reader sees it finished without them."""
    monkeypatch.setenv("MLTUI_FLUSH_INTERVAL", "60")  # no background flush meanwhile
    real_replace = os.replace
    calls: list[Path] = []

    def second_fails(src: object, dst: Path) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    with store.start_run() as run:
        store.log_param("lr", "0.1")
        store.set_tag("team", "vision")
        for step in range(10):
            store.log_metric("loss", float(step), step=step)
        monkeypatch.setattr(os, "replace", second_fails)
        assert writer.writer_for(store_path).flush() is False
        assert len(calls) == 2
        assert not list(store_path.rglob(".*.tmp"))
        calls.clear()
        monkeypatch.setattr(os, "replace", lambda src, dst: (calls.append(dst), real_replace(src, dst)))
        store.log_param("epochs", "3")
    tables = [p.parts[-3] for p in calls]  # the retried files and the end's: runs last
    assert "params" in tables and tables == sorted(tables, key=lambda t: t == "runs")
    got = store.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.1", "epochs": "3"} and got.data.tags["team"] == "vision"
    assert got.info.status == "FINISHED"
    history = store.Client(store_path).get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(10))
    with store.Client(store_path).snapshot() as snap:
        counts = snap.rows("SELECT (SELECT count(*) FROM raw_params) AS p, (SELECT count(*) FROM raw_metrics) AS m")
    assert counts == [{"p": 2, "m": 10}]


def test_read_only_store_can_be_read(store_path: Path, tmp_path: Path) -> None:
    """A store the user may only read (a colleague's, a read-only mount) opens and answers
    queries, from the API and from `mltui query`, without trying to write."""
    with store.start_run() as run:
        for step in range(100):
            store.log_metric("loss", 1.0 / (step + 1), step=step)
        store.log_param("lr", "0.1")
    code = textwrap.dedent(
        f"""
        import json, store
        c = store.Client({str(store_path)!r})
        runs = c.search_runs(None, max_results=None)
        hist = c.get_metric_history({run.info.run_id!r}, "loss")
        with c.snapshot() as snap:
            n = snap.rows("SELECT count(*) AS n FROM metrics")[0]["n"]
        print(json.dumps([len(runs), len(hist), n, runs[0].data.params]))
        """
    )
    out = _run_read_only(store_path, code)
    assert json.loads(out) == [1, 100, 100, {"lr": "0.1"}]
    cli = f"import cli; cli.main(['--store', {str(store_path)!r}, 'query', '--format', 'json'])"
    (row,) = json.loads(_run_read_only(store_path, cli))
    assert row["run_id"] == run.info.run_id and row["params"] == {"lr": "0.1"}


def _run_read_only(root: Path, code: str) -> str:
    """Run ``code`` in a fresh interpreter that cannot write to ``root``.

    As root, permissions do not bind, so the store is bind-mounted read-only in a private
    mount namespace instead; otherwise its write permissions are taken away.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if os.geteuid() == 0:
        assert shutil.which("unshare"), "the read-only test needs unshare(1) when run as root"
        script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
        cmd = ["unshare", "-m", "sh", "-c", script, "sh", str(root), sys.executable, "-c", code]
    else:
        for path in [root, *root.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        cmd = [sys.executable, "-c", code]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    finally:
        if os.geteuid() != 0:
            for path in [root, *root.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dead_process_run_shows_crashed_and_live_one_running(store_path: Path) -> None:
    """A run whose process vanished shows CRASHED; one whose process lives shows RUNNING."""
    client = store.Client(store_path)
    exp = client.create_experiment("liveness")
    proc = start_logging(store_path, exp)
    (run,) = client.search_runs([exp])
    assert run.info.status == "RUNNING"
    proc.kill()
    proc.join()
    assert client.get_run(run.info.run_id).info.status == "CRASHED"


def test_stale_heartbeat_from_another_host_shows_crashed(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run on another machine is RUNNING while its heartbeat is fresh and CRASHED once the
    heartbeat is older than MLTUI_STALE_AFTER."""
    client = store.Client(store_path)
    exp = client.create_experiment("remote")
    proc = start_logging(store_path, exp)
    proc.kill()
    proc.join()
    (run,) = client.search_runs([exp])
    live = liveness.live_file(store_path, run.info.run_id)
    live.write_text(json.dumps({"host": "gpu-box-elsewhere", "pid": 1}))
    assert client.get_run(run.info.run_id).info.status == "RUNNING"
    monkeypatch.setenv("MLTUI_STALE_AFTER", "60")
    old = time.time() - 61
    os.utime(live, (old, old))
    assert client.get_run(run.info.run_id).info.status == "CRASHED"


def test_read_only_store_opens_in_the_dashboard(store_path: Path) -> None:
    """The dashboard on a store it cannot write to shows the runs, sorts, filters and plots."""
    with store.start_run(run_name="readonly-run"):
        for step in range(50):
            store.log_metric("loss", 1.0 / (step + 1), step=step)
        store.log_param("lr", "0.1")
    code = textwrap.dedent(
        f"""
        import asyncio
        from tui.app import make_app
        from tui.plot_screen import PlotScreen
        from tui.runs_table import RunsTable

        async def main():
            app = make_app({str(store_path)!r})
            async with app.run_test(size=(80, 24)) as pilot:
                for _ in range(100):
                    await pilot.pause(0.05)
                    if any(t.row_count for t in app.screen.query(RunsTable)):
                        break
                table = app.screen.query_one(RunsTable)
                table.move_cursor(column=table.column_index("metrics.loss"))
                await pilot.press("s", "slash", *"loss < 1", "enter")
                await pilot.pause(0.3)
                await pilot.press("p")
                for _ in range(100):
                    await pilot.pause(0.05)
                    if isinstance(app.screen, PlotScreen) and app.screen.series:
                        break
                plotted = isinstance(app.screen, PlotScreen) and bool(app.screen.series)
                await pilot.press("escape")
                await pilot.pause(0.1)
                print(table.row_count, table.settings.sort, table.settings.query, plotted)

        asyncio.run(main())
        """
    )
    assert _run_read_only(store_path, code).split() == ["1", "metrics.loss", "loss", "<", "1", "True"]
