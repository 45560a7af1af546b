"""Garbage collection between keystrokes instead of during them.

Python's automatic collector runs when allocations pile up, which in a Textual app means while
a key is being handled; its full passes over the dashboard's objects took 30-120 ms, as long as
the key itself. So while the app runs, what exists at start-up (modules, widgets, styles) is
frozen out of the collector's sight, automatic collection is off, and a collection runs once the
keyboard and mouse have been quiet for a moment, or sooner if garbage piles up regardless (a
long session of held-down keys). Reference counting still frees everything not in a cycle at
once; only cycles wait for the quiet moment.
"""

from __future__ import annotations

import gc
import time

IDLE_SECONDS = 0.75
MAX_PENDING = 200_000  # objects allocated since the last collection that force one anyway


class IdleCollector:
    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self.running = False

    def start(self) -> None:
        gc.freeze()
        gc.disable()
        self.running = True

    def stop(self) -> None:
        """Back to Python's own collection (and nothing left frozen at interpreter exit)."""
        if self.running:
            self.running = False
            gc.unfreeze()
            gc.enable()

    def input_seen(self) -> None:
        self.last_input = time.monotonic()

    def tick(self) -> None:
        """Called on a timer: collect if the user is idle and there is something to collect."""
        pending = gc.get_count()[0]
        idle = time.monotonic() - self.last_input >= IDLE_SECONDS
        if pending and (idle or pending > MAX_PENDING):
            gc.collect()
