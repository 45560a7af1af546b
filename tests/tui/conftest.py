"""Small stores for the dashboard tests, built with the store's own API."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import make_run

from store import Client


@pytest.fixture
def runs_store(store_path: Path) -> Path:
    """Experiment "mnist" with four runs (one failed, one a child) and "cifar" with one run."""
    client = Client(store_path)
    mnist = client.create_experiment("mnist")
    parent = make_run(client, mnist, "alpha", {"lr": 0.1, "batch": 32}, [1.0, 0.5, 0.3], 0.91)
    make_run(client, mnist, "bravo", {"lr": 0.01, "batch": 32}, [1.2, 0.9, 0.7], 0.85)
    make_run(client, mnist, "charlie", {"lr": 0.001, "batch": 32}, [2.0, 1.9], 0.40, status="FAILED")
    make_run(
        client, mnist, "delta", {"lr": 0.05, "batch": 64}, [0.9, 0.4, 0.2, 0.1], 0.95,
        tags={"mlflow.parentRunId": parent, "mlflow.note.content": "best so far"},
    )
    cifar = client.create_experiment("cifar")
    make_run(client, cifar, "echo", {"lr": 0.1, "depth": 18}, [3.0, 2.0], 0.60)
    client.flush()
    return store_path

