"""Current-state tables shared by the snapshots of one process.

Store files never change once written, so the current state computed from a set of files (the
runs, params, tags and metric summaries they add up to) is the same for every snapshot that
lists the same files. The first snapshot to need a state reads it through a view, as a one-shot
command wants; from the second one on (or at once, for a snapshot made to ``materialize``) the
state is computed into a table of the process's DuckDB database, and later snapshots of the same
files read that table: a script or a dashboard that searches again and again pays for the state
once per change of the store, not once per search.

A table stays while a snapshot uses it; a table that is neither in use nor the newest of its
state is dropped.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter
from collections.abc import Callable, Hashable

from store import duck

_SEEN_LIMIT = 1024


class StateCache:
    def __init__(self) -> None:
        self._lock = threading.RLock()  # building a state acquires the states it reads
        self._pid = os.getpid()
        self._names = itertools.count()
        self._tables: dict[tuple[str, Hashable], str] = {}
        self._newest: dict[str, str] = {}
        self._refs: Counter[str] = Counter()
        self._seen: set[tuple[str, Hashable]] = set()
        self.share_repeated = True  # build a state's table when a second snapshot asks for it

    def acquire(self, state: str, key: Hashable, build: Callable[[str], None], eager: bool) -> str | None:
        """The shared table of ``state`` for the files ``key``, made with ``build(name)`` if it
        is new and wanted (``eager``, or asked for before); None: read through a view instead.
        Every name returned must be given back to ``release``."""
        with self._lock:
            self._forget_parent()
            name = self._tables.get((state, key))
            if name is None:
                if not eager and (not self.share_repeated or (state, key) not in self._seen):
                    if len(self._seen) >= _SEEN_LIMIT:
                        self._seen.clear()
                    self._seen.add((state, key))
                    return None
                name = f"mltui_state_{state}_{next(self._names)}"
                build(name)
                self._tables[(state, key)] = name
                previous, self._newest[state] = self._newest.get(state), name
                if previous is not None and not self._refs[previous]:
                    self._drop(previous)
            self._refs[name] += 1
            return name

    def release(self, names: list[str]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                return
            for name in names:
                self._refs[name] -= 1
                if not self._refs[name] and name not in self._newest.values():
                    self._drop(name)

    def _drop(self, name: str) -> None:
        del self._refs[name]
        self._tables = {k: v for k, v in self._tables.items() if v != name}
        con = duck.cursor()
        try:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        finally:
            con.close()

    def _forget_parent(self) -> None:
        """A forked child has its own database (see ``duck``): its parent's tables are not in it."""
        if self._pid != os.getpid():
            self.__init__()


states = StateCache()


def one_shot() -> None:
    """Tell the cache this process runs one command and exits: its snapshots read every state
    inline. A command that reads the same state two or three times (``mltui runs show`` resolves
    the run, then reads it, then its metrics) would otherwise build tables of every run's state
    (0.1-0.2 s on 10,000 runs) that nothing reads again. Eager snapshots still build theirs."""
    states.share_repeated = False
