"""Importing MLflow's registered models, versions, stages, aliases, descriptions and tags.

Events are written as the registry writes its own (one locked change per model), but with the
source's timestamps and users and with the source's version numbers and ``source`` strings kept
verbatim, whether or not the artifacts they name exist here. A model imported before gets only
the events that bring it up to date.
"""

from __future__ import annotations

from typing import Any

from store.client import Client
from store.importers.records import Skipped, SourceModel
from store.registry_entities import Action, Stage
from store.errors import ValidationError


def import_model(client: Client, m: SourceModel, skipped: list[Skipped]) -> tuple[int, int]:
    """Bring one model up to date; returns (models created, versions created)."""
    try:
        stages = {v.version: Stage.parse(v.current_stage).value for v in m.versions}
    except ValidationError as exc:
        skipped.append(Skipped(f"registered model {m.name!r}", str(exc)))
        return 0, 0
    created = versions = 0
    with client._change() as change:
        def add(action: Action, timestamp: int | None, user: str = "", **values: Any) -> None:
            change.events.append(
                {
                    "action": action.value,
                    "name": m.name,
                    "timestamp": timestamp if timestamp is not None else change.timestamp,
                    "user": user or change.user,
                    **values,
                }
            )

        have = change.state.models.get(m.name)
        if have is None:
            add(Action.CREATE_MODEL, m.creation_time, description=m.description or None)
            created = 1
        elif have.description != m.description:
            add(Action.UPDATE_MODEL, m.last_updated_time, description=m.description)
        for key, value in m.tags.items():
            if have is None or have.tags.get(key) != value:
                add(Action.SET_MODEL_TAG, m.last_updated_time, key=key, value=value)
        existing = change.state.versions.get(m.name, {})
        for v in m.versions:
            mine = existing.get(v.version)
            if mine is None:
                add(
                    Action.CREATE_VERSION,
                    v.creation_time,
                    v.user_id,
                    version=v.version,
                    to_stage=Stage.NONE.value,
                    source=v.source,
                    run_id=v.run_id,
                    description=v.description or None,
                )
                versions += 1
            elif mine.description != v.description:
                add(Action.UPDATE_VERSION, v.last_updated_time, version=v.version, description=v.description)
            current = mine.current_stage if mine else Stage.NONE.value
            if current != stages[v.version]:
                add(
                    Action.TRANSITION,
                    v.last_updated_time,
                    version=v.version,
                    from_stage=current,
                    to_stage=stages[v.version],
                    note="imported from MLflow",
                )
            for key, value in v.tags.items():
                if mine is None or mine.tags.get(key) != value:
                    add(Action.SET_VERSION_TAG, v.last_updated_time, version=v.version, key=key, value=value)
        known = {v.version for v in m.versions}
        current_aliases = have.aliases if have else {}
        for alias, version in m.aliases.items():
            if version not in known:
                skipped.append(Skipped(f"alias {m.name}@{alias}", f"version {version} is not in the source"))
            elif current_aliases.get(alias) != version:
                add(Action.SET_ALIAS, m.last_updated_time, alias=alias, version=version, from_version=current_aliases.get(alias))
    return created, versions
