"""Messages the dashboard's workers post when a read finishes: results travel up, never widgets.

Live refresh can produce a flood of reloads; ``can_replace`` lets a newer result of the same kind
replace an older one still waiting in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from textual.message import Message

from store.errors import MltuiError
from tui.data import ExperimentRow


@dataclass
class RunsLoaded(Message):
    """Fresh runs of every experiment matching ``query``, and the experiments pane's rows."""

    table: pa.Table
    query: str
    experiments: list[ExperimentRow]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsLoaded)


@dataclass
class QueryFailed(Message):
    """The filter the user typed is not a valid query; the table keeps its rows."""

    error: MltuiError
    query: str


@dataclass
class StoreChanged(Message):
    """The store's fingerprint moved: something was logged, ended or compacted."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged)
