"""Reading an MLflow file store (``mlruns/``), MLflow 1.x to 3.x layouts.

Everything is plain files: ``meta.yaml`` per experiment and run, one file per param and tag, one
line per metric point (``<timestamp> <value> <step>``; 2-field lines are legacy step-0 points,
5-field lines carry a dataset). Keys with ``/`` are sub-folders. Deleted experiments live under
``.trash/``. A run folder that cannot be read is reported and skipped; the rest imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import yaml

from store.errors import ValidationError
from store.importers.records import (
    POINTS_SCHEMA,
    Skipped,
    SourceExperiment,
    SourceModel,
    SourceRun,
    SourceVersion,
    status_name,
)

SKIP_DIRS = {".trash", "models"}


def _meta(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def _key_files(folder: Path) -> dict[str, str]:
    """``{key: content}`` of a params/ or tags/ folder, keys with '/' read from sub-folders."""
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            out[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return out


def _metric_lines(path: Path) -> tuple[list[int], list[int], list[float]]:
    steps: list[int] = []
    stamps: list[int] = []
    values: list[float] = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) not in (2, 3, 5):
                raise ValueError(f"{path}:{number}: expected 'timestamp value step', got {line.strip()!r}")
            stamps.append(int(fields[0]))
            values.append(float(fields[1]))
            steps.append(int(fields[2]) if len(fields) >= 3 else 0)
    return steps, stamps, values


class MlflowFolder:
    """One ``mlruns/`` folder."""

    kind = "MLflow file store"

    def __init__(self, path: Path) -> None:
        self.path = path
        if not any((d / "meta.yaml").is_file() for d in self._experiment_dirs()):
            raise ValidationError(
                f"{path} is not an MLflow file store (no <experiment id>/meta.yaml inside)"
            )
        self.skipped: list[Skipped] = []
        self._run_dirs: dict[str, Path] = {}

    def _experiment_dirs(self) -> list[Path]:
        dirs = [d for d in self.path.iterdir() if d.is_dir() and d.name not in SKIP_DIRS]
        trash = self.path / ".trash"
        if trash.is_dir():
            dirs += [d for d in trash.iterdir() if d.is_dir()]
        return sorted(dirs)

    def experiments(self) -> list[SourceExperiment]:
        out = []
        for d in self._experiment_dirs():
            try:
                meta = _meta(d / "meta.yaml")
            except (OSError, ValueError, yaml.YAMLError) as exc:
                self.skipped.append(Skipped(f"experiment folder {d.name}", f"unreadable meta.yaml ({exc})"))
                continue
            stage = meta.get("lifecycle_stage") or ("deleted" if d.parent.name == ".trash" else "active")
            out.append(
                SourceExperiment(
                    experiment_id=str(meta.get("experiment_id", d.name)),
                    name=str(meta.get("name", d.name)),
                    artifact_location=meta.get("artifact_location"),
                    lifecycle_stage=stage,
                    creation_time=meta.get("creation_time"),
                    tags=_key_files(d / "tags"),
                )
            )
        return out

    def runs(self) -> list[SourceRun]:
        out = []
        for d in self._experiment_dirs():
            for run_dir in sorted(p for p in d.iterdir() if p.is_dir() and (p / "meta.yaml").exists()):
                try:
                    out.append(self._run(run_dir))
                except (OSError, ValueError, yaml.YAMLError, KeyError) as exc:
                    self.skipped.append(Skipped(f"run folder {d.name}/{run_dir.name}", str(exc)))
        return out

    def _run(self, run_dir: Path) -> SourceRun:
        meta = _meta(run_dir / "meta.yaml")
        run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
        tags = _key_files(run_dir / "tags")
        self._run_dirs[run_id] = run_dir
        return SourceRun(
            run_id=run_id,
            experiment_id=str(meta.get("experiment_id", run_dir.parent.name)),
            run_name=meta.get("run_name") or tags.get("mlflow.runName", ""),
            status=status_name(meta.get("status", 1)),
            start_time=meta.get("start_time"),
            end_time=meta.get("end_time"),
            lifecycle_stage=meta.get("lifecycle_stage") or "active",
            user_id=str(meta.get("user_id") or ""),
            artifact_uri=meta.get("artifact_uri"),
            params=_key_files(run_dir / "params"),
            tags=tags,
        )

    def _metric_files(self, run_id: str) -> Iterator[tuple[str, Path]]:
        folder = self._run_dirs[run_id] / "metrics"
        if folder.is_dir():
            for dirpath, _, files in os.walk(folder):
                for name in files:
                    path = Path(dirpath) / name
                    yield path.relative_to(folder).as_posix(), path

    def point_counts(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for run_id in self._run_dirs:
            for key, path in self._metric_files(run_id):
                with open(path, "rb") as fh:
                    counts[(run_id, key)] = sum(1 for line in fh if line.strip())
        return counts

    def points(self, run_ids: set[str] | None = None) -> Iterator[pa.Table]:
        for run_id in self._run_dirs:
            if run_ids is not None and run_id not in run_ids:
                continue
            columns: list[list] = [[], [], [], [], []]
            try:
                for key, path in self._metric_files(run_id):
                    steps, stamps, values = _metric_lines(path)
                    columns[0].extend([run_id] * len(steps))
                    columns[1].extend([key] * len(steps))
                    columns[2].extend(steps)
                    columns[3].extend(stamps)
                    columns[4].extend(values)
            except (OSError, ValueError) as exc:
                self.skipped.append(Skipped(f"metrics of run {run_id}", str(exc)))
                continue
            if columns[0]:
                yield pa.table(columns, schema=POINTS_SCHEMA)

    def models(self) -> list[SourceModel]:
        root = self.path / "models"
        if not root.is_dir():
            return []
        out = []
        for d in sorted(p for p in root.iterdir() if (p / "meta.yaml").is_file()):
            try:
                meta = _meta(d / "meta.yaml")
                model = SourceModel(
                    name=str(meta["name"]),
                    creation_time=meta.get("creation_timestamp"),
                    last_updated_time=meta.get("last_updated_timestamp"),
                    description=meta.get("description") or "",
                    tags=_key_files(d / "tags"),
                    aliases={k: int(v) for k, v in _key_files(d / "aliases").items()},
                )
                for vd in sorted(d.glob("version-*"), key=lambda p: int(p.name.split("-")[1])):
                    vm = _meta(vd / "meta.yaml")
                    if vm.get("current_stage") == "Deleted_Internal":
                        continue
                    model.versions.append(
                        SourceVersion(
                            version=int(vm["version"]),
                            creation_time=vm.get("creation_timestamp"),
                            last_updated_time=vm.get("last_updated_timestamp"),
                            description=vm.get("description") or "",
                            user_id=str(vm.get("user_id") or ""),
                            current_stage=vm.get("current_stage") or "None",
                            source=vm.get("source") or "",
                            run_id=vm.get("run_id") or None,
                            tags=_key_files(vd / "tags"),
                        )
                    )
            except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
                self.skipped.append(Skipped(f"registered model folder {d.name}", str(exc)))
                continue
            out.append(model)
        return out

    def close(self) -> None:
        """Nothing to release: files are opened and closed as they are read."""
