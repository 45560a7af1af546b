"""How values read in a terminal cell: short, and the same on every screen.

Durations and full times use the store's formatting (``store.timefmt``), so the dashboard, the
CLI and exports agree; the runs table alone uses a shorter start time to leave room for metrics.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from rich.cells import cell_len, set_cell_size

from store.timefmt import short_duration, short_time

__all__ = [
    "ago",
    "cell",
    "clip",
    "clip_apart",
    "column_format",
    "compact_time",
    "display_path",
    "fit",
    "epoch_ms",
    "number",
    "short_duration",
    "short_time",
]


def number(value: float | int | None) -> str:
    """A metric value in at most ~10 characters; NaN and infinities spelled as Python does."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.6g}"
    return f"{value:.3e}"


def column_format(values: pa.ChunkedArray | pa.Array) -> Callable[[object], str]:
    """One format for a column of numbers, so that their decimal points line up.

    Fixed decimals chosen from the largest magnitude (four significant digits for it), unless the
    column spans so many orders of magnitude that small values would read as zero: then every
    value gets the same scientific notation. Measured in Arrow: a column may have 100,000 rows.
    """
    if not pa.types.is_floating(values.type):
        return cell
    magnitudes = pc.abs(pc.filter(values, pc.is_finite(values)))
    largest = pc.max(magnitudes).as_py()
    if largest is None:
        return cell
    smallest = pc.min(pc.filter(magnitudes, pc.greater(magnitudes, 0))).as_py() or largest
    if largest >= 1e7 or smallest < 10 ** -(_decimals(largest)):
        return lambda v: f"{v:.3e}" if isinstance(v, float) and math.isfinite(v) else cell(v)
    decimals = _decimals(largest)
    return lambda v: f"{v:.{decimals}f}" if isinstance(v, float) and math.isfinite(v) else cell(v)


def _decimals(largest: float) -> int:
    digits = math.floor(math.log10(largest)) + 1 if largest > 0 else 1
    return min(6, max(0, 4 - digits))


def epoch_ms(value: datetime | int | None) -> int | None:
    """Milliseconds since the epoch from the store's Arrow timestamps (or ms already)."""
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    return value


def compact_time(ms: int | None) -> str:
    """A start time in 11 columns (``11-07 02:45``), the time alone (``14:03:12``) when today."""
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M")


def ago(ms: int | None) -> str:
    """How long ago, in its largest unit (``5m ago``, ``16d ago``), for narrow panes."""
    if ms is None:
        return ""
    seconds = max(0, int(time.time() - ms / 1000))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def runs(count: int) -> str:
    """``1 run``, ``2 runs``, ``10,000 runs``."""
    return f"{count:,} run{'s' if count != 1 else ''}"


def display_path(path: str | Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    target = Path(path)
    try:
        return str(target.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(target)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def clip_apart(names: Sequence[str], width: int, context: int = 6) -> list[str]:
    """``names`` cut to ``width`` characters each so that they still tell apart: when they share
    a prefix longer than the cut keeps, each starts with an ellipsis ``context`` characters
    before where they first differ (a sweep's ``resnet50-cosine-lr0.003-seed1`` and
    ``resnet50-cosine-lr0.010-seed1`` show ``…-lr0.003-seed1`` and ``…-lr0.010-seed1``)."""
    common = len(os.path.commonprefix(list(names))) if len(set(names)) > 1 else 0
    start = common - min(context, width - 3)
    if common < width - 1 or start <= 0:
        return [clip(name, width) for name in names]
    return [clip("…" + name[start:], width) if len(name) > width else name for name in names]


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` terminal cells: padded (on the left when ``right``) or cut
    with an ellipsis; wide characters (a run named in Japanese) count as two."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - length)
    return pad + text if right else text + pad


def cell(value: object) -> str:
    """Any value of a runs table as text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    return str(value)
