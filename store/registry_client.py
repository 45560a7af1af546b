"""The Model Registry half of ``Client``: MLflow's ``MlflowClient`` registry methods.

Every change runs the same way (``_change``): take the registry lock, read the current state,
validate against it, then append all events of the change as one file. A failed validation
writes nothing; two processes promoting at once see each other's result, so exactly one version
ends in Production when both archive the existing ones. Reads take no lock.

Mixed into ``store.client.Client``; it needs only ``self.root`` and the client's run lookups
(``resolve_run``, ``artifact_root``) for checking sources.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store import layout, uris, validation
from store.errors import AlreadyExists, NotFound, ValidationError
from store.registry_entities import (
    Action,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    Stage,
    parse_version,
    validate_alias,
    validate_model_name,
)
from store.registry_search import compile_filter, sort_records
from store.registry_store import (
    RegistryState,
    append,
    last_seq,
    load_state,
    read_history,
    registry_lock,
)

MODEL_ATTRIBUTES = ("name",)
VERSION_ATTRIBUTES = ("name", "version", "run_id", "source", "current_stage")


@dataclass
class _Change:
    """The events of one registry operation, validated against ``state`` before being written."""

    state: RegistryState
    user: str
    timestamp: int
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, action: Action, name: str, **values: Any) -> None:
        self.events.append(
            {"action": action.value, "name": name, "timestamp": self.timestamp, "user": self.user, **values}
        )

    def model(self, name: str) -> RegisteredModel:
        return _find_model(self.state, name)

    def version(self, name: str, version: int) -> ModelVersion:
        return _find_version(self.state, name, version)


def _find_model(state: RegistryState, name: str) -> RegisteredModel:
    model = state.models.get(name)
    if model is None:
        raise NotFound(f"Registered Model with name={name} not found")
    return model


def _find_version(state: RegistryState, name: str, version: int) -> ModelVersion:
    _find_model(state, name)
    mv = state.versions.get(name, {}).get(version)
    if mv is None:
        raise NotFound(f"Model Version (name={name}, version={version}) not found")
    return mv


def _checked_tags(tags: dict[str, Any] | None, kind: str) -> dict[str, str]:
    return {
        validation.validate_key(k, kind): validation.validate_value(k, v, kind)
        for k, v in (tags or {}).items()
    }


def _user() -> str:
    from store.system_tags import user

    return user()


class RegistryMixin:
    """Registered models, their versions, stages, aliases and audit trail (MLflow's names)."""

    root: Path

    # ------------------------------------------------------------ plumbing

    @contextmanager
    def _change(self) -> Iterator[_Change]:
        with registry_lock(self.root):
            state = load_state(self.root)
            change = _Change(state, _user(), time.time_ns() // 1_000_000)
            yield change
            if change.events:
                append(self.root, state.last_seq + 1, change.events)

    def _registry(self) -> RegistryState:
        if not layout.check_store(self.root):
            return RegistryState()
        return load_state(self.root)

    # ------------------------------------------------------------ registered models

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """A new, empty registered model; its name must not be taken."""
        name = validate_model_name(name)
        checked = _checked_tags(tags, "registered model tag")
        with self._change() as change:
            if name in change.state.models:
                raise AlreadyExists(f"Registered Model (name={name}) already exists.")
            self._add_model(change, name, checked, description)
        return self.get_registered_model(name)

    @staticmethod
    def _add_model(change: _Change, name: str, tags: dict[str, str], description: str | None) -> None:
        change.add(Action.CREATE_MODEL, name, description=description)
        for key, value in tags.items():
            change.add(Action.SET_MODEL_TAG, name, key=key, value=value)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return _find_model(self._registry(), name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
    ) -> list[RegisteredModel]:
        """Models matching ``name = 'x'``, ``name LIKE 'x%'``, ``tags.k = 'v'``; by name."""
        match = compile_filter(filter_string, MODEL_ATTRIBUTES)
        models = list(self._registry().models.values())
        records = [{**m.to_dict(), "model": m} for m in models]
        found = [r for r in records if match(r)]
        ordered = sort_records(
            found, order_by, ["name ASC"], ("name", "creation_timestamp", "last_updated_timestamp")
        )
        return [r["model"] for r in ordered[:max_results]]

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        with self._change() as change:
            change.model(name)
            change.add(Action.UPDATE_MODEL, name, description=description or "")
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        """Delete a model with all its versions and aliases; its history is kept."""
        with self._change() as change:
            change.model(name)
            change.add(Action.DELETE_MODEL, name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        checked = _checked_tags({key: value}, "registered model tag")
        with self._change() as change:
            change.model(name)
            change.add(Action.SET_MODEL_TAG, name, key=key, value=checked[key])

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self._change() as change:
            if key not in change.model(name).tags:
                raise NotFound(f"registered model {name!r} has no tag {key!r}")
            change.add(Action.DELETE_MODEL_TAG, name, key=key)

    # ------------------------------------------------------------ model versions

    def register_model_version(
        self, model_uri: str, name: str, tags: dict[str, Any] | None = None
    ) -> tuple[ModelVersion, bool]:
        """Register ``model_uri`` as a new version of ``name``, creating the model if needed.

        Returns the version and whether the model was created; both happen in one write.
        ``store.register_model`` (MLflow's fluent name) is built on this.
        """
        name = validate_model_name(name)
        checked = _checked_tags(tags, "model version tag")
        source, run_id = uris.canonical_source(self, model_uri)  # type: ignore[arg-type]
        with self._change() as change:
            created = name not in change.state.models
            if created:
                self._add_model(change, name, {}, None)
            version = self._add_version(change, name, source, run_id, checked, None)
        return self.get_model_version(name, version), created

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """A new version of an existing model; ``source`` must exist (runs:/, models:/ or a path)."""
        checked = _checked_tags(tags, "model version tag")
        source, source_run = uris.canonical_source(self, source)  # type: ignore[arg-type]
        if run_id is not None:
            run_id = self.resolve_run(run_id)  # type: ignore[attr-defined]
        with self._change() as change:
            change.model(name)
            version = self._add_version(change, name, source, run_id or source_run, checked, description)
        return self.get_model_version(name, version)

    @staticmethod
    def _add_version(
        change: _Change,
        name: str,
        source: str,
        run_id: str | None,
        tags: dict[str, str],
        description: str | None,
    ) -> int:
        version = change.state.next_versions.get(name, 1)
        change.add(
            Action.CREATE_VERSION,
            name,
            version=version,
            to_stage=Stage.NONE.value,
            source=source,
            run_id=run_id,
            description=description,
        )
        for key, value in tags.items():
            change.add(Action.SET_VERSION_TAG, name, version=version, key=key, value=value)
        return version

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return _find_version(self._registry(), name, parse_version(version))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
    ) -> list[ModelVersion]:
        """Versions matching ``name = 'x'``, ``run_id = '...'``, ``tags.k = 'v'``...;
        by name, newest version first."""
        match = compile_filter(filter_string, VERSION_ATTRIBUTES)
        state = self._registry()
        records = [{**v.to_dict(), "mv": v} for vs in state.versions.values() for v in vs.values()]
        found = [r for r in records if match(r)]
        ordered = sort_records(
            found,
            order_by,
            ["name ASC", "version_number DESC"],
            ("name", "version", "creation_timestamp", "last_updated_timestamp"),
        )
        return [r["mv"] for r in ordered[:max_results]]

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        v = parse_version(version)
        with self._change() as change:
            change.version(name, v)
            change.add(Action.UPDATE_VERSION, name, version=v, description=description or "")
        return self.get_model_version(name, v)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete one version; the aliases that pointed at it are removed with it."""
        v = parse_version(version)
        with self._change() as change:
            mv = change.version(name, v)
            change.add(Action.DELETE_VERSION, name, version=v)
            for alias in mv.aliases:
                change.add(Action.DELETE_ALIAS, name, alias=alias, from_version=v, note="version deleted")

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        v = parse_version(version)
        checked = _checked_tags({key: value}, "model version tag")
        with self._change() as change:
            change.version(name, v)
            change.add(Action.SET_VERSION_TAG, name, version=v, key=key, value=checked[key])

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        v = parse_version(version)
        with self._change() as change:
            if key not in change.version(name, v).tags:
                raise NotFound(f"version {v} of model {name!r} has no tag {key!r}")
            change.add(Action.DELETE_VERSION_TAG, name, version=v, key=key)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """The artifact folder of a version, as a local path."""
        return str(uris.resolve(self, self.get_model_version(name, version).source))  # type: ignore[arg-type]

    # ------------------------------------------------------------ stages

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (all four when None) that has one."""
        wanted = [Stage.parse(s) for s in stages] if stages else list(Stage)
        newest = {v.current_stage: v for v in _find_model(self._registry(), name).latest_versions}
        return [newest[s.value] for s in wanted if s.value in newest]

    def versions_to_archive(self, name: str, version: int | str, stage: str) -> list[ModelVersion]:
        """The versions ``archive_existing_versions`` would archive: what a confirmation names."""
        v, target = parse_version(version), Stage.parse(stage)
        state = self._registry()
        _find_version(state, name, v)
        return _others_in(state, name, v, target) if target.can_archive_others else []

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move a version to a stage; with ``archive_existing_versions`` every other version in
        that stage (Staging or Production only) moves to Archived in the same write."""
        v, target = parse_version(version), Stage.parse(stage)
        if archive_existing_versions and not target.can_archive_others:
            raise ValidationError(
                "Model version transition cannot archive existing model versions because "
                f"'{target.value}' is not a Staging or Production stage."
            )
        with self._change() as change:
            mv = change.version(name, v)
            change.add(
                Action.TRANSITION, name, version=v, from_stage=mv.current_stage, to_stage=target.value
            )
            if archive_existing_versions:
                for other in _others_in(change.state, name, v, target):
                    change.add(
                        Action.TRANSITION,
                        name,
                        version=other.version,
                        from_stage=target.value,
                        to_stage=Stage.ARCHIVED.value,
                        note=f"archived by version {v} moving to {target.value}",
                    )
        return self.get_model_version(name, v)

    # ------------------------------------------------------------ aliases

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version``; an alias already in use moves (one alias, one version)."""
        alias, v = validate_alias(alias), parse_version(version)
        with self._change() as change:
            change.version(name, v)
            previous = change.model(name).aliases.get(alias)
            if previous != v:
                change.add(Action.SET_ALIAS, name, alias=alias, version=v, from_version=previous)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        with self._change() as change:
            previous = change.model(name).aliases.get(alias)
            if previous is None:
                raise NotFound(f"Registered model alias {alias} not found.")
            change.add(Action.DELETE_ALIAS, name, alias=alias, from_version=previous)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        state = self._registry()
        version = _find_model(state, name).aliases.get(alias)
        if version is None:
            raise NotFound(f"Registered model alias {alias} not found.")
        return _find_version(state, name, version)

    # ------------------------------------------------------------ audit trail

    def registry_sequence(self) -> int:
        """The number of the newest registry event (0 for none), from file names only: a cheap
        way for a live view to notice that someone changed the registry."""
        return last_seq(self.root) if layout.check_store(self.root) else 0

    def history(self, name: str) -> list[RegistryEvent]:
        """Every registry event about ``name``, oldest first, with user and time (also across
        deletions of the model)."""
        events = read_history(self.root, name) if layout.check_store(self.root) else []
        if not events:
            raise NotFound(f"Registered Model with name={name} not found")
        return events


def _others_in(state: RegistryState, name: str, version: int, stage: Stage) -> list[ModelVersion]:
    return [
        v for v in state.model_versions(name) if v.version != version and v.current_stage == stage.value
    ]
