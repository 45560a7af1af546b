"""The write path: in-memory buffers, a background flush, one Parquet file per flush.

Training loops call ``log_metric`` millions of times, so a call only appends a tuple to a list
(atomic under the GIL, no lock). A daemon thread swaps the lists out about once a second (or
sooner when a buffer passes ``MAX_BUFFERED_POINTS``) and writes them as new files named
``<writer id>-<seq>.parquet``: no two processes ever write the same name, so any number of them
log into one store with no lock on this path. A write that fails (disk full, NFS hiccup) keeps its
data queued and is retried at the next flush; training is never interrupted by it.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from store import compaction, liveness, writers
from store.layout import publish, stage_parquet, table_dir
from store.schemas import SCHEMAS
from store.summaries import summarize

log = logging.getLogger("mltui.store")

MAX_BUFFERED_POINTS = 200_000
OWN_SEGMENTS_BEFORE_MERGE = 16
# A run's end merges its flush files from this many on: fewer stay until a later run's end. A
# short run's end writes one small file per table (runs, params, tags), so a sweep of short runs
# merges each table every eighth run, not at each (~1 ms of a run's 4-5 ms end).
OWN_SEGMENTS_AT_RUN_END = 8
# Flush files of at most this many rows are also kept in memory until merged (a run's events).
KEPT_ROWS = 1000


def flush_interval() -> float:
    try:
        return max(0.05, float(os.environ.get("MLTUI_FLUSH_INTERVAL", "1.0")))
    except ValueError:
        return 1.0


class RunBuffer:
    """The metric points of one run not yet written.

    ``points`` (tuples from ``log_metric``) and ``batches`` (Arrow arrays of ``POINT_TYPE``
    from ``log_batch``, already converted while validating) are the same lists for the buffer's
    whole life: the flush takes items off their front, so the logging hot path may hold on to
    them.
    """

    __slots__ = ("run_id", "experiment_id", "points", "batches", "writer")

    def __init__(self, writer: Writer, run_id: str, experiment_id: str) -> None:
        self.writer = writer
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.points: list[tuple[str, float, int, int]] = []
        self.batches: list[pa.StructArray] = []

    def add(self, key: str, value: float, step: int, timestamp: int) -> None:
        points = self.points
        points.append((key, value, step, timestamp))
        if len(points) >= MAX_BUFFERED_POINTS:
            self.writer.wake()


class Writer:
    """One per process and store: owns the buffers, the flush thread and this writer's files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._buffers: dict[str, RunBuffer] = {}
        self._start()
        # multiprocessing's children end with os._exit (no atexit) after clearing inherited
        # finalizers; a finalizer registered once the child has started does run at its exit:
        # one now (a writer a child creates) and one in every child forked from here.
        from multiprocessing import util

        _flush_at_child_exit(self)
        util.register_after_fork(self, _flush_at_child_exit)

    def _start(self) -> None:
        """A fresh identity, empty queues and a flush thread (at creation, and in a forked child)."""
        self.writer_id = uuid.uuid4().hex[:12]
        self._seq = itertools.count()
        self._last_us = 0
        self._events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._events_lock = threading.Lock()
        self._flush_lock = threading.RLock()
        self._ready: list[tuple[str, str | None, pa.Table]] = []
        # This writer's files per partition and merge tier (0: one flush; t+1: 16 of tier t).
        self._own: dict[tuple[str, str | None, int], list[Path]] = defaultdict(list)
        # The rows of this writer's small flush files, so that merging them reads nothing back.
        self._written: dict[Path, pa.Table] = {}
        self._wake = threading.Event()
        self._closed = False
        self._warned = False
        for buf in self._buffers.values():
            buf.points.clear()
            buf.batches.clear()
        self._thread = threading.Thread(
            target=self._loop, name=f"mltui-flush-{self.writer_id}", daemon=True
        )
        self._thread.start()

    # ---------------------------------------------------------------- recording

    def event_time(self) -> int:
        """Microseconds, strictly increasing within this writer: the order of its events."""
        now = time.time_ns() // 1000
        self._last_us = now = max(now, self._last_us + 1)
        return now

    def record(self, table: str, row: dict[str, Any]) -> None:
        """Queue one event row (run status, param, tag, experiment change) for the next flush."""
        with self._events_lock:
            if "event_time" in SCHEMAS[table].names:
                row["event_time"] = self.event_time()
            self._events[table].append(row)

    def buffer(self, run_id: str, experiment_id: str) -> RunBuffer:
        buf = self._buffers.get(run_id)
        if buf is None:
            buf = self._buffers[run_id] = RunBuffer(self, run_id, experiment_id)
        return buf

    def release(self, run_id: str) -> None:
        """Forget a run's buffer once its last points were flushed (after ``flush``)."""
        buf = self._buffers.get(run_id)
        if buf is not None and not buf.points:
            del self._buffers[run_id]
            if not self._buffers:
                # A dict never shrinks: one that held 100,000 runs' buffers at once would cost
                # every later flush a pass over its empty slots (35 us, in every history read).
                self._buffers = {}

    def wake(self) -> None:
        self._wake.set()

    def append_table(self, table: str, part: str | None, data: pa.Table) -> None:
        """Queue a whole Arrow table of rows (a bulk import), written by the next flush."""
        data = data.select(SCHEMAS[table].names).cast(SCHEMAS[table])
        with self._flush_lock:
            self._ready.append((table, part, data))
            if table == "metrics":
                self._ready.append(("metric_summaries", part, summarize(data)))

    # ---------------------------------------------------------------- flushing

    def flush(self, merge: bool = False) -> bool:
        """Write everything queued; True when nothing is left pending.

        With ``merge`` the writer then merges its own small segment files (at the end of a
        run), so a finished run leaves a few files rather than one per second it ran.
        """
        with self._flush_lock:
            self._stage()
            self._write_ready()
            if merge or any(len(v) >= OWN_SEGMENTS_BEFORE_MERGE for v in self._own.values()):
                self._merge_own(everything=merge)
            if merge:
                compaction.auto_compact(self.root, {(t, p) for t, p, _ in self._own})
            return not self._ready

    def _stage(self) -> None:
        """Turn buffers and queued events into Arrow tables, ready to be written."""
        with self._events_lock:
            events, self._events = self._events, defaultdict(list)
        for table, rows in events.items():
            by_part: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
            for row in rows:
                by_part[row.get("experiment_id") if table != "experiments" else None].append(row)
            if table == "experiment_tags":
                by_part = {None: rows}
            for part, part_rows in by_part.items():
                self._ready.append(
                    (table, part, pa.Table.from_pylist(part_rows, schema=SCHEMAS[table]))
                )
        by_exp: dict[str, list[tuple[str, list[pa.StructArray]]]] = defaultdict(list)
        for buf in list(self._buffers.values()):
            arrays = [pa.array(chunk, POINT_TYPE) for chunk in [_take(buf.points)] if chunk]
            arrays += _take(buf.batches)
            if arrays:
                by_exp[buf.experiment_id].append((buf.run_id, arrays))
        for experiment_id, runs in by_exp.items():
            points_table = _points_table(experiment_id, runs)
            self._ready.append(("metrics", experiment_id, points_table))
            self._ready.append(("metric_summaries", experiment_id, summarize(points_table)))

    def _write_ready(self) -> None:
        """Write the queued tables, one file each, published together (runs last: a reader
        never sees a run's end before the params and tags it logged). What fails stays queued."""
        batch = sorted(self._ready, key=lambda item: item[0] == "runs")
        staged: list[tuple[Path, Path]] = []
        complete = False
        try:
            for table, part, data in batch:
                path = table_dir(self.root, table, part) / f"{self.writer_id}-{next(self._seq):06d}.parquet"
                # Rows are written in logging order (sorting a million points costs most of a
                # second of this thread, sorting a run's few events a third of writing them);
                # merges sort them for reading.
                staged.append((stage_parquet(path, data), path))
            publish(staged)
            complete = True
            self._warned = False
        except OSError as exc:
            if not self._warned:
                log.warning("mltui: could not write to %s (%s); keeping the data, will retry", self.root, exc)
                self._warned = True
        finally:
            # Whatever stopped the flush (an error, Ctrl-C in end_run), a file now in place is
            # this writer's and leaves the queue; the others are queued again, from scratch.
            if not complete:
                for tmp, _ in staged:
                    tmp.unlink(missing_ok=True)
            written = set()
            for (table, part, data), (_, path) in zip(batch, staged):
                if complete or path.exists():
                    written.add(id(data))
                    self._own[(table, part, 0)].append(path)
                    if data.num_rows <= KEPT_ROWS:
                        self._written[path] = data
            self._ready = [item for item in self._ready if id(item[2]) not in written]

    def _merge_own(self, everything: bool) -> None:
        """Merge this writer's files tier by tier, so a long run keeps a few files per table and
        no merge rewrites more than it must (each point is rewritten once per tier, ~log16 n
        times). At the end of a run (``everything``) its flush files are merged from
        ``OWN_SEGMENTS_AT_RUN_END`` on; merged files larger than ``compaction.MERGE_BYTES`` are
        left as they are.
        """
        for (table, part, tier), listed in sorted(self._own.items(), key=lambda item: item[0][2]):
            needed = OWN_SEGMENTS_AT_RUN_END if everything and tier == 0 else OWN_SEGMENTS_BEFORE_MERGE
            if len(listed) < needed:
                continue
            files = [f for f in listed if f.exists()]
            self._forget(set(listed) - set(files))
            if len(files) < needed or sum(_size(f) for f in files) > compaction.MERGE_BYTES:
                self._own[(table, part, tier)] = files
                continue
            out = table_dir(self.root, table, part) / (
                f"{self.writer_id}-{next(self._seq):06d}{compaction.MERGED_SUFFIX}"
            )
            try:
                merged = compaction.merge_files(
                    self.root, table, part, files, out, blocking=False, known=self._written
                )
            except OSError as exc:
                log.warning("mltui: could not merge segment files of %s (%s)", table, exc)
                continue
            if merged:
                self._forget(files)
                self._own[(table, part, tier)] = []
                self._own[(table, part, tier + 1)].append(out)

    def _forget(self, files: Iterable[Path]) -> None:
        """Drop the kept rows of files merged or gone."""
        for f in files:
            self._written.pop(f, None)

    # ---------------------------------------------------------------- the thread

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(flush_interval())
            self._wake.clear()
            try:
                self.flush()
                liveness.heartbeat(self.root, list(self._buffers))
            except Exception:  # the flush thread must never die; the data stays queued
                log.exception("mltui: background flush failed; will retry")

    def close(self) -> None:
        """Final flush at interpreter exit; retried a few times if the disk refuses."""
        self._closed = True
        self._wake.set()
        for _ in range(3):
            try:
                if self.flush():
                    return
            except Exception:
                log.exception("mltui: final flush failed")
            time.sleep(0.2)
        log.error("mltui: %d pending file(s) could not be written to %s", len(self._ready), self.root)

