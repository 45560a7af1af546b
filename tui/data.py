"""Every read the dashboard makes, as plain functions over a shared ``StoreReader``.

These run in thread workers, never on the event loop, and return plain values or Arrow tables;
the dashboard builds no SQL (the store's search, series and watch modules do). The reader keeps
one snapshot of the store for all of them until the store's fingerprint moves, so typing a filter
or opening a plot does not pay for listing and opening the store's files again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from store import layout, liveness, series
from store.artifacts import FileInfo
from store.client import Client
from store.entities import Experiment, MetricSummary, Run, ViewType
from store.reader import Snapshot
from store.search import runs_table, search_run_ids, without_empty_columns
from store.watch import Watcher

PARENT_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"


class StoreReader:
    """The store as the dashboard reads it: one snapshot, replaced when the store changes."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.watcher = Watcher(client.root)
        self._snapshot: Snapshot | None = None
        self._experiments: dict[bool, list[Experiment]] = {}
        self._every_run: dict[tuple[object, ...], pa.Table] = {}
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self.client.snapshot(materialize=True)
            return self._snapshot

    def experiments(self, show_deleted: bool) -> list[Experiment]:
        """The experiments, read once per store change (a filter does not read them again)."""
        with self._lock:
            cached = self._experiments.get(show_deleted)
        if cached is None:
            view = ViewType.ALL if show_deleted else ViewType.ACTIVE_ONLY
            cached = self.client.search_experiments(view_type=view, order_by=["name"])
            with self._lock:
                self._experiments[show_deleted] = cached
        return cached

    def every_run(self, view: ViewType, aggregates: dict[str, str]) -> tuple[Snapshot, pa.Table]:
        """The snapshot and its table of every run (read once per store change and column
        aggregates): a filter then only asks the store which runs match."""
        snap = self.snapshot()
        key = (id(snap), view, tuple(sorted(aggregates.items())))
        with self._lock:
            table = self._every_run.get(key)
        if table is None:
            table = runs_table(snap, "", view_type=view, aggregates=dict(aggregates))
            with self._lock:
                if self._snapshot is snap:
                    self._every_run = {k: v for k, v in self._every_run.items() if k[0] == id(snap)}
                    self._every_run[key] = table
        return snap, table

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def changed(self) -> bool:
        """True (and the next read sees the new state) when the store moved since last asked."""
        moved = self.watcher.changed()
        if moved:
            with self._lock:
                self._snapshot = None  # readers still holding the old one finish on it
                self._experiments = {}
                self._every_run = {}
        return moved


@dataclass(frozen=True)
class ExperimentRow:
    name: str
    runs: int
    last_activity: int | None
    deleted: bool


def store_has_runs(reader: StoreReader) -> bool:
    """False for a missing store or one nobody has logged a run into yet."""
    if not layout.check_store(reader.client.root):
        return False
    return runs_table(reader.snapshot(), "", max_results=1, view_type=ViewType.ALL).num_rows > 0


def runs(
    reader: StoreReader, query: str, aggregates: dict[str, str], show_deleted: bool = False
) -> pa.Table:
    """Runs of every experiment matching ``query`` (raises ``QueryError`` if it is bad), deleted
    ones (and those of deleted experiments) only with ``show_deleted``; a metric named in
    ``aggregates`` shows that aggregate (min/max/first) instead of its last."""
    view = ViewType.ALL if show_deleted else ViewType.ACTIVE_ONLY
    snap, every = reader.every_run(view, aggregates)
    if not query.strip():
        return every
    ids = search_run_ids(snap, query, view_type=view, strict=True)
    return without_empty_columns(every.filter(pc.is_in(every["run_id"], value_set=pa.array(ids, pa.string()))))


def experiments(reader: StoreReader, table: pa.Table, show_deleted: bool) -> list[ExperimentRow]:
    """Experiments by name with the number of runs of ``table`` in each and their last activity
    (the latest start or end among those runs; None when none matches)."""
    exps = reader.experiments(show_deleted)
    counts: dict[str, int] = {}
    last: dict[str, int] = {}
    if table.num_rows:
        activity = pc.max_element_wise(
            table["start_time"].cast(pa.int64()), table["end_time"].cast(pa.int64()), skip_nulls=True
        )
        grouped = pa.table({"experiment": table["experiment"], "t": activity}).group_by(
            "experiment"
        ).aggregate([([], "count_all"), ("t", "max")])
        for name, n, t in zip(
            grouped["experiment"].to_pylist(),
            grouped["count_all"].to_pylist(),
            grouped["t_max"].to_pylist(),
        ):
            counts[name], last[name] = n, t
    return [
        ExperimentRow(
            e.name,
            counts.get(e.name, 0),
            last.get(e.name),
            e.lifecycle_stage == "deleted",
        )
        for e in exps
    ]


@dataclass(frozen=True)
class RunDetails:
    run: Run
    metrics: list[MetricSummary]
    artifacts: list[FileInfo]
    parent: Run | None
    children: list[Run] = field(default_factory=list)
    duration: int | None = None  # ms, a running or crashed run's too (``liveness.run_duration``)

    @property
    def note(self) -> str:
        return self.run.data.tags.get(NOTE_TAG, "")


def run_details(client: Client, run_id: str) -> RunDetails:
    """Everything the details screen shows of one run, in one worker call."""
    run = client.get_run(run_id)
    parent_id = run.data.tags.get(PARENT_TAG)
    parents = client.get_runs([parent_id]) if parent_id else []
    children = client.search_runs(
        filter_string=f"tags.`{PARENT_TAG}` = '{run.info.run_id}'", max_results=None
    )
    return RunDetails(
        run,
        client.get_metric_summaries(run.info.run_id),
        client.list_artifacts(run.info.run_id),
        parents[0] if parents else None,
        children,
        liveness.run_duration(client.root, run.info),
    )


def metric_keys(reader: StoreReader, run_ids: Sequence[str]) -> list[str]:
    return series.metric_keys(reader.snapshot(), run_ids)


def metric_series(
    reader: StoreReader,
    run_ids: Sequence[str],
    key: str,
    x: series.XAxis,
    last_steps: int | None,
    buckets: int = series.DEFAULT_BUCKETS,
) -> dict[str, tuple[list[float], list[float]]]:
    return series.metric_series(
        reader.snapshot(), run_ids, key, x, buckets=buckets, last_steps=last_steps
    )
