"""The keys a store knows: what a query's names are checked against and suggested from."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.reader import Snapshot


@dataclass(frozen=True)
class Catalog:
    """Metric, param and tag keys logged by the runs of some experiments (deleted runs too)."""

    metrics: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, keys: Iterable[tuple[str, str]]) -> Catalog:
        """A catalog of ``(kind, key)`` pairs, kind one of metrics, params, tags."""
        found: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
        for kind, key in keys:
            found[kind].add(key)
        return cls(frozenset(found["metrics"]), frozenset(found["params"]), frozenset(found["tags"]))


# Straight from the raw files (no current-state aggregation): a key some event ever named is a
# key the store knows, which is all a catalog is for.
_ALL_SQL = """
SELECT 'metrics' AS kind, key FROM (SELECT DISTINCT key FROM raw_metric_summaries)
UNION ALL SELECT 'params', key FROM (SELECT DISTINCT key FROM raw_params)
UNION ALL SELECT 'tags', key FROM (SELECT DISTINCT key FROM raw_tags)
"""
_SOME_SQL = """
SELECT 'metrics' AS kind, key FROM (SELECT DISTINCT key FROM raw_metric_summaries
                                    WHERE list_contains(?, experiment_id))
UNION ALL SELECT 'params', key FROM (SELECT DISTINCT key FROM raw_params
                                     WHERE list_contains(?, experiment_id))
UNION ALL SELECT 'tags', key FROM (SELECT DISTINCT key FROM raw_tags
                                   WHERE list_contains(?, experiment_id))
"""
# The same keys by experiment, for a process that keeps them with the runs (``run_index``).
KEYS_BY_EXPERIMENT_SQL = """
SELECT DISTINCT experiment_id, 'metrics' AS kind, key FROM raw_metric_summaries
UNION ALL SELECT DISTINCT experiment_id, 'params', key FROM raw_params
UNION ALL SELECT DISTINCT experiment_id, 'tags', key FROM raw_tags
"""
_TABLES = ("metric_summaries", "params", "tags")
_cache: dict[tuple[object, ...], Catalog] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 16


def catalog(snap: Snapshot, experiment_ids: Sequence[str] | None = None) -> Catalog:
    """Every key logged in the given experiments (all experiments when None).

    Store files never change once written (new data is a new file, a merge a new name), so the
    catalog of a set of files is computed once per process: the dashboard's filter box and
    repeated searches do not read the keys again until the store changes.
    """
    wanted = tuple(sorted(experiment_ids)) if experiment_ids is not None else None
    key = (wanted, *(tuple(snap.files.get(t, ())) for t in _TABLES))
    with _cache_lock:
        known = _cache.get(key)
    if known is None:
        known = _read(snap, list(wanted) if wanted is not None else None)
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = known
    return known


def _read(snap: Snapshot, ids: list[str] | None) -> Catalog:
    covered = ids is None or (snap.experiment_ids is not None and set(snap.experiment_ids) <= set(ids))
    _, rows = snap.fetch(_ALL_SQL) if covered else snap.fetch(_SOME_SQL, [ids] * 3)
    return Catalog.of(rows)
