"""The Model Registry on disk: an append-only log of events, and the state it adds up to.

Layout inside a store::

    registry/events/<first seq>-<last seq>-<pid>-<random>.parquet   one file per operation
    locks/registry.lock        held while an operation reads, validates and appends

Every operation (a promotion that archives two versions is one operation) becomes one Parquet
file written atomically, so an operation is either wholly in the log or not at all. Events carry
a store-wide sequence number ``seq`` given under the lock, which orders the audit trail exactly;
``timestamp`` (ms) and ``user`` say when and by whom. The current state is the latest event of
each thing, computed by DuckDB with ``arg_max(..., seq)``. Deleting a model starts a new
"generation" of its name: events before the deletion no longer count toward the state but stay in
the history.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from store import duck, layout
from store.listing import is_damage
from store.errors import MltuiError
from store.reader import damaged_files, mark_damaged
from store.registry_entities import ModelVersion, RegisteredModel, RegistryEvent, Stage

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

EVENTS_DIR = ("registry", "events")
LOCK_TIMEOUT_S = 30.0
_SEQ_NAME = re.compile(r"^(\d{12})-(\d{12})-")

_EVENT_FIELDS = [
    ("seq", "int64"), ("timestamp", "int64"), ("user", "string"), ("action", "string"), ("name", "string"),
    ("version", "int64"), ("from_version", "int64"), ("from_stage", "string"), ("to_stage", "string"),
    ("alias", "string"), ("key", "string"), ("value", "string"), ("description", "string"),
    ("source", "string"), ("run_id", "string"), ("note", "string"),
]
assert [f.name for f in fields(RegistryEvent)] == [name for name, _ in _EVENT_FIELDS]


@functools.cache
def event_schema() -> pa.Schema:
    """The event files' Arrow schema, made when an event is first read or written: a command
    that only reads runs (``mltui runs show``) imports no pyarrow."""
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, kind)()) for name, kind in _EVENT_FIELDS])

# Events of the current generation of each name (after its latest deletion).
_LIVE = """
    SELECT e.* FROM events e
    LEFT JOIN (SELECT name, max(seq) AS cut FROM events WHERE action = 'delete_model'
               GROUP BY name) d USING (name)
    WHERE e.seq > coalesce(d.cut, -1)"""

# Current values of things keyed by more than a name; views over ``live``.
VIEWS_SQL = {
    "model_tags": """
        SELECT name, key, value FROM (
            SELECT name, key, arg_max_null(value, seq) AS value FROM live
            WHERE action IN ('set_model_tag', 'delete_model_tag') GROUP BY name, key)
        WHERE value IS NOT NULL""",
    "version_tags": """
        SELECT name, version, key, value FROM (
            SELECT name, version, key, arg_max_null(value, seq) AS value FROM live
            WHERE action IN ('set_version_tag', 'delete_version_tag') GROUP BY name, version, key)
        WHERE value IS NOT NULL""",
    "aliases": """
        SELECT name, alias, version FROM (
            SELECT name, alias, arg_max_null(version, seq) AS version FROM live
            WHERE action IN ('set_alias', 'delete_alias') GROUP BY name, alias)
        WHERE version IS NOT NULL""",
}

MODELS_SQL = """
    WITH m AS (
        SELECT name,
               min(timestamp) FILTER (action = 'create_model') AS creation_timestamp,
               max(timestamp) AS last_updated_timestamp,
               arg_max_null(description, seq)
                   FILTER (action IN ('create_model', 'update_model')) AS description,
               max(version) FILTER (action = 'create_version') AS last_version
        FROM live GROUP BY name
        HAVING count(*) FILTER (action = 'create_model') > 0),
    t AS (SELECT name, list({'key': key, 'value': value} ORDER BY key) AS tags
          FROM model_tags GROUP BY name),
    a AS (SELECT name, list({'alias': alias, 'version': version} ORDER BY alias) AS aliases
          FROM aliases GROUP BY name)
    SELECT * FROM m LEFT JOIN t USING (name) LEFT JOIN a USING (name) ORDER BY name"""

VERSIONS_SQL = """
    WITH v AS (
        SELECT name, version,
               min(timestamp) FILTER (action = 'create_version') AS creation_timestamp,
               max(timestamp) AS last_updated_timestamp,
               arg_max(to_stage, seq)
                   FILTER (action IN ('create_version', 'transition')) AS current_stage,
               arg_max_null(description, seq)
                   FILTER (action IN ('create_version', 'update_version')) AS description,
               any_value(source) FILTER (action = 'create_version') AS source,
               any_value(run_id) FILTER (action = 'create_version') AS run_id,
               any_value("user") FILTER (action = 'create_version') AS user_id
        FROM live
        WHERE version IS NOT NULL AND action NOT IN ('set_alias', 'delete_alias')
        GROUP BY name, version
        HAVING count(*) FILTER (action = 'delete_version') = 0
           AND count(*) FILTER (action = 'create_version') > 0),
    t AS (SELECT name, version, list({'key': key, 'value': value} ORDER BY key) AS tags
          FROM version_tags GROUP BY name, version),
    a AS (SELECT name, version, list(alias ORDER BY alias) AS aliases
          FROM aliases GROUP BY name, version)
    SELECT * FROM v LEFT JOIN t USING (name, version) LEFT JOIN a USING (name, version)
    ORDER BY name, version"""


def events_dir(root: Path) -> Path:
    return root.joinpath(*EVENTS_DIR)


@dataclass
class RegistryState:
    """The whole registry as of one read: small (human-made), so held in plain Python."""

    models: dict[str, RegisteredModel] = field(default_factory=dict)
    versions: dict[str, dict[int, ModelVersion]] = field(default_factory=dict)
    next_versions: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0

    def model_versions(self, name: str) -> list[ModelVersion]:
        return list(self.versions.get(name, {}).values())


@contextmanager
def registry_lock(root: Path) -> Iterator[None]:
    """Serialize registry writes across processes: read, validate and append under one lock."""
    layout.init_store(root)
    (root / "locks").mkdir(exist_ok=True)
    lock = FileLock(str(root / "locks" / "registry.lock"), timeout=LOCK_TIMEOUT_S)
    try:
        with lock:
            yield
    except Timeout:
        raise MltuiError(
            f"the model registry of {root} is locked by another process "
            f"(waited {LOCK_TIMEOUT_S:.0f} s); try again"
        ) from None


_combined: dict[Path, tuple[tuple[Path, ...], pa.Table]] = {}
_guard = threading.Lock()


def event_files(root: Path) -> list[Path]:
    """The visible event files in sequence order (their names start with the zero-padded seq)."""
    directory = events_dir(root)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [directory / n for n in sorted(names) if n.endswith(".parquet") and not n.startswith(".")]


def _events_table(root: Path, files: Sequence[Path]) -> pa.Table:
    """Every readable event, as one Arrow table.

    Event files never change once written and new ones sort last, so the table read last time
    is kept and only the files added since are read and appended.
    """
    import pyarrow as pa

    damaged = damaged_files()
    key = tuple(p for p in files if p not in damaged)
    with _guard:
        known, table = _combined.get(events_dir(root), ((), event_schema().empty_table()))
    if key == known:
        return table
    if key[: len(known)] != known:
        known, table = (), event_schema().empty_table()
    added = [t for p in key[len(known) :] if (t := read_events(p)) is not None]
    table = pa.concat_tables([table, *added]).combine_chunks()
    with _guard:
        _combined[events_dir(root)] = (key, table)
    return table


def _connect(root: Path, files: Sequence[Path]) -> duckdb.DuckDBPyConnection:
    """A DuckDB cursor over every event (``events``, the table ``live`` and the state views).

    Opening a DuckDB connection costs tens of milliseconds and a cursor almost nothing, so one
    connection serves the process (reopened after a fork) and each read takes its own cursor
    (cursors are not shared between threads).
    """
    events = _events_table(root, files)
    con = duck.cursor()
    con.register("events", events)
    con.execute(f"CREATE TEMP TABLE live AS {_LIVE}")
    for view, sql in VIEWS_SQL.items():
        con.execute(f"CREATE TEMP VIEW {view} AS {sql}")
    return con


def read_events(path: Path) -> pa.Table | None:
    """One event file, or None (reported once, then skipped) when its bytes are damaged."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, schema=event_schema())
    except (pa.ArrowInvalid, OSError) as exc:
        if not is_damage(exc):
            raise MltuiError(f"cannot read {path}: {exc}") from exc
        mark_damaged(path, str(exc).splitlines()[0])
        return None


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> list[dict[str, Any]]:
    return con.sql(sql, params=params or None).to_arrow_table().to_pylist()


