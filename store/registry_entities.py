"""Records of the Model Registry, shaped like MLflow's so ported code keeps working.

``mv.version``, ``mv.current_stage``, ``model.aliases``: the attribute names are MLflow's. Versions
are ints (as MLflow's local stores return them); stages are canonical strings (``"Production"``).
Every record is a frozen snapshot of the registry, not a live handle.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from store.errors import ValidationError


class Stage(str, enum.Enum):
    """MLflow's four model version stages, in MLflow's order."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: object) -> Stage:
        """A stage from any capitalisation (``"staging"`` -> Staging), else MLflow's error."""
        if isinstance(value, Stage):
            return value
        text = str(value)
        for stage in cls:
            if stage.value.lower() == text.lower():
                return stage
        names = ", ".join(s.value for s in cls)
        raise ValidationError(
            f"Invalid Model Version stage: {text}. Value must be one of {names}."
        )

    @property
    def can_archive_others(self) -> bool:
        """Only a move to Staging or Production may archive the versions already there."""
        return self in (Stage.STAGING, Stage.PRODUCTION)


class Action(str, enum.Enum):
    """What a registry event did; the audit trail is the list of these."""

    CREATE_MODEL = "create_model"
    UPDATE_MODEL = "update_model"
    SET_MODEL_TAG = "set_model_tag"
    DELETE_MODEL_TAG = "delete_model_tag"
    DELETE_MODEL = "delete_model"
    CREATE_VERSION = "create_version"
    UPDATE_VERSION = "update_version"
    TRANSITION = "transition"
    SET_VERSION_TAG = "set_version_tag"
    DELETE_VERSION_TAG = "delete_version_tag"
    DELETE_VERSION = "delete_version"
    SET_ALIAS = "set_alias"
    DELETE_ALIAS = "delete_alias"


@dataclass(frozen=True)
class ModelVersion:
    """One numbered version of a registered model (MLflow's ``ModelVersion``)."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str = Stage.NONE.value
    description: str = ""
    source: str = ""
    run_id: str | None = None
    user_id: str = ""
    status: str = "READY"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """MLflow's field names, as the CLI's ``--format json`` prints them."""
        return {
            "name": self.name,
            "version": self.version,
            "current_stage": self.current_stage,
            "aliases": list(self.aliases),
            "run_id": self.run_id,
            "source": self.source,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "description": self.description,
            "tags": dict(self.tags),
            "user_id": self.user_id,
            "status": self.status,
        }


@dataclass(frozen=True)
class RegisteredModel:
    """A named model with its versions' summary (MLflow's ``RegisteredModel``).

    ``latest_versions`` holds the newest version of each stage, as MLflow fills it.
    """

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: tuple[ModelVersion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "description": self.description,
            "tags": dict(self.tags),
            "aliases": dict(self.aliases),
            "latest_versions": [v.to_dict() for v in self.latest_versions],
        }


@dataclass(frozen=True)
class RegistryEvent:
    """One entry of the audit trail: who did what to which model, version or alias, and when.

    ``from_stage``/``to_stage`` describe a transition; ``from_version``/``version`` an alias that
    moved (``version`` is None when it was deleted); ``note`` says why an event happened when
    another event caused it (a version archived by a promotion).
    """

    seq: int
    timestamp: int
    user: str
    action: str
    name: str
    version: int | None = None
    from_version: int | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    alias: str | None = None
    key: str | None = None
    value: str | None = None
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    note: str | None = None

    def summary(self) -> str:
        """One line for a human: ``version 2: Staging -> Production``."""
        v = f"version {self.version}"
        text = {
            Action.CREATE_MODEL: "model created",
            Action.UPDATE_MODEL: f"description set to {self.description!r}",
            Action.SET_MODEL_TAG: f"tag {self.key}={self.value}",
            Action.DELETE_MODEL_TAG: f"tag {self.key} deleted",
            Action.DELETE_MODEL: "model deleted",
            Action.CREATE_VERSION: f"{v} created from {self.source}",
            Action.UPDATE_VERSION: f"{v}: description set to {self.description!r}",
            Action.TRANSITION: f"{v}: {self.from_stage} -> {self.to_stage}",
            Action.SET_VERSION_TAG: f"{v}: tag {self.key}={self.value}",
            Action.DELETE_VERSION_TAG: f"{v}: tag {self.key} deleted",
            Action.DELETE_VERSION: f"{v} deleted",
            Action.SET_ALIAS: f"alias @{self.alias} -> version {self.version}"
            + (f" (was version {self.from_version})" if self.from_version is not None else ""),
            Action.DELETE_ALIAS: f"alias @{self.alias} removed from version {self.from_version}",
        }[Action(self.action)]
        return f"{text} ({self.note})" if self.note else text

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


MODEL_NAME_PATTERN = re.compile(r"^[\w.\- ]+$")
ALIAS_PATTERN = re.compile(r"^[\w\-]+$")
RESERVED_VERSION_ALIAS = re.compile(r"^v\d+$")
MAX_NAME_LENGTH = 250
MAX_ALIAS_LENGTH = 255


def validate_model_name(name: object) -> str:
    """MLflow's name rule made safe for URIs: no ``/``, ``:`` or ``@`` (``models:/a@b`` parses)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Registered model name cannot be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"model name {name[:40]!r}... is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    if not MODEL_NAME_PATTERN.match(name) or name.strip(".") == "" or name != name.strip():
        raise ValidationError(
            f"invalid model name {name!r}: names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.) and inner spaces (no '/', ':' or '@')"
        )
    return name


def validate_alias(alias: object) -> str:
    """MLflow's alias rule: ``^[\\w\\-]+$``, at most 255, ``latest`` and ``v<digits>`` reserved."""
    if not isinstance(alias, str) or not alias:
        raise ValidationError("alias name must be a non-empty string")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise ValidationError(f"Alias name must not exceed {MAX_ALIAS_LENGTH} characters.")
    if not ALIAS_PATTERN.match(alias):
        raise ValidationError(
            f"Invalid alias name: {alias!r}. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    if alias.lower() == "latest":
        raise ValidationError("'latest' alias name (case insensitive) is reserved.")
    if RESERVED_VERSION_ALIAS.match(alias):
        raise ValidationError(f"Version alias name '{alias}' is reserved.")
    return alias


def parse_version(version: object) -> int:
    """A version number from an int or a string of digits (MLflow accepts both)."""
    text = str(version).strip()
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise ValidationError(f"invalid model version {version!r}: expected a positive integer")
    return int(text)
