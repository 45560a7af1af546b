"""What a store's runs add up to (``run_index``), saved beside its files for the next process.

A process's first search of a store pays for importing and opening DuckDB (60-95 ms) and for a
statement that adds up every run's events (~20 ms for a thousand runs, ~0.1 s for 100,000): more
than MLflow's SQLite takes to answer a small store. ``run_index`` holds what a set of files adds
up to; this module keeps it in ``<store>/index/runs.bin`` with the names of the files it came
from, so that a search whose listing finds exactly those files (for the experiments it reads)
loads it instead, and ``mltui query`` on a compacted store never imports DuckDB.

The file is derived data, never needed: ``mltui compact`` writes it for what it leaves, as does a
process that loads a whole store's runs into memory. A listing that differs (anything was written
since), a file of another format, or a part whose CRC does not match is ignored, and the search
reads the Parquet files. ``doctor`` reports an unreadable one and ``--fix`` removes it.

Layout: a first line of JSON naming the format, the files by table (paths relative to the store,
``/``-separated), the number of values, and where the contents are; then the body: each column
of ``RunIndexData`` a text in Python's ``marshal`` format (version 4, read by every Python 3
since 3.4), and last the contents, a ``marshal`` text of the columns' places and CRC-32s with the
keys and experiments. A search reads the contents, then only the columns it uses, each checked
against its CRC and for its shape when first read (``SavedColumns``): a query of 100,000 runs
reads 11 MB of the 30 MB saved for them. Lists load at C speed, a quarter of JSON's time.
``marshal`` is not meant for untrusted bytes: the CRCs and shape checks guard against damage, and
whoever can write a store's files is trusted with its models already. A listing that does not
match costs reading the first line only.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import uuid
import weakref
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from store.errors import MltuiError
from store.layout import PARTITION_PREFIX, RUN_TABLES

log = logging.getLogger("mltui.store")

FOLDER = "index"
NAME = "runs.bin"
FORMAT = 3
MARSHAL_VERSION = 4
TABLES = ("runs", "experiments", "params", "tags", "metric_summaries")
RUN_FIELDS = 26  # ``run_index``'s columns of a run: its RunInfo, experiment, and texts' readings
# Fields of each long view's key: a metric's summary (last, first, min, max, count); a param's or
# tag's text, its reading as a number and lowered.
LONG_FIELDS = {"metric_summaries": 5, "params": 3, "tags": 3}
Part = tuple[int, int, int]  # where a text is in the body: offset, length, CRC-32


class RunIndexData(NamedTuple):
    """What ``RunIndex`` is made of, column by column: lists, or ``SavedColumns`` once loaded."""

    size: int  # runs
    runs: Sequence[list[Any]]  # RUN_FIELDS columns, one value a run, in the store's default order
    # (view, key, runs with a value, columns): the runs' positions in ascending order, then
    # LONG_FIELDS[view] fields
    long: list[tuple[str, str, int, Sequence[list[Any]]]]
    keys: list[Sequence[str]]  # (experiment_id, kind, key): every key each experiment's events named
    experiments: list[Sequence[str]]  # (experiment_id, name) of every experiment, deleted ones too

    @property
    def values(self) -> int:
        """What the data holds, counted as ``run_index.MAX_VALUES`` counts: runs and long values."""
        return self.size + sum(count for _, _, count, _ in self.long)


class Saved(NamedTuple):
    """A saved file's first line, when it was made from the files a search lists."""

    contents: Part
    values: int
    start: int  # where the body begins: the first line's length


class Damaged(MltuiError):
    """A saved column that does not match its CRC (its bytes damaged on disk): the search reads
    the store's files instead."""


