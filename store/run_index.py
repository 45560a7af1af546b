"""Every run of a set of store files held in Python memory, for a process that searches again.

A search in DuckDB costs 3-5 ms of planning whatever the store holds, which is most of a search
of a thousand runs (MLflow's SQLite answers one in 12 ms). Store files never change once written,
so the runs a set of files adds up to (their info, metric summaries, params and tags) can be
loaded once and searched in memory (``store.query.evaluate``) until the listing changes: every
search still lists the store's files first, so it sees what any process wrote before it began.

As the shared state tables do (``state_cache``), a set of files is read the second time a
search reads it, never in a one-shot command, and only up to ``MAX_VALUES`` values (a run, a
metric summary, a param or a tag count one each; ~35 MB at the limit): beyond that, loading costs
more than DuckDB's planning saves and the memory is not worth it. A whole store's rows, up to
``SAVED_MAX_VALUES``, are saved for the next process (``run_index_file``), whose first search of
the same files loads them without opening DuckDB; ``mltui compact`` saves them too. What depends
on the clock rather than the files (a run's CRASHED status, a running run's duration) is derived
at each search.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import replace
from pathlib import Path
from typing import Any

from store import liveness, run_index_file
from store.bulk import collector_paused
from store.catalog import KEYS_BY_EXPERIMENT_SQL, Catalog
from store.entities import Run, RunData, RunInfo, run_info
from store.query.compile import Column
from store.query.evaluate import Text, matching, ordered
from store.query.nodes import Node, SortKey
from store.reader import Snapshot
from store.run_index_file import RunIndexRows
from store.state_cache import states

MAX_VALUES = 100_000
# Saved for the next process up to this many: parsing and indexing them costs ~2 us a value, so
# beyond it a first search in DuckDB (~30-45 ms, growing slowly with the store) is cheaper.
SAVED_MAX_VALUES = 10_000

# What a RunInfo holds, in RunInfo's order (``search.RUN_INFO_COLUMNS``), then the experiment.
_INFO = ("run_id", "run_name", "experiment_id", "status", "start_time", "end_time", "lifecycle_stage",
         "artifact_uri", "user_id", "host", "pid", "experiment")
_TEXT_ATTRIBUTES = ("run_id", "run_name", "experiment", "experiment_id", "user_id", "host", "artifact_uri")
_RUNS_SQL = (
    f"SELECT {', '.join(_INFO)}, "
    + ", ".join(f"TRY_CAST({c} AS DOUBLE), lower({c})" for c in _TEXT_ATTRIBUTES)
    + " FROM run_state ORDER BY start_time DESC NULLS LAST, run_id"
)
_METRICS_SQL = "SELECT run_id, key, last_value, first_value, min_value, max_value, count FROM metric_summaries"
_TEXT_SQL = "SELECT run_id, key, value, TRY_CAST(value AS DOUBLE), lower(value) FROM {view}"
_SUMMARY_FIELDS = ("last_value", "first_value", "min_value", "max_value", "count")
_COUNT_SQL = "SELECT " + " + ".join(f"(SELECT count(*) FROM {v})" for v in ("run_state", "metric_summaries", "params", "tags"))
_SLOTS = 8  # sets of experiments searched; at most 2 * MAX_VALUES values held in all


class RunIndex:
    """The runs of one set of files: positions in the store's default order (newest first).
    ``rows``: ``read_rows`` of a snapshot, or as saved by ``run_index_file``."""

    def __init__(self, root: Path, rows: RunIndexRows) -> None:
        self.root = root
        self.infos = runs = rows.runs
        self.size = len(runs)
        position = {row[0]: i for i, row in enumerate(runs)}
        self.metrics: list[dict[str, float]] = [{} for _ in runs]
        self.params: list[dict[str, str]] = [{} for _ in runs]
        self.tags: list[dict[str, str]] = [{} for _ in runs]
        self._long: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        for row in rows.metrics:
            at = position.get(row[0])
            if at is not None:
                self.metrics[at][row[1]] = row[2]
                self._long.setdefault(("metric_summaries", row[1]), []).append((at, row[2:]))
        for view, data, texts in (("params", self.params, rows.params), ("tags", self.tags, rows.tags)):
            for run_id, key, value, number, lowered in texts:
                at = position.get(run_id)
                if at is not None:
                    data[at][key] = value
                    self._long.setdefault((view, key), []).append((at, Text(value, number, lowered)))
        self.values = self.size + sum(map(len, self._long.values()))
        self.running = [at for at, row in enumerate(runs) if row[3] == "RUNNING"]
        self._keys = rows.keys
        self._catalogs: dict[tuple[str, ...] | None, Catalog] = {}
        self.saved: tuple[Path, int] | None = None  # (store, digest) when loaded from ``run_index_file``
        self._run_infos: dict[int, RunInfo] = {}  # made when first returned; frozen: shared by every search
        self._scopes: dict[tuple[tuple[str, ...], tuple[str, ...] | None], list[int]] = {}
        self._columns: dict[tuple[str, str | None, str], list[tuple[int, Any]]] = {}
        self._lock = threading.Lock()

    def column(self, view: str, key: str | None, field: str) -> list[tuple[int, Any]]:
        """``(position, value)`` of a long view's key or of an attribute, nulls left out."""
        with self._lock:
            found = self._columns.get((view, key, field))
            if found is None:
                found = self._columns[(view, key, field)] = self._read(view, key, field)
            return found

    def _read(self, view: str, key: str | None, field: str) -> list[tuple[int, Any]]:
        if view == "metric_summaries":
            i = _SUMMARY_FIELDS.index(field)
            return [(at, s[i]) for at, s in self._long.get((view, key), ()) if s[i] is not None]  # type: ignore[arg-type]
        if view != "runs":
            return self._long.get((view, key), [])  # type: ignore[arg-type]
        if field in _TEXT_ATTRIBUTES:
            i = len(_INFO) + 2 * _TEXT_ATTRIBUTES.index(field)
            j = _INFO.index(field)
            return [(at, Text(r[j], r[i], r[i + 1])) for at, r in enumerate(self.infos) if r[j] is not None]
        j = _INFO.index(field)
        return [(at, r[j]) for at, r in enumerate(self.infos) if r[j] is not None]

    def search(
        self,
        node: Node | None,
        sort: list[SortKey],
        stages: list[str],
        experiment_ids: list[str] | None,
        max_results: int | None,
        text: str = "",
    ) -> list[Run]:
        """Runs matching a resolved filter, sorted, as the SQL search returns them."""
        live = _Live(self)
        found = self._scope(stages, experiment_ids)
        if node is not None:
            hits = matching(node, live, text)
            found = [at for at in found if at in hits]
        if sort:
            found = ordered(found, sort, live)
        if max_results is not None:
            found = found[:max_results]
        crashed = live.status()
        metrics, params, tags = self.metrics, self.params, self.tags
        with collector_paused():
            return [
                Run(
                    replace(self._info(at), status=crashed[at]) if at in crashed else self._info(at),
                    RunData(metrics[at].copy(), params[at].copy(), tags[at].copy()),
                )
                for at in found
            ]

    def catalog(self, experiment_ids: list[str] | None) -> Catalog:
        """The keys of these experiments (all: None), as ``catalog.catalog`` reads them."""
        wanted = tuple(sorted(experiment_ids)) if experiment_ids is not None else None
        with self._lock:
            found = self._catalogs.get(wanted)
            if found is None:
                found = self._catalogs[wanted] = Catalog.of(
                    (kind, key) for experiment_id, kind, key in self._keys if wanted is None or experiment_id in wanted
                )
            return found

    def _info(self, at: int) -> RunInfo:
        found = self._run_infos.get(at)
        if found is None:
            found = self._run_infos[at] = run_info(self.root, self.infos[at])
        return found

    def _scope(self, stages: list[str], experiment_ids: list[str] | None) -> list[int]:
        """Positions of the runs in these lifecycle stages and experiments (all: None)."""
        key = (tuple(stages), tuple(experiment_ids) if experiment_ids is not None else None)
        with self._lock:
            found = self._scopes.get(key)
            if found is None:
                wanted = set(experiment_ids) if experiment_ids is not None else None
                found = self._scopes[key] = [
                    at for at, r in enumerate(self.infos) if r[6] in stages and (wanted is None or r[2] in wanted)
                ]
            return found


