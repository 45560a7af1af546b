"""The run attributes a query can name (``attributes.x`` / ``run.x`` / bare ``x``).

Each maps to a column of the ``runs`` view and a value type that decides which literals and
operators make sense (``time`` takes dates or epoch ms, ``duration`` takes ``2h`` or ms).
MLflow's spellings (``user_id``, ``created``, ``run name``) are accepted as aliases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attribute:
    name: str
    column: str
    type: str  # text, status, time or duration


ATTRIBUTES = {
    a.name: a
    for a in (
        Attribute("run_id", "run_id", "text"),
        Attribute("run_name", "run_name", "text"),
        Attribute("status", "status", "status"),
        Attribute("experiment", "experiment", "text"),
        Attribute("experiment_id", "experiment_id", "text"),
        Attribute("start_time", "start_time", "time"),
        Attribute("end_time", "end_time", "time"),
        Attribute("duration", "duration", "duration"),
        Attribute("user", "user_id", "text"),
        Attribute("host", "host", "text"),
        Attribute("artifact_uri", "artifact_uri", "text"),
    )
}

ALIASES = {
    "user_id": "user",
    "created": "start_time",
    "run name": "run_name",
    "run_uuid": "run_id",
    "experiment_name": "experiment",
}


def attribute(key: str) -> Attribute | None:
    """The attribute a name means (case-insensitive, aliases included), or None."""
    lowered = key.lower()
    return ATTRIBUTES.get(ALIASES.get(lowered, lowered))
