"""How registry records read as text: the columns and cells shared by the CLI and the dashboard.

Plain strings only (no rich, no textual), so the table a user sees in ``mltui models versions``
and in the dashboard's registry screen cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

from store.registry_entities import ModelVersion, RegisteredModel, RegistryEvent, Stage
from store.uris import RUNS

MODEL_COLUMNS = ("Model", "Latest", "Production", "Staging", "Updated", "Aliases")
VERSION_COLUMNS = ("Version", "Stage", "Run", "Source", "Created", "Aliases")
HISTORY_COLUMNS = ("Time", "User", "Event")


def fmt_time(ms: int | None, seconds: bool = True) -> str:
    """Local time (to the second in logs, to the minute in tables), as a person reads it."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def fmt_aliases(aliases: dict[str, int]) -> str:
    return " ".join(f"@{alias}=v{version}" for alias, version in aliases.items())


def short_source(source: str) -> str:
    """``runs:/<8 chars of the id>/path``: the run column shows the rest."""
    if source.startswith(RUNS):
        run, _, path = source[len(RUNS) :].partition("/")
        return f"{RUNS}{run[:8]}/{path}"
    return source


def _in_stage(model: RegisteredModel, stage: Stage) -> str:
    return next((f"v{v.version}" for v in model.latest_versions if v.current_stage == stage.value), "")


def model_row(model: RegisteredModel) -> tuple[str, ...]:
    latest = max((v.version for v in model.latest_versions), default=None)
    return (
        model.name,
        f"v{latest}" if latest is not None else "",
        _in_stage(model, Stage.PRODUCTION),
        _in_stage(model, Stage.STAGING),
        fmt_time(model.last_updated_timestamp, seconds=False),
        fmt_aliases(model.aliases),
    )


def version_row(mv: ModelVersion) -> tuple[str, ...]:
    return (
        str(mv.version),
        mv.current_stage,
        (mv.run_id or "")[:8],
        short_source(mv.source),
        fmt_time(mv.creation_timestamp, seconds=False),
        " ".join(f"@{a}" for a in mv.aliases),
    )


def history_row(event: RegistryEvent) -> tuple[str, ...]:
    return (fmt_time(event.timestamp), event.user, event.summary())


def transition_message(mv: ModelVersion, before: str, archived: list[ModelVersion]) -> str:
    """What a promotion did, in one or two lines (the CLI prints it, the dashboard notifies it)."""
    text = f"Model '{mv.name}' version {mv.version}: {before} -> {mv.current_stage}."
    if archived:
        names = ", ".join(str(v.version) for v in archived)
        text += f"\nArchived version{'s' if len(archived) > 1 else ''} {names} (was {mv.current_stage})."
    return text


def archive_warning(name: str, version: int, stage: Stage, archived: list[ModelVersion]) -> str:
    """The question a confirmation asks before a stage change, naming what it would archive."""
    head = f"Move version {version} of '{name}' to {stage.value}?"
    if archived:
        names = ", ".join(f"version {v.version}" for v in archived)
        return head + f"\nThis archives {names} (now {stage.value})."
    if stage.can_archive_others:
        return head + f"\nNo other version is in {stage.value}."
    return head


def describe_lines(record: RegisteredModel | ModelVersion) -> list[str]:
    """A model's or a version's fields, one ``Label: value`` per line."""
    tags = " ".join(f"{k}={v}" for k, v in record.tags.items())
    if isinstance(record, RegisteredModel):
        stages = ", ".join(f"v{v.version} {v.current_stage}" for v in record.latest_versions)
        fields = [
            ("Model", record.name),
            ("Description", record.description),
            ("Tags", tags),
            ("Aliases", fmt_aliases(record.aliases)),
            ("Latest versions", stages),
            ("Created", fmt_time(record.creation_timestamp)),
            ("Updated", fmt_time(record.last_updated_timestamp)),
        ]
    else:
        fields = [
            ("Model", record.name),
            ("Version", str(record.version)),
            ("Stage", record.current_stage),
            ("Aliases", " ".join(f"@{a}" for a in record.aliases)),
            ("Run", record.run_id or ""),
            ("Source", record.source),
            ("Description", record.description),
            ("Tags", tags),
            ("Created", f"{fmt_time(record.creation_timestamp)} by {record.user_id}"),
            ("Updated", fmt_time(record.last_updated_timestamp)),
        ]
    return [f"{label}: {value}" for label, value in fields]