class _Live:
    """An index as one search sees it: statuses and durations derived now (``runs`` view)."""

    def __init__(self, index: RunIndex) -> None:
        self.index = index
        self.size = index.size
        self._beats: dict[str, tuple[bool, int]] | None = None

    def _heartbeats(self) -> dict[str, tuple[bool, int]]:
        if self._beats is None:
            self._beats = liveness.heartbeats(self.index.root)
        return self._beats

    def status(self) -> dict[int, str]:
        """Positions of running runs whose process is gone: CRASHED."""
        infos = self.index.infos
        if not self.index.running:
            return {}
        beats = self._heartbeats()
        return {
            at: "CRASHED"
            for at in self.index.running
            if infos[at][9] is not None and not beats.get(infos[at][0], (False, 0))[0]
        }

    def values(self, col: Column) -> list[tuple[int, Any]]:
        field = col.sql.split(".", 1)[1]
        if col.long_view is not None:
            return self.index.column(col.long_view[0], col.key, field)
        if field == "status":
            crashed = self.status()
            return [(at, crashed.get(at, r[3])) for at, r in enumerate(self.index.infos) if r[3] is not None]
        if field == "duration":
            return [(at, d) for at, d in enumerate(map(self._duration, self.index.infos)) if d is not None]
        return self.index.column("runs", None, field)

    def present(self, col: Column) -> set[int]:
        assert col.long_view is not None and col.key is not None
        return {at for at, _ in self.index._long.get((col.long_view[0], col.key), ())}

    def _duration(self, r: tuple) -> int | None:
        run_id, status, start, end, host = r[0], r[3], r[4], r[5], r[9]
        if start is None:
            return None
        if end is not None:
            return end - start
        if status != "RUNNING":
            return None
        beat = self._heartbeats().get(run_id)
        if host is None or (beat is not None and beat[0]):
            return int(time.time() * 1000) - start
        return beat[1] - start if beat is not None else None


