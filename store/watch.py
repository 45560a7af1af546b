"""Noticing that a store changed, for the dashboard's live refresh, at the cost of a few stats.

Every change to a store is a file renamed into (or, by a compaction, removed from) a table's
folder, and each such rename updates that folder's modification time. So the fingerprint of a
store is the mtimes of its table folders and partition folders, plus the set of runs whose
process is alive (a run turns CRASHED when its process dies, which writes nothing). Comparing two
fingerprints tells whether anything a table shows may have changed, without opening any file.
"""

from __future__ import annotations

import os
from pathlib import Path

from store import liveness
from store.layout import GLOBAL_TABLES, MARKER, RUN_TABLES

Fingerprint = tuple[tuple[str, int], ...]


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return -1


def fingerprint(root: Path | str) -> Fingerprint:
    """A value that changes whenever the store's data or its runs' liveness changes."""
    base = os.fspath(root)
    items: list[tuple[str, int]] = [(MARKER, _mtime(os.path.join(base, MARKER)))]
    for table in GLOBAL_TABLES + RUN_TABLES:
        folder = os.path.join(base, table)
        items.append((table, _mtime(folder)))
        if table in RUN_TABLES:
            try:
                with os.scandir(folder) as it:
                    items.extend((f"{table}/{e.name}", _mtime(e.path)) for e in it if e.is_dir())
            except FileNotFoundError:
                pass
    items.extend((f"alive/{run_id}", 0) for run_id in liveness.alive_runs(Path(base)))
    return tuple(sorted(items))


class Watcher:
    """Remembers the last fingerprint of a store; ``changed()`` says whether it moved since."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.last: Fingerprint | None = None

    def changed(self) -> bool:
        current = fingerprint(self.root)
        moved = current != self.last
        self.last = current
        return moved