class SavedColumns(Sequence[list[Any]]):
    """Columns of ``length`` values saved one ``marshal`` text each, read from the file the
    first time one is asked for: a query reads a few of a run's 26 columns and none of most
    summary fields, and a short-lived process frees only what it read (freeing costs as much as
    reading).

    ``below``: the first column holds positions of runs, each under it, saved as None when
    every run has a value (``range(below)``, neither written nor read). A column of the wrong
    shape behind a matching CRC is no damage but a file not ours: it fails the search clearly."""

    def __init__(self, body: _Opened, parts: list[Part], length: int, below: int | None = None) -> None:
        self._body = body
        self._parts = parts
        self._read: list[list[Any] | None] = [None] * len(parts)
        self.length = length
        self._below = below

    def __len__(self) -> int:
        return len(self._parts)

    def __getitem__(self, i: int) -> list[Any]:  # type: ignore[override]
        found = self._read[i]
        if found is None:  # two threads may both read it: the same list either way
            found = self._read[i] = self._decoded(i, self._body.text(self._parts[i]))
        return found

    def _decoded(self, i: int, text: bytes) -> list[Any]:
        try:
            found = marshal.loads(text)
            if found is None and i == 0 and self.length == self._below:
                return range(self.length)  # type: ignore[return-value]
            sound = type(found) is list and len(found) == self.length and (
                i != 0 or self._below is None or not found or 0 <= min(found) <= max(found) < self._below
            )
        except (ValueError, EOFError, TypeError):
            sound = False
        if not sound:
            raise MltuiError(f"saved runs in {FOLDER}/{NAME} are not this mltui's: run `mltui doctor --fix`")
        return found


class _Opened:
    """The saved file as ``load`` opened it, kept open (closed with the last of its columns):
    every column a search reads comes from that one save, whatever replaces the file since, and
    costs one read, not an open."""

    def __init__(self, root: Path, start: int) -> None:
        self._fd = os.open(path_of(root), os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)
        self._start = start

    def text(self, part: Part) -> bytes:
        """One text of the body, checked against its CRC (``Damaged`` when it does not match)."""
        offset, length, crc = part
        try:
            text = os.pread(self._fd, length, self._start + offset)
        except (OSError, ValueError, OverflowError) as exc:
            raise Damaged(f"saved runs unreadable: {exc}") from exc
        if len(text) != length or zlib.crc32(text) != crc:
            raise Damaged(f"saved runs in {FOLDER}/{NAME} damaged")
        return text


def path_of(root: Path) -> Path:
    return root / FOLDER / NAME


