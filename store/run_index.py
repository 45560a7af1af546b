"""Every run of a set of store files held in Python memory, for a process that searches again.

A search in DuckDB costs 3-5 ms of planning whatever the store holds, which is most of a search
of a thousand runs (MLflow's SQLite answers one in 12 ms). Store files never change once written,
so the runs a set of files adds up to (their info, metric summaries, params and tags) can be
loaded once and searched in memory (``store.query.evaluate``) until the listing changes: every
search still lists the store's files first, so it sees what any process wrote before it began.

As the shared state tables do (``state_cache``), a set of files is read the second time a
search reads it, never in a one-shot command, and only up to ``MAX_VALUES`` values (a run, a
metric summary, a param or a tag count one each): beyond that, reading them through DuckDB costs
more than its planning saves. A whole store's runs are then saved for the next process
(``run_index_file``) when no run's process is alive, and its first search of the same files
loads them without opening DuckDB. ``mltui compact`` saves them too, up to ``SAVED_MAX_VALUES``:
a one-shot command such as ``mltui query`` reads only the columns it needs from the file,
whatever its size, while a process that searches again loads at most ``MAX_VALUES``. What
depends on the clock rather than the files (a run's CRASHED status, a running run's duration)
is derived at each search.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from store import liveness, run_index_file
from store.bulk import collector_paused
from store.catalog import KEYS_BY_EXPERIMENT_SQL, Catalog
from store.query.compile import Column
from store.query.evaluate import Pairs, Text, matching, ordered
from store.query.nodes import Node, SortKey
from store.reader import Snapshot
from store.run_index_file import RunIndexData
from store.state_cache import states

log = logging.getLogger("mltui.store")
T = TypeVar("T")

if TYPE_CHECKING:  # made only for ``Client.search_runs``: ``mltui query`` never loads them
    from store.entities import Run, RunInfo

# Runs held in memory by a process that searches again, and saved by it for the next process, up
# to this many values (~20,000 runs of a few metrics and params): what they cost in memory once
# every run's data is made (~37 MB per 100,000 values) stays small beside a training script.
MAX_VALUES = 100_000
# Saved by ``mltui compact`` up to this many (~200,000 runs of a few metrics and params). A
# one-shot command reads only the columns its query needs: 60 ms at 100,000 runs, where DuckDB's
# import, connection and statement take 0.18 s. Saving them adds ~1 s and ~160 MB to a
# compaction of 100,000 runs.
SAVED_MAX_VALUES = 1_000_000

# What a RunInfo holds, in RunInfo's order (``search.RUN_INFO_COLUMNS``), then the experiment.
_INFO = ("run_id", "run_name", "experiment_id", "status", "start_time", "end_time", "lifecycle_stage",
         "artifact_uri", "user_id", "host", "pid", "experiment")
_RUN_INFO_FIELDS = _INFO.index("experiment")
_TEXT_ATTRIBUTES = ("run_id", "run_name", "experiment", "experiment_id", "user_id", "host", "artifact_uri")
_RUNS_SQL = (
    f"SELECT {', '.join(_INFO)}, "
    + ", ".join(f"TRY_CAST({c} AS DOUBLE), lower({c})" for c in _TEXT_ATTRIBUTES)
    + " FROM run_state ORDER BY start_time DESC NULLS LAST, run_id"
)
# Each key's runs in a long view, by key then position (``_RUNS_SQL``'s order), and their fields.
_LONG_SQL = (
    "SELECT v.key, r.position, {fields} FROM {view} v JOIN (SELECT run_id, row_number() OVER "
    "(ORDER BY start_time DESC NULLS LAST, run_id) - 1 AS position FROM run_state) r USING (run_id) "
    "ORDER BY v.key, r.position"
)
_SUMMARY_FIELDS = ("last_value", "first_value", "min_value", "max_value", "count")
_TEXT_FIELDS = ("v.value", "TRY_CAST(v.value AS DOUBLE)", "lower(v.value)")
_FIELDS = {"metric_summaries": tuple(f"v.{f}" for f in _SUMMARY_FIELDS), "params": _TEXT_FIELDS, "tags": _TEXT_FIELDS}
_VIEWS = tuple(_FIELDS)  # RunData's metrics, params and tags
EXPERIMENT_NAMES_SQL = "SELECT experiment_id, name FROM experiments"
_COUNT_SQL = "SELECT " + " + ".join(f"(SELECT count(*) FROM {v})" for v in ("run_state", "metric_summaries", "params", "tags"))
_SLOTS = 8  # sets of experiments searched; at most 2 * MAX_VALUES values held in all


# A view's keys every run has (values by position) and the others (values by run position).
_ByKey = tuple[list[tuple[str, list[Any]]], list[tuple[str, dict[int, Any]]]]


def _values_at(at: int, everyone: list[tuple[str, list[Any]]], some: list[tuple[str, dict[int, Any]]]) -> dict[str, Any]:
    """One run's values of a view, by key (see ``RunIndex._by_key``)."""
    values = {key: column[at] for key, column in everyone}
    if some:
        values.update({key: m[at] for key, m in some if at in m})
    return values


