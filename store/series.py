"""Metric histories shaped for a plot: downsampled in DuckDB, so a plot never sees a million points.

A terminal plot is at most a few hundred cells wide, so a history longer than that is reduced
per run to buckets along the x axis, keeping each bucket's first, last, lowest and highest point
(the M4 method): every spike and the line's shape survive, and the plot library draws a few
thousand points whatever the history length. Non-finite values (NaN, ±inf) cannot be drawn and
are left out here; the run details still show them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import pyarrow as pa

from store.errors import ValidationError
from store.reader import Snapshot

DEFAULT_BUCKETS = 400


class XAxis(str, enum.Enum):
    """What a plot's x axis measures."""

    STEP = "step"
    WALL = "wall"  # seconds since the epoch (wall-clock time of each point)
    RELATIVE = "relative"  # seconds since the run's first point of this metric


# x, and the lowest and highest x of a run, from a point ``p`` and its run's ranges ``r``.
_X_SQL = {
    XAxis.STEP: ("p.step::DOUBLE", "r.s0::DOUBLE", "r.s1::DOUBLE"),
    XAxis.WALL: ("p.timestamp / 1000.0", "r.t0 / 1000.0", "r.t1 / 1000.0"),
    XAxis.RELATIVE: ("(p.timestamp - r.t0) / 1000.0", "0.0", "(r.t1 - r.t0) / 1000.0"),
}

# Each run's range along x, numbered so that the points are grouped by an integer, not a run id.
# A whole history spans the steps its summary records (first and last step, and their times):
# no pass over the points is needed to find it.
_SUMMARY_RANGES_SQL = """
    SELECT row_number() OVER (ORDER BY run_id) AS i, run_id, first_step AS s0, last_step AS s1,
           first_timestamp AS t0, last_timestamp AS t1
    FROM metric_summaries WHERE key = $key AND list_contains($ids, run_id)"""

# Zoomed, a run keeps its steps after its last one minus $last; their range is read from them.
_ZOOM_RANGES_SQL = """
    SELECT row_number() OVER (ORDER BY p.run_id) AS i, p.run_id, min(p.step) AS s0,
           max(p.step) AS s1, min(p.timestamp) AS t0, max(p.timestamp) AS t1
    FROM metrics p JOIN metric_summaries s ON p.run_id = s.run_id AND s.key = $key
    WHERE p.key = $key AND isfinite(p.value) AND list_contains($ids, s.run_id)
      AND p.step > s.last_step - $last
    GROUP BY p.run_id"""

# One statement for every run: the join to ``ranges`` picks the runs' rows of the key (the scan
# reads only run_id, key, step, timestamp and value, skipping row groups of other runs and keys),
# each point gets its bucket (points outside the range, from out-of-order times, go to the end
# buckets) and each bucket keeps its first, last, lowest and highest point.
_SERIES_SQL = """
WITH ranges AS ({ranges}
), bucketed AS (
    SELECT r.i, {x} AS x, p.value,
           greatest(least(floor(({x} - {lo}) / greatest({hi} - {lo}, 1e-9) * $buckets),
                          $buckets - 1), 0) AS bucket
    FROM metrics p JOIN ranges r ON p.run_id = r.run_id
    WHERE p.key = $key AND isfinite(p.value) AND p.step >= r.s0
), m4 AS (
    SELECT i, bucket,
           min(x) AS x1, arg_min(value, x) AS v1,
           max(x) AS x2, arg_max(value, x) AS v2,
           arg_min(x, value) AS x3, min(value) AS v3,
           arg_max(x, value) AS x4, max(value) AS v4
    FROM bucketed GROUP BY i, bucket
), picked AS (
    SELECT DISTINCT i, x, value FROM (
        SELECT i, x1 AS x, v1 AS value FROM m4
        UNION ALL SELECT i, x2, v2 FROM m4
        UNION ALL SELECT i, x3, v3 FROM m4
        UNION ALL SELECT i, x4, v4 FROM m4
    )
)
SELECT r.run_id, k.x, k.value FROM picked k JOIN ranges r USING (i)
ORDER BY k.i, k.x
"""


def metric_series(
    snap: Snapshot,
    run_ids: Sequence[str],
    key: str,
    x: XAxis | str = XAxis.STEP,
    buckets: int = DEFAULT_BUCKETS,
    last_steps: int | None = None,
) -> dict[str, tuple[list[float], list[float]]]:
    """``{run_id: (xs, values)}`` of one metric, at most ``4 * buckets`` points per run.

    ``last_steps`` keeps only each run's last N steps (zooming on the end of training). Runs
    without a finite point of ``key`` are absent from the result. All runs are read and
    downsampled by one DuckDB statement.
    """
    axis = XAxis(x)
    if buckets < 1:
        raise ValidationError(f"buckets must be at least 1, not {buckets}")
    if last_steps is not None and last_steps < 1:
        raise ValidationError(f"the number of last steps must be at least 1, not {last_steps}")
    x_sql, lo_sql, hi_sql = _X_SQL[axis]
    params: dict[str, object] = {"ids": list(run_ids), "key": key, "buckets": buckets}
    if last_steps is not None:
        params["last"] = last_steps
    sql = _SERIES_SQL.format(
        ranges=_SUMMARY_RANGES_SQL if last_steps is None else _ZOOM_RANGES_SQL,
        x=x_sql, lo=lo_sql, hi=hi_sql,
    )
    return _split(snap.query(sql, params))


def _split(table: pa.Table) -> dict[str, tuple[list[float], list[float]]]:
    out: dict[str, tuple[list[float], list[float]]] = {}
    for run_id, x, value in zip(
        table["run_id"].to_pylist(), table["x"].to_pylist(), table["value"].to_pylist()
    ):
        xs, ys = out.setdefault(run_id, ([], []))
        xs.append(x)
        ys.append(value)
    return out


def metric_keys(snap: Snapshot, run_ids: Sequence[str]) -> list[str]:
    """The metric keys any of these runs logged, sorted (read from summaries, not histories)."""
    rows = snap.rows(
        "SELECT DISTINCT key FROM metric_summaries WHERE list_contains(?, run_id) ORDER BY key",
        [list(run_ids)],
    )
    return [r["key"] for r in rows]
