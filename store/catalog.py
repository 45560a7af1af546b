"""The keys a store knows: what a query's names are checked against and suggested from."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from store.reader import Snapshot


@dataclass(frozen=True)
class Catalog:
    """Metric, param and tag keys logged by the runs of some experiments (deleted runs too)."""

    metrics: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()


_ALL_SQL = """
SELECT 'metrics' AS kind, key FROM (SELECT DISTINCT key FROM metric_summaries)
UNION ALL SELECT 'params', key FROM (SELECT DISTINCT key FROM params)
UNION ALL SELECT 'tags', key FROM (SELECT DISTINCT key FROM tags)
"""
_SOME_SQL = """
SELECT 'metrics' AS kind, key FROM (SELECT DISTINCT key FROM metric_summaries
                                    WHERE list_contains(?, experiment_id))
UNION ALL
SELECT 'params', key FROM (SELECT DISTINCT p.key FROM params p JOIN runs r USING (run_id)
                           WHERE list_contains(?, r.experiment_id))
UNION ALL
SELECT 'tags', key FROM (SELECT DISTINCT t.key FROM tags t JOIN runs r USING (run_id)
                         WHERE list_contains(?, r.experiment_id))
"""


_cache: weakref.WeakKeyDictionary[Snapshot, dict[tuple[str, ...] | None, Catalog]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def catalog(snap: Snapshot, experiment_ids: Sequence[str] | None = None) -> Catalog:
    """Every key logged in the given experiments (all experiments when None).

    A snapshot never changes, so its catalog is computed once: the dashboard's filter box
    re-runs queries on one snapshot as the user types.
    """
    wanted = tuple(sorted(experiment_ids)) if experiment_ids is not None else None
    with _cache_lock:
        known = _cache.get(snap, {}).get(wanted)
    if known is None:
        known = _read(snap, list(wanted) if wanted is not None else None)
        with _cache_lock:
            _cache.setdefault(snap, {})[wanted] = known
    return known


def _read(snap: Snapshot, ids: list[str] | None) -> Catalog:
    covered = ids is None or (snap.experiment_ids is not None and set(snap.experiment_ids) <= set(ids))
    table = snap.query(_ALL_SQL) if covered else snap.query(_SOME_SQL, [ids] * 3)
    found: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
    for kind, key in zip(table.column("kind").to_pylist(), table.column("key").to_pylist()):
        found[kind].add(key)
    return Catalog(frozenset(found["metrics"]), frozenset(found["params"]), frozenset(found["tags"]))
