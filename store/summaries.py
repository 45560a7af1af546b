"""Per-run, per-key metric summaries computed with pyarrow alone.

The writer summarises each flush and merges combine summaries inside training processes; doing
it in pyarrow keeps DuckDB (which imports pandas when handed Arrow data) out of the training
process. The rules are those of ``schemas.SUMMARY_COMBINE_SQL``, which readers use: ``last`` is
the point with the highest (step, timestamp, value) (NaN sorts highest, as in DuckDB), ``first``
the lowest, and min/max skip NaN (NaN only when every value is NaN).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from store.schemas import SCHEMAS

KEYS = ["run_id", "key"]


def _ordered_group(table: pa.Table, order: list[str], aggregates: list[tuple[str, str]]) -> pa.Table:
    """Group by run and key after sorting by ``order``, so first/last follow that order.

    Runs and keys are sorted and grouped by their dictionary indices (integers), not as strings:
    half the cost of a flush's summary.
    """
    run = pc.dictionary_encode(table["run_id"]).combine_chunks()
    key = pc.dictionary_encode(table["key"]).combine_chunks()
    slim = table.drop_columns(KEYS).append_column("_r", run.indices).append_column("_k", key.indices)
    ordered = slim.take(pc.sort_indices(slim, sort_keys=[(c, "ascending") for c in ["_r", "_k", *order]]))
    grouped = ordered.group_by(["_r", "_k"], use_threads=False).aggregate(aggregates)
    return grouped.append_column("run_id", run.dictionary.take(grouped["_r"])).append_column(
        "key", key.dictionary.take(grouped["_k"])
    )


def summarize(points: pa.Table) -> pa.Table:
    """The summary rows of raw metric points (one flush of one experiment)."""
    g = _ordered_group(
        points,
        ["step", "timestamp", "value"],
        [
            ("experiment_id", "first"),
            ("step", "count"),
            ("value", "min"),
            ("value", "max"),
            ("value", "last"),
            ("step", "last"),
            ("timestamp", "last"),
            ("value", "first"),
            ("step", "first"),
            ("timestamp", "first"),
        ],
    )
    return _shape(
        g,
        {
            "experiment_id": "experiment_id_first",
            "count": "step_count",
            "min_value": "value_min",
            "max_value": "value_max",
            "last_value": "value_last",
            "last_step": "step_last",
            "last_timestamp": "timestamp_last",
            "first_value": "value_first",
            "first_step": "step_first",
            "first_timestamp": "timestamp_first",
        },
    )


def combine(summaries: pa.Table) -> pa.Table:
    """One summary row per (run, key) from several files' summaries of the same points."""
    last = _ordered_group(
        summaries,
        ["last_step", "last_timestamp", "last_value"],
        [
            ("experiment_id", "first"),
            ("count", "sum"),
            ("min_value", "min"),
            ("max_value", "max"),
            ("last_value", "last"),
            ("last_step", "last"),
            ("last_timestamp", "last"),
        ],
    )
    first = _ordered_group(
        summaries,
        ["first_step", "first_timestamp", "first_value"],
        [("first_value", "first"), ("first_step", "first"), ("first_timestamp", "first")],
    )
    joined = last.join(first, KEYS)
    return _shape(
        joined,
        {
            "experiment_id": "experiment_id_first",
            "count": "count_sum",
            "min_value": "min_value_min",
            "max_value": "max_value_max",
            "last_value": "last_value_last",
            "last_step": "last_step_last",
            "last_timestamp": "last_timestamp_last",
            "first_value": "first_value_first",
            "first_step": "first_step_first",
            "first_timestamp": "first_timestamp_first",
        },
    )


def _shape(grouped: pa.Table, names: dict[str, str]) -> pa.Table:
    schema = SCHEMAS["metric_summaries"]
    columns = {"run_id": grouped["run_id"], "key": grouped["key"]}
    columns.update({ours: grouped[theirs] for ours, theirs in names.items()})
    return pa.table([columns[f.name] for f in schema], names=schema.names).cast(schema)
