"""Merging small Parquet files into large ones without readers or writers noticing.

A merged file is written whole under a temporary name, renamed into place, and only then are its
inputs deleted. Its Parquet footer names its inputs (``mltui.replaces``), so a reader that sees the
merged file and some not-yet-deleted inputs excludes the inputs: no row is ever counted twice or
missed, whatever moment a compaction is killed at. Merges of one partition are serialized by a
lock file; a second compactor waits or skips.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from store.layout import parquet_files, partitions, table_dir, write_parquet_atomic
from store.schemas import SCHEMAS, SORT_KEYS, SUMMARY_COMBINE_SQL

MERGED_SUFFIX = "-merged.parquet"
REPLACES_KEY = b"mltui.replaces"
SMALL_FILE_BYTES = 8 * 1024 * 1024

_replaces_cache: dict[tuple[str, int, int], frozenset[str]] = {}


def is_small(path: Path) -> bool:
    try:
        return path.stat().st_size < SMALL_FILE_BYTES
    except FileNotFoundError:
        return False


def replaced_by(path: Path) -> frozenset[str]:
    """Names of the files a merged file replaces (read once from its footer, then cached)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    names = _replaces_cache.get(key)
    if names is None:
        meta = pq.read_schema(path).metadata or {}
        names = frozenset(json.loads(meta.get(REPLACES_KEY, b"[]")))
        _replaces_cache[key] = names
    return names


def visible_files(directory: Path, damaged: Iterable[Path] = ()) -> list[Path]:
    """The files of a partition a reader should read: merged inputs and damaged files left out.

    Raises FileNotFoundError when a merged file vanished while being looked at (a concurrent
    compaction replaced it): the caller lists again.
    """
    files = parquet_files(directory)
    skip = {p.name for p in damaged}
    excluded: set[str] = set()
    for f in files:
        if f.name.endswith(MERGED_SUFFIX) and f.name not in skip:
            try:
                excluded |= replaced_by(f)
            except (pa.ArrowInvalid, OSError) as exc:
                if isinstance(exc, FileNotFoundError):
                    raise
                skip.add(f.name)
    return [f for f in files if f.name not in excluded and f.name not in skip]


def _lock(root: Path, table: str, part: str | None) -> FileLock:
    locks = root / "locks"
    locks.mkdir(exist_ok=True)
    return FileLock(str(locks / f"compact-{table}-{part or '_'}.lock"))


def _finish_interrupted(directory: Path) -> None:
    """Delete inputs a visible merged file already replaces (a compaction died before it did)."""
    names = {p.name for p in parquet_files(directory)}
    for f in parquet_files(directory):
        if f.name.endswith(MERGED_SUFFIX):
            for name in replaced_by(f) & names:
                (directory / name).unlink(missing_ok=True)


def combine(table: str, files: list[Path]) -> pa.Table:
    """The rows of several files of one table as one table (summaries combined per run and key)."""
    import duckdb

    parts = [pq.read_table(f, partitioning=None) for f in files]
    data = pa.concat_tables(parts) if parts else SCHEMAS[table].empty_table()
    if table == "metric_summaries":
        con = duckdb.connect()
        try:
            con.register("inputs", data)
            data = con.sql(SUMMARY_COMBINE_SQL.format(source="inputs")).to_arrow_table()
        finally:
            con.close()
    return data.select(SCHEMAS[table].names).cast(SCHEMAS[table])


def merge_files(
    root: Path,
    table: str,
    part: str | None,
    files: list[Path],
    out: Path,
    blocking: bool = True,
) -> bool:
    """Merge ``files`` of one partition into ``out``; False when another compactor holds the lock."""
    lock = _lock(root, table, part)
    try:
        lock.acquire(timeout=-1 if blocking else 0)
    except Timeout:
        return False
    try:
        directory = table_dir(root, table, part)
        _finish_interrupted(directory)
        files = [f for f in files if f.exists()]
        if len(files) < 2:
            return False
        data = combine(table, files)
        meta = {REPLACES_KEY: json.dumps(sorted(f.name for f in files)).encode()}
        write_parquet_atomic(out, data, metadata=meta, sort_by=SORT_KEYS[table])
        for f in files:
            f.unlink(missing_ok=True)
        return True
    finally:
        lock.release()


@dataclass(frozen=True)
class CompactionResult:
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int


def compact(root: Path, min_files: int = 2, progress=None) -> CompactionResult:
    """Merge every partition of every table that has at least ``min_files`` visible files."""
    from store.layout import GLOBAL_TABLES, RUN_TABLES

    before = after = size_before = size_after = 0
    jobs = [(t, p) for t in GLOBAL_TABLES + RUN_TABLES for p in partitions(root, t)]
    for table, part in jobs:
        directory = table_dir(root, table, part)
        files = visible_files(directory)
        before += len(files)
        size_before += sum(_size(f) for f in files)
        if len(files) >= min_files:
            out = directory / f"c{os.getpid()}-{os.urandom(6).hex()}{MERGED_SUFFIX}"
            merge_files(root, table, part, files, out)
        remaining = visible_files(directory)
        after += len(remaining)
        size_after += sum(_size(f) for f in remaining)
        if progress is not None:
            progress(table, part)
    return CompactionResult(before, after, size_before, size_after)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
