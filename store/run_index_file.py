"""The rows of a store's in-memory run index, saved beside its files for the next process.

A process's first search of a store pays for opening DuckDB (~20 ms) and planning a statement
that adds up every run's events (~20 ms for a thousand runs): more than MLflow's SQLite takes to
answer. ``run_index`` holds what a set of files adds up to; this module keeps those rows in
``<store>/index/runs.json`` with the names of the files they came from, so that a search whose
listing finds exactly those files (for the experiments it reads) parses one JSON text instead.

The file is derived data, never needed: ``mltui compact`` writes it for what it leaves, as does a
process that loads a whole store's runs into memory. A listing that differs (anything was written
since), a file of another format, or one whose digest does not match its rows is ignored, and the
search reads the Parquet files. ``doctor`` reports an unreadable one and ``--fix`` removes it.

Layout: a first line of JSON naming the format, the files by table (paths relative to the store,
``/``-separated) and the rows' CRC; a second line of the rows (``RunIndexRows`` in order), each
part as its columns: a few long lists parse faster than many short ones, and the rows made of
them are tuples the cyclic collector can leave alone. A listing that does not match costs reading
the first line only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from store.layout import PARTITION_PREFIX, RUN_TABLES

log = logging.getLogger("mltui.store")

FOLDER = "index"
NAME = "runs.json"
FORMAT = 1
TABLES = ("runs", "experiments", "params", "tags", "metric_summaries")
# Values per row of each part: RunIndex's runs rows, then (run_id, key, 5 summary fields), then
# (run_id, key, value, number, lowered) for params and tags, then (experiment_id, kind, key).
_WIDTHS = (26, 7, 5, 5, 3)


class RunIndexRows(NamedTuple):
    """What ``RunIndex`` is made of (see ``run_index`` for each row's fields)."""

    runs: list[Sequence[Any]]
    metrics: list[Sequence[Any]]
    params: list[Sequence[Any]]
    tags: list[Sequence[Any]]
    keys: list[Sequence[Any]]  # every key each experiment's events named (``catalog``)


def path_of(root: Path) -> Path:
    return root / FOLDER / NAME


def _names(root: Path, paths: Sequence[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def _digest(body: bytes) -> int:
    """A check of the rows against damage (CRC-32: a fifth of a millisecond per megabyte)."""
    return zlib.crc32(body)


def save(root: Path, files: Mapping[str, Sequence[Path]], rows: RunIndexRows) -> None:
    """Write the rows a whole store's listing ``files`` adds up to, whole or not at all. A store
    this process cannot write (read-only, full) keeps its previous file: it is only a shortcut."""
    columns = [[list(c) for c in zip(*part)] if part else [[] for _ in range(width)] for part, width in zip(rows, _WIDTHS)]
    body = json.dumps(columns, ensure_ascii=False, separators=(",", ":")).encode()
    header = {"format": FORMAT, "files": {t: _names(root, files.get(t, ())) for t in TABLES}, "digest": _digest(body)}
    path = path_of(root)
    tmp: Path | None = None
    try:
        path.parent.mkdir(exist_ok=True)
        # A name of its own per save (processes and threads save at once); ``.*.tmp`` is what
        # ``doctor`` removes when a save died half-way.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{NAME}.", suffix=".tmp", delete=False) as out:
            tmp = Path(out.name)
            out.write(json.dumps(header, separators=(",", ":")).encode() + b"\n" + body)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("run index not saved in %s: %s", root, exc)
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def saved_digest(root: Path, files: Mapping[str, Sequence[Path]], experiment_ids: Sequence[str] | None) -> int | None:
    """The digest of the saved rows when they were made from exactly the files listed for these
    experiments (all: None), else None. The rows may hold other experiments' runs too: a search
    scopes them."""
    try:
        with open(path_of(root), "rb") as saved:
            header = json.loads(saved.readline())
        if header.get("format") == FORMAT and _same_files(root, header["files"], files, experiment_ids):
            return int(header["digest"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        pass  # no file, or not one of ours: ``doctor`` says which
    return None


def load(root: Path, digest: int) -> RunIndexRows | None:
    """The saved rows, or None when they are no longer those of ``digest`` or not sound."""
    try:
        _, body = _read(root)
        if _digest(body) != digest:
            return None
        parts = json.loads(body)
        if len(parts) == len(_WIDTHS) and all(
            len(columns) == width and len({len(c) for c in columns}) == 1 for columns, width in zip(parts, _WIDTHS)
        ):
            return RunIndexRows(*(list(zip(*columns)) for columns in parts))
    except (OSError, ValueError, TypeError):
        pass
    return None


def _same_files(
    root: Path, saved: Mapping[str, list[str]], files: Mapping[str, Sequence[Path]], experiment_ids: Sequence[str] | None
) -> bool:
    wanted = None if experiment_ids is None else {f"{PARTITION_PREFIX}{e}" for e in experiment_ids}
    for table in TABLES:
        names = saved[table]
        if wanted is not None and table in RUN_TABLES:
            names = [n for n in names if n.split("/", 2)[1] in wanted]
        listed = files.get(table, ())
        # Counts first: a store being written to differs at once, before any path is compared.
        if len(names) != len(listed) or names != _names(root, listed):
            return False
    return True


def _read(root: Path) -> tuple[Any, bytes]:
    """The saved file's header (parsed) and its rows' bytes."""
    with open(path_of(root), "rb") as saved:
        header = json.loads(saved.readline())
        return header, saved.read()


def problem(root: Path) -> str | None:
    """Why the saved file cannot be used by any listing, as ``doctor`` says it after "saved
    runs", or None: absent or sound."""
    try:
        header, body = _read(root)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return f"are unreadable ({str(exc).splitlines()[0]})"
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return "are not in this mltui's format"
    if _digest(body) != header.get("digest"):
        return "do not match their CRC (damaged or edited)"
    return None