def load_state(root: Path) -> RegistryState:
    """The current registry: every model, version, tag and alias, from the event log."""
    files = event_files(root)
    state = RegistryState(last_seq=_last_seq(files))
    if not files:
        return state
    con = _connect(root, files)
    try:
        models, versions = _rows(con, MODELS_SQL), _rows(con, VERSIONS_SQL)
    finally:
        con.close()
    for r in versions:
        state.versions.setdefault(r["name"], {})[r["version"]] = ModelVersion(
            name=r["name"],
            version=r["version"],
            creation_timestamp=r["creation_timestamp"],
            last_updated_timestamp=r["last_updated_timestamp"],
            current_stage=r["current_stage"],
            description=r["description"] or "",
            source=r["source"] or "",
            run_id=r["run_id"],
            user_id=r["user_id"] or "",
            tags={t["key"]: t["value"] for t in r["tags"] or []},
            aliases=tuple(r["aliases"] or ()),
        )
    for r in models:
        name = r["name"]
        state.models[name] = RegisteredModel(
            name=name,
            creation_timestamp=r["creation_timestamp"],
            last_updated_timestamp=r["last_updated_timestamp"],
            description=r["description"] or "",
            tags={t["key"]: t["value"] for t in r["tags"] or []},
            aliases={a["alias"]: a["version"] for a in r["aliases"] or []},
            latest_versions=latest_per_stage(state.model_versions(name)),
        )
        state.next_versions[name] = (r["last_version"] or 0) + 1
    return state


