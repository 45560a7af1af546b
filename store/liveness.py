"""Telling a running run from one whose process died.

MLflow leaves a killed run RUNNING forever. Here a running run owns a small file
``live/<run_id>`` naming its host and pid; its writer touches it at every flush (the mtime is the
heartbeat) and removes it when the run ends. A RUNNING run is shown as CRASHED when that file is
gone, when its heartbeat is older than ``stale_after()``, or (same host) when its pid is dead.
Nothing is written to mark the crash: it is derived at read time, so a run resumed later shows
RUNNING again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from store.layout import HOSTNAME, write_bytes_atomic

if TYPE_CHECKING:
    from store.entities import RunInfo

DEFAULT_STALE_SECONDS = 120.0


def stale_after() -> float:
    try:
        return float(os.environ.get("MLTUI_STALE_AFTER", DEFAULT_STALE_SECONDS))
    except ValueError:
        return DEFAULT_STALE_SECONDS


def live_file(root: Path, run_id: str) -> Path:
    return root / "live" / run_id


def claim(root: Path, run_id: str) -> None:
    """Mark a run as owned by this process, now. Not fsynced: after a power cut the process is
    gone anyway, and a file left empty reads as no heartbeat (CRASHED), which is then true."""
    data = json.dumps({"host": HOSTNAME, "pid": os.getpid()}).encode()
    write_bytes_atomic(live_file(root, run_id), data, durable=False)


def release(root: Path, run_id: str) -> None:
    live_file(root, run_id).unlink(missing_ok=True)


def heartbeat(root: Path, run_ids: list[str]) -> None:
    now = time.time()
    for run_id in run_ids:
        try:
            os.utime(live_file(root, run_id), (now, now))
        except FileNotFoundError:
            pass


def _pid_alive(pid: int) -> bool:
    """Whether a process of this host runs. A killed process whose parent has not collected it
    yet (a zombie) still answers ``kill(pid, 0)``, so on Linux its state is read as well."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return True  # no /proc here (macOS): kill(pid, 0) is all there is
    return state != [b"Z"]


def heartbeats(root: Path) -> dict[str, tuple[bool, int]]:
    """For every run with a liveness file: whether its process looks alive, and when it was
    last seen (ms). A crashed run keeps its file, so how long it ran before dying is known."""
    limit = time.time() - stale_after()
    found: dict[str, tuple[bool, int]] = {}
    try:
        entries = list(os.scandir(root / "live"))
    except FileNotFoundError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            mtime = entry.stat().st_mtime
            info = json.loads(Path(entry.path).read_text())
        except (OSError, ValueError):
            continue
        fresh = mtime >= limit
        alive = fresh and (info.get("host") != HOSTNAME or _pid_alive(int(info.get("pid", 0))))
        found[entry.name] = (alive, int(mtime * 1000))
    return found


def open_duration(start: int, host: str | None, beat: tuple[bool, int] | None, now_ms: int) -> int | None:
    """How long a run that has not ended has run (ms), as the ``runs`` view derives it: until now
    while its process lives (or it has no host to check), else until its last heartbeat."""
    if host is None or (beat is not None and beat[0]):
        return now_ms - start
    return beat[1] - start if beat is not None else None


def run_duration(root: Path, info: RunInfo) -> int | None:
    """A run's duration (ms) as the runs table shows it, for ``get_run``'s ``info``: to its end,
    else (running, or crashed) to now or to its last heartbeat."""
    if info.start_time is None:
        return None
    if info.end_time is not None:
        return info.end_time - info.start_time
    if info.status not in ("RUNNING", "CRASHED"):
        return None
    beat = heartbeats(root).get(info.run_id)
    return open_duration(info.start_time, info.host, beat, int(time.time() * 1000))


def alive_runs(root: Path) -> list[str]:
    """Ids of the runs whose owning process is, as far as this machine can tell, still alive."""
    return [run_id for run_id, (alive, _) in heartbeats(root).items() if alive]
