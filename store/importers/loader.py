"""Writing an MLflow source into the store: only what is new or changed since the last import."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc

from store import layout
from store.client import Client
from store.errors import NotFound, ValidationError
from store.importers.mlflow_db import MlflowDatabase
from store.importers.mlflow_dir import MlflowFolder
from store.importers.records import Skipped, SourceExperiment, SourceModel, SourceRun

Progress = Callable[[str, int, int], None]


@dataclass
class ImportSummary:
    """What an import brought over (new or changed things only) and what it skipped."""

    source: str
    kind: str
    experiments: int = 0
    runs: int = 0
    runs_updated: int = 0
    points: int = 0
    params: int = 0
    tags: int = 0
    models: int = 0
    versions: int = 0
    artifacts_copied: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)


def open_source(source: str | Path) -> MlflowDatabase | MlflowFolder:
    """An MLflow store from a path to ``mlflow.db``, a ``sqlite:///`` URI or an ``mlruns/`` folder."""
    text = str(source)
    if text.startswith("sqlite:"):
        text = text[len("sqlite:") :]
        text = text[3:] if text.startswith("///") else text.lstrip("/")
        if not text:
            raise ValidationError(f"{source}: no database file in the URI")
    elif "://" in text:
        raise ValidationError(
            f"unsupported source {source!r}: give an mlflow.db file, a sqlite:/// URI or an mlruns/ folder"
        )
    path = Path(text).expanduser()
    if not path.exists():
        raise NotFound(f"no such file or folder: {path}")
    if path.is_dir():
        return MlflowFolder(path)
    return MlflowDatabase(path)


def _local_path(uri: str | None) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path if parsed.scheme else uri))
    return None


