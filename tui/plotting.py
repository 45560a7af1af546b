"""Metric plots drawn by plotext into a string that a Textual widget shows.

Textual-plotext (the widget package) pins plotext below 6, whose API plotext 6 replaced; mltui
uses plotext 6 directly instead: build the figure off-screen (``figure.build()``), take its
ANSI string and hand it to Rich. The plot screen draws in a worker (one drawing at a time:
plotext has one figure); the store has already cut every history down to a few points per
terminal cell (``store.series``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotext
from rich.text import Text

from store.series import XAxis
from tui import format as fmt

# 256-colour indices that read on dark and light backgrounds alike; without colour, each run
# gets its own marker instead.
PALETTE = (33, 196, 34, 201, 208, 37, 129, 130, 27, 160)
MARKERS = ("braille", "•", "+", "x", "*", "o", "#", "=", "~", "@")
SMOOTHING_STEPS = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)
LABEL_WIDTH = 24


@dataclass(frozen=True)
class PlotOptions:
    key: str
    x: XAxis = XAxis.STEP
    log_y: bool = False
    smoothing: float = 0.0
    last_steps: int | None = None

    def describe(self) -> str:
        parts = [
            f"x {self.x.value}",
            "log y" if self.log_y else "linear y",
            f"ema {self.smoothing:g}" if self.smoothing else "ema off",
            f"last {self.last_steps} steps" if self.last_steps else "all steps",
        ]
        return " · ".join(parts)


def ema(values: list[float], weight: float) -> list[float]:
    """TensorBoard's exponential moving average, debiased so the start is not pulled to zero."""
    if weight <= 0:
        return list(values)
    out, last, n = [], 0.0, 0
    for value in values:
        n += 1
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight**n))
    return out


def legend(labels: list[str], color: bool = True) -> Text:
    """One line naming each run in its colour (or with its marker, without colour)."""
    out = Text()
    for i, label in enumerate(labels):
        if color:
            out.append("━━ ", style=f"bold color({PALETTE[i % len(PALETTE)]})")
        else:
            symbol = "⠿" if MARKERS[i % len(MARKERS)] == "braille" else MARKERS[i % len(MARKERS)]
            out.append(f"{symbol} ")
        out.append(label[:LABEL_WIDTH] + "  ")
    return out


def _ticks(lo: float, hi: float, axis: XAxis, count: int = 4) -> tuple[list[float], list[str]]:
    if hi <= lo:
        hi = lo + 1
    positions = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    if axis is XAxis.WALL:
        from datetime import datetime

        stamp = "%H:%M" if hi - lo > 120 else "%H:%M:%S"
        labels = [datetime.fromtimestamp(p).strftime(stamp) for p in positions]
    else:
        labels = [fmt.short_duration(int(p * 1000)) for p in positions]
    return positions, labels


def step_ticks(lo: float, hi: float, count: int) -> tuple[list[float], list[str]]:
    """At most ``count`` whole steps at a round interval (0, 50, 100...) rather than plotext's
    even split of the range (0.0, 49.8, 99.7...); thousands as k and millions as M throughout,
    where that stays exact."""
    magnitude = 10 ** max(0, math.floor(math.log10(max(hi - lo, 1) / max(count, 1))))
    for interval in (m * magnitude for m in (1, 2, 5, 10, 20, 50)):
        first = math.ceil(lo / interval) * interval
        if (hi - first) // interval + 1 <= count:
            break
    positions = [first + i * interval for i in range(int((hi - first) // interval) + 1)]
    largest = max((abs(p) for p in positions), default=0)
    unit, suffix = 1, ""
    for at_least, size, name in ((1_000_000, 1_000_000, "M"), (10_000, 1_000, "k")):
        if largest >= at_least and interval % (size // 100) == 0:  # two decimals at most: exact
            unit, suffix = size, name
            break
    return positions, [f"{p / unit:.2f}".rstrip("0").rstrip(".") + suffix if p else "0" for p in positions]


def draw(
    series: dict[str, tuple[list[float], list[float]]],
    options: PlotOptions,
    width: int,
    height: int,
    color: bool = True,
) -> str:
    """The plot of ``{label: (xs, ys)}`` as a ``width`` x ``height`` string with ANSI colours.

    The legend is not drawn inside (it would hide the start of the curves): ``legend`` gives it.
    """
    plotext.terminal.limit(False, False)  # the widget's size, not the size plotext finds for its terminal
    figure = plotext.figure
    figure.clear()
    figure.theme("simple" if color else "colorless")
    figure.plot_size(max(width, 20), max(height, 6))
    lo, hi = math.inf, -math.inf
    drawn = 0
    for i, (label, (xs, ys)) in enumerate(series.items()):
        ys = ema(ys, options.smoothing)
        if options.log_y:
            kept = [(x, y) for x, y in zip(xs, ys) if y > 0]
            xs, ys = [p[0] for p in kept], [p[1] for p in kept]
        if not xs:
            continue
        if color:
            marker = plotext.marker("braille", pixel=plotext.pixel(foreground=PALETTE[i % len(PALETTE)]))
        else:
            marker = plotext.marker(MARKERS[i % len(MARKERS)])
        signal = figure.signal(xs, ys, marker=marker)
        signal.lines()
        figure.draw(signal)
        lo, hi = min(lo, xs[0]), max(hi, xs[-1])
        drawn += 1
    if not drawn:
        return "no finite points to draw" + (" (log-y hides values ≤ 0)" if options.log_y else "")
    figure.title(options.key)
    if options.log_y:
        figure.ruler("y").scale("log")
    if options.x is XAxis.STEP:
        figure.ruler("x").ticks(*step_ticks(lo, hi, max(3, width // 8)))
    else:
        figure.ruler("x").ticks(*_ticks(lo, hi, options.x))
    return figure.build().string(colorless=not color)