class RunIndex:
    """The runs of one set of files: positions in the store's default order (newest first),
    held column by column. ``data``: ``read_data`` of a snapshot, or as saved by
    ``run_index_file``; what only some searches need (a column's pairs, each run's dicts of
    metrics, params and tags) is made the first time one asks for it."""

    def __init__(self, root: Path, data: RunIndexData) -> None:
        self.root = root
        self.info = data.runs  # ``_INFO`` then the text attributes' readings, a column each
        self.size = data.size
        # (view, key) -> the runs' positions, then the fields (``run_index_file.LONG_FIELDS``)
        self._long = {(view, key): columns for view, key, _, columns in data.long}
        self.values = data.values
        statuses = self.info[3]
        self.running = [at for at, s in enumerate(statuses) if s == "RUNNING"] if "RUNNING" in statuses else []
        self._keys = data.keys
        self.experiments = data.experiments  # (experiment_id, name) of every experiment
        self._catalogs: dict[tuple[str, ...] | None, Catalog] = {}
        # (store, where its contents are) when loaded from ``run_index_file``
        self.saved: tuple[Path, run_index_file.Part] | None = None
        self._run_infos: dict[int, RunInfo] = {}  # made when first returned; frozen: shared by every search
        self._searched = False  # see ``_data_of``
        self._maps: tuple[_ByKey, ...] | None = None  # see ``_by_key``
        self._runs_data: tuple[dict[int, dict[str, Any]], ...] | None = None  # see ``_by_run``
        self._scopes: dict[tuple[tuple[str, ...], tuple[str, ...] | None], list[int]] = {}
        self._columns: dict[tuple[str, str | None, str], Pairs] = {}
        self._position: dict[str, int] | None = None  # run id -> position, see ``by_ids``
        self._lock = threading.Lock()

    def column(self, view: str, key: str | None, field: str) -> Pairs:
        """The positions and values of a long view's key or of an attribute, nulls left out."""
        with self._lock:
            found = self._columns.get((view, key, field))
            if found is None:
                found = self._columns[(view, key, field)] = self._read(view, key, field)
            return found

    def positions(self, view: str, key: str) -> list[int]:
        """The runs that have a value of a long view's key."""
        columns = self._long.get((view, key))
        return columns[0] if columns is not None else []

    def _field(self, view: str, key: str | None, field: str) -> tuple[list[int], list[Any]]:
        """The runs that have a value of a long view's key, and their values of ``field`` (a
        summary's, or for a param or tag its text)."""
        columns = self._long.get((view, key))  # type: ignore[arg-type]
        if columns is None:
            return [], []
        return columns[0], columns[1 + (_SUMMARY_FIELDS.index(field) if view == "metric_summaries" else 0)]

    def _read(self, view: str, key: str | None, field: str) -> Pairs:
        if view == "metric_summaries":
            return _without_nulls(*self._field(view, key, field))
        if view != "runs":
            columns = self._long.get((view, key))  # type: ignore[arg-type]
            return (columns[0], list(map(Text, columns[1], columns[2], columns[3]))) if columns else ([], [])
        j = _INFO.index(field)
        if field in _TEXT_ATTRIBUTES:
            i = len(_INFO) + 2 * _TEXT_ATTRIBUTES.index(field)
            texts, numbers, lowered = self.info[j], self.info[i], self.info[i + 1]
            positions, _ = _without_nulls(range(self.size), texts)
            return positions, [Text(texts[at], numbers[at], lowered[at]) for at in positions]
        return _without_nulls(range(self.size), self.info[j])

    def matched(
        self,
        node: Node | None,
        sort: list[SortKey],
        stages: list[str],
        experiment_ids: list[str] | None,
        max_results: int | None,
        text: str = "",
    ) -> Matched:
        """The runs matching a resolved filter, sorted, as the SQL search returns them."""
        live = _Live(self)
        found = self._scope(stages, experiment_ids)
        if node is not None:
            hits = matching(node, live, text)
            found = sorted(hits) if len(found) == self.size else [at for at in found if at in hits]
        if sort:
            found = ordered(found, sort, live)
        if max_results is not None:
            found = found[:max_results]
        return Matched(found, live)

    def by_ids(self, run_ids: Sequence[str]) -> list[Run]:
        """The runs with these ids, in the order given (unknown ids left out), as ``runs``
        returns them: ``Client.get_run`` without a statement."""
        with self._lock:
            if self._position is None:
                self._position = {run_id: at for at, run_id in enumerate(self.info[0])}
            position = self._position
        return self.runs(Matched([position[i] for i in run_ids if i in position], _Live(self)))

    def runs(self, matched: Matched) -> list[Run]:
        """The matched runs as ``Client.search_runs`` returns them."""
        from store.entities import Run, RunData

        found, crashed = matched.positions, matched.live.status()
        with collector_paused():
            infos, data = self._infos(found), self._data_of(found)
            return [
                Run(replace(info, status=crashed[at]) if at in crashed else info, RunData(*d))
                for at, info, d in zip(found, infos, data)
            ]

    def _data_of(self, found: list[int]) -> list[tuple[dict[str, Any], ...]]:
        """The metrics (last values), params and tags of the runs at ``found``, new dicts each.

        Copied from every run's dicts, made once, from the second search on; a process's first
        search looks them up key by key instead (a map per key, made at C speed), unless that
        takes more lookups than there are values (many keys each few runs have)."""
        first, self._searched = not self._searched, True
        if first and len(found) * len(self._long) <= self.values:
            metrics, params, tags = self._by_key()
            return [(_values_at(at, *metrics), _values_at(at, *params), _values_at(at, *tags)) for at in found]
        metrics, params, tags = self._by_run()
        empty: dict[str, Any] = {}  # copied, never changed
        return [
            (metrics.get(at, empty).copy(), params.get(at, empty).copy(), tags.get(at, empty).copy()) for at in found
        ]

    def _by_key(self) -> tuple[_ByKey, ...]:
        """For metrics, params and tags: the keys every run has, with their values (a list by
        position), and the others, with their runs' values by position (a dict)."""
        with self._lock:
            if self._maps is None:
                maps: dict[str, _ByKey] = {view: ([], []) for view in _VIEWS}
                for (view, key), columns in self._long.items():  # a metric's last value, a text
                    everyone, some = maps[view]
                    if len(columns[0]) == self.size:  # positions 0, 1, 2...: the values are by position
                        everyone.append((key, columns[1]))
                    else:
                        some.append((key, dict(zip(columns[0], columns[1]))))
                self._maps = tuple(maps[view] for view in _VIEWS)
            return self._maps

    def _by_run(self) -> tuple[dict[int, dict[str, Any]], ...]:
        """For metrics, params and tags: each run's keys and values, by position."""
        with self._lock:
            if self._runs_data is None:
                data: dict[str, dict[int, dict[str, Any]]] = {view: {} for view in _VIEWS}
                for (view, key), columns in self._long.items():
                    of_run = data[view]
                    for at, value in zip(columns[0], columns[1]):
                        values = of_run.get(at)
                        if values is None:
                            values = of_run[at] = {}
                        values[key] = value
                self._runs_data = tuple(data[view] for view in _VIEWS)
            return self._runs_data

    def wide(self, matched: Matched, fields: Sequence[tuple[str, str | None, str]]) -> list[list[Any]]:
        """One list per ``(view, key, field)`` of the matched runs' values (None where a run has
        none), as the wide table of ``search.runs_columns`` holds them: attributes of ``runs``
        (status and duration as of now), a metric summary's field, a param's or tag's text."""
        found, live = matched.positions, matched.live
        out = []
        for view, key, field in fields:
            if view == "runs" and field == "status":
                crashed, statuses = live.status(), self.info[3]
                out.append([crashed.get(at, statuses[at]) for at in found])
            elif view == "runs" and field == "duration":
                out.append(live.durations(found))
            elif view == "runs":
                values = self.info[_INFO.index(field)]
                out.append([values[at] for at in found])
            else:
                positions, values = self._field(view, key, field)
                if len(positions) == self.size:  # every run has one: positions are 0, 1, 2...
                    out.append([values[at] for at in found])
                else:
                    by_run = dict(zip(positions, values))
                    out.append([by_run.get(at) for at in found])
        return out

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

    def _infos(self, found: list[int]) -> list[RunInfo]:
        """The RunInfos of the runs at ``found``, each made the first time it is returned."""
        from store.entities import run_info

        made = self._run_infos
        new = [at for at in found if at not in made]
        if new:
            columns = [self.info[j] for j in range(_RUN_INFO_FIELDS)]
            fields = [[column[at] for at in new] for column in columns]
            made.update(zip(new, [run_info(self.root, row) for row in zip(*fields)]))
        return [made[at] for at in found]

    def _scope(self, stages: list[str], experiment_ids: list[str] | None) -> list[int]:
        """Positions of the runs in these lifecycle stages and experiments (all: None)."""
        key = (tuple(stages), tuple(experiment_ids) if experiment_ids is not None else None)
        with self._lock:
            found = self._scopes.get(key)
            if found is None:
                stage_of = self.info[6]
                if sum(map(stage_of.count, set(stages))) == self.size:  # counted at C speed
                    found = list(range(self.size))
                else:
                    found = [at for at, stage in enumerate(stage_of) if stage in stages]
                if experiment_ids is not None:
                    wanted, experiment_of = set(experiment_ids), self.info[2]
                    found = [at for at in found if experiment_of[at] in wanted]
                self._scopes[key] = found
            return found


