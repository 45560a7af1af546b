"""Garbage collection waits for a quiet moment while the dashboard runs, and is back after it."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from pilot_helpers import settle

from tui.app import make_app
from tui.garbage import IDLE_SECONDS, IdleCollector


async def test_collection_is_paused_while_running_and_restored_after(runs_store: Path) -> None:
    """While the app runs, Python's own collector is off (no pause in the middle of a key);
    once it quits, collection is on again and nothing stays frozen (which would make the
    interpreter report leaks at exit)."""
    app = make_app(runs_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_collects_only_once_input_has_stopped() -> None:
    """Right after a key a garbage cycle is left alone; after a quiet moment it is collected."""

    class Node:
        pass

    collector = IdleCollector()
    collector.start()
    try:
        node = Node()
        node.itself = node  # a cycle: only the collector frees it
        gone = weakref.ref(node)
        del node
        collector.input_seen()
        collector.tick()
        assert gone() is not None
        collector.last_input -= IDLE_SECONDS
        collector.tick()
        assert gone() is None
    finally:
        collector.stop()
    assert gc.isenabled()
