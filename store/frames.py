"""Runs as one Arrow table with MLflow's ``search_runs`` DataFrame columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import pyarrow as pa

from store.entities import Run


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def runs_table(runs: Sequence[Run]) -> pa.Table:
    """``run_id, experiment_id, status, artifact_uri, start_time, end_time, metrics.*, params.*, tags.*``."""
    columns: dict[str, list[object]] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [r.info.status for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": [_time(r.info.start_time) for r in runs],
        "end_time": [_time(r.info.end_time) for r in runs],
    }
    types: dict[str, pa.DataType] = {
        "start_time": pa.timestamp("ms", tz="UTC"),
        "end_time": pa.timestamp("ms", tz="UTC"),
    }
    for prefix, attr, dtype in (
        ("metrics", "metrics", pa.float64()),
        ("params", "params", pa.string()),
        ("tags", "tags", pa.string()),
    ):
        keys = sorted({k for r in runs for k in getattr(r.data, attr)})
        for key in keys:
            columns[f"{prefix}.{key}"] = [getattr(r.data, attr).get(key) for r in runs]
            types[f"{prefix}.{key}"] = dtype
    return pa.table(
        {name: pa.array(values, types.get(name, pa.string())) for name, values in columns.items()}
    )
