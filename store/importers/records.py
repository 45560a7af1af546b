"""What an MLflow source yields, independent of how it was stored."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

# MLflow's file store writes statuses as numbers (RunStatus enum), its SQL store as names.
STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

POINTS_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("key", pa.string()), ("step", pa.int64()), ("timestamp", pa.int64()), ("value", pa.float64())]
)


@dataclass
class SourceExperiment:
    experiment_id: str
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceRun:
    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    user_id: str
    artifact_uri: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceVersion:
    version: int
    creation_time: int | None
    last_updated_time: int | None
    description: str
    user_id: str
    current_stage: str
    source: str
    run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceModel:
    name: str
    creation_time: int | None
    last_updated_time: int | None
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: list[SourceVersion] = field(default_factory=list)


@dataclass
class Skipped:
    """Something the source holds that was not imported, and why."""

    what: str
    why: str


def status_name(value: object) -> str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return STATUS_NAMES.get(int(value), "RUNNING")
    return str(value or "RUNNING").upper()
