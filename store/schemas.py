"""The Arrow schema of every table of store format 1.

Event tables carry ``event_time`` (microseconds, strictly increasing within one writer): the
current state of anything mutable is the value of its latest event. A null column in an event
means "unchanged", so an event can set just the status, or just the end time.
"""

from __future__ import annotations

import pyarrow as pa

_str = pa.string()
_i64 = pa.int64()
_f64 = pa.float64()

SCHEMAS: dict[str, pa.Schema] = {
    "experiments": pa.schema(
        [
            ("experiment_id", _str),
            ("name", _str),
            ("artifact_location", _str),
            ("lifecycle_stage", _str),
            ("creation_time", _i64),
            ("event_time", _i64),
        ]
    ),
    "experiment_tags": pa.schema(
        [("experiment_id", _str), ("key", _str), ("value", _str), ("event_time", _i64)]
    ),
    "runs": pa.schema(
        [
            ("run_id", _str),
            ("experiment_id", _str),
            ("run_name", _str),
            ("status", _str),
            ("start_time", _i64),
            ("end_time", _i64),
            ("lifecycle_stage", _str),
            ("user_id", _str),
            ("host", _str),
            ("pid", _i64),
            ("artifact_uri", _str),
            ("event_time", _i64),
        ]
    ),
    "params": pa.schema(
        [
            ("experiment_id", _str),
            ("run_id", _str),
            ("key", _str),
            ("value", _str),
            ("event_time", _i64),
        ]
    ),
    "tags": pa.schema(
        [
            ("experiment_id", _str),
            ("run_id", _str),
            ("key", _str),
            ("value", _str),  # null: the tag was deleted
            ("event_time", _i64),
        ]
    ),
    "metrics": pa.schema(
        [
            ("experiment_id", _str),
            ("run_id", _str),
            ("key", _str),
            ("step", _i64),
            ("timestamp", _i64),
            ("value", _f64),
        ]
    ),
    "metric_summaries": pa.schema(
        [
            ("experiment_id", _str),
            ("run_id", _str),
            ("key", _str),
            ("count", _i64),
            ("min_value", _f64),
            ("max_value", _f64),
            ("last_value", _f64),
            ("last_step", _i64),
            ("last_timestamp", _i64),
            ("first_value", _f64),
            ("first_step", _i64),
            ("first_timestamp", _i64),
        ]
    ),
}

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
