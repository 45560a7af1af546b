"""``p``: a metric of the chosen runs, overlaid, with the plot's settings on single keys.

The store downsamples each history to a few points per cell and plotext draws the figure, both
in a worker: the UI thread only puts the finished picture in place. The screen keeps the last
series and only draws again (no store read) for settings that do not change what is read: log-y,
smoothing and a new size. The x axis, the zoom and the metric read again. On ``StoreChanged`` the
plot reads again, so a training run's curve grows by itself.
"""

from __future__ import annotations

import dataclasses
import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from store.series import XAxis
from tui import data
from tui import format as fmt
from tui.key_bar import KeyBar
from tui.key_list import KeyList
from tui.messages import StoreChanged
from tui.plotting import SMOOTHING_STEPS, PlotOptions, draw, legend

X_AXES = (XAxis.STEP, XAxis.WALL, XAxis.RELATIVE)
# plotext draws ~15 µs a point with lines; the store's M4 buckets keep 4 points each, so this
# budget keeps a redraw near 50 ms however many runs and steps are plotted.
POINT_BUDGET = 3000
MIN_BUCKETS = 32
# plotext draws on one module-level figure: one drawing at a time, whatever the worker.
_plotext = threading.Lock()

Series = dict[str, tuple[list[float], list[float]]]


def _reads(options: PlotOptions) -> tuple[object, ...]:
    """The settings that change what is read from the store (the others only change the drawing)."""
    return options.key, options.x, options.last_steps


@dataclasses.dataclass(frozen=True)
class Picture:
    """A drawn plot, its legend, and the size it was drawn at."""

    plot: Text
    legend: Text
    size: Size


class Plotted(Message):
    """A finished plot: the series it shows and, if the plot had a size to draw at, the picture."""

    def __init__(self, options: PlotOptions, series: Series, picture: Picture | None) -> None:
        super().__init__()
        self.options = options
        self.series = series
        self.picture = picture


class KeysLoaded(Message):
    """The metric keys of the runs and the plot of the first one, read in the same worker."""

    def __init__(self, keys: list[str], first: Plotted | None) -> None:
        super().__init__()
        self.keys = keys
        self.first = first


class PlotArea(Static):
    """Where the plot goes: tells the screen when its size changes, so the plot is drawn again
    at the size the layout gave it (the screen's own resize comes before that layout)."""

    class Resized(Message):
        pass

    def on_resize(self) -> None:
        self.post_message(self.Resized())


class PlotScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("x", "cycle_x", "x axis", tooltip="x by step, wall time or time since the run's start"),
        Binding("l", "log_y", "log-y", tooltip="Logarithmic y axis"),
        Binding("plus,equals_sign", "smooth(1)", "Smooth+", tooltip="More smoothing (moving average)"),
        Binding("minus", "smooth(-1)", "Smooth-", tooltip="Less smoothing"),
        Binding("z", "zoom", "Last N", tooltip="Show only the last N steps"),
        Binding("r", "reload", "Refresh", show=False, tooltip="Read the store again now"),
    ]

    def __init__(self, runs: dict[str, str]) -> None:
        super().__init__()
        self.runs = runs  # run_id -> name, in legend order
        self.options: PlotOptions | None = None
        self.series: Series | None = None  # None until first read
        self.series_reads: tuple[object, ...] | None = None  # the settings they were read with

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield KeyList(id="metric-list")
            with Vertical(id="plot-pane"):
                yield PlotArea("Loading…", id="plot")
                yield Static(id="plot-legend")
                yield Static(id="plot-status")
                yield Input(placeholder="last N steps (empty: all), enter to apply", id="zoom")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#metric-list").border_title = "Metric"
        self.query_one("#zoom").display = False
        self.load_keys()

    # ------------------------------------------------------------ workers

    @work(thread=True, exclusive=True, group="keys", exit_on_error=False)
    def load_keys(self) -> None:
        keys = data.metric_keys(self.app.reader, list(self.runs))  # type: ignore[attr-defined]
        self.post_message(KeysLoaded(keys, self._read(PlotOptions(keys[0])) if keys else None))

    @work(thread=True, exclusive=True, group="series", exit_on_error=False)
    def load_series(self, options: PlotOptions) -> None:
        self.post_message(self._read(options))

    @work(thread=True, exclusive=True, group="draw", exit_on_error=False)
    def draw_series(self, options: PlotOptions, series: Series) -> None:
        self.post_message(Plotted(options, series, self._picture(series, options)))

    def _read(self, options: PlotOptions) -> Plotted:
        """Read and draw ``options`` (in a worker): the store's downsampling sized to the plot."""
        width = max(40, self.query_one("#plot").size.width)
        buckets = max(MIN_BUCKETS, min(width // 2, POINT_BUDGET // (4 * len(self.runs))))
        found = data.metric_series(
            self.app.reader, list(self.runs), options.key, options.x, options.last_steps,  # type: ignore[attr-defined]
            buckets=buckets,
        )
        named = {self.runs[r]: found[r] for r in self.runs if r in found}
        return Plotted(options, named, self._picture(named, options))

    def _picture(self, series: Series, options: PlotOptions) -> Picture | None:
        """The plot and its legend at the plot's current size; None while it is too small."""
        size = self._drawable()
        if size is None:
            return None
        color = not self.app.no_color
        with _plotext:
            drawn = draw(series, options, size.width, size.height, color)
        return Picture(Text.from_ansi(drawn), legend(list(series), color), size)

    def on_store_changed(self, message: StoreChanged) -> None:
        if self.options is not None:
            self.load_series(self.options)

    # ------------------------------------------------------------ results

    def on_keys_loaded(self, message: KeysLoaded) -> None:
        metrics = self.query_one("#metric-list", OptionList)
        metrics.clear_options()
        metrics.add_options([Option(k, id=k) for k in message.keys])
        if not message.keys:
            self.query_one("#plot", Static).update("These runs have no metrics to plot.")
            return
        if self.options is None and message.first is not None:
            self.set_options(message.first.options, read=False)
            self.on_plotted(message.first)
        metrics.highlighted = 0
        metrics.focus()

    @on(OptionList.OptionHighlighted, "#metric-list")
    def metric_chosen(self, event: OptionList.OptionHighlighted) -> None:
        key = str(event.option.id)
        if self.options is not None and self.options.key == key:
            return  # the first key, already read with the key list
        options = self.options or PlotOptions(key)
        self.set_options(dataclasses.replace(options, key=key), read=True)

    def on_plotted(self, message: Plotted) -> None:
        if self.options is None or _reads(message.options) != _reads(self.options):
            return  # an older read, for a metric or axis no longer shown
        size = self._drawable()
        drawn_at = message.picture.size if message.picture else None
        if message.options != self.options or drawn_at != size:
            if size is not None:  # settings or size changed meanwhile: draw again
                self.draw_series(self.options, message.series)
                return
        self.series, self.series_reads = message.series, _reads(message.options)
        if message.picture is not None and drawn_at == size:
            self.query_one("#plot", Static).update(message.picture.plot)
            self.query_one("#plot-legend", Static).update(message.picture.legend)

    def on_plot_area_resized(self) -> None:
        self.redraw()

    # ------------------------------------------------------------ drawing

    def set_options(self, options: PlotOptions, read: bool) -> None:
        self.options = options
        self.query_one("#plot-status", Static).update(
            f"{fmt.runs(len(self.runs))} · {options.describe()}"
        )
        if read:
            self.load_series(options)
        else:
            self.redraw()

    def redraw(self) -> None:
        """Draw the series already read again (new size or drawing settings), in a worker."""
        if self.options is not None and self.series is not None and self.series_reads == _reads(self.options):
            self.draw_series(self.options, self.series)  # else a read is on its way, drawn when it lands

    def _drawable(self) -> Size | None:
        """The plot's size, or None while it is too small to draw in."""
        size = self.query_one("#plot", Static).size
        return size if size.width >= 10 and size.height >= 5 else None

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        zoom = self.query_one("#zoom", Input)
        if zoom.display:
            zoom.display = False
            self.query_one("#metric-list").focus()
        else:
            self.app.pop_screen()

    def action_cycle_x(self) -> None:
        if self.options:
            nxt = X_AXES[(X_AXES.index(self.options.x) + 1) % len(X_AXES)]
            self.set_options(dataclasses.replace(self.options, x=nxt), read=True)

    def action_log_y(self) -> None:
        if self.options:
            self.set_options(dataclasses.replace(self.options, log_y=not self.options.log_y), read=False)

    def action_smooth(self, direction: int) -> None:
        if self.options:
            steps = SMOOTHING_STEPS
            index = min(range(len(steps)), key=lambda i: abs(steps[i] - self.options.smoothing))  # type: ignore[union-attr]
            index = max(0, min(len(steps) - 1, index + direction))
            self.set_options(dataclasses.replace(self.options, smoothing=steps[index]), read=False)

    def action_zoom(self) -> None:
        zoom = self.query_one("#zoom", Input)
        zoom.display = True
        zoom.value = str(self.options.last_steps or "") if self.options else ""
        zoom.focus()

    @on(Input.Submitted, "#zoom")
    def zoom_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text and (not text.isdigit() or int(text) < 1):
            self.notify("Type a whole number of steps, or nothing for all of them", severity="error")
            return
        event.input.display = False
        self.query_one("#metric-list").focus()
        if self.options:
            last = int(text) if text else None
            self.set_options(dataclasses.replace(self.options, last_steps=last), read=True)

    def action_reload(self) -> None:
        if self.options:
            self.load_series(self.options)
