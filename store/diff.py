"""What differs between runs: params, metrics and tags side by side, with deltas to a baseline.

Used by ``mltui diff``, the dashboard's diff screen and the exports. Values are read from the
per-run summaries (a metric's value is its last one, as everywhere); a value a run lacks is None
and differs from any value. NaN equals NaN here, so two diverged runs do not "differ" on loss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from store.errors import NotFound, ValidationError
from store.reader import Snapshot

SECTIONS = ("params", "metrics", "tags")
RUN_NAME_TAG = "mlflow.runName"  # the run's name, already the column header


@dataclass(frozen=True)
class DiffRun:
    run_id: str
    run_name: str
    experiment: str


@dataclass(frozen=True)
class DiffRow:
    """One key: a value per run (None where missing); metric deltas are against the baseline."""

    section: str
    key: str
    values: tuple[str | float | None, ...]
    differs: bool
    deltas: tuple[float | None, ...] = ()
    percents: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class RunDiff:
    runs: tuple[DiffRun, ...]
    baseline: int  # index into runs
    rows: tuple[DiffRow, ...]

    @property
    def differing(self) -> int:
        return sum(row.differs for row in self.rows)


def same_value(a: object, b: object) -> bool:
    """Equality where NaN equals NaN (two diverged runs agree on their loss)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _delta(value: object, base: object) -> tuple[float | None, float | None]:
    if not isinstance(value, float) or not isinstance(base, float):
        return None, None
    if not (math.isfinite(value) and math.isfinite(base)):
        return None, None
    delta = value - base
    return delta, (delta / abs(base) * 100 if base != 0 else None)


def diff_runs(
    client_or_snap: object,
    run_ids: Sequence[str],
    baseline: str | None = None,
    show_all: bool = False,
) -> RunDiff:
    """Compare runs (full ids, in the order given); ``baseline`` defaults to the first.

    ``client_or_snap`` is a ``store.Client`` (a fresh snapshot is taken) or a ``Snapshot``.
    Rows whose values are all equal are left out unless ``show_all``.
    """
    if len(run_ids) < 2:
        raise ValidationError("a diff needs at least two runs")
    if len(set(run_ids)) != len(run_ids):
        raise ValidationError("the same run is named twice in the diff")
    if isinstance(client_or_snap, Snapshot):
        return _diff(client_or_snap, list(run_ids), baseline, show_all)
    with client_or_snap.snapshot() as snap:  # type: ignore[attr-defined]
        return _diff(snap, list(run_ids), baseline, show_all)


def _diff(snap: Snapshot, ids: list[str], baseline: str | None, show_all: bool) -> RunDiff:
    infos = {
        r["run_id"]: r
        for r in snap.rows(
            "SELECT run_id, run_name, experiment FROM runs WHERE list_contains(?, run_id)", [ids]
        )
    }
    missing = [i for i in ids if i not in infos]
    if missing:
        raise NotFound(f"no run with id {', '.join(missing)}")
    base = 0
    if baseline is not None:
        if baseline not in ids:
            raise ValidationError(f"the baseline {baseline!r} is not one of the compared runs")
        base = ids.index(baseline)
    values: dict[tuple[str, str], dict[str, str | float]] = {}
    for section, sql in (
        ("params", "SELECT run_id, key, value FROM params WHERE list_contains(?, run_id)"),
        ("metrics", "SELECT run_id, key, last_value AS value FROM metric_summaries WHERE list_contains(?, run_id)"),
        ("tags", "SELECT run_id, key, value FROM tags WHERE list_contains(?, run_id)"),
    ):
        for row in snap.rows(sql, [ids]):
            if section == "tags" and row["key"] == RUN_NAME_TAG:
                continue
            values.setdefault((section, row["key"]), {})[row["run_id"]] = row["value"]
    rows = []
    order = {s: i for i, s in enumerate(SECTIONS)}
    for section, key in sorted(values, key=lambda sk: (order[sk[0]], sk[1])):
        per_run = tuple(values[(section, key)].get(i) for i in ids)
        differs = not all(same_value(v, per_run[0]) for v in per_run)
        if not (differs or show_all):
            continue
        deltas: tuple[float | None, ...] = ()
        percents: tuple[float | None, ...] = ()
        if section == "metrics":
            pairs = [(None, None) if i == base else _delta(v, per_run[base]) for i, v in enumerate(per_run)]
            deltas = tuple(d for d, _ in pairs)
            percents = tuple(p for _, p in pairs)
        rows.append(DiffRow(section, key, per_run, differs, deltas, percents))
    runs = tuple(DiffRun(i, infos[i]["run_name"] or "", infos[i]["experiment"] or "") for i in ids)
    return RunDiff(runs, base, tuple(rows))
