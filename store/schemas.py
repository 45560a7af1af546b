"""The columns of every table of store format 1.

Event tables carry ``event_time`` (microseconds, strictly increasing within one writer): the
current state of anything mutable is the value of its latest event. A null column in an event
means "unchanged", so an event can set just the status, or just the end time.

The columns are plain data (name, type) so that readers can describe a table without importing
pyarrow, which ``mltui query`` never needs; ``SCHEMAS``, the Arrow schemas writers use, is built
from them on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_RUN_KEY = (("experiment_id", "string"), ("run_id", "string"), ("key", "string"))

COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "experiments": (
        ("experiment_id", "string"),
        ("name", "string"),
        ("artifact_location", "string"),
        ("lifecycle_stage", "string"),
        ("creation_time", "int64"),
        ("event_time", "int64"),
    ),
    "experiment_tags": (("experiment_id", "string"), ("key", "string"), ("value", "string"), ("event_time", "int64")),
    "runs": (
        ("run_id", "string"),
        ("experiment_id", "string"),
        ("run_name", "string"),
        ("status", "string"),
        ("start_time", "int64"),
        ("end_time", "int64"),
        ("lifecycle_stage", "string"),
        ("user_id", "string"),
        ("host", "string"),
        ("pid", "int64"),
        ("artifact_uri", "string"),
        ("event_time", "int64"),
    ),
    "params": (*_RUN_KEY, ("value", "string"), ("event_time", "int64")),
    "tags": (*_RUN_KEY, ("value", "string"), ("event_time", "int64")),  # value null: the tag was deleted
    "metrics": (*_RUN_KEY, ("step", "int64"), ("timestamp", "int64"), ("value", "float64")),
    "metric_summaries": (
        *_RUN_KEY,
        ("count", "int64"),
        ("min_value", "float64"),
        ("max_value", "float64"),
        ("last_value", "float64"),
        ("last_step", "int64"),
        ("last_timestamp", "int64"),
        ("first_value", "float64"),
        ("first_step", "int64"),
        ("first_timestamp", "int64"),
    ),
}

_schemas: dict[str, pa.Schema] = {}


def __getattr__(name: str) -> Any:
    """``SCHEMAS``: the Arrow schema of each table, made from ``COLUMNS`` when first asked for."""
    if name != "SCHEMAS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _schemas:
        import pyarrow as pa

        _schemas.update(
            {table: pa.schema([(c, pa.type_for_alias(t)) for c, t in cols]) for table, cols in COLUMNS.items()}
        )
    return _schemas


SORT_KEYS: dict[str, list[str]] = {
    "experiments": ["event_time"],
    "experiment_tags": ["experiment_id", "event_time"],
    "runs": ["run_id", "event_time"],
    "params": ["run_id", "key"],
    "tags": ["run_id", "key", "event_time"],
    "metrics": ["run_id", "key", "step", "timestamp"],
    "metric_summaries": ["run_id", "key"],
}

# How the summaries of several files combine into one row per (run, key): associative, so the
# writer can summarise each flush and readers or compaction can combine any subset of files.
SUMMARY_COMBINE_SQL = """
SELECT any_value(experiment_id) AS experiment_id, run_id, key,
       sum(count)::BIGINT AS count,
       coalesce(min(min_value) FILTER (WHERE NOT isnan(min_value)), 'nan'::DOUBLE) AS min_value,
       coalesce(max(max_value) FILTER (WHERE NOT isnan(max_value)), 'nan'::DOUBLE) AS max_value,
       arg_max(last_value, (last_step, last_timestamp, last_value)) AS last_value,
       max(last_step) AS last_step,
       arg_max(last_timestamp, (last_step, last_timestamp, last_value)) AS last_timestamp,
       arg_min(first_value, (first_step, first_timestamp, first_value)) AS first_value,
       min(first_step) AS first_step,
       arg_min(first_timestamp, (first_step, first_timestamp, first_value)) AS first_timestamp
FROM {source}
GROUP BY run_id, key
"""

# The summary of raw metric points, in the same shape.
SUMMARIZE_POINTS_SQL = """
SELECT any_value(experiment_id) AS experiment_id, run_id, key,
       count(*)::BIGINT AS count,
       coalesce(min(value) FILTER (WHERE NOT isnan(value)), 'nan'::DOUBLE) AS min_value,
       coalesce(max(value) FILTER (WHERE NOT isnan(value)), 'nan'::DOUBLE) AS max_value,
       arg_max(value, (step, timestamp, value)) AS last_value,
       max(step) AS last_step,
       arg_max(timestamp, (step, timestamp, value)) AS last_timestamp,
       arg_min(value, (step, timestamp, value)) AS first_value,
       min(step) AS first_step,
       arg_min(timestamp, (step, timestamp, value)) AS first_timestamp
FROM {source}
GROUP BY run_id, key
"""
