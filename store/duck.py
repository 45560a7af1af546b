"""The process's one DuckDB database, handed out as cursors.

Opening a DuckDB database costs tens of milliseconds, a cursor about one, so every reader,
writer and compactor of the process works on a cursor of the same in-memory database (temporary
views and registered tables stay private to each cursor). A forked child opens its own database
and keeps its parent's object alive but untouched: closing an inherited DuckDB crashes.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

_database: duckdb.DuckDBPyConnection | None = None
_pid = 0
_lock = threading.Lock()
_inherited: list[duckdb.DuckDBPyConnection] = []


def cursor() -> duckdb.DuckDBPyConnection:
    """A new cursor of the process's database (close it when done). DuckDB is imported here,
    at the first statement: its import costs a new process 60-75 ms, which a search answered
    from saved runs (``run_index_file``) never pays."""
    global _database, _pid
    import duckdb

    with _lock:
        if _database is None or _pid != os.getpid():
            if _database is not None:
                _inherited.append(_database)
            _database = duckdb.connect()
            _pid = os.getpid()
        return _database.cursor()


@atexit.register
def _close() -> None:
    if _database is not None and _pid == os.getpid():
        _database.close()
