"""Artifacts are plain files under the run's folder; no path given by a user may leave it."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from store.errors import NotFound, ValidationError


@dataclass(frozen=True)
class FileInfo:
    """MLflow's artifact FileInfo: a path relative to the run's artifact root."""

    path: str
    is_dir: bool
    file_size: int | None


def safe_subpath(base: Path, artifact_path: str | None) -> Path:
    """``base / artifact_path``, refusing absolute paths, ``..`` and links that lead outside."""
    if artifact_path in (None, "", "."):
        target = base
    else:
        rel = PurePosixPath(str(artifact_path).replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts or str(artifact_path).startswith("~"):
            raise ValidationError(
                f"invalid artifact path {artifact_path!r}: it must be a relative path inside "
                "the run's artifacts (no leading '/', no '..')"
            )
        target = base.joinpath(*rel.parts)
    base_real = base.resolve()
    real = target.resolve()
    if real != base_real and base_real not in real.parents:
        raise ValidationError(f"artifact path {artifact_path!r} leads outside the run's artifacts")
    return target


def log_file(base: Path, local_path: str | Path, artifact_path: str | None) -> Path:
    src = Path(local_path)
    if not src.is_file():
        raise NotFound(f"no such file to log as an artifact: {src}")
    base.mkdir(parents=True, exist_ok=True)
    dest_dir = safe_subpath(base, artifact_path)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = safe_subpath(base, str((dest_dir / src.name).relative_to(base)))
    shutil.copy2(src, dest)
    return dest


def log_dir(base: Path, local_dir: str | Path, artifact_path: str | None) -> Path:
    src = Path(local_dir)
    if not src.is_dir():
        raise NotFound(f"no such directory to log as artifacts: {src}")
    base.mkdir(parents=True, exist_ok=True)
    dest = safe_subpath(base, artifact_path)
    shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=False)
    return dest


def write_text(base: Path, text: str, artifact_file: str) -> Path:
    if not artifact_file or artifact_file.endswith("/"):
        raise ValidationError(f"invalid artifact file name {artifact_file!r}")
    base.mkdir(parents=True, exist_ok=True)
    dest = safe_subpath(base, artifact_file)
    dest.parent.mkdir(parents=True, exist_ok=True)
    safe_subpath(base, artifact_file)
    dest.write_text(text, encoding="utf-8")
    return dest


def dump_dict(dictionary: Any, artifact_file: str) -> str:
    """JSON, or YAML for a ``.yaml``/``.yml`` name, as MLflow's ``log_dict`` chooses."""
    if artifact_file.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_dump(dictionary, default_flow_style=False, sort_keys=False)
    return json.dumps(dictionary, indent=2, allow_nan=True)


def list_files(base: Path, path: str | None = None) -> list[FileInfo]:
    folder = safe_subpath(base, path)
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        rel = p.relative_to(base).as_posix()
        out.append(FileInfo(rel, p.is_dir(), None if p.is_dir() else p.stat().st_size))
    return out
