"""Where everything lives inside a store folder, and how files get there atomically.

A store is a folder::

    mltui-store.json                      format marker {"format": "mltui", "version": 1}
    experiments/<writer>-<seq>.parquet    experiment events (create, rename, delete, restore)
    experiment_tags/...                   experiment tag events
    <table>/experiment_id=<id>/...        run events, params, tags, metric histories, summaries
    artifacts/<experiment_id>/<run_id>/   artifacts as plain files
    live/<run_id>                         liveness file of a running run (host, pid; mtime = heartbeat)
    locks/                                lock files for rare serialized writes (ids, compaction)

Every Parquet file is written under a dot-prefixed temporary name in its final folder and renamed
into place, so no reader ever sees half a file. Readers ignore names that start with a dot.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import StoreFormatError, ValidationError

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT_VERSION = 1
MARKER = "mltui-store.json"
PARTITION_PREFIX = "experiment_id="
HOSTNAME = platform.node()  # the host name, as ``socket.gethostname()`` gives it, without loading sockets

GLOBAL_TABLES = ("experiments", "experiment_tags")
RUN_TABLES = ("runs", "params", "tags", "metrics", "metric_summaries")


def default_store_path() -> str:
    return os.environ.get("MLTUI_STORE") or "mlstore"


def resolve_root(tracking_uri: str | Path | None) -> Path:
    """A store folder from a path or a ``file:`` URI (the only scheme a folder store has)."""
    text = str(tracking_uri if tracking_uri is not None else default_store_path())
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif text.startswith("file:"):
        text = text[len("file:") :]
    elif "://" in text or text.startswith(("sqlite:", "http:", "https:")):
        raise ValidationError(
            f"unsupported tracking URI {text!r}: mltui stores are folders (a path or file:// URI); "
            "to bring an MLflow database over, use `mltui import mlflow`"
        )
    return Path(text).expanduser()


@functools.lru_cache(maxsize=4096)
def table_dir(root: Path, table: str, experiment_id: str | None = None) -> Path:
    """Cached: every snapshot lists every folder, and building a Path costs microseconds."""
    if experiment_id is None:
        return root / table
    return root / table / f"{PARTITION_PREFIX}{experiment_id}"


def artifact_dir(root: Path, experiment_id: str, run_id: str) -> str:
    """As text: a search builds one per run it returns, and a Path costs ten times more."""
    return f"{_artifacts(root)}{os.sep}{experiment_id}{os.sep}{run_id}"


@functools.lru_cache(maxsize=64)
def _artifacts(root: Path) -> str:
    return os.path.join(root, "artifacts")


def check_store(root: Path) -> bool:
    """True when ``root`` is a store of our version, False when it does not exist yet.

    Anything else (a folder of something else, another format version) is an error naming it,
    never a silent misread. A marker read once is not read again while its file is unchanged:
    every snapshot checks it.
    """
    marker = root / MARKER
    try:
        st = os.stat(marker)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    if st is not None and _good_markers.get(marker) == (st.st_ino, st.st_size, st.st_mtime_ns):
        return True
    if st is None:
        if root.exists() and any(p for p in root.iterdir() if not p.name.startswith(".")):
            if any((root / t).is_dir() for t in GLOBAL_TABLES + RUN_TABLES):
                raise StoreFormatError(f"{root}: store marker {MARKER} is missing")
            raise StoreFormatError(
                f"{root} is not an mltui store (no {MARKER}); choose an empty or new folder"
            )
        return False
    try:
        info = json.loads(marker.read_text())
        version = int(info["version"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreFormatError(f"{marker}: unreadable store marker ({exc})") from None
    if info.get("format") != "mltui":
        raise StoreFormatError(f"{marker}: not an mltui store marker")
    if version != FORMAT_VERSION:
        newer = "newer" if version > FORMAT_VERSION else "older"
        raise StoreFormatError(
            f"{root} is a store of format version {version}, {newer} than this mltui "
            f"(format {FORMAT_VERSION}); use a matching mltui release"
        )
    _good_markers[marker] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return True


_good_markers: dict[Path, tuple[int, int, int]] = {}


def init_store(root: Path) -> None:
    """Create the store folder and its marker if missing (idempotent, safe to race)."""
    if check_store(root):
        return
    root.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(
        root / MARKER, json.dumps({"format": "mltui", "version": FORMAT_VERSION}).encode()
    )


def write_bytes_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write a small file whole or not at all; ``durable`` also survives a power cut (fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


# Files of fewer rows are written uncompressed: zstd costs ~0.5 ms a file to set up (a context per
# column), a third of writing the few rows a run's start, end or a flush of its events makes, and
# such files are soon merged into compressed ones.
COMPRESSED_FROM_ROWS = 1000
# Rows per row group. Each group keeps the min and max of every column, so a read of one run from
# a merged file sorted by run (its history, its params) decodes one group, not the whole file:
# a 5-point history in a store of 100,000 runs took 33 ms with the file one group of 1,000,000.
ROW_GROUP_ROWS = 32_768


def write_parquet_atomic(
    path: Path,
    table: pa.Table,
    metadata: dict[bytes, bytes] | None = None,
    sort_by: list[str] | None = None,
) -> None:
    """Write one Parquet file so that it appears whole or not at all."""
    publish([(stage_parquet(path, table, metadata, sort_by), path)])


def stage_parquet(
    path: Path,
    table: pa.Table,
    metadata: dict[bytes, bytes] | None = None,
    sort_by: list[str] | None = None,
) -> Path:
    """Write a Parquet file under a temporary name next to ``path``; ``publish`` puts it there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    if sort_by:
        table = table.sort_by([(c, "ascending") for c in sort_by])
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    tmp = path.with_name(f".{path.name}.tmp")
    encodings = {
        f.name: "DELTA_BINARY_PACKED" if pa.types.is_integer(f.type) else "BYTE_STREAM_SPLIT"
        for f in table.schema
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
    }
    try:
        pq.write_table(
            table,
            str(tmp),
            compression="zstd" if table.num_rows >= COMPRESSED_FROM_ROWS else "none",
            use_dictionary=[c for c in table.column_names if c not in encodings],
            column_encoding=encodings or None,
            write_statistics=True,
            row_group_size=ROW_GROUP_ROWS,
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def publish(staged: list[tuple[Path, Path]]) -> None:
    """Move staged files (temporary name, final name) into place, in order, once all of them are
    on disk: one fsync after another costs less than a write and an fsync in turn (a run's end
    writes three files), and a reader never sees a file before the ones listed ahead of it.

    On a failure no staged file is left behind: those already moved stay, the others are gone.
    """
    try:
        for tmp, _ in staged:
            fd = os.open(tmp, os.O_RDWR)  # writable: fsync needs it on some systems (Windows)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise


def parquet_files(directory: Path) -> list[Path]:
    """The visible Parquet files of one folder (temporary dot-files excluded), sorted by name."""
    try:
        with os.scandir(directory) as it:
            names = sorted(e.path for e in it if e.name.endswith(".parquet") and not e.name.startswith("."))
    except FileNotFoundError:
        return []
    return [_path(name) for name in names]


@functools.lru_cache(maxsize=65536)
def _path(name: str) -> Path:
    """The same Path for the same file name: a search lists every file of the store, and
    parsing a path costs more than the directory scan."""
    return Path(name)


def partitions(root: Path, table: str) -> list[str | None]:
    """Experiment ids that have a folder under ``table`` (``[None]`` for global tables)."""
    if table in GLOBAL_TABLES:
        return [None]
    try:
        with os.scandir(table_dir(root, table)) as it:
            return sorted(
                e.name[len(PARTITION_PREFIX) :]
                for e in it
                if e.is_dir() and e.name.startswith(PARTITION_PREFIX)
            )
    except FileNotFoundError:
        return []
