"""A run's history read straight from the row groups that hold it (``store.history_read``): the
same points, in the same order, as the DuckDB statement over the whole store."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_faults_helpers import damage

import store
from store import history_read, layout
from store.compaction import compact
from store.entities import Metric
from store.errors import NotFound
from store.reader import Snapshot

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0]),
)
POINT = st.tuples(st.sampled_from(["loss", "acc", "a/b"]), VALUES, st.integers(-3, 40), st.integers(0, 5))


def points(m: list[Metric]) -> list[tuple]:
    """(step, timestamp, value) with NaN made comparable."""
    return [(p.step, p.timestamp, "nan" if math.isnan(p.value) else p.value) for p in m]


def through_duckdb(root: Path, run_id: str, key: str) -> list[tuple]:
    with Snapshot(root) as snap:
        rows = snap.fetch(
            "SELECT step, timestamp, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp",
            [run_id, key],
        )[1]
    return [(s, t, "nan" if math.isnan(v) else v) for s, t, v in rows]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flushes=st.lists(st.lists(st.tuples(st.integers(0, 2), POINT), max_size=30), min_size=1, max_size=5),
       compact_after=st.integers(0, 5))
def test_the_same_points_as_the_statement(store_path: Path, flushes: list, compact_after: int) -> None:
    """Runs logged over several flushes (files in logging order), some merged (sorted by run),
    NaN, infinities and repeated steps included."""
    root = store_path / uuid.uuid4().hex
    client = store.Client(root)
    exp = client.create_experiment("h")
    run_ids = [client.create_run(exp).info.run_id for _ in range(3)]
    for i, flush in enumerate(flushes):
        for run, (key, value, step, ts) in flush:
            client.log_batch(run_ids[run], [Metric(key, value, ts, step)])
        client.flush()
        if i + 1 == compact_after:
            compact(root)
    for run_id in run_ids:
        for key in ("loss", "acc", "a/b", "never"):
            got, expected = points(client.get_metric_history(run_id, key)), through_duckdb(root, run_id, key)
            assert [p[:2] for p in got] == [p[:2] for p in expected]  # by step, then timestamp
            assert sorted(got, key=repr) == sorted(expected, key=repr)  # ties in either order


def test_many_runs_in_merged_row_groups(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs spread over several row groups of a merged file: each run's history from its own."""
    monkeypatch.setattr(layout, "ROW_GROUP_ROWS", 64)
    client = store.Client(store_path)
    exp = client.create_experiment("many")
    run_ids = [client.create_run(exp).info.run_id for _ in range(40)]
    for n, run_id in enumerate(run_ids):
        client.log_batch(run_id, [Metric("loss", float(n * 100 + s), 0, s) for s in range(n % 7 + 1)])
    client.flush()
    compact(store_path)
    (merged,) = (store_path / "metrics").rglob("*.parquet")
    assert history_read._footer(merged)[0].num_row_groups > 1
    for n, run_id in enumerate(run_ids):
        assert [m.value for m in client.get_metric_history(run_id, "loss")] == [n * 100 + s for s in range(n % 7 + 1)]


def run_in_flushes(root: Path, flushes: int) -> tuple[store.Client, str]:
    """A run whose ``loss`` has steps 0-9 in a first file, 10-19 in a second, and so on."""
    client = store.Client(root)
    run_id = client.create_run(client.create_experiment("flushes")).info.run_id
    for f in range(flushes):
        client.log_batch(run_id, [Metric("loss", float(s), 0, s) for s in range(f * 10, f * 10 + 10)])
        client.flush()
    return client, run_id


def test_a_compaction_between_two_reads_changes_nothing(store_path: Path) -> None:
    client, run_id = run_in_flushes(store_path, 4)
    before = client.get_metric_history(run_id, "loss")
    compact(store_path)
    assert client.get_metric_history(run_id, "loss") == before
    assert [m.step for m in before] == list(range(40))


def test_a_damaged_file_is_skipped_as_by_every_reader(store_path: Path) -> None:
    client, run_id = run_in_flushes(store_path, 2)
    victim = sorted((store_path / "metrics").rglob("*.parquet"))[1]
    damage(victim, "zero-byte")
    with pytest.warns(UserWarning, match="skipping damaged file"):
        history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(10))


def test_unknown_run_fails_and_unknown_key_is_empty(store_path: Path) -> None:
    client = store.Client(store_path)
    run_id = client.create_run(client.create_experiment("u")).info.run_id
    client.log_metric(run_id, "loss", 1.0)
    assert client.get_metric_history(run_id, "nope") == []
    with pytest.raises(NotFound):
        client.get_metric_history("0" * 32, "loss")
