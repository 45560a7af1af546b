"""Which runs or experiments a search sees: apart from the entities so that a search, and
``mltui query``, need not import every record type (their dataclasses cost a cold start ~7 ms)."""

from __future__ import annotations

import enum


class ViewType(enum.IntEnum):
    """Which runs or experiments a search sees (MLflow's numbering)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3
