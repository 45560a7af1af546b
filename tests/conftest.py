"""Every test gets its own empty store and a clean fluent state; the host's MLTUI_* settings and
MLflow environment variables never leak in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import store
from store import fluent
from store.state_cache import states


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for var in ("MLTUI_STORE", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLTUI_FLUSH_INTERVAL", "0.2")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(states, "share_repeated", True)  # a CLI command run in-process turns it off
    yield
    while fluent._active:
        fluent.end_run()
    fluent._tracking_uri = None
    fluent._client = None
    fluent._experiment_id = None


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """An empty store folder, made the fluent API's tracking URI."""
    path = tmp_path / "mlstore"
    store.set_tracking_uri(path)
    return path


@pytest.fixture
def client(store_path: Path) -> store.Client:
    return store.Client(store_path)