_cache: dict[Hashable, tuple[Hashable, RunIndex | None]] = {}
_seen: dict[Hashable, Hashable] = {}
_lock = threading.Lock()


def _held() -> int:
    """Values held in all (an index of saved runs may serve several sets of experiments)."""
    held = {id(index): index for _, index in _cache.values() if index is not None}
    return sum(index.values for index in held.values())


def read_rows(snap: Snapshot) -> RunIndexRows:
    """What a RunIndex of the snapshot's files is made of, read by DuckDB."""
    texts = [snap.fetch(_TEXT_SQL.format(view=view))[1] for view in ("params", "tags")]
    return RunIndexRows(snap.fetch(_RUNS_SQL)[1], snap.fetch(_METRICS_SQL)[1], *texts, snap.fetch(KEYS_BY_EXPERIMENT_SQL)[1])


def fits(snap: Snapshot, limit: int) -> bool:
    """Whether the snapshot's files hold at most ``limit`` values (runs, summaries, params, tags)."""
    return snap.fetch(_COUNT_SQL)[1][0][0] <= limit


def index_for(snap: Snapshot) -> RunIndex | None:
    """The in-memory runs of the snapshot's files, or None: search in DuckDB.

    They are loaded from ``run_index_file`` when it was saved for these very files, else read by
    DuckDB from the second search of the same files (not in a one-shot command, and only up to
    ``MAX_VALUES`` values); the whole store's are then saved for the next process."""
    slot = (snap.root, tuple(snap.experiment_ids) if snap.experiment_ids is not None else None)
    key = tuple(tuple(snap.files.get(t, ())) for t in run_index_file.TABLES)
    with _lock:
        cached = _cache.get(slot)
        if cached is not None and cached[0] == key:
            _cache[slot] = _cache.pop(slot)  # the most recently used is evicted last
            return cached[1]
    index = _saved_index(snap)
    if index is None:
        if not _read_now(slot, key):
            return None
        index = _read_index(snap)
    with _lock:
        _cache.pop(slot, None)
        _cache[slot] = (key, index)
        while len(_cache) > _SLOTS or (len(_cache) > 1 and _held() > 2 * MAX_VALUES):
            _cache.pop(next(iter(_cache)))  # the oldest
    return index


def _saved_index(snap: Snapshot) -> RunIndex | None:
    """The runs saved for the snapshot's files, as another set of experiments may already hold
    them, or None."""
    digest = run_index_file.saved_digest(snap.root, snap.files, snap.experiment_ids)
    if digest is None:
        return None
    with _lock:
        held = next((i for _, i in _cache.values() if i is not None and i.saved == (snap.root, digest)), None)
    if held is not None:
        return held
    with collector_paused():
        rows = run_index_file.load(snap.root, digest)
        if rows is None:
            return None
        index = RunIndex(snap.root, rows)
    index.saved = (snap.root, digest)
    return index


def _read_now(slot: Hashable, key: Hashable) -> bool:
    """Whether to read these files' runs into memory now: from their second search, never in a
    one-shot command."""
    with _lock:
        if not states.share_repeated:
            return False
        if _seen.get(slot) == key:
            return True
        if len(_seen) >= 8 * _SLOTS:
            _seen.clear()
        _seen[slot] = key
        return False


def _read_index(snap: Snapshot) -> RunIndex | None:
    """The snapshot's runs read by DuckDB, or None beyond ``MAX_VALUES``; a whole store's are
    saved for the next process."""
    if not fits(snap, MAX_VALUES):
        return None
    with collector_paused():
        rows = read_rows(snap)
        index = RunIndex(snap.root, rows)
    if snap.experiment_ids is None and index.values <= SAVED_MAX_VALUES:
        run_index_file.save(snap.root, snap.files, rows)
    return index


def save_index(root: Path) -> None:
    """Save the rows of the whole store's runs for the next process's first search (after a
    compaction), up to ``SAVED_MAX_VALUES`` values."""
    with Snapshot(root, share=False) as snap:  # as if unread: the next search is the first
        if fits(snap, SAVED_MAX_VALUES):
            run_index_file.save(root, snap.files, read_rows(snap))
