"""Downsampled metric histories for plots (store/series.py)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Client, Metric
from store.series import XAxis, metric_keys, metric_series

T0 = 1_700_000_000_000


def log(client: Client, name: str, values: list[float], key: str = "loss", experiment: str | None = None) -> str:
    run = client.create_run(experiment, run_name=name)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(key, v, T0 + i * 10, i) for i, v in enumerate(values)],
    )
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def test_long_history_is_cut_but_keeps_shape(client: Client) -> None:
    """A 20,000-point history comes back as a few hundred points with its spike, ends and range."""
    values = [math.sin(i / 300) for i in range(20_000)]
    values[12_345] = 50.0
    run_id = log(client, "long", values)
    with client.snapshot() as snap:
        xs, ys = metric_series(snap, [run_id], "loss", buckets=100)[run_id]
    assert len(xs) <= 400
    assert max(ys) == 50.0 and xs[ys.index(50.0)] == 12_345
    assert min(ys) == min(values)
    assert xs[0] == 0 and xs[-1] == 19_999
    assert xs == sorted(xs)


def test_runs_are_kept_apart_and_missing_keys_absent(client: Client) -> None:
    """Each run gets its own series; a run that never logged the key is simply not there."""
    a = log(client, "a", [1.0, 2.0, 3.0])
    b = log(client, "b", [5.0, 4.0])
    c = log(client, "c", [9.0], key="accuracy")
    with client.snapshot() as snap:
        found = metric_series(snap, [a, b, c], "loss")
        assert metric_keys(snap, [a, c]) == ["accuracy", "loss"]
    assert found == {a: ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]), b: ([0.0, 1.0], [5.0, 4.0])}


def test_x_axes_and_zoom(client: Client) -> None:
    """x by wall time (seconds), relative time (from 0), and only the last N steps."""
    run_id = log(client, "r", [float(i) for i in range(100)])
    with client.snapshot() as snap:
        wall = metric_series(snap, [run_id], "loss", XAxis.WALL)[run_id][0]
        relative = metric_series(snap, [run_id], "loss", XAxis.RELATIVE)[run_id][0]
        xs, ys = metric_series(snap, [run_id], "loss", last_steps=10)[run_id]
    assert wall[0] == T0 / 1000 and wall[-1] == (T0 + 990) / 1000
    assert relative[0] == 0.0 and math.isclose(relative[-1], 0.99)
    assert xs == [float(s) for s in range(90, 100)] and ys == [float(s) for s in range(90, 100)]


def test_non_finite_values_are_left_out(client: Client) -> None:
    """NaN and infinities cannot be drawn; the finite points around them still are."""
    run_id = log(client, "nan", [1.0, math.nan, math.inf, -math.inf, 2.0])
    with client.snapshot() as snap:
        assert metric_series(snap, [run_id], "loss")[run_id] == ([0.0, 4.0], [1.0, 2.0])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300), st.integers(1, 20))
def test_downsampling_keeps_extremes(client: Client, values: list[float], buckets: int) -> None:
    """Whatever the values, the plot keeps the first, last, lowest and highest point."""
    run_id = log(client, "h", values)
    with client.snapshot() as snap:
        xs, ys = metric_series(snap, [run_id], "loss", buckets=buckets)[run_id]
    assert len(xs) <= 4 * buckets
    assert min(ys) == min(values) and max(ys) == max(values)
    assert xs[0] == 0 and ys[0] == values[0]
    assert xs[-1] == len(values) - 1 and ys[-1] == values[-1]


def test_runs_plotted_together_match_each_alone(client: Client) -> None:
    """Overlaying runs (read in one go) draws each run exactly as plotting it alone would."""
    ids = [log(client, f"r{n}", [math.cos(i / (n + 3)) for i in range(n * 700 + 5)]) for n in range(3)]
    with client.snapshot() as snap:
        for axis in XAxis:
            for last in (None, 50):
                together = metric_series(snap, ids, "loss", axis, buckets=20, last_steps=last)
                assert together == {r: metric_series(snap, [r], "loss", axis, buckets=20, last_steps=last)[r] for r in ids}


def test_history_starting_or_ending_with_nan_is_still_drawn(client: Client) -> None:
    """NaN at the first or last step leaves the finite points between them on the plot."""
    run_id = log(client, "edges", [math.nan, 1.0, 2.0, 3.0, math.nan])
    only_nan = log(client, "void", [math.nan, math.nan])
    with client.snapshot() as snap:
        found = metric_series(snap, [run_id, only_nan], "loss", buckets=2)
        zoomed = metric_series(snap, [run_id], "loss", last_steps=2)
    assert found == {run_id: ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])}
    assert zoomed == {run_id: ([3.0], [3.0])}
