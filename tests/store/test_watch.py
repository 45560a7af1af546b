"""Cheap change detection for the dashboard's live refresh (store/watch.py)."""

from __future__ import annotations

from pathlib import Path

from store import Client
from store.watch import Watcher, fingerprint


def test_nothing_logged_nothing_changed(client: Client) -> None:
    """Asking twice with no write in between reports no change (the refresh stays idle)."""
    run = client.create_run(run_name="idle")
    client.set_terminated(run.info.run_id)
    watcher = Watcher(client.root)
    assert watcher.changed()
    assert not watcher.changed()
    assert not watcher.changed()


def test_new_points_and_status_are_noticed(client: Client, store_path: Path) -> None:
    """A metric flushed by another client, and a run ending, both move the fingerprint."""
    run = client.create_run(run_name="live")
    client.flush()
    watcher = Watcher(store_path)
    watcher.changed()
    other = Client(store_path)
    other.log_metric(run.info.run_id, "loss", 0.5, step=1)
    other.flush()
    assert watcher.changed()
    client.set_terminated(run.info.run_id)
    assert watcher.changed()


def test_dead_process_is_noticed(client: Client, store_path: Path) -> None:
    """A running run whose liveness file disappears (its process died) changes the fingerprint."""
    run = client.create_run(run_name="doomed")
    client.flush()
    before = fingerprint(store_path)
    (store_path / "live" / run.info.run_id).unlink()
    assert fingerprint(store_path) != before


def test_missing_store_has_a_fingerprint(tmp_path: Path) -> None:
    """A store that does not exist yet can be watched (the welcome screen waits on it)."""
    assert fingerprint(tmp_path / "nowhere") == fingerprint(tmp_path / "nowhere")