def _names(root: Path, paths: Sequence[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def save(root: Path, files: Mapping[str, Sequence[Path]], data: RunIndexData) -> None:
    """Write what a whole store's listing ``files`` adds up to, whole or not at all. A store
    this process cannot write (read-only, full) keeps its previous file: it is only a shortcut.
    Each column is encoded in turn, so a column of ``data`` made on demand is held only while
    it is encoded."""
    body = _Body()
    runs = body.columns(data.runs)
    long = [(view, key, count, body.columns(columns, every=data.size)) for view, key, count, columns in data.long]
    contents = body.add(marshal.dumps(
        (data.size, runs, long, [tuple(k) for k in data.keys], [tuple(e) for e in data.experiments]), MARSHAL_VERSION
    ))
    listing = {**dict.fromkeys(TABLES, ()), **files}  # the histories' too: ``listed``
    header = {"format": FORMAT, "files": {t: _names(root, f) for t, f in listing.items()},
              "values": data.values, "contents": contents}
    path = path_of(root)
    # A name of its own per save (processes and threads save at once), made with the store's
    # usual permissions; ``.*.tmp`` is what ``doctor`` removes when a save died half-way.
    tmp = path.with_name(f".{NAME}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        with open(tmp, "xb") as out:
            out.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
            out.writelines(body.texts)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("run index not saved in %s: %s", root, exc)
        tmp.unlink(missing_ok=True)


class _Body:
    """The texts of the body, each with its place."""

    def __init__(self) -> None:
        self.texts: list[bytes] = []
        self._at = 0

    def add(self, text: bytes) -> Part:
        self.texts.append(text)
        part = (self._at, len(text), zlib.crc32(text))
        self._at += len(text)
        return part

    def columns(self, columns: Iterable[list[Any]], every: int | None = None) -> list[Part]:
        """Each column's text, equal strings within it made one object, which ``marshal``
        writes once and loads once (statuses, experiments, users, param values). With
        ``every``, the first column holds positions: None when they are all of ``every``."""
        parts = []
        for i, values in enumerate(columns):
            if i == 0 and every is not None and len(values) == every and list(values) == list(range(every)):
                parts.append(self.add(marshal.dumps(None, MARSHAL_VERSION)))
                continue
            seen: dict[str, str] = {}
            parts.append(self.add(marshal.dumps(
                [seen.setdefault(v, v) if type(v) is str else v for v in values], MARSHAL_VERSION
            )))
        return parts


def saved(root: Path, files: Mapping[str, Sequence[Path]], experiment_ids: Sequence[str] | None) -> Saved | None:
    """Where the saved runs' contents are and how many values they hold, when they were made
    from exactly the files listed for these experiments (all: None), else None. The runs may
    be other experiments' too: a search scopes them."""
    try:
        with open(path_of(root), "rb") as file:
            line = file.readline()
        header = json.loads(line)
        if header.get("format") == FORMAT and _same_files(root, header["files"], files, experiment_ids):
            offset, length, crc = header["contents"]
            return Saved((int(offset), int(length), int(crc)), int(header["values"]), len(line))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        pass  # no file, or not one of ours: ``doctor`` says which
    return None


def listed(root: Path) -> Mapping[str, frozenset[str]]:
    """The names of the files the saved runs were made from (the histories' too), by folder
    relative to the store: files one listing found visible together (``listing.visible_files``).
    Empty without a saved file of this format. Read again only when the file changed."""
    try:
        with open(path_of(root), "rb") as file:
            st = os.fstat(file.fileno())
            key = (str(root), st.st_ino, st.st_mtime_ns, st.st_size)
            found = _listed.get(key)
            if found is None:  # threads may read it at once: the same answer either way
                found = _folders(json.loads(file.readline()))
                _listed.clear()
                _listed[key] = found
            return found
    except (OSError, ValueError):
        return {}


_listed: dict[tuple[str, int, int, int], Mapping[str, frozenset[str]]] = {}


def _folders(header: Any) -> Mapping[str, frozenset[str]]:
    try:
        if header.get("format") != FORMAT:
            return {}
        folders: dict[str, set[str]] = {}
        for names in header["files"].values():
            for name in names:
                folder, _, file_name = name.rpartition("/")
                folders.setdefault(folder, set()).add(file_name)
        return {folder: frozenset(names) for folder, names in folders.items()}
    except (TypeError, KeyError, AttributeError):
        return {}


def load(root: Path, saved: Saved) -> RunIndexData | None:
    """The saved data (its columns read when first used), or None when the file no longer
    holds these contents or they are not sound."""
    try:
        body = _Opened(root, saved.start)
        size, runs, long, keys, experiments = marshal.loads(body.text(saved.contents))
        if _sound(size, runs, long, keys, experiments):
            return RunIndexData(
                size,
                SavedColumns(body, runs, size),
                [(view, key, count, SavedColumns(body, parts, count, below=size)) for view, key, count, parts in long],
                keys,
                experiments,
            )
    except (OSError, Damaged, ValueError, TypeError, EOFError):
        pass
    return None


def _sound(size: Any, runs: Any, long: Any, keys: Any, experiments: Any) -> bool:
    """Whether the contents have the shape ``load`` expects (a file of ours with a matching
    CRC has; each column's own shape is checked when it is read)."""
    def parts(value: Any, count: int) -> bool:
        return isinstance(value, list) and len(value) == count and all(
            type(p) is tuple and len(p) == 3 and all(type(n) is int for n in p) for p in value
        )

    return (
        type(size) is int
        and parts(runs, RUN_FIELDS)
        and isinstance(long, list)
        and all(
            isinstance(entry, tuple) and len(entry) == 4 and entry[0] in LONG_FIELDS and isinstance(entry[1], str)
            and type(entry[2]) is int and parts(entry[3], 1 + LONG_FIELDS[entry[0]])
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


def problem(root: Path) -> str | None:
    """Why the saved file cannot be used by any listing, as ``doctor`` says it after "saved
    runs", or None: absent or sound."""
    try:
        with open(path_of(root), "rb") as file:
            line = file.readline()
        header = json.loads(line)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return f"are unreadable ({str(exc).splitlines()[0]})"
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return "are not in this mltui's format"
    try:
        data = load(root, Saved(tuple(header["contents"]), 0, len(line)))  # type: ignore[arg-type]
        if data is None:
            return "do not match their CRC (damaged or edited)"
        for columns in (data.runs, *(c for *_, c in data.long)):
            for i in range(len(columns)):
                columns[i]  # read: checked against its CRC and for its shape
    except Damaged:
        return "do not match their CRC (damaged or edited)"
    except (MltuiError, KeyError, TypeError, ValueError):
        return "are not in this mltui's format"
    return None
