"""The process's writers, one per store (``store.writer`` registers them): a process that only
reads finds none here without importing the writer and pyarrow (~0.2 s of a cold command)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.writer import Writer

by_root: dict[Path, Writer] = {}
lock = threading.Lock()


def flush_if_writing(root: Path) -> None:
    """Write what this process has queued for a store, if it has written to it at all: a
    process that only reads never starts a writer (its thread and imports)."""
    with lock:
        w = by_root.get(root.resolve())
    if w is not None and not w._closed:
        w.flush()
