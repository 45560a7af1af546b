"""A consistent read of the store through DuckDB.

A ``Snapshot`` lists the visible files of every table once (see ``listing.visible_files``),
then exposes the store's current state as DuckDB views over exactly those files:

==================  =====================================================================
view                one row per
==================  =====================================================================
experiments         experiment: experiment_id, name, artifact_location, lifecycle_stage,
                    creation_time, last_update_time (ms)
runs                run: run_id, experiment_id, experiment (name), run_name, status (with
                    CRASHED derived), start_time, end_time (ms, null while running),
                    duration (ms), lifecycle_stage, user_id, host, pid, artifact_uri
params              (run_id, key): value (string)
tags                (run_id, key): value (deleted tags left out)
metric_summaries    (run_id, key): count, min_value, max_value, last_value, last_step,
                    last_timestamp, first_value, first_step, first_timestamp
metrics             metric point: run_id, key, step, timestamp, value (full histories)
experiment_tags     (experiment_id, key): value
==================  =====================================================================

If a compaction deletes a file between the listing and the read, the read is retried on a fresh
listing; a damaged file is reported once (``warnings``) and left out instead of failing the read.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from store import duck, liveness, run_index_file
from store.errors import MltuiError
from store.layout import GLOBAL_TABLES, RUN_TABLES, check_store, partitions, table_dir
from store.listing import visible_files
from store.schemas import COLUMNS, SUMMARY_COMBINE_SQL
from store.state_cache import states

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

T = TypeVar("T")
COLUMN_CHUNK = 8192  # rows fetched at a time by ``Snapshot.columns``

_damaged: set[Path] = set()
_damaged_lock = threading.Lock()

# The per-run, per-key states, over any ``source`` of raw events (see ``Snapshot.state_of``).
PER_RUN_SQL = {
    "params": """
        SELECT run_id, key, arg_min(value, event_time) AS value
        FROM {source} GROUP BY run_id, key""",
    "tags": """
        SELECT run_id, key, value FROM (
            SELECT run_id, key, arg_max_null(value, event_time) AS value
            FROM {source} GROUP BY run_id, key)
        WHERE value IS NOT NULL""",
    "metric_summaries": SUMMARY_COMBINE_SQL,
}

VIEWS_SQL = {
    "experiments": """
        SELECT experiment_id,
               arg_max(name, event_time) AS name,
               arg_max(artifact_location, event_time) AS artifact_location,
               arg_max(lifecycle_stage, event_time) AS lifecycle_stage,
               min(creation_time) AS creation_time,
               max(event_time) // 1000 AS last_update_time
        FROM raw_experiments GROUP BY experiment_id""",
    "experiment_tags": """
        SELECT experiment_id, key, value FROM (
            SELECT experiment_id, key, arg_max_null(value, event_time) AS value
            FROM raw_experiment_tags GROUP BY experiment_id, key)
        WHERE value IS NOT NULL""",
    "run_state": """
        SELECT r.*, e.name AS experiment,
               CASE WHEN e.lifecycle_stage = 'deleted' THEN 'deleted' ELSE r.stage END AS lifecycle_stage
        FROM (
            SELECT run_id,
                   arg_max(experiment_id, event_time) AS experiment_id,
                   arg_max(run_name, event_time) AS run_name,
                   arg_max(status, event_time) AS status,
                   arg_max(start_time, event_time) AS start_time,
                   nullif(arg_max(end_time, event_time), -1) AS end_time,
                   coalesce(arg_max(lifecycle_stage, event_time), 'active') AS stage,
                   arg_max(user_id, event_time) AS user_id,
                   arg_max(host, event_time) AS host,
                   arg_max(pid, event_time) AS pid,
                   arg_max(artifact_uri, event_time) AS artifact_uri,
                   max(event_time) // 1000 AS last_update_time
            FROM raw_runs GROUP BY run_id) r
        LEFT JOIN experiments e USING (experiment_id)""",
    "runs": """
        SELECT r.run_id, r.experiment_id, r.experiment, r.run_name,
               CASE WHEN r.status = 'RUNNING' AND r.host IS NOT NULL AND NOT coalesce(h.alive, false)
                    THEN 'CRASHED' ELSE r.status END AS status,
               r.start_time, r.end_time,
               CASE WHEN r.end_time IS NOT NULL THEN r.end_time - r.start_time
                    WHEN r.status <> 'RUNNING' THEN NULL
                    WHEN r.host IS NULL OR h.alive THEN epoch_ms(now()) - r.start_time
                    ELSE h.last_seen - r.start_time
                    END AS duration,
               r.lifecycle_stage, r.user_id, r.host, r.pid, r.artifact_uri, r.last_update_time
        FROM run_state r
        LEFT JOIN heartbeats h USING (run_id)""",
    "params": PER_RUN_SQL["params"].format(source="raw_params"),
    "tags": PER_RUN_SQL["tags"].format(source="raw_tags"),
    "metric_summaries": PER_RUN_SQL["metric_summaries"].format(source="raw_metric_summaries"),
    "metrics": "SELECT run_id, key, step, timestamp, value FROM raw_metrics",
}


VIEW_DEPENDS: dict[str, tuple[str, ...]] = {
    "experiments": ("raw_experiments",),
    "experiment_tags": ("raw_experiment_tags",),
    "run_state": ("raw_runs", "experiments"),
    "runs": ("run_state", "heartbeats"),
    "params": ("raw_params",),
    "tags": ("raw_tags",),
    "metric_summaries": ("raw_metric_summaries",),
    "metrics": ("raw_metrics",),
}
_NAMES = sorted({*VIEW_DEPENDS, *(d for deps in VIEW_DEPENDS.values() for d in deps)}, key=len, reverse=True)
_VIEW_NAME = re.compile(r"\b(" + "|".join(_NAMES) + r")\b", re.IGNORECASE)
_LITERAL = re.compile(r"'(?:[^']|'')*'")


# Current states that depend on store files only (not on the clock or liveness files): shared
# between the snapshots of the same files (see ``state_cache``).
SHARED_STATES = ("experiments", "experiment_tags", "run_state", "params", "tags", "metric_summaries")


def _raw_tables(view: str) -> list[str]:
    """The store tables a view reads, through its dependencies."""
    if view.startswith("raw_"):
        return [view[len("raw_") :]]
    return sorted({t for d in VIEW_DEPENDS.get(view, ()) for t in _raw_tables(d)})


_DUCKDB_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "float64": "DOUBLE"}


def _empty_select(table: str) -> str:
    """A typed query of no rows, for a table that has no file yet (from our fixed columns)."""
    columns = ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {name}" for name, kind in COLUMNS[table])
    return f"SELECT {columns} WHERE false"


def mark_damaged(path: Path, reason: str) -> None:
    with _damaged_lock:
        if path not in _damaged:
            _damaged.add(path)
            warnings.warn(f"mltui: skipping damaged file {path}: {reason}", stacklevel=3)


def damaged_files() -> set[Path]:
    return set(_damaged)


class Snapshot:
    """The store as it was when the snapshot was taken; cheap to take.

    A snapshot is one cursor of the process's shared DuckDB database (opening a database costs
    tens of milliseconds, a cursor one). Its views are temporary, so they belong to this cursor
    only, and each is created the first time a query names it: a query of runs and summaries
    never touches the metric histories. Queries on one snapshot are serialized; threads that
    read in parallel take a snapshot each.

    ``experiment_ids`` restricts the partitioned tables to those experiments, so a query about
    one experiment never opens the files of the others. The current states that depend
    only on files (all but the histories and the liveness-derived run status) are shared with
    the other snapshots of the process that list the same files (see ``state_cache``): read
    through views the first time, computed into tables from the second; ``materialize`` makes
    the tables at once, what a dashboard that queries every snapshot many times wants, and
    ``share=False`` neither uses them nor counts as a read (compaction's own look at the store).
    """

    def __init__(
        self,
        root: Path | str,
        experiment_ids: Sequence[str] | None = None,
        materialize: bool = False,
        share: bool = True,
    ) -> None:
        self.root = Path(root)
        self.materialize = materialize
        self.share = share
        self.exists = check_store(self.root)
        self.experiment_ids = list(experiment_ids) if experiment_ids is not None else None
        self.files: dict[str, list[Path]] = {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._bodies: dict[str, str] = {}  # view -> its definition in this snapshot
        self._shared: dict[str, str] = {}  # view -> the shared table it reads
        self._derived: dict[tuple[object, ...], str] = {}  # (sql, values) -> its shared table
        self._generation = 0  # listings so far: a statement is put together from one of them
        self._build()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The snapshot's cursor, opened by its first statement (under the lock): a search answered
        from runs held in memory never opens DuckDB, which costs a new process ~20 ms."""
        if self._con is None:
            self._con = duck.cursor()
        return self._con

    # ------------------------------------------------------------ building

    def _list(self) -> dict[str, list[Path]]:
        files: dict[str, list[Path]] = {}
        listed = functools.cache(lambda: run_index_file.listed(self.root))  # read only if needed

        def together(directory: Path) -> Collection[str]:
            return listed().get(directory.relative_to(self.root).as_posix(), ())

        for table in GLOBAL_TABLES + RUN_TABLES:
            parts = partitions(self.root, table)
            if self.experiment_ids is not None and table in RUN_TABLES:
                wanted = set(self.experiment_ids)
                parts = [p for p in parts if p in wanted]
            found: list[Path] = []
            for part in parts:
                found.extend(visible_files(table_dir(self.root, table, part), _damaged, together))
            files[table] = found
        return files

    def _build(self) -> None:
        """List the files; the views' definitions are made on demand by ``_expand``."""
        for attempt in range(20):
            try:
                self.files = self._list()
                break
            except FileNotFoundError:
                time.sleep(0.01 * attempt)
            except OSError as exc:  # the system could not read a file: never a store without it
                raise MltuiError(f"could not read the store at {self.root}: {exc}") from exc
        states.release(list(self._shared.values()))  # pivots stay: statements being put together name them
        self._shared = {}
        self._bodies = {}
        self._generation += 1

    def _expand(self, sql: str) -> str:
        """``sql`` with the views it names, and the ones they read, defined in front of it as
        common table expressions, in dependency order.

        DuckDB inlines a view or a non-materialized CTE the same way, but creating a view is a
        statement of its own (0.3-1 ms to parse and bind, six of them for a search), while a CTE
        costs only its text: a snapshot taken for one search pays for what it reads.
        """
        names = [name.lower() for name in _VIEW_NAME.findall(_LITERAL.sub("''", sql))]
        for _ in range(10):
            generation, needed = self._generation, {}
            for name in names:
                self._define(name, needed)
            if generation == self._generation:
                break  # else building a shared table listed the files again: start over with them
        if not needed:
            return sql
        ctes = ",\n".join(f"{name} AS NOT MATERIALIZED ({body})" for name, body in needed.items())
        head, rest = sql.lstrip(), ""
        if head[:5].upper() == "WITH ":
            head, rest = head[5:], ","
        return f"WITH {ctes}{rest}\n{head}"

    def _define(self, view: str, needed: dict[str, str]) -> None:
        """Add ``view``'s definition to ``needed`` after the ones it reads."""
        if view in needed:
            return
        body = self._bodies.get(view)
        if body is None:
            body = self._bodies[view] = self._body(view)
        if view not in self._shared:
            for dependency in VIEW_DEPENDS.get(view, ()):
                self._define(dependency, needed)
        needed[view] = body

    def _body(self, view: str) -> str:
        if view in SHARED_STATES and self.share:
            key = tuple(tuple(self.files.get(t, ())) for t in _raw_tables(view))
            shared = states.acquire(view, key, lambda name: self._create(name, VIEWS_SQL[view]), self.materialize)
            if shared is not None:
                self._shared[view] = shared
                return f"SELECT * FROM {shared}"
        if view == "heartbeats":
            return self._heartbeats()
        if view.startswith("raw_"):
            table = view[len("raw_") :]
            paths = self.files.get(table, [])
            if not paths:
                return _empty_select(table)
            # File names as SQL string literals, escaped: they come from our own listing.
            files = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
            return f"SELECT * FROM read_parquet([{files}], hive_partitioning = false)"
        return VIEWS_SQL[view]

    def _heartbeats(self) -> str:
        """The liveness of running runs, read once per snapshot (a temporary table when any)."""
        beats = liveness.heartbeats(self.root)
        if not beats:
            return "SELECT NULL::VARCHAR AS run_id, NULL::BOOLEAN AS alive, NULL::BIGINT AS last_seen WHERE false"
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE snapshot_heartbeats AS SELECT unnest(?::VARCHAR[]) AS run_id, "
            "unnest(?::BOOLEAN[]) AS alive, unnest(?::BIGINT[]) AS last_seen",
            [list(beats), [a for a, _ in beats.values()], [t for _, t in beats.values()]],
        )
        return "SELECT * FROM snapshot_heartbeats"


    def _release_states(self) -> None:
        states.release([*self._shared.values(), *self._derived.values()])
        self._shared = {}
        self._derived = {}

    def derived(self, view: str, sql: str, params: Sequence[Any]) -> str | None:
        """A table of the SELECT ``sql`` over ``view``, shared like the current states (see
        ``state_cache``) with the other snapshots that list the same files; None the first time
        it is asked for (read ``sql`` inline then), unless the snapshot ``materialize``s. Only
        the newest table derived from a view outlives its last user."""
        key = (sql, tuple(params))
        with self._lock:
            name = self._derived.get(key)
            if name is None and self.share:
                files = tuple(tuple(self.files.get(t, ())) for t in _raw_tables(view))

                name = states.acquire(
                    f"derived_{view}", (key, files), lambda name: self._create(name, sql, params), self.materialize
                )
                if name is not None:
                    self._derived[key] = name
            return name

    def state_of(self, view: str, runs: str) -> str:
        """A per-run state (``params``, ``tags``, ``metric_summaries``) limited to the runs of
        the subquery ``runs``, as a parenthesized query for a FROM clause.

        The runs are picked from the raw events before they are added up: DuckDB does not
        move such a filter below an aggregate, and adding up every run's events to keep a few
        costs most of a query. A state already computed into a table is just filtered.
        """
        with self._lock:
            self._define(view, {})
            if view in self._shared:
                return f"(SELECT * FROM {view} WHERE run_id IN ({runs}))"
        raw = f"raw_{view}"
        return "(" + PER_RUN_SQL[view].format(source=f"(SELECT * FROM {raw} WHERE run_id IN ({runs}))") + ")"

    # ------------------------------------------------------------ reading

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        """Run SQL over the views, as an Arrow table."""
        return self._run(sql, lambda con, sql: con.sql(sql, params=params or None).to_arrow_table())

    def fetch(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run SQL over the views, as column names and Python rows: no pyarrow involved, which is
        what a one-shot command such as ``mltui query`` wants (pyarrow costs a cold process
        0.1-0.4 s to import)."""
        def rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
            rows = con.execute(sql, params or None).fetchall()  # no relation: one bind, not two
            return [d[0] for d in con.description or ()], rows

        return self._run(sql, rows)

    def columns(self, sql: str, params: Sequence[Any] | None = None) -> list[list[Any]]:
        """Run SQL over the views, as one Python list per column, made from chunks of rows: no
        tuple per row is kept (a whole store's runs: half the memory of ``fetch``)."""
        def columns(con: duckdb.DuckDBPyConnection, sql: str) -> list[list[Any]]:
            cursor = con.execute(sql, params or None)
            out: list[list[Any]] = [[] for _ in cursor.description or ()]
            while chunk := cursor.fetchmany(COLUMN_CHUNK):
                for column, values in zip(out, zip(*chunk)):
                    column.extend(values)
            return out

        return self._run(sql, columns)

    def _run(self, sql: str, result: Callable[[duckdb.DuckDBPyConnection, str], T]) -> T:
        """``result(cursor, sql with its views defined)``, under the snapshot's lock."""

        def attempt() -> T:
            with self._lock:
                return result(self.con, self._expand(sql))

        return self._retried(attempt)

    def _create(self, name: str, sql: str, params: Sequence[Any] = ()) -> None:
        """A table of ``sql`` over the snapshot's views (a shared state or pivot); called while
        a statement is being put together, under the lock."""
        self._retried(lambda: self.con.execute(f"CREATE TABLE {name} AS {self._expand(sql)}", list(params)))

    def _retried(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, again on a fresh listing if a file vanished (a compaction replaced it)
        or is damaged."""
        import duckdb  # loaded by the cursor already: a snapshot imports it at its first statement

        for tries in range(10):
            try:
                return attempt()
            except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException):
                raise
            except duckdb.Error as exc:
                if not self._recover(exc) or tries == 9:
                    raise MltuiError(f"could not read the store at {self.root}: {exc}") from exc
        raise AssertionError("unreachable")

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        names, rows = self.fetch(sql, params)
        return [dict(zip(names, row)) for row in rows]

    def _recover(self, exc: Exception) -> bool:
        """Decide whether a failed read is worth retrying, after fixing the file list."""
        text = str(exc)
        known = {str(p): p for paths in self.files.values() for p in paths}
        mentioned = re.findall(r"['\"]?(/[^'\"\s]+\.parquet)", text)
        named = [known[m] for m in mentioned if m in known]
        vanished = any(not p.exists() for p in known.values()) or any(not os.path.exists(m) for m in mentioned)
        import pyarrow.parquet as pq

        from store.compaction import damage_reason

        for path in named:
            if path.exists():
                try:
                    pq.read_metadata(path)
                except Exception as bad:  # any failure to read the footer means a damaged file
                    mark_damaged(path, str(bad))
                else:
                    if "parquet" in text.lower() and not vanished:
                        mark_damaged(path, text.splitlines()[0])
        if not named and not vanished:
            for path in known.values():
                reason = damage_reason(path)
                if reason is not None:
                    mark_damaged(path, reason)
                    named.append(path)
        if named or vanished:
            self._build()
            return True
        return False

    def close(self) -> None:
        with self._lock:
            self._release_states()
            if self._con is not None:
                self._con.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

