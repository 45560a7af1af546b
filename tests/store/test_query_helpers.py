"""A small store with every kind of value the query language meets, shared by the query tests.

Not a test module itself (no tests): the query, search, diff and export tests import it.
"""

from __future__ import annotations

import math
from pathlib import Path

import store
from store.entities import Metric, Param, RunTag

T0 = 1_790_000_000_000  # 2026-09-21T14:13:20Z
HOUR = 3_600_000

# name: (experiment, params, metrics {key: [values by step]}, tags, status, hours long)
RUNS = {
    "adam-1": ("mnist", {"lr": "0.01", "optimizer": "adam", "layers": "3"},
               {"accuracy": [0.5, 0.7, 0.92], "loss": [1.0, 0.5, 0.2]}, {"team": "vision"}, "FINISHED", 1),
    "sgd-1": ("mnist", {"lr": "0.1", "optimizer": "sgd", "layers": "2"},
              {"accuracy": [0.4, 0.6, 0.85], "loss": [1.2, 0.8, 0.4]}, {"team": "vision"}, "FINISHED", 2),
    "nan-run": ("mnist", {"lr": "1e-3", "optimizer": "adam"},
                {"accuracy": [0.3, math.nan], "loss": [math.nan]}, {"team": "nlp"}, "FINISHED", 1),
    "inf-run": ("mnist", {"lr": "auto", "optimizer": "SGD"},
                {"accuracy": [0.95], "loss": [math.inf]}, {}, "KILLED", 1),
    "failed": ("mnist", {"lr": "0.01"}, {}, {"team": "it's"}, "FAILED", 3),
    "cifar-1": ("cifar", {"lr": "0.001", "optimizer": "adam"},
                {"accuracy": [0.99], "loss": [0.01]}, {"team": "vision"}, "FINISHED", 5),
    "deleted": ("mnist", {"lr": "0.5", "only_deleted": "x"}, {"accuracy": [0.999]}, {}, "FINISHED", 1),
}


def build_store(root: Path) -> dict[str, str]:
    """Write RUNS into a store at ``root``; returns run name -> run id."""
    client = store.Client(root)
    ids = {}
    for i, (name, (experiment, params, metrics, tags, status, hours)) in enumerate(RUNS.items()):
        exp = client.get_or_create_experiment(experiment)
        start = T0 + i * HOUR
        run = client.create_run(exp, start_time=start, run_name=name)
        points = [
            Metric(key, value, start + step, step)
            for key, values in metrics.items()
            for step, value in enumerate(values)
        ]
        client.log_batch(
            run.info.run_id,
            points,
            [Param(k, v) for k, v in params.items()],
            [RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(run.info.run_id, status, end_time=start + hours * HOUR)
        ids[name] = run.info.run_id
    client.delete_run(ids["deleted"])
    client.flush()
    return ids
