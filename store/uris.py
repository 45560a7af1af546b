"""Run and model URIs, and the artifact folders they name.

=====================================  ============================================
``runs:/<run_id>/<path>``              ``<path>`` inside the run's artifacts (the run
                                       may be named by id, unique id prefix or name)
``models:/<name>/<version>``           that version's source
``models:/<name>/<stage>``             the newest version in that stage (any case)
``models:/<name>/latest``              the newest version, whatever its stage
``models:/<name>@<alias>``             the version the alias points at
a path or ``file://`` URI              that folder or file
=====================================  ============================================

A model version's source is kept as given (``runs:/<run_id>/model`` rather than an absolute
path), so a store folder can be moved or copied and its registry still resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from store.artifacts import safe_subpath
from store.errors import NotFound, ValidationError
from store.registry_entities import ModelVersion, Stage, parse_version, validate_alias

if TYPE_CHECKING:
    from store.client import Client

RUNS = "runs:/"
MODELS = "models:/"


@dataclass(frozen=True)
class ModelsUri:
    """A parsed ``models:/`` URI: exactly one of version, stage, alias or latest is set."""

    name: str
    version: int | None = None
    stage: Stage | None = None
    alias: str | None = None
    latest: bool = False


def parse_models_uri(uri: str) -> ModelsUri:
    """Split a ``models:/`` URI as MLflow does; anything else is a ValidationError naming it."""
    bad = ValidationError(
        f"Not a proper models:/ URI: {uri!r}. Models URIs must be of the form "
        "'models:/<name>/<version, stage or latest>' or 'models:/<name>@<alias>'."
    )
    if not uri.startswith(MODELS):
        raise bad
    parts = uri[len(MODELS) :].split("/")
    if len(parts) == 1 and "@" in parts[0]:
        name, _, alias = parts[0].rpartition("@")
        if not name:
            raise bad
        return ModelsUri(name, alias=validate_alias(alias))
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise bad
    name, suffix = parts
    if suffix.isdigit():
        return ModelsUri(name, version=parse_version(suffix))
    if suffix.lower() == "latest":
        return ModelsUri(name, latest=True)
    return ModelsUri(name, stage=Stage.parse(suffix))


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run>/<path>`` -> (run, path); the path may be empty (the whole artifact root)."""
    run, _, path = uri[len(RUNS) :].partition("/")
    if not uri.startswith(RUNS) or not run:
        raise ValidationError(
            f"Not a proper runs:/ URI: {uri!r}. Runs URIs must be of the form "
            "'runs:/<run_id>/<artifact path>'."
        )
    return run, path.strip("/")


def model_version_for(client: Client, uri: str) -> ModelVersion:
    """The model version a ``models:/`` URI names today."""
    parsed = parse_models_uri(uri)
    if parsed.alias is not None:
        return client.get_model_version_by_alias(parsed.name, parsed.alias)
    if parsed.version is not None:
        return client.get_model_version(parsed.name, parsed.version)
    stages = [parsed.stage.value] if parsed.stage is not None else None
    versions = client.get_latest_versions(parsed.name, stages=stages)
    if not versions:
        where = f"in stage {parsed.stage.value}" if parsed.stage is not None else "at all"
        raise NotFound(f"model {parsed.name!r} has no version {where} ({uri})")
    return max(versions, key=lambda v: v.version)


def _run_artifact(client: Client, uri: str) -> tuple[str, str, Path]:
    """(full run id, artifact path, existing file or folder) of a ``runs:/`` URI."""
    run, path = parse_runs_uri(uri)
    found = client.get_runs([run])
    info = found[0].info if found else client.get_run(client.resolve_run(run)).info
    target = safe_subpath(Path(info.artifact_uri), path)
    if not target.exists():
        raise NotFound(f"run {info.run_id} has no artifact {path!r} ({uri})")
    return info.run_id, path, target


def resolve(client: Client, uri: str) -> Path:
    """The artifact folder (or file) a URI names; NotFound when it does not exist."""
    uri = str(uri)
    if uri.startswith(MODELS):
        return resolve(client, model_version_for(client, uri).source)
    if uri.startswith(RUNS):
        return _run_artifact(client, uri)[2]
    target = Path(uri.removeprefix("file://")).expanduser()
    if not target.exists():
        raise NotFound(f"model source does not exist: {uri}")
    return target.absolute()


def canonical_source(client: Client, uri: str) -> tuple[str, str | None]:
    """(source, run_id) to record for a new model version, after checking the source exists.

    A run named by prefix or name is written with its full id; a ``models:/`` URI is replaced by
    the source of the version it names today (so the new version does not move with it).
    """
    uri = str(uri)
    if uri.startswith(MODELS):
        mv = model_version_for(client, uri)
        resolve(client, mv.source)
        return mv.source, mv.run_id
    if uri.startswith(RUNS):
        run_id, path, _ = _run_artifact(client, uri)
        return f"{RUNS}{run_id}/{path}", run_id
    return str(resolve(client, uri)), None
