"""Which Parquet files of a partition a reader reads: a torn-free listing, merged inputs left out.

A merged file names the files it replaces in its Parquet footer (``mltui.replaces``, see
``compaction``). The footer is read by whichever of pyarrow and DuckDB the process has loaded:
``mltui query`` starts without pyarrow, and a script's first search may need no DuckDB.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from store import duck
from store.layout import parquet_files

MERGED_SUFFIX = "-merged.parquet"
REPLACES_KEY = b"mltui.replaces"

_replaces_cache: dict[tuple[str, int, int], frozenset[str]] = {}


def replaced_by(path: Path) -> frozenset[str]:
    """Names of the files a merged file replaces (read once from its footer, then cached).

    Raises FileNotFoundError when the file is gone, ValueError when its footer is damaged, and
    OSError when the system failed to read it (too many open files, permissions, I/O): a reader
    must fail then, not read the store as if the file and the rows it holds were not there.
    """
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    names = _replaces_cache.get(key)
    if names is None:
        try:
            found = _footer_value(path, REPLACES_KEY)
        except (OSError, ValueError, *_duckdb_errors()) as exc:
            if not path.exists():
                raise FileNotFoundError(str(path)) from exc
            if not is_damage(exc):
                raise OSError(f"could not read the footer of {path}: {exc}") from exc
            raise ValueError(f"{path}: {str(exc).splitlines()[0]}") from exc
        names = frozenset(json.loads(found)) if found is not None else frozenset()
        _replaces_cache[key] = names
    return names


def is_damage(exc: BaseException) -> bool:
    """True when a read failed because of the file's bytes, not because of the system.

    Arrow reports bad Parquet as ``ArrowInvalid`` (a ``ValueError``) or as an ``OSError`` without
    an errno (decompression, thrift), DuckDB as any error but its ``IOException``. A real OS error
    (missing file, permission, too many open files, I/O) carries an errno, or is DuckDB's
    ``IOException``: it must neither get a healthy file quarantined nor its rows left out.
    """
    if isinstance(exc, OSError):
        return exc.errno is None
    duckdb = sys.modules.get("duckdb")  # not loaded: the error cannot be one of DuckDB's
    if duckdb is not None and isinstance(exc, duckdb.IOException):
        return False
    return isinstance(exc, (ValueError, *_duckdb_errors()))


def _duckdb_errors() -> tuple[type[Exception], ...]:
    """DuckDB's base error when the process has loaded DuckDB (else none of its errors can occur)."""
    duckdb = sys.modules.get("duckdb")
    return (duckdb.Error,) if duckdb is not None else ()


def _footer_value(path: Path, key: bytes) -> bytes | str | None:
    """A key of a Parquet footer, read by pyarrow when the process has loaded it (the store API
    has), else by DuckDB: neither is opened only for this (DuckDB costs a new process ~20 ms to
    open, pyarrow ~100 ms to import)."""
    pq = sys.modules.get("pyarrow.parquet")
    if pq is not None:
        return (pq.read_metadata(path).metadata or {}).get(key)
    con = duck.cursor()
    try:
        found = con.execute("SELECT value FROM parquet_kv_metadata(?) WHERE key = ?", [str(path), key]).fetchall()
    finally:
        con.close()
    return found[0][0] if found else None


def _stable_listing(directory: Path) -> list[Path]:
    """A listing that no concurrent merge tore.

    A merge creates its output and then deletes its inputs; a directory scan running meanwhile
    may miss a file created during it and also one deleted during it, and so lose rows. Two
    scans in a row that agree rule that out, since a file created during the first scan is
    certainly in the second.
    """
    files = parquet_files(directory)
    for _ in range(50):
        again = parquet_files(directory)
        if again == files:
            return files
        files = again
    return files


def visible_files(
    directory: Path, damaged: Iterable[Path] = (), seen_together: Callable[[Path], Collection[str]] | None = None
) -> list[Path]:
    """The files of a partition a reader should read: merged inputs and damaged files left out.

    ``seen_together(directory)``: names of files of the partition a listing that read their
    footers found visible at once (``run_index_file.listed``). None of them replaces another,
    so when every file listed now is among them no footer is read: a compacted store whose
    histories span several large merged files is listed without loading a Parquet reader.

    Raises FileNotFoundError when a merged file vanished while being looked at (a concurrent
    compaction replaced it): the caller lists again.
    """
    files = _stable_listing(directory)
    skip = {p.name for p in damaged}
    merged = [f for f in files if f.name.endswith(MERGED_SUFFIX) and f.name not in skip]
    if (
        len(files) < 2
        or not merged
        or (seen_together is not None and {f.name for f in files} <= set(seen_together(directory)))
    ):
        # A lone file replaces nothing listed, nor do files that are no merge's output: a
        # compacted partition is read without opening a footer (or loading a Parquet reader at
        # all); a damaged one is found by the read.
        return [f for f in files if f.name not in skip]
    excluded: set[str] = set()
    for f in merged:
        try:
            excluded |= replaced_by(f)
        except ValueError as exc:
            warnings.warn(f"mltui: skipping damaged merged file {exc}", stacklevel=2)
            skip.add(f.name)
    return [f for f in files if f.name not in excluded and f.name not in skip]