def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


POINT_TYPE = pa.struct(
    [("key", pa.string()), ("value", pa.float64()), ("step", pa.int64()), ("timestamp", pa.int64())]
)


def _take(items: list) -> list:
    """The items now in a list shared with logging threads, removed from it.

    Never swap the list: a logging thread may hold it between reading the attribute and
    appending. Copying then deleting the first n items is safe (each is one atomic list
    operation under the GIL; appends only ever land after them).
    """
    n = len(items)
    chunk = items[:n]
    del items[:n]
    return chunk


def _points_table(experiment_id: str, runs: list[tuple[str, list[pa.StructArray]]]) -> pa.Table:
    """The buffered points as a metrics table, built in Arrow's C++ (no Python loop holding the
    GIL the training loop needs)."""
    tables = []
    for run_id, arrays in runs:
        key, value, step, timestamp = pa.concat_arrays(arrays).flatten()
        n = len(key)
        tables.append(
            pa.Table.from_arrays(
                [
                    pa.repeat(pa.scalar(experiment_id, pa.string()), n),
                    pa.repeat(pa.scalar(run_id, pa.string()), n),
                    key,
                    step,
                    timestamp,
                    value,
                ],
                schema=SCHEMAS["metrics"],
            )
        )
    return pa.concat_tables(tables)


def _flush_at_child_exit(writer: Writer) -> None:
    from multiprocessing import util

    util.Finalize(writer, writer.close, exitpriority=10)


def writer_for(root: Path) -> Writer:
    """The process's writer for a store (created on first use, closed at exit)."""
    root = root.resolve()
    with writers.lock:
        w = writers.by_root.get(root)
        if w is None or w._closed:
            w = writers.by_root[root] = Writer(root)
        return w


@atexit.register
def _close_all() -> None:
    for w in list(writers.by_root.values()):
        w.close()


def _after_fork() -> None:
    """A forked child keeps its parent's writers (runs hold their buffers) with a new identity.

    The parent's queued data stays the parent's to write: the child starts with empty queues, its
    own file names (a new writer id) and its own flush thread, so both can log to one run. A child
    that leaves through ``os._exit`` without multiprocessing must call ``store.flush()`` first.
    """
    for w in list(writers.by_root.values()):
        w._start()


os.register_at_fork(after_in_child=_after_fork)