def latest_per_stage(versions: Sequence[ModelVersion]) -> tuple[ModelVersion, ...]:
    """The newest version of each stage present, in MLflow's stage order."""
    newest: dict[str, ModelVersion] = {}
    for v in versions:
        if v.current_stage not in newest or v.version > newest[v.current_stage].version:
            newest[v.current_stage] = v
    return tuple(newest[s.value] for s in Stage if s.value in newest)


def read_history(root: Path, name: str) -> list[RegistryEvent]:
    """Every event about ``name``, oldest first, including those of deleted generations."""
    files = event_files(root)
    if not files:
        return []
    con = _connect(root, files)
    try:
        rows = _rows(con, "SELECT * FROM events WHERE name = ? ORDER BY seq", [name])
    finally:
        con.close()
    return [RegistryEvent(**r) for r in rows]


def last_seq(root: Path) -> int:
    """The highest sequence number in the log, from the file names alone (no file is opened)."""
    return _last_seq(event_files(root))


def _last_seq(files: Sequence[Path]) -> int:
    if not files:
        return 0
    match = _SEQ_NAME.match(files[-1].name)
    if match is None:
        raise MltuiError(f"unexpected file in the model registry: {files[-1]}")
    return int(match.group(2))


def append(root: Path, first_seq: int, events: Sequence[dict[str, Any]]) -> list[RegistryEvent]:
    """Write one operation's events as one file; call only while holding ``registry_lock``."""
    import pyarrow as pa

    rows = [{**e, "seq": first_seq + i} for i, e in enumerate(events)]
    columns = {n: [r.get(n) for r in rows] for n in event_schema().names}
    table = pa.table(columns, schema=event_schema())
    last = first_seq + len(rows) - 1
    name = f"{first_seq:012d}-{last:012d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
    layout.write_parquet_atomic(events_dir(root) / name, table)
    return [RegistryEvent(**r) for r in table.to_pylist()]