class Matched(NamedTuple):
    """A search's answer: positions in the index, in order, and the statuses it saw."""

    positions: list[int]
    live: _Live


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
        if not self.index.running:
            return {}
        beats, run_ids, hosts = self._heartbeats(), self.index.info[0], self.index.info[9]
        return {
            at: "CRASHED"
            for at in self.index.running
            if hosts[at] is not None and not beats.get(run_ids[at], (False, 0))[0]
        }

    def values(self, col: Column) -> Pairs:
        field = col.sql.split(".", 1)[1]
        if col.long_view is not None:
            return self.index.column(col.long_view[0], col.key, field)
        if field == "status":
            crashed = self.status()
            statuses = [crashed.get(at, s) for at, s in enumerate(self.index.info[3])]
            return _without_nulls(range(self.size), statuses)
        if field == "duration":
            return _without_nulls(range(self.size), self.durations(range(self.size)))
        return self.index.column("runs", None, field)

    def present(self, col: Column) -> set[int]:
        assert col.long_view is not None and col.key is not None
        return set(self.index.positions(col.long_view[0], col.key))

    def durations(self, found: Sequence[int]) -> list[int | None]:
        """The durations in ms of the runs at ``found``, derived as the ``runs`` view does: a
        finished run's from its end, a running one's until now or its last heartbeat."""
        info = self.index.info
        starts, ends = info[4], info[5]
        out = [None if starts[at] is None or ends[at] is None else ends[at] - starts[at] for at in found]
        if not self.index.running:
            return out
        now = int(time.time() * 1000)
        for i, at in enumerate(found):
            if ends[at] is None and starts[at] is not None and info[3][at] == "RUNNING":
                out[i] = liveness.open_duration(starts[at], info[9][at], self._heartbeats().get(info[0][at]), now)
        return out


