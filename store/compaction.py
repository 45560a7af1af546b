"""Merging small Parquet files into large ones without readers or writers noticing.

A merged file is written whole under a temporary name, renamed into place, and only then are its
inputs deleted. Its Parquet footer names its inputs (``mltui.replaces``), so a reader that sees the
merged file and some not-yet-deleted inputs excludes the inputs: no row is ever counted twice or
missed, whatever moment a compaction is killed at. Merges of one partition are serialized by a
lock file; a second compactor waits (``mltui compact``) or skips (a writer's own merge).

Only small files are merged (up to ``MERGE_BYTES`` of input at a time), so compaction never
rewrites the big files it made before: its cost follows what was logged since, and a partition
ends with a few large files. An input that cannot be read is moved to ``<store>/quarantine/``
rather than failing the merge or being dropped.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from store.layout import (
    GLOBAL_TABLES,
    RUN_TABLES,
    check_store,
    parquet_files,
    partitions,
    table_dir,
    write_parquet_atomic,
)
from store import summaries
from store.errors import MltuiError
from store.listing import MERGED_SUFFIX, REPLACES_KEY, is_damage, replaced_by, visible_files
from store.schemas import SCHEMAS, SORT_KEYS, SUMMARIZE_POINTS_SQL, SUMMARY_COMBINE_SQL

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("mltui.store")

SMALL_FILE_BYTES = 8 * 1024 * 1024
MERGE_BYTES = 64 * 1024 * 1024
AUTO_COMPACT_FILES = 32
THREADED_READ_BYTES = 1024 * 1024
QUARANTINE = "quarantine"

def is_small(path: Path) -> bool:
    try:
        return path.stat().st_size < SMALL_FILE_BYTES
    except FileNotFoundError:
        return False


def damage_reason(path: Path, table: str | None = None) -> str | None:
    """Why a Parquet file cannot be read whole (every row group, and ``table``'s columns),
    or None when it can (or vanished meanwhile: a compaction replaced it).

    Reading the footer is not enough: a file with an intact footer and a damaged page fails
    only when that page is read.
    """
    try:
        pf = pq.ParquetFile(path)
        if table is not None:
            missing = set(SCHEMAS[table].names) - set(pf.schema_arrow.names)
            if missing:
                return f"columns missing: {', '.join(sorted(missing))}"
        for i in range(pf.metadata.num_row_groups):
            pf.read_row_group(i)
    except FileNotFoundError:
        return None
    except (pa.ArrowInvalid, OSError) as exc:
        if not is_damage(exc):
            raise
        return str(exc).splitlines()[0]
    return None


def partition_lock(root: Path, table: str, part: str | None) -> FileLock:
    """The lock that serializes merges (and doctor's repairs) of one partition."""
    locks = root / "locks"
    locks.mkdir(exist_ok=True)
    return FileLock(str(locks / f"compact-{table}-{part or '_'}.lock"))


def quarantine(root: Path, path: Path, reason: str) -> Path:
    """Move a damaged file out of the store's tables into ``<store>/quarantine/``, kept whole.

    The ``.damaged`` suffix keeps it out of a plain ``read_parquet('<store>/**/*.parquet')``;
    renaming it back to its place restores it.
    """
    rel = path.relative_to(root)
    dest = root / QUARANTINE / rel.with_name(rel.name + ".damaged")
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while dest.exists():
        dest = dest.with_name(f"{rel.name}.{n}.damaged")
        n += 1
    shutil.move(str(path), str(dest))
    log.warning("mltui: quarantined damaged file %s -> %s (%s)", path, dest, reason)
    return dest


def finish_interrupted(directory: Path) -> list[Path]:
    """Delete inputs a readable merged file already replaces (a compaction died before it did).

    Call with the partition lock held. Returns the files deleted.
    """
    files = parquet_files(directory)
    names = {p.name for p in files}
    removed: list[Path] = []
    for f in files:
        if not f.name.endswith(MERGED_SUFFIX):
            continue
        try:
            replaced = replaced_by(f)  # its footer, read once per file and process
        except (OSError, ValueError):
            continue  # a damaged merged file proves nothing: its inputs stay
        for name in sorted(replaced & names):
            (directory / name).unlink(missing_ok=True)
            removed.append(directory / name)
    return removed


def combine(table: str, parts: list[pa.Table]) -> pa.Table:
    """Several files' rows of one table as one table (summaries combined per run and key)."""
    schema = SCHEMAS[table]
    parts = [t if t.schema.equals(schema) else t.select(schema.names).cast(schema) for t in parts]
    data = pa.concat_tables(parts) if parts else schema.empty_table()
    if table == "metric_summaries":
        data = summaries.combine(data)
    return data.select(schema.names).cast(schema)


def _read_input(root: Path, table: str, path: Path, quarantined: list[Path]) -> pa.Table | None:
    """One input's rows; None when it vanished or was quarantined as damaged."""
    try:
        # A third of ``read_table``'s cost (no dataset discovery); a small file read without
        # Arrow's thread pools, whose start costs more than the read (0.3 ms instead of 0.6).
        big = path.stat().st_size > THREADED_READ_BYTES
        with pq.ParquetFile(path, pre_buffer=big) as pf:
            data = pf.read(use_threads=big)
    except FileNotFoundError:
        return None
    except (pa.ArrowInvalid, OSError) as exc:
        if not is_damage(exc):
            raise
        quarantine(root, path, str(exc))
        quarantined.append(path)
        return None
    missing = set(SCHEMAS[table].names) - set(data.column_names)
    if missing:
        quarantine(root, path, f"columns missing: {', '.join(sorted(missing))}")
        quarantined.append(path)
        return None
    return data


@dataclass
class MergeOutcome:
    merged: bool = False
    quarantined: list[Path] = field(default_factory=list)


def merge(
    root: Path,
    table: str,
    part: str | None,
    files: list[Path],
    out: Path,
    blocking: bool = True,
    known: Mapping[Path, pa.Table] | None = None,
) -> MergeOutcome:
    """Merge ``files`` of one partition into ``out``; not merged when another compactor holds
    the lock (non-blocking) or fewer than two inputs are left. Damaged inputs are quarantined.

    ``known``: rows of some inputs already in memory (a writer's own files; files never change,
    so an input still there holds exactly them)."""
    outcome = MergeOutcome()
    lock = partition_lock(root, table, part)
    try:
        lock.acquire(timeout=-1 if blocking else 0)
    except Timeout:
        return outcome
    try:
        finish_interrupted(table_dir(root, table, part))
        inputs: list[Path] = []
        parts: list[pa.Table] = []
        for f in files:
            if known is not None and f in known and f.exists():
                data = known[f]
            else:
                data = _read_input(root, table, f, outcome.quarantined)
            if data is not None:
                inputs.append(f)
                parts.append(data)
        if len(inputs) < 2:
            return outcome
        meta = {REPLACES_KEY: json.dumps(sorted(f.name for f in inputs)).encode()}
        write_parquet_atomic(out, combine(table, parts), metadata=meta, sort_by=SORT_KEYS[table])
        for f in inputs:
            f.unlink(missing_ok=True)
        outcome.merged = True
        return outcome
    finally:
        lock.release()


def merge_files(
    root: Path,
    table: str,
    part: str | None,
    files: list[Path],
    out: Path,
    blocking: bool = True,
    known: Mapping[Path, pa.Table] | None = None,
) -> bool:
    """``merge`` for callers that only need to know whether it merged (a writer's own files)."""
    return merge(root, table, part, files, out, blocking, known).merged


def merged_name(directory: Path) -> Path:
    """A fresh name for a compactor's output (unique across processes and hosts)."""
    return directory / f"c{os.getpid()}-{os.urandom(6).hex()}{MERGED_SUFFIX}"


def _groups(files: list[Path]) -> list[list[Path]]:
    """Small files in groups of at most ``MERGE_BYTES`` of input (bounded memory per merge)."""
    groups: list[list[Path]] = [[]]
    size = 0
    for f in files:
        if not is_small(f):
            continue
        if groups[-1] and size >= MERGE_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(f)
        size += _size(f)
    return [g for g in groups if len(g) >= 2]


def _clean_up(root: Path, table: str, part: str | None, blocking: bool) -> None:
    """Finish what a killed compaction left: delete inputs a merged file already holds."""
    lock = partition_lock(root, table, part)
    try:
        lock.acquire(timeout=-1 if blocking else 0)
    except Timeout:
        return
    try:
        finish_interrupted(table_dir(root, table, part))
    finally:
        lock.release()


def compact_partition(
    root: Path, table: str, part: str | None, min_files: int = 2, blocking: bool = True
) -> MergeOutcome:
    """Merge the small files of one partition when there are at least ``min_files`` of them."""
    directory = table_dir(root, table, part)
    listed = parquet_files(directory)
    if len(listed) < min_files:
        return MergeOutcome()  # fewer files than needed, whichever are visible: no footer read
    visible = visible_files(directory)
    if len(listed) > len(visible):
        _clean_up(root, table, part, blocking)
    small = [f for f in visible if is_small(f)]
    total = MergeOutcome()
    if len(small) < min_files:
        return total
    for group in _groups(small):
        outcome = merge(root, table, part, group, merged_name(directory), blocking)
        total.merged |= outcome.merged
        total.quarantined += outcome.quarantined
    return total


@dataclass(frozen=True)
class CompactionResult:
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int
    quarantined: tuple[Path, ...] = ()


def compact(
    root: Path, min_files: int = 2, progress: Callable[[int, int], None] | None = None
) -> CompactionResult:
    """Merge the small files of every partition of every table (``mltui compact``).

    ``progress(done, total)`` is called after each partition. A store of another format
    version is refused (``StoreFormatError``) rather than rewritten.
    """
    check_store(root)
    before = after = size_before = size_after = 0
    quarantined: list[Path] = []
    jobs = [(t, p) for t in GLOBAL_TABLES + RUN_TABLES for p in partitions(root, t)]
    for done, (table, part) in enumerate(jobs, 1):
        directory = table_dir(root, table, part)
        files = visible_files(directory)
        before += len(files)
        size_before += sum(_size(f) for f in files)
        quarantined += compact_partition(root, table, part, min_files).quarantined
        remaining = visible_files(directory)
        after += len(remaining)
        size_after += sum(_size(f) for f in remaining)
        if progress is not None:
            progress(done, len(jobs))
    from store.run_index import save_index  # DuckDB: only a whole compaction reads the states

    try:
        save_index(root)
    except (MltuiError, OSError) as exc:  # a shortcut for the next search, never the merge's result
        log.warning("mltui: the runs were not saved for the next search: %s", exc)
    return CompactionResult(before, after, size_before, size_after, tuple(quarantined))


# Per run and key, the summary that knows more points: the histories' when they hold at least as
# many as the summary counts (a writer killed mid-flush leaves the summary behind), else the
# summary kept (its history lost points to a damaged file: the summary is all that is left of them).
_REBUILT_SUMMARIES_SQL = f"""
WITH fresh AS ({SUMMARIZE_POINTS_SQL.format(source="points")}),
     kept AS ({SUMMARY_COMBINE_SQL.format(source="summaries")})
SELECT * FROM fresh f
WHERE NOT EXISTS (SELECT 1 FROM kept k WHERE k.run_id = f.run_id AND k.key = f.key AND k.count > f.count)
UNION ALL BY NAME
SELECT * FROM kept k
WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.run_id = k.run_id AND f.key = k.key AND f.count >= k.count)
"""


def rebuild_summaries(root: Path, part: str) -> bool:
    """Recompute an experiment's metric summaries from its histories (``doctor --fix``).

    A writer killed between writing a flush's points and their summary leaves the summary
    behind the history. A summary that counts more points than its history holds is kept as it
    is: recomputing it would drop what a damaged history file took with it. The rebuilt file
    replaces every summary file of the partition, through the same footer protocol as a merge.
    Only safe while no run of the store is alive (a live writer could add points between the two
    listings): returns False, changing nothing, if one is.
    """
    from store import duck
    from store.liveness import alive_runs

    if alive_runs(root):
        return False
    with partition_lock(root, "metrics", part), partition_lock(root, "metric_summaries", part):
        directory = table_dir(root, "metric_summaries", part)
        finish_interrupted(directory)
        old = visible_files(directory)
        con = duck.cursor()
        try:
            _rows(con, "metrics", visible_files(table_dir(root, "metrics", part))).create_view("points")
            _rows(con, "metric_summaries", old).create_view("summaries")
            data = con.sql(_REBUILT_SUMMARIES_SQL).to_arrow_table()
        finally:
            con.close()
        if alive_runs(root):
            return False
        meta = {REPLACES_KEY: json.dumps(sorted(f.name for f in old)).encode()}
        data = data.select(SCHEMAS["metric_summaries"].names).cast(SCHEMAS["metric_summaries"])
        out = merged_name(directory)
        write_parquet_atomic(out, data, metadata=meta, sort_by=SORT_KEYS["metric_summaries"])
        for f in old:
            f.unlink(missing_ok=True)
    return True


def _rows(con: duckdb.DuckDBPyConnection, table: str, files: list[Path]) -> duckdb.DuckDBPyRelation:
    """A DuckDB relation of these files of ``table`` (its empty table when there are none)."""
    if not files:
        return con.from_arrow(SCHEMAS[table].empty_table())
    return con.read_parquet([str(f) for f in files], hive_partitioning=False)


def auto_compact(root: Path, touched: Iterable[tuple[str, str | None]]) -> None:
    """Compact the partitions a finished run wrote to, once small files pile up there.

    Called when a run ends; never waits for a lock (another compactor is already at it) and
    never raises into the training script.
    """
    for table, part in set(touched):
        try:
            compact_partition(root, table, part, min_files=AUTO_COMPACT_FILES, blocking=False)
        except Exception:  # end_run must succeed whatever the state of other files
            log.exception("mltui: automatic compaction of %s failed; run `mltui compact`", table)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
