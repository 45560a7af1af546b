"""Placeholder until the query language lands: a filter string must be empty."""

from __future__ import annotations

from collections.abc import Sequence

from store.entities import ViewType
from store.errors import QueryError
from store.reader import Snapshot


def search_run_ids(
    snap: Snapshot,
    query: str,
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[str]:
    if query.strip():
        raise QueryError("filtering is not available yet", query, 0)
    stages = {1: ["active"], 2: ["deleted"], 3: ["active", "deleted"]}[int(view_type)]
    rows = snap.rows(
        "SELECT run_id FROM runs WHERE list_contains(?, lifecycle_stage) "
        "AND (? IS NULL OR list_contains(?, experiment_id)) ORDER BY start_time DESC, run_id "
        "LIMIT ?",
        [stages, experiment_ids, experiment_ids, max_results],
    )
    return [r["run_id"] for r in rows]