def _without_nulls(positions: Sequence[int], values: list[Any]) -> Pairs:
    """``positions`` and ``values`` without the nulls (the same lists when there are none)."""
    if None not in values:
        return positions, values
    kept = [(at, v) for at, v in zip(positions, values) if v is not None]
    return [at for at, _ in kept], [v for _, v in kept]


_cache: dict[Hashable, tuple[Hashable, RunIndex | None]] = {}
_seen: dict[Hashable, Hashable] = {}
_lock = threading.Lock()


def _held() -> int:
    """Values held in all (an index of saved runs may serve several sets of experiments)."""
    held = {id(index): index for _, index in _cache.values() if index is not None}
    return sum(index.values for index in held.values())


def read_data(snap: Snapshot) -> RunIndexData:
    """What a RunIndex of the snapshot's files is made of, read by DuckDB a column at a time."""
    with collector_paused():
        runs = snap.columns(_RUNS_SQL)
        long = []
        for view, fields in _FIELDS.items():
            keys, *columns = snap.columns(_LONG_SQL.format(view=view, fields=", ".join(fields)))
            start = 0
            for key, group in groupby(keys):
                end = start + sum(1 for _ in group)
                long.append((view, key, end - start, [c[start:end] for c in columns]))
                start = end
    return RunIndexData(
        len(runs[0]),
        runs,
        long,
        snap.fetch(KEYS_BY_EXPERIMENT_SQL)[1],
        snap.fetch(EXPERIMENT_NAMES_SQL)[1],
    )


