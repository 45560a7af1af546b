"""What a store's runs add up to (``run_index``), saved beside its files for the next process.

A process's first search of a store pays for importing and opening DuckDB (60-95 ms) and for a
statement that adds up every run's events (~20 ms for a thousand runs, ~0.2 s for 100,000): more
than MLflow's SQLite takes to answer a small store. ``run_index`` holds what a set of files adds
up to; this module keeps it in ``<store>/index/runs.bin`` with the names of the files it came
from, so that a search whose listing finds exactly those files (for the experiments it reads)
loads it instead, and ``mltui query`` on a compacted store never imports DuckDB.

The file is derived data, never needed: ``mltui compact`` writes it for what it leaves, as does a
process that loads a whole store's runs into memory. A listing that differs (anything was written
since), a file of another format, or one whose digest does not match its body is ignored, and the
search reads the Parquet files. ``doctor`` reports an unreadable one and ``--fix`` removes it.

Layout: a first line of JSON naming the format, the files by table (paths relative to the store,
``/``-separated) and the body's CRC-32; then the body, ``RunIndexData`` in Python's ``marshal``
format (version 4, read by every Python 3 since 3.4), each column a ``marshal`` text of its own
read when first used (``SavedColumns``): lists load at C speed, a quarter of JSON's time, and a
search of 10,000 runs decodes 1 MB of the 3 MB saved for them. ``marshal`` is not meant for
untrusted bytes: the CRC and a check of each column's shape guard against damage, and whoever can
write a store's files is trusted with its models already. A listing that does not match costs
reading the first line only.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import uuid
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from store.errors import MltuiError
from store.layout import PARTITION_PREFIX, RUN_TABLES

log = logging.getLogger("mltui.store")

FOLDER = "index"
NAME = "runs.bin"
FORMAT = 2
MARSHAL_VERSION = 4
TABLES = ("runs", "experiments", "params", "tags", "metric_summaries")
RUN_FIELDS = 26  # ``run_index``'s columns of a run: its RunInfo, experiment, and texts' readings
# Fields of each long view's key: a metric's summary (last, first, min, max, count); a param's or
# tag's text, its reading as a number and lowered.
LONG_FIELDS = {"metric_summaries": 5, "params": 3, "tags": 3}


class RunIndexData(NamedTuple):
    """What ``RunIndex`` is made of, column by column: lists, or ``SavedColumns`` once loaded."""

    size: int  # runs
    runs: Sequence[list[Any]]  # RUN_FIELDS columns, one value a run, in the store's default order
    # (view, key, runs with a value, columns): the runs' positions, then LONG_FIELDS[view] fields
    long: list[tuple[str, str, int, Sequence[list[Any]]]]
    keys: list[Sequence[str]]  # (experiment_id, kind, key): every key each experiment's events named
    experiments: list[Sequence[str]]  # (experiment_id, name) of every experiment, deleted ones too


class SavedColumns(Sequence[list[Any]]):
    """Columns of ``length`` values saved one ``marshal`` text each, read the first time one is
    asked for: a query reads a few of a run's 26 columns and none of most summary fields, and a
    short-lived process frees only what it read (freeing costs as much as reading).

    ``below``: the first column holds positions of runs, each under it. A column of the wrong
    shape behind a matching CRC is no damage but a file not ours: it fails the search clearly."""

    def __init__(self, texts: list[bytes], length: int, below: int | None = None) -> None:
        self._texts = texts
        self._read: list[list[Any] | None] = [None] * len(texts)
        self.length = length
        self._below = below

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: int) -> list[Any]:  # type: ignore[override]
        found = self._read[i]
        if found is None:  # two threads may both read it: the same list either way
            try:
                found = marshal.loads(self._texts[i])
                sound = type(found) is list and len(found) == self.length and (
                    i != 0 or self._below is None or not found or 0 <= min(found) <= max(found) < self._below
                )
            except (ValueError, EOFError, TypeError):
                sound = False
            if not sound:
                raise MltuiError(f"saved runs in {FOLDER}/{NAME} are not this mltui's: run `mltui doctor --fix`")
            self._read[i] = found
        return found


def path_of(root: Path) -> Path:
    return root / FOLDER / NAME


def _names(root: Path, paths: Sequence[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def _digest(body: bytes) -> int:
    """A check of the body against damage (CRC-32: a fifth of a millisecond per megabyte)."""
    return zlib.crc32(body)


def save(root: Path, files: Mapping[str, Sequence[Path]], data: RunIndexData) -> None:
    """Write what a whole store's listing ``files`` adds up to, whole or not at all. A store
    this process cannot write (read-only, full) keeps its previous file: it is only a shortcut."""
    body = marshal.dumps(_encoded(data), MARSHAL_VERSION)
    header = {"format": FORMAT, "files": {t: _names(root, files.get(t, ())) for t in TABLES}, "digest": _digest(body)}
    path = path_of(root)
    # A name of its own per save (processes and threads save at once), made with the store's
    # usual permissions; ``.*.tmp`` is what ``doctor`` removes when a save died half-way.
    tmp = path.with_name(f".{NAME}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        with open(tmp, "xb") as out:
            out.write(json.dumps(header, separators=(",", ":")).encode() + b"\n" + body)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("run index not saved in %s: %s", root, exc)
        tmp.unlink(missing_ok=True)


def _encoded(data: RunIndexData) -> tuple[Any, ...]:
    """``data`` as ``marshal`` writes it: each column a text of its own (``SavedColumns``), equal
    texts within one made one object, which ``marshal`` writes once and loads once (statuses,
    experiments, users, param values)."""
    seen: dict[str, str] = {}

    def one(values: list[Any]) -> bytes:
        return marshal.dumps([seen.setdefault(v, v) if type(v) is str else v for v in values], MARSHAL_VERSION)

    return (
        data.size,
        [one(c) for c in data.runs],
        [(view, key, count, [one(c) for c in columns]) for view, key, count, columns in data.long],
        [tuple(k) for k in data.keys],
        [tuple(e) for e in data.experiments],
    )


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


def load(root: Path, digest: int) -> RunIndexData | None:
    """The saved data (its columns read when first used), or None when it is no longer that of
    ``digest`` or not sound."""
    try:
        _, body = _read(root)
        if _digest(body) != digest:
            return None
        size, runs, long, keys, experiments = marshal.loads(body)
        if _sound(size, runs, long, keys, experiments):
            return RunIndexData(
                size,
                SavedColumns(runs, size),
                [(view, key, count, SavedColumns(texts, count, below=size)) for view, key, count, texts in long],
                keys,
                experiments,
            )
    except (OSError, ValueError, TypeError, EOFError):
        pass
    return None


def _sound(size: Any, runs: Any, long: Any, keys: Any, experiments: Any) -> bool:
    """Whether the loaded parts have the shape ``load`` expects (a file of ours with a matching
    CRC has; each column's own shape is checked when it is read)."""
    def texts(value: Any, count: int) -> bool:
        return isinstance(value, list) and len(value) == count and all(type(t) is bytes for t in value)

    return (
        type(size) is int
        and texts(runs, RUN_FIELDS)
        and isinstance(long, list)
        and all(
            isinstance(entry, tuple) and len(entry) == 4 and entry[0] in LONG_FIELDS and isinstance(entry[1], str)
            and type(entry[2]) is int and texts(entry[3], 1 + LONG_FIELDS[entry[0]])
            for entry in long
        )
        and all(isinstance(rows, list) and all(isinstance(r, tuple) and len(r) == width for r in rows)
                for rows, width in ((keys, 3), (experiments, 2)))
    )


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
    data = load(root, header["digest"])
    try:  # every column read, which checks its shape
        sound = data is not None and all(
            isinstance(column, list) for columns in (data.runs, *(c for *_, c in data.long)) for column in columns
        )
    except MltuiError:
        sound = False
    return None if sound else "are not in this mltui's format"