class Loader:
    def __init__(self, client: Client, summary: ImportSummary, copy_artifacts: bool, progress: Progress | None) -> None:
        self.client = client
        self.writer = client.writer
        self.summary = summary
        self.copy_artifacts = copy_artifacts
        self.progress = progress or (lambda phase, done, total: None)
        with client.snapshot() as snap:
            self.experiments = {r["experiment_id"]: r for r in snap.rows("SELECT * FROM experiments")}
            self.exp_tags = {(r["experiment_id"], r["key"]): r["value"] for r in snap.rows("SELECT * FROM experiment_tags")}
            self.runs = {r["run_id"]: r for r in snap.rows("SELECT * FROM runs")}
            self.params = {(r["run_id"], r["key"]) for r in snap.rows("SELECT run_id, key FROM params")}
            self.tags = {(r["run_id"], r["key"]): r["value"] for r in snap.rows("SELECT run_id, key, value FROM tags")}
            self.counts = {
                (r["run_id"], r["key"]): r["count"]
                for r in snap.rows("SELECT run_id, key, count FROM metric_summaries")
            }
        self.run_experiment: dict[str, str] = {}

    # ------------------------------------------------------------ experiments

    def experiment(self, e: SourceExperiment) -> bool:
        have = self.experiments.get(e.experiment_id)
        if have is None:
            clash = next((x for x in self.experiments.values() if x["name"] == e.name), None)
            if clash is not None:
                self.summary.skipped.append(
                    Skipped(
                        f"experiment {e.name!r} (id {e.experiment_id}) and its runs",
                        f"the store already has an experiment of that name with id {clash['experiment_id']}",
                    )
                )
                return False
            self.writer.record(
                "experiments",
                {
                    "experiment_id": e.experiment_id,
                    "name": e.name,
                    "artifact_location": e.artifact_location,
                    "lifecycle_stage": e.lifecycle_stage,
                    "creation_time": e.creation_time,
                },
            )
            self.summary.experiments += 1
        elif have["name"] != e.name:
            self.summary.skipped.append(
                Skipped(
                    f"experiment {e.name!r} (id {e.experiment_id}) and its runs",
                    f"id {e.experiment_id} is already the store's experiment {have['name']!r}",
                )
            )
            return False
        elif have["lifecycle_stage"] != e.lifecycle_stage:
            self.writer.record("experiments", {"experiment_id": e.experiment_id, "lifecycle_stage": e.lifecycle_stage})
        for key, value in e.tags.items():
            if self.exp_tags.get((e.experiment_id, key)) != value:
                self.writer.record("experiment_tags", {"experiment_id": e.experiment_id, "key": key, "value": value})
        return True

    # ------------------------------------------------------------ runs

    def run(self, r: SourceRun) -> None:
        self.run_experiment[r.run_id] = r.experiment_id
        have = self.runs.get(r.run_id)
        artifact_uri = self._artifacts(r)
        row = {
            "run_id": r.run_id,
            "experiment_id": r.experiment_id,
            "run_name": r.run_name,
            "status": r.status,
            "start_time": r.start_time,
            "end_time": r.end_time if r.end_time is not None else -1,
            "lifecycle_stage": r.lifecycle_stage,
            "user_id": r.user_id,
            "artifact_uri": artifact_uri,
        }
        if have is None:
            self.writer.record("runs", row)
            self.summary.runs += 1
        else:
            changed = (
                have["run_name"] != r.run_name
                or (have["status"] != r.status and have["host"] is None)
                or have["end_time"] != r.end_time
                or have["lifecycle_stage"] != r.lifecycle_stage
            )
            if changed:
                self.writer.record("runs", row)
                self.summary.runs_updated += 1
        for key, value in r.params.items():
            if (r.run_id, key) not in self.params:
                self.writer.record(
                    "params", {"experiment_id": r.experiment_id, "run_id": r.run_id, "key": key, "value": value}
                )
                self.summary.params += 1
        for key, value in r.tags.items():
            if self.tags.get((r.run_id, key)) != value:
                self.writer.record(
                    "tags", {"experiment_id": r.experiment_id, "run_id": r.run_id, "key": key, "value": value}
                )
                self.summary.tags += 1

    def _artifacts(self, r: SourceRun) -> str | None:
        """The run's artifact location: referenced where it is, or copied into the store."""
        if not self.copy_artifacts:
            return r.artifact_uri
        src = _local_path(r.artifact_uri)
        if src is None or not src.is_dir():
            if r.artifact_uri and (src is None or src.exists()):
                self.summary.skipped.append(
                    Skipped(f"artifacts of run {r.run_id}", f"{r.artifact_uri} is not a local folder; referenced instead")
                )
            return r.artifact_uri if src is None else None
        dest = Path(layout.artifact_dir(self.client.root, r.experiment_id, r.run_id))
        if not dest.exists():
            shutil.copytree(src, dest, symlinks=False)
            self.summary.artifacts_copied += 1
        return None

    # ------------------------------------------------------------ points

    def points(self, source: MlflowDatabase | MlflowFolder) -> None:
        src_counts = source.point_counts()
        needed = {k for k, n in src_counts.items() if k[0] in self.run_experiment and self.counts.get(k, 0) != n}
        if not needed:
            return
        partial = {k for k in needed if self.counts.get(k, 0) > 0}
        existing = self._existing_points(partial)
        total = sum(src_counts[k] for k in needed)
        done = 0
        for batch in source.points({run for run, _ in needed}):
            if partial or len(needed) < len(src_counts):
                batch = self._only_new(batch, needed, existing)
            if batch.num_rows == 0:
                continue
            runs = pc.dictionary_encode(batch.column("run_id")).combine_chunks()
            names = pa.array([self.run_experiment[r] for r in runs.dictionary.to_pylist()], pa.string())
            experiments = pa.DictionaryArray.from_arrays(runs.indices, names).cast(pa.string())
            batch = batch.append_column("experiment_id", experiments)
            for exp in pc.unique(experiments).to_pylist():
                self.writer.append_table("metrics", exp, batch.filter(pc.equal(batch["experiment_id"], exp)))
            self.writer.flush()
            done += batch.num_rows
            self.summary.points += batch.num_rows
            self.progress("points", done, total)

    def _existing_points(self, keys: set[tuple[str, str]]) -> Counter:
        if not keys:
            return Counter()
        runs = sorted({r for r, _ in keys})
        with self.client.snapshot() as snap:
            rows = snap.query(
                "SELECT run_id, key, step, timestamp, value FROM metrics WHERE list_contains(?, run_id)", [runs]
            ).to_pylist()
        return Counter(
            (r["run_id"], r["key"], r["step"], r["timestamp"], _point_value(r["value"]))
            for r in rows
            if (r["run_id"], r["key"]) in keys
        )

    @staticmethod
    def _only_new(batch: pa.Table, needed: set[tuple[str, str]], existing: Counter) -> pa.Table:
        """The points of ``batch`` for keys that need them, less those the store already has."""
        keep = []
        seen = Counter(existing)
        for i, (run, key, step, ts, value) in enumerate(
            zip(*(batch.column(c).to_pylist() for c in ("run_id", "key", "step", "timestamp", "value")))
        ):
            if (run, key) not in needed:
                continue
            ident = (run, key, step, ts, _point_value(value))
            if seen[ident] > 0:
                seen[ident] -= 1
                continue
            keep.append(i)
        return batch.take(pa.array(keep, pa.int64()))

    # ------------------------------------------------------------ registry

    def model(self, m: SourceModel) -> None:
        from store.importers.registry import import_model

        created, versions = import_model(self.client, m, self.summary.skipped)
        self.summary.models += created
        self.summary.versions += versions


def _point_value(value: float) -> object:
    return "nan" if value != value else value


def import_mlflow(
    source: str | Path,
    store_root: str | Path,
    copy_artifacts: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import an MLflow store into the mltui store at ``store_root``; safe to repeat."""
    started = time.perf_counter()
    src = open_source(source)
    summary = ImportSummary(str(source), src.kind)
    try:
        client = Client(store_root)
        loader = Loader(client, summary, copy_artifacts, progress)
        try:
            experiments = src.experiments()
            runs = src.runs()
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"{source}: the database is damaged ({exc})") from None
        imported = {e.experiment_id for e in experiments if loader.experiment(e)}
        client.writer.flush()
        for i, run in enumerate(runs, 1):
            if run.experiment_id in imported:
                loader.run(run)
            elif not any(s.what.startswith("experiment ") and f"(id {run.experiment_id})" in s.what for s in summary.skipped):
                summary.skipped.append(Skipped(f"run {run.run_id}", f"its experiment {run.experiment_id} is not in the source"))
            if i % 500 == 0:
                loader.progress("runs", i, len(runs))
        loader.progress("runs", len(runs), len(runs))
        client.writer.flush()
        loader.points(src)
        for model in src.models():
            loader.model(model)
        client.writer.flush(merge=True)
    finally:
        src.close()
    summary.skipped.extend(src.skipped)
    summary.seconds = time.perf_counter() - started
    return summary