def fits(snap: Snapshot, limit: int) -> bool:
    """Whether the snapshot's files hold at most ``limit`` values (runs, summaries, params, tags)."""
    return snap.fetch(_COUNT_SQL)[1][0][0] <= limit


def index_for(snap: Snapshot) -> RunIndex | None:
    """The in-memory runs of the snapshot's files, or None: search in DuckDB.

    They are loaded from ``run_index_file`` when it was saved for these very files (beyond
    ``MAX_VALUES`` values, a process that searches again reads there only what its first search
    of them needs, and holds nothing), else read by DuckDB from the second search of the same
    files (not in a one-shot command, and only up to ``MAX_VALUES`` values); the whole store's
    are then saved for the next process."""
    slot = (snap.root, tuple(snap.experiment_ids) if snap.experiment_ids is not None else None)
    key = tuple(tuple(snap.files.get(t, ())) for t in run_index_file.TABLES)
    with _lock:
        cached = _cache.get(slot)
        if cached is not None and cached[0] == key:
            _cache[slot] = _cache.pop(slot)  # the most recently used is evicted last
            return cached[1]
    found = run_index_file.saved(snap.root, snap.files, snap.experiment_ids)
    if found is not None and found.values > MAX_VALUES and states.share_repeated:
        # Too many to hold: the first search of these files reads what it needs of the save
        # (0.12 s on 100,000 runs, DuckDB's first 0.18 s); the next ones search DuckDB's shared
        # tables, which answer again faster than a new read (a sort's top 100 in 35 ms, not 0.14 s).
        return None if _read_now(slot, key) else _saved_index(snap, found)
    index = _saved_index(snap, found)
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


def _saved_index(snap: Snapshot, found: run_index_file.Saved | None) -> RunIndex | None:
    """The runs saved for the snapshot's files (``found``), as another set of experiments may
    already hold them, or None. Whatever their number: a search reads only the columns it needs."""
    if found is None:
        return None
    with _lock:
        held = next((i for _, i in _cache.values() if i is not None and i.saved == (snap.root, found.contents)), None)
    if held is not None:
        return held
    with collector_paused():
        data = run_index_file.load(snap.root, found)
        if data is None:
            return None
        try:
            index = RunIndex(snap.root, data)  # reads the statuses
        except run_index_file.Damaged:
            return None
    index.saved = (snap.root, found.contents)
    return index


def in_memory(snap: Snapshot, answer: Callable[[RunIndex], T]) -> T | None:
    """``answer`` of the runs held in memory for the snapshot's files (or saved for them:
    ``run_index_file``), or None when there are none. A saved column found damaged while
    answering is None too: the runs are dropped, and the caller reads the store's files."""
    index = index_for(snap)
    if index is None:
        return None
    try:
        return answer(index)
    except run_index_file.Damaged as exc:
        log.debug("%s; searching the store's files", exc)
        forget(snap)
        return None


def forget(snap: Snapshot) -> None:
    """Drop the runs held for the snapshot's experiments (a saved column found damaged)."""
    with _lock:
        _cache.pop((snap.root, tuple(snap.experiment_ids) if snap.experiment_ids is not None else None), None)


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
    """The snapshot's runs read by DuckDB, or None beyond ``MAX_VALUES``. A whole store's are
    saved for the next process, unless a run's process is still alive: its next flush changes
    the files, and the save (~45 ms for 10,000 runs) would be stale before anyone read it."""
    if not fits(snap, MAX_VALUES):
        return None
    data = read_data(snap)
    index = RunIndex(snap.root, data)
    if snap.experiment_ids is None and len(_Live(index).status()) == len(index.running):
        run_index_file.save(snap.root, snap.files, data)
    return index


def save_index(root: Path) -> None:
    """Save the whole store's runs for the next process's first search (after a compaction),
    up to ``SAVED_MAX_VALUES`` values."""
    with Snapshot(root, share=False) as snap:  # as if unread: the next search is the first
        if fits(snap, SAVED_MAX_VALUES):
            run_index_file.save(root, snap.files, read_data(snap))
