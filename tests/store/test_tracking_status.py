"""A run's status says how its process really ended (MLflow leaves killed runs RUNNING)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import store as mlflow

ROOT = Path(__file__).resolve().parents[2]


def run_script(store_path: Path, body: str, wait: bool = True) -> subprocess.Popen:
    code = "import store as mlflow\n" + textwrap.dedent(body)
    env = {**os.environ, "MLTUI_STORE": str(store_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if wait:
        proc.wait(timeout=60)
    return proc


def only_run(store_path: Path) -> mlflow.Run:
    runs = mlflow.Client(store_path).search_runs(None)
    assert len(runs) == 1
    return runs[0]


def test_exception_inside_with_is_failed(store_path: Path) -> None:
    """An exception in `with start_run()` ends the run FAILED and the points before it are kept."""
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            mlflow.log_metric("loss", 1.0)
            1 / 0
    got = mlflow.get_run(run.info.run_id)
    assert got.info.status == "FAILED"
    assert got.data.metrics == {"loss": 1.0}


def test_keyboard_interrupt_inside_with_is_killed(store_path: Path) -> None:
    """Ctrl-C in the training loop ends the run KILLED, not FAILED."""
    with pytest.raises(KeyboardInterrupt):
        with mlflow.start_run() as run:
            raise KeyboardInterrupt
    assert mlflow.get_run(run.info.run_id).info.status == "KILLED"


def test_exception_outside_with_is_failed(store_path: Path) -> None:
    """A script that dies of an exception with a run started without `with` shows FAILED."""
    proc = run_script(
        store_path,
        """
        mlflow.start_run()
        mlflow.log_metric("loss", 2.0)
        raise RuntimeError("boom")
        """,
    )
    assert proc.returncode == 1
    run = only_run(store_path)
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"loss": 2.0}


def test_script_ending_normally_finishes_its_run(store_path: Path) -> None:
    """A run never ended explicitly is FINISHED at exit, with every point written."""
    run_script(
        store_path,
        """
        mlflow.start_run()
        for i in range(1000):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        """,
    )
    run = only_run(store_path)
    assert run.info.status == "FINISHED"
    assert len(mlflow.Client(store_path).get_metric_history(run.info.run_id, "loss")) == 1000


def test_sigterm_is_killed_and_keeps_points(store_path: Path) -> None:
    """SIGTERM (a scheduler stopping the job) ends the run KILLED with its points written."""
    proc = run_script(
        store_path,
        """
        import time
        with mlflow.start_run():
            for i in range(100):
                mlflow.log_metric("loss", float(i), step=i)
            print("ready", flush=True)
            time.sleep(60)
        """,
        wait=False,
    )
    assert proc.stdout.readline().strip() == b"ready"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    run = only_run(store_path)
    assert run.info.status == "KILLED"
    assert len(mlflow.Client(store_path).get_metric_history(run.info.run_id, "loss")) == 100


def test_kill_9_shows_crashed_not_running(store_path: Path) -> None:
    """A process killed with SIGKILL leaves its run CRASHED, with what was flushed kept."""
    proc = run_script(
        store_path,
        """
        import time
        with mlflow.start_run():
            for i in range(10):
                mlflow.log_metric("loss", float(i), step=i)
            mlflow.flush()
            print("ready", flush=True)
            time.sleep(60)
        """,
        wait=False,
    )
    assert proc.stdout.readline().strip() == b"ready"
    assert only_run(store_path).info.status == "RUNNING"
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while only_run(store_path).info.status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    run = only_run(store_path)
    assert run.info.status == "CRASHED"
    assert len(mlflow.Client(store_path).get_metric_history(run.info.run_id, "loss")) == 10


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process states are read from Linux's /proc")
def test_killed_process_not_yet_collected_is_crashed(store_path: Path) -> None:
    """A killed trainer whose parent has not collected it yet (a zombie, still answering the pid
    check) shows CRASHED, not RUNNING until its heartbeat goes stale."""
    proc = run_script(
        store_path,
        """
        import time
        with mlflow.start_run():
            mlflow.log_metric("loss", 1.0)
            mlflow.flush()
            print("ready", flush=True)
            time.sleep(60)
        """,
        wait=False,
    )
    assert proc.stdout.readline().strip() == b"ready"
    proc.kill()  # and no wait(): the process stays a zombie until collected below
    stat = Path(f"/proc/{proc.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.read_bytes().rpartition(b")")[2].split()[0] != b"Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stat.read_bytes().rpartition(b")")[2].split()[0] == b"Z"
    assert only_run(store_path).info.status == "CRASHED"
    proc.wait(timeout=30)


def test_forked_child_logs_into_the_parents_run(store_path: Path) -> None:
    """A worker forked inside a run logs to that run; nothing is lost or written twice."""
    import multiprocessing

    def work(offset: int) -> None:
        for i in range(100):
            mlflow.log_metric("worker", float(i), step=offset + i)

    with mlflow.start_run() as run:
        mlflow.log_metric("parent", 1.0)
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=work, args=(k * 1000,)) for k in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
        assert [p.exitcode for p in procs] == [0, 0]
    history = mlflow.Client(store_path).get_metric_history(run.info.run_id, "worker")
    assert sorted(m.step for m in history) == list(range(100)) + list(range(1000, 1100))
    assert mlflow.get_run(run.info.run_id).data.metrics["parent"] == 1.0


def test_a_worker_that_starts_logging_itself_is_written_at_its_exit(store_path: Path) -> None:
    """A multiprocessing worker whose first log makes its writer, and which leaves without
    ending its run (multiprocessing's children exit without atexit), still writes what it
    logged when it exits."""
    import multiprocessing

    def work(name: str) -> None:
        mlflow.start_run(run_name=name)
        mlflow.log_metric("x", 1.0)

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=work, args=(f"w{k}",)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    runs = mlflow.Client(store_path).search_runs()
    assert sorted(r.info.run_name for r in runs) == ["w0", "w1"]
    assert all(r.data.metrics == {"x": 1.0} for r in runs)
