"""What the runs table shows, decided from an Arrow table of runs: no widgets, no SQL.

The store returns one row per run with ``metrics.<k>``, ``params.<k>`` and ``tags.<k>`` columns;
this module picks the columns worth showing (those that vary among the shown runs), sorts in
Arrow (missing values last in both directions, numeric params as numbers), and turns a window of
rows into cell text. Keeping it free of Textual makes it testable and cheap to call on refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from tui import format as fmt

# The run and its status lead, then what varies, then when it ran: at 80 columns the first
# screen shows the metrics, and the run's name stays on screen as the table scrolls sideways.
LEAD_COLUMNS = ("run_name", "status")
TRAIL_COLUMNS = ("start_time", "duration")
AGGREGATES = ("last", "min", "max", "first")
PREFIXES = ("metrics.", "params.", "tags.")
LABELS = {"run_name": "run", "start_time": "start", "end_time": "end", "user_id": "user"}


@dataclass
class TableSettings:
    """Everything the user chose about the table; kept across refreshes."""

    query: str = ""
    sort: str | None = None
    descending: bool = True
    chosen: list[str] | None = None  # None: run, status, whatever varies, start, duration
    aggregates: dict[str, str] = field(default_factory=dict)  # metric key -> last/min/max/first

    def toggle_sort(self, column: str) -> None:
        """Sort by ``column``, newest/highest first; the same column again reverses."""
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, True

    def cycle_aggregate(self, metric: str) -> str:
        current = self.aggregates.get(metric, "last")
        nxt = AGGREGATES[(AGGREGATES.index(current) + 1) % len(AGGREGATES)]
        if nxt == "last":
            self.aggregates.pop(metric, None)
        else:
            self.aggregates[metric] = nxt
        return nxt


def data_columns(table: pa.Table) -> list[str]:
    """The metric, param and tag columns some shown run has a value in, metrics first."""
    names = [n for n in table.column_names if table[n].null_count < table.num_rows]
    return [n for prefix in PREFIXES for n in names if n.startswith(prefix)]


def in_experiment(table: pa.Table, experiment: str | None, listed: list[str]) -> pa.Table:
    """The rows of one experiment (by name), or for ``None`` those of every ``listed`` experiment
    (runs of a deleted experiment stay hidden while the experiment is)."""
    if experiment is None:
        return table.filter(pc.is_in(table["experiment"], pa.array(listed, pa.string())))
    return table.filter(pc.equal(table["experiment"], experiment))


def _varies(column: pa.ChunkedArray) -> bool:
    """Some runs have a value and others not, or two values differ (min/max: no hashing)."""
    nulls, n = column.null_count, len(column)
    if nulls == n:
        return False
    if nulls:
        return True
    bounds = pc.min_max(column)
    return bounds["min"] != bounds["max"]


def varying_columns(table: pa.Table) -> list[str]:
    """Metrics and params whose value differs between the runs (all of them for a single run)."""
    candidates = [c for c in data_columns(table) if not c.startswith("tags.")]
    if table.num_rows < 2:
        return [c for c in candidates if table[c].null_count < table.num_rows]
    return [c for c in candidates if _varies(table[c])]


def visible_columns(table: pa.Table, settings: TableSettings) -> list[str]:
    if settings.chosen is not None:
        return [c for c in settings.chosen if c in table.column_names]
    return [*LEAD_COLUMNS, *varying_columns(table), *TRAIL_COLUMNS]


def label(column: str, settings: TableSettings | None = None, clashes: frozenset[str] = frozenset()) -> str:
    """A column header: the key without its prefix (kept for keys in ``clashes``, e.g. a param
    and a metric both called ``lr``), and the aggregate when it is not ``last``."""
    for prefix in PREFIXES:
        if column.startswith(prefix):
            key = column[len(prefix) :]
            agg = settings.aggregates.get(key) if settings and prefix == "metrics." else None
            text = column if key in clashes else key
            return f"{text} ({agg})" if agg else text
    return LABELS.get(column, column)


def clashing_keys(columns: list[str]) -> frozenset[str]:
    """Keys that appear under more than one prefix among ``columns``."""
    seen: dict[str, int] = {}
    for column in columns:
        for prefix in PREFIXES:
            if column.startswith(prefix):
                key = column[len(prefix) :]
                seen[key] = seen.get(key, 0) + 1
    return frozenset(k for k, n in seen.items() if n > 1)


def _sort_values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Strings that all read as numbers sort as numbers (params are strings, as in MLflow)."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    try:
        return pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return column


def sort_table(table: pa.Table, column: str | None, descending: bool) -> pa.Table:
    """Rows ordered by ``column``, missing values last whichever the direction."""
    if column is None or column not in table.column_names or table.num_rows == 0:
        return table
    values = _sort_values(table[column])
    if pa.types.is_floating(values.type):
        values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
    order = pc.array_sort_indices(
        values, order="descending" if descending else "ascending", null_placement="at_end"
    )
    return table.take(order)


def is_numeric(column: str) -> bool:
    """Columns shown right-aligned: metric values (a duration stays left-aligned, so a column
    cut by the screen's right edge still shows its unit)."""
    return column.startswith("metrics.")


def render_cell(column: str, value: object) -> str:
    if column in ("start_time", "end_time"):
        return fmt.compact_time(fmt.epoch_ms(value))
    if column == "duration":
        return fmt.short_duration(value)  # type: ignore[arg-type]
    return fmt.cell(value)


Formatter = Callable[[object], str]


def formatters(table: pa.Table, columns: list[str]) -> list[Formatter]:
    """How each column's values read, decided once per table: each metric column formatted alike
    over all its rows, so its decimal points line up as you scroll."""
    return [
        fmt.column_format(table[c])
        if c.startswith("metrics.") and c in table.column_names
        else (lambda v, c=c: render_cell(c, v))
        for c in columns
    ]


def row_cells(
    table: pa.Table, columns: list[str], formats: list[Formatter], start: int, stop: int
) -> list[list[str]]:
    """The cell texts of rows ``start:stop`` of an already sorted table."""
    window = table.slice(start, max(0, stop - start))
    data = [window[c].to_pylist() if c in window.column_names else [None] * window.num_rows for c in columns]
    return [[f(v) for f, v in zip(formats, row)] for row in zip(*data)] if columns else [[] for _ in range(window.num_rows)]
