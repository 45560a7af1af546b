"""Records returned by the API, shaped like MLflow's entities so ported code keeps working.

``run.info.run_id``, ``run.data.metrics['loss']``, ``metric.step``: the attribute names are
MLflow's. They are frozen dataclasses: a record is a snapshot of the store, not a live handle.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from store.layout import artifact_dir
from store.view_type import ViewType as ViewType  # re-exported beside the other entities


class RunStatus(str, enum.Enum):
    """MLflow's run statuses plus CRASHED, which mltui derives for runs whose process is gone."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CRASHED = "CRASHED"

    @classmethod
    def parse(cls, value: object) -> RunStatus:
        from store.errors import ValidationError

        text = value.value if isinstance(value, RunStatus) else str(value).upper()
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(s.value for s in cls if s is not cls.CRASHED)
            raise ValidationError(f"invalid run status {value!r}: expected one of {names}") from None

    @property
    def is_terminal(self) -> bool:
        return self not in (RunStatus.RUNNING, RunStatus.SCHEDULED)


class LifecycleStage(str, enum.Enum):
    ACTIVE = "active"
    DELETED = "deleted"


class Metric(NamedTuple):
    """One metric point. A named tuple rather than a dataclass: histories hold millions of
    them, and a tuple is made several times faster."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class MetricSummary:
    """Everything the runs table shows of one metric of one run, read without its history."""

    key: str
    last: float
    last_step: int
    last_timestamp: int
    first: float
    first_step: int
    min: float
    max: float
    count: int


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    user_id: str = ""
    host: str | None = None
    pid: int | None = None

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class RunData:
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData


def run_info(root: Path, row: Sequence[Any]) -> RunInfo:
    """A RunInfo from a row of ``search.RUN_INFO_COLUMNS`` in order (the artifact folder by
    default). A search builds one per run it returns, so its fields are set without the frozen
    class's ``__init__``, which costs half of it (eleven ``object.__setattr__`` calls)."""
    run_id, name, experiment_id, status, start, end, stage, uri, user, host, pid = row[:11]
    info = object.__new__(RunInfo)
    info.__dict__.update(
        run_id=run_id, run_name=name or "", experiment_id=experiment_id, status=status, start_time=start,
        end_time=end, lifecycle_stage=stage, artifact_uri=uri or artifact_dir(root, experiment_id, run_id),
        user_id=user or "", host=host, pid=pid,
    )
    return info
