"""``Client``: the explicit-id API (MLflow's ``MlflowClient``), which the fluent API, the CLI and
the dashboard all go through.

Writes go to the process's ``Writer`` (buffered, flushed in the background); every read first
flushes what this process has queued, so a process always reads its own writes, as with MLflow.
"""

from __future__ import annotations

import math
import time
import uuid
from operator import attrgetter, itemgetter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from store import artifacts, layout, liveness, validation
from store.bulk import collector_paused, metric_points
from store.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    MetricSummary,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
    run_info,
)
from store.errors import AmbiguousName, NotFound, ValidationError
from store.layout import resolve_root
from store.names import random_run_name
from store.reader import Snapshot
from store.registry_client import RegistryMixin
from store.validation import INT64_MAX, INT64_MIN
from store.writers import flush_if_writing

if TYPE_CHECKING:
    import pyarrow as pa

    from store.writer import RunBuffer, Writer

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
_UNKNOWN: Any = object()  # an experiment not looked up yet (None: looked up, there is none)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class RunState:
    """What this process knows of a run it writes to: its experiment and the params it has."""

    run_id: str
    experiment_id: str
    buffer: RunBuffer
    params: dict[str, str] = field(default_factory=dict)


class Client(RegistryMixin):
    """Explicit-id access to one store; cheap to create, safe to use from several threads."""

    def __init__(self, tracking_uri: str | Path | None = None) -> None:
        self.root = resolve_root(tracking_uri).absolute()
        self._runs: dict[str, RunState] = {}
        self._experiments: dict[tuple[object, ...], Experiment | None] = {}  # ``_find_experiment``
        self._experiment_of: dict[str, str] = {}  # run id -> its experiment's (``get_metric_history``)
        self._writer: Writer | None = None

    # ------------------------------------------------------------ plumbing

    @property
    def writer(self) -> Writer:
        """The process's writer of this store (looked up once: a run's calls ask for it often)."""
        w = self._writer
        if w is None or w._closed:
            from store.writer import writer_for  # with pyarrow: a process that only reads loads neither

            layout.init_store(self.root)
            w = self._writer = writer_for(self.root)
        return w

    def snapshot(
        self, experiment_ids: Sequence[str] | None = None, materialize: bool = False
    ) -> Snapshot:
        """A fresh read of the store, after flushing this process's pending writes
        (``materialize``: for several queries on one snapshot, see ``Snapshot``)."""
        self.flush()
        return Snapshot(self.root, experiment_ids, materialize)

    def _lock(self, name: str) -> FileLock:
        layout.init_store(self.root)
        (self.root / "locks").mkdir(exist_ok=True)
        return FileLock(str(self.root / "locks" / f"{name}.lock"))

    # ------------------------------------------------------------ experiments

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:
        name = validation.validate_experiment_name(name)
        with self._lock("experiments"):
            with self.snapshot() as snap:
                rows = snap.rows("SELECT experiment_id, name, lifecycle_stage FROM experiments")
            for row in rows:
                if row["name"] == name:
                    state = " (deleted; restore it or choose another name)" if row[
                        "lifecycle_stage"
                    ] == "deleted" else ""
                    raise ValidationError(f"experiment {name!r} already exists{state}")
            ids = [int(r["experiment_id"]) for r in rows if r["experiment_id"].isdigit()]
            experiment_id = str(max(ids) + 1 if ids else 1)
            if name == DEFAULT_EXPERIMENT_NAME and DEFAULT_EXPERIMENT_ID not in {
                r["experiment_id"] for r in rows
            }:
                experiment_id = DEFAULT_EXPERIMENT_ID
            self._record_experiment(experiment_id, name, artifact_location, tags)
        return experiment_id

    def _record_experiment(
        self,
        experiment_id: str,
        name: str,
        artifact_location: str | None,
        tags: dict[str, Any] | None,
        creation_time: int | None = None,
    ) -> None:
        w = self.writer
        w.record(
            "experiments",
            {
                "experiment_id": experiment_id,
                "name": name,
                "artifact_location": artifact_location,
                "lifecycle_stage": LifecycleStage.ACTIVE.value,
                "creation_time": creation_time or now_ms(),
            },
        )
        for key, value in (tags or {}).items():
            self._record_experiment_tag(experiment_id, key, value)
        w.flush()

    def _record_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        validation.validate_key(key, "experiment tag")
        text = validation.validate_value(key, value, "experiment tag")
        self.writer.record(
            "experiment_tags", {"experiment_id": experiment_id, "key": key, "value": text}
        )

    def get_or_create_experiment(self, name: str) -> str:
        """The id of the experiment called ``name``, created if new (what ``set_experiment`` does)."""
        name = validation.validate_experiment_name(name)
        exp = self._find_experiment(name=name)
        if exp is not None:
            if exp.lifecycle_stage == LifecycleStage.DELETED.value:
                raise ValidationError(
                    f"experiment {name!r} is deleted; restore it with "
                    "Client().restore_experiment or choose another name"
                )
            return exp.experiment_id
        try:
            return self.create_experiment(name)
        except ValidationError:
            exp = self._find_experiment(name=name)  # another process created it meanwhile
            if exp is None:
                raise
            return exp.experiment_id

    def default_experiment_id(self) -> str:
        exp = self._find_experiment(experiment_id=DEFAULT_EXPERIMENT_ID)
        if exp is None:
            return self.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME)
        return exp.experiment_id

    def _find_experiment(
        self, name: str | None = None, experiment_id: str | None = None
    ) -> Experiment | None:
        """The experiment as the store's files say, looked up once per set of experiment files
        (``create_run`` asks at every run: two statements, ~3 ms)."""
        if not layout.check_store(self.root):
            return None
        with self.snapshot([]) as snap:  # no experiment's runs: only the store-wide tables listed
            key = (name, experiment_id, *(tuple(snap.files.get(t, ())) for t in layout.GLOBAL_TABLES))
            found = self._experiments.get(key, _UNKNOWN)
            if found is _UNKNOWN:
                found = self._read_experiment(snap, name, experiment_id)
                if len(self._experiments) >= 64:
                    self._experiments.clear()
                self._experiments[key] = found
        return replace(found, tags=dict(found.tags)) if found is not None else None  # the caller's own

    def _read_experiment(self, snap: Snapshot, name: str | None, experiment_id: str | None) -> Experiment | None:
        where, arg = ("name = ?", name) if name is not None else ("experiment_id = ?", experiment_id)
        rows = snap.rows(f"SELECT * FROM experiments WHERE {where}", [arg])
        if not rows:
            return None
        tags = snap.rows("SELECT key, value FROM experiment_tags WHERE experiment_id = ?", [rows[0]["experiment_id"]])
        return self._experiment(rows[0], {t["key"]: t["value"] for t in tags})

    def _experiment(self, row: dict[str, Any], tags: dict[str, str]) -> Experiment:
        location = row["artifact_location"] or str(self.root / "artifacts" / row["experiment_id"])
        return Experiment(
            experiment_id=row["experiment_id"],
            name=row["name"],
            artifact_location=location,
            lifecycle_stage=row["lifecycle_stage"],
            creation_time=row["creation_time"],
            last_update_time=row["last_update_time"],
            tags=tags,
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        exp = self._find_experiment(experiment_id=str(experiment_id))
        if exp is None:
            raise NotFound(f"no experiment with id {experiment_id!r}")
        return exp

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """None when there is no such experiment, as in MLflow."""
        return self._find_experiment(name=name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """Experiments, newest first unless ``order_by`` names name/creation_time/last_update_time."""
        if not layout.check_store(self.root):
            return []
        stages = {
            ViewType.ACTIVE_ONLY: ["active"],
            ViewType.DELETED_ONLY: ["deleted"],
            ViewType.ALL: ["active", "deleted"],
        }[ViewType(view_type)]
        order = _experiment_order(order_by)
        with self.snapshot() as snap:
            rows = snap.rows(
                f"SELECT * FROM experiments WHERE list_contains(?, lifecycle_stage) ORDER BY {order}",
                [stages],
            )
            tag_rows = snap.rows("SELECT experiment_id, key, value FROM experiment_tags")
        tags: dict[str, dict[str, str]] = {}
        for t in tag_rows:
            tags.setdefault(t["experiment_id"], {})[t["key"]] = t["value"]
        exps = [self._experiment(r, tags.get(r["experiment_id"], {})) for r in rows]
        return exps[:max_results] if max_results is not None else exps

    def _set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        exp = self.get_experiment(experiment_id)
        self.writer.record(
            "experiments",
            {"experiment_id": exp.experiment_id, "lifecycle_stage": stage.value},
        )
        self.writer.flush()

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: the experiment and its runs are hidden from default views, kept on disk."""
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        new_name = validation.validate_experiment_name(new_name)
        with self._lock("experiments"):
            exp = self.get_experiment(experiment_id)
            other = self._find_experiment(name=new_name)
            if other is not None and other.experiment_id != exp.experiment_id:
                raise ValidationError(f"experiment {new_name!r} already exists")
            self.writer.record("experiments", {"experiment_id": exp.experiment_id, "name": new_name})
            self.writer.flush()

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        exp = self.get_experiment(experiment_id)
        self._record_experiment_tag(exp.experiment_id, key, value)
        self.writer.flush()

    # ------------------------------------------------------------ runs: writing

    def create_run(
        self,
        experiment_id: str | None = None,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """A new RUNNING run owned by this process (its liveness file is claimed)."""
        experiment_id = str(experiment_id) if experiment_id is not None else self.default_experiment_id()
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage == LifecycleStage.DELETED.value:
            raise ValidationError(f"experiment {exp.name!r} is deleted; cannot create runs in it")
        run_id = validation.validate_run_id(run_id) if run_id else uuid.uuid4().hex
        tags = dict(tags or {})
        run_name = run_name or tags.get("mlflow.runName") or random_run_name()
        tags["mlflow.runName"] = run_name
        for key in tags:
            validation.validate_key(key, "tag")
        start = start_time if start_time is not None else now_ms()
        w = self.writer
        w.record(
            "runs",
            {
                "run_id": run_id,
                "experiment_id": exp.experiment_id,
                "run_name": str(run_name),
                "status": RunStatus.RUNNING.value,
                "start_time": start,
                "lifecycle_stage": LifecycleStage.ACTIVE.value,
                "user_id": tags.get("mlflow.user") or _user(),
                "host": layout.HOSTNAME,
                "pid": _pid(),
            },
        )
        self._runs[run_id] = RunState(run_id, exp.experiment_id, w.buffer(run_id, exp.experiment_id))
        for key, value in tags.items():
            self._record_tag(self._runs[run_id], key, value)
        liveness.claim(self.root, run_id)
        return Run(
            RunInfo(
                run_id=run_id,
                run_name=str(run_name),
                experiment_id=exp.experiment_id,
                status=RunStatus.RUNNING.value,
                start_time=start,
                end_time=None,
                lifecycle_stage=LifecycleStage.ACTIVE.value,
                artifact_uri=layout.artifact_dir(self.root, exp.experiment_id, run_id),
                user_id=tags.get("mlflow.user") or _user(),
                host=layout.HOSTNAME,
                pid=_pid(),
            ),
            RunData(tags={k: str(v) for k, v in tags.items()}),
        )

    def resume_run(self, run_id: str) -> Run:
        """Make a finished run RUNNING again in this process (``start_run(run_id=...)``)."""
        run = self.get_run(run_id)
        if run.info.lifecycle_stage == LifecycleStage.DELETED.value:
            raise ValidationError(f"run {run_id} is deleted; restore it before resuming it")
        state = self._state(run.info.run_id)
        state.params.update(run.data.params)
        self.writer.record(
            "runs",
            {
                "run_id": run.info.run_id,
                "experiment_id": run.info.experiment_id,
                "status": RunStatus.RUNNING.value,
                "end_time": -1,
                "host": layout.HOSTNAME,
                "pid": _pid(),
            },
        )
        liveness.claim(self.root, run.info.run_id)
        return run

    def _state(self, run_id: str) -> RunState:
        """The writing state of a run; the first write to a run looks up its experiment once."""
        state = self._runs.get(run_id)
        if state is None:
            info = self.get_run(run_id)
            state = RunState(
                info.info.run_id,
                info.info.experiment_id,
                self.writer.buffer(info.info.run_id, info.info.experiment_id),
                dict(info.data.params),
            )
            self._runs[run_id] = state
        return state

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        self._log_param(self._state(run_id), key, value)
        return value

    def _log_param(self, state: RunState, key: str, value: Any) -> None:
        validation.validate_key(key, "param")
        text = validation.validate_value(key, value, "param")
        old = state.params.get(key)
        if old is not None:
            if old != text:
                raise ValidationError(
                    f"changing param values is not allowed: param {key!r} was already logged "
                    f"with value {old!r} for run {state.run_id}; attempted to log {text!r}"
                )
            return
        state.params[key] = text
        self.writer.record(
            "params",
            {"experiment_id": state.experiment_id, "run_id": state.run_id, "key": key, "value": text},
        )

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: Any,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        self._log_metric(self._state(run_id).buffer, key, value, step, timestamp)

    @staticmethod
    def _log_metric(
        buffer: RunBuffer, key: str, value: Any, step: Any, timestamp: Any
    ) -> None:
        """One validated point appended to a run's buffer (the fluent hot path skips even this)."""
        buffer.add(*_checked_point(key, value, step, timestamp))

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Metric] = (),
        params: Iterable[Param] = (),
        tags: Iterable[RunTag] = (),
    ) -> None:
        """Log many values at once; validated first, so a bad item writes nothing of the batch."""
        from store.writer import MAX_BUFFERED_POINTS

        state = self._state(run_id)
        params = list(params)
        tags = list(tags)
        keys = [p.key for p in params]
        if len(keys) != len(set(keys)):
            dup = sorted({k for k in keys if keys.count(k) > 1})
            raise ValidationError(f"duplicate param keys in one batch: {', '.join(dup)}")
        points = _batch_points(metrics)
        for p in params:
            old = state.params.get(p.key)
            if old is not None and old != validation.validate_value(p.key, p.value, "param"):
                self._log_param(state, p.key, p.value)  # raises with the full message
        for t in tags:
            validation.validate_key(t.key, "tag")
            validation.validate_value(t.key, t.value, "tag")
        for p in params:
            self._log_param(state, p.key, p.value)
        for t in tags:
            self._record_tag(state, t.key, t.value)
        buffer = state.buffer
        if isinstance(points, list):
            buffer.points.extend(points)
        else:
            buffer.batches.append(points)
        if len(points) + len(buffer.points) >= MAX_BUFFERED_POINTS:
            self.writer.wake()

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self._record_tag(self._state(run_id), key, value)
        if key == "mlflow.runName":
            self.writer.record(
                "runs",
                {"run_id": run_id, "experiment_id": self._state(run_id).experiment_id, "run_name": str(value)},
            )

    def _record_tag(self, state: RunState, key: str, value: Any) -> None:
        validation.validate_key(key, "tag")
        text = validation.validate_value(key, value, "tag")
        self.writer.record(
            "tags",
            {"experiment_id": state.experiment_id, "run_id": state.run_id, "key": key, "value": text},
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        run = self.get_run(run_id)
        if key not in run.data.tags:
            raise NotFound(f"run {run.info.run_id} has no tag {key!r}")
        self.writer.record(
            "tags",
            {"experiment_id": run.info.experiment_id, "run_id": run.info.run_id, "key": key, "value": None},
        )

    def set_terminated(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> None:
        """End a run: its last points are written, its files merged, its liveness file removed."""
        status_value = RunStatus.parse(status)
        if not status_value.is_terminal or status_value is RunStatus.CRASHED:
            raise ValidationError(f"cannot end a run with status {status_value.value}")
        state = self._state(run_id)
        self.writer.record(
            "runs",
            {
                "run_id": state.run_id,
                "experiment_id": state.experiment_id,
                "status": status_value.value,
                "end_time": end_time if end_time is not None else now_ms(),
            },
        )
        w = self.writer
        w.flush(merge=True)
        w.release(state.run_id)
        liveness.release(self.root, state.run_id)
        self._runs.pop(state.run_id, None)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        state = self._state(run_id)
        row: dict[str, Any] = {"run_id": state.run_id, "experiment_id": state.experiment_id}
        if status is not None:
            row["status"] = RunStatus.parse(status).value
        if name is not None:
            row["run_name"] = name
            self._record_tag(state, "mlflow.runName", name)
        self.writer.record("runs", row)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage) -> None:
        run = self.get_run(run_id)
        self.writer.record(
            "runs",
            {"run_id": run.info.run_id, "experiment_id": run.info.experiment_id, "lifecycle_stage": stage.value},
        )
        self.writer.flush()

    def delete_run(self, run_id: str) -> None:
        """Soft delete (MLflow's lifecycle ``deleted``); ``restore_run`` brings it back."""
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    # ------------------------------------------------------------ artifacts

    def artifact_root(self, run_id: str) -> Path:
        run = self.get_run(run_id)
        return Path(run.info.artifact_uri)

    def log_artifact(self, run_id: str, local_path: str | Path, artifact_path: str | None = None) -> None:
        artifacts.log_file(self.artifact_root(run_id), local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str | Path, artifact_path: str | None = None) -> None:
        artifacts.log_dir(self.artifact_root(run_id), local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        artifacts.write_text(self.artifact_root(run_id), text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self.log_text(run_id, artifacts.dump_dict(dictionary, artifact_file), artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[artifacts.FileInfo]:
        return artifacts.list_files(self.artifact_root(run_id), path)

    # ------------------------------------------------------------ runs: reading

    def get_run(self, run_id: str) -> Run:
        """A run by its full id (``resolve_run`` accepts prefixes and names)."""
        validation.validate_run_id(run_id)
        runs = self.get_runs([run_id])
        if not runs:
            raise NotFound(f"no run with id {run_id!r} in {self.root}")
        return runs[0]

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Several runs in one read, in the order given (unknown ids left out): from the runs
        held in memory when a search left them there, else in one statement."""
        from store.run_index import in_memory

        wanted = list(run_ids)
        with self.snapshot() as snap:
            runs = in_memory(snap, lambda index: index.by_ids(wanted))
            if runs is None:
                runs = self._runs_from(snap, wanted)
        found = {r.info.run_id: r for r in runs}
        return [found[i] for i in wanted if i in found]

    def _runs_from(self, snap: Snapshot, run_ids: list[str]) -> list[Run]:
        from store.search import RUN_INFO_COLUMNS

        columns = ", ".join(f"r.{c}" for c in RUN_INFO_COLUMNS)
        return self._runs_of(
            snap, f"SELECT {columns} FROM runs r WHERE r.run_id IN (SELECT unnest(?::VARCHAR[]))", [run_ids]
        )

    def _runs_of(self, snap: Snapshot, sql: str, params: list[Any]) -> list[Run]:
        """Run objects for the runs a SELECT of RUN_INFO_COLUMNS returns, in its order."""
        from store.search import runs_data_sql

        with collector_paused():
            names, rows = snap.fetch(runs_data_sql(snap, sql), params)
            runs = self._runs_from_rows(names, rows)
            del rows  # freed while the collector is paused: it would pass over every row once
        return runs

    def _runs_from_rows(self, names: list[str], rows: list[tuple]) -> list[Run]:
        column = {name: i for i, name in enumerate(names)}
        part, run, key = column["part"], column["run_id"], column["key"]
        infos = sorted((r for r in rows if r[part] == "run"), key=itemgetter(column["position"]))
        data: dict[str, tuple[dict, dict, dict]] = {r[run]: ({}, {}, {}) for r in infos}  # RunData's fields
        number, text = column["number"], column["text"]
        for row in rows:
            kind = row[part]
            if kind == "metrics":
                data[row[run]][0][row[key]] = row[number]
            elif kind == "params":
                data[row[run]][1][row[key]] = row[text]
            elif kind == "tags":
                data[row[run]][2][row[key]] = row[text]
        first = column["run_id"]  # RUN_INFO_COLUMNS follow in order (``runs_data_sql``)
        return [Run(run_info(self.root, r[first : first + 11]), RunData(*data[r[run]])) for r in infos]

    def run_info(self, row: dict[str, Any]) -> RunInfo:
        """A RunInfo from a row of the ``runs`` view."""
        from store.search import RUN_INFO_COLUMNS

        return run_info(self.root, [row.get(c) for c in RUN_INFO_COLUMNS])

    def resolve_run(self, name: str) -> str:
        """A run id from a full id, a unique id prefix or a unique run name."""
        if not name:
            raise ValidationError("empty run name")
        with self.snapshot() as snap:
            rows = snap.rows(
                "SELECT run_id, run_name, experiment FROM runs WHERE run_id = ? "
                "OR starts_with(run_id, ?) OR run_name = ?",
                [name, name, name],
            )
        exact = [r for r in rows if r["run_id"] == name]
        if exact:
            return name
        if len(rows) == 1:
            return rows[0]["run_id"]
        if not rows:
            raise NotFound(f"no run with id, id prefix or name {name!r}")
        candidates = [f"{r['run_id'][:12]} {r['run_name']} ({r['experiment']})" for r in rows]
        raise AmbiguousName(
            f"{name!r} matches {len(rows)} runs: " + "; ".join(candidates[:10]), candidates
        )

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, by step then timestamp (NaN and ±inf as logged).

        Read from the row groups of the files that hold the run (``history_read``), without a
        DuckDB statement; the run's experiment, which names the files' folder, is looked up once
        (runs never move)."""
        from store import history_read

        experiment_id = self._experiment_of.get(run_id)
        if experiment_id is None:
            experiment_id = self._experiment_of[run_id] = self.get_run(run_id).info.experiment_id
        self.flush()
        points = history_read.history(self.root, experiment_id, run_id, key)
        if points is None:
            with self.snapshot([experiment_id]) as snap:
                points = snap.query(
                    "SELECT value, timestamp, step FROM metrics WHERE run_id = ? AND key = ? "
                    "ORDER BY step, timestamp",
                    [run_id, key],
                )
        return metric_points(
            key,
            run_id,
            points.column("value").to_pylist(),
            points.column("timestamp").to_pylist(),
            points.column("step").to_pylist(),
        )

    def get_metric_summaries(self, run_id: str) -> list[MetricSummary]:
        """Last, first, min, max and count of every metric of a run, read without its history."""
        with self.snapshot() as snap:
            rows = snap.rows(
                "SELECT * FROM metric_summaries WHERE run_id = ? ORDER BY key", [run_id]
            )
        return [
            MetricSummary(
                key=r["key"],
                last=r["last_value"],
                last_step=r["last_step"],
                last_timestamp=r["last_timestamp"],
                first=r["first_value"],
                first_step=r["first_step"],
                min=_nan_none(r["min_value"]),
                max=_nan_none(r["max_value"]),
                count=r["count"],
            )
            for r in rows
        ]

    def search_runs(
        self,
        experiment_ids: Sequence[str] | None = None,
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        order_by: Sequence[str] | None = None,
    ) -> list[Run]:
        """Runs matching an MLflow filter string (or any query of mltui's language)."""
        from store.run_index import RunIndex
        from store.search import RUN_INFO_COLUMNS, answer_in_memory, search_sql

        with self.snapshot(experiment_ids) as snap:
            found = answer_in_memory(  # names resolve as in ``search_sql`` below
                snap, filter_string or "", experiment_ids, ViewType(run_view_type), order_by, max_results,
                strict=False, answer=RunIndex.runs,
            )
            if found is not None:
                return found
            sql, params = search_sql(
                snap, filter_string or "", experiment_ids, ViewType(run_view_type), order_by, max_results,
                RUN_INFO_COLUMNS,
                strict=False,  # MLflow: a prefixed key no run has logged yet matches nothing
            )
            return self._runs_of(snap, sql, params)

    def flush(self) -> None:
        """Write everything this process has queued for this store, now."""
        if layout.check_store(self.root):
            flush_if_writing(self.root)


_METRIC_FIELDS = attrgetter("key", "value", "step", "timestamp")


def _batch_points(metrics: Iterable[Metric]) -> pa.StructArray | list[tuple[str, float, int, int]]:
    """A batch's points, validated: as the Arrow array the writer buffers, or as tuples.

    The common batch (known keys, numbers, int steps and timestamps) is checked by converting it
    to Arrow once, a few hundred nanoseconds a point, and that array is what the writer will
    write; anything else (a new key, a None step, a numpy scalar, a bad value) goes through the
    point-by-point rules and their messages.
    """
    import pyarrow as pa

    from store.writer import POINT_TYPE

    rows = list(map(_METRIC_FIELDS, metrics))
    if not rows:
        return rows
    try:
        checked = pa.array(rows, POINT_TYPE)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        checked = None
    if checked is not None and not any(f.null_count for f in checked.flatten()):
        stamps = list(map(itemgetter(3), rows))
        if min(stamps) >= 0 and validation._valid_keys.issuperset(map(itemgetter(0), rows)):
            return checked
    return [_checked_point(*row) for row in rows]


def _checked_point(key: Any, value: Any, step: Any, ts: Any) -> tuple[str, float, int, int]:
    """MLflow's rules for one point: a few dict and type checks when all is well."""
    if key not in validation._valid_keys:
        validation.validate_key(key, "metric")
    if type(value) is not float:
        value = validation.metric_value(key, value)
    if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
        step = 0 if step is None else validation.metric_step(key, step)
    if type(ts) is not int or not 0 <= ts <= INT64_MAX:
        ts = now_ms() if ts is None else validation.metric_timestamp(key, ts)
    return key, value, step, ts


def _nan_none(value: float | None) -> float:
    return math.nan if value is None else value


def _experiment_order(order_by: Sequence[str] | None) -> str:
    allowed = {"name", "creation_time", "last_update_time", "experiment_id"}
    if not order_by:
        return "creation_time DESC, experiment_id"
    parts = []
    for item in order_by:
        words = item.split()
        column = words[0].removeprefix("attributes.") if words else ""
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if column not in allowed or direction not in ("ASC", "DESC") or len(words) > 2:
            raise ValidationError(
                f"invalid order_by {item!r}: expected one of {', '.join(sorted(allowed))} "
                "optionally followed by ASC or DESC"
            )
        parts.append(f"{column} {direction}")
    return ", ".join(parts)


def _user() -> str:
    from store.system_tags import user

    return user()


def _pid() -> int:
    import os

    return os.getpid()


