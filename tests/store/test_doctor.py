"""`mltui doctor`: what it finds in a damaged store, and that --fix repairs without losing data."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_faults_helpers import assert_exact, damage, small_files, summary_counts

import store
from store import compaction, writer
from store.doctor import diagnose
from store.entities import Metric
from store.reader import Snapshot


def kinds(root: Path) -> list[str]:
    return sorted(f.kind for f in diagnose(root).findings)


def test_healthy_store_has_no_findings(store_path: Path) -> None:
    """A store written normally is reported healthy."""
    small_files(store_path)
    assert diagnose(store_path).healthy


@pytest.mark.parametrize("how", ["zero-byte", "truncated", "garbage"])
def test_damaged_file_reported_and_quarantined(store_path: Path, how: str) -> None:
    """A damaged Parquet file is reported; --fix moves it to quarantine/ (kept whole) and the
    store is healthy again."""
    small_files(store_path, flushes=3)
    victim = sorted((store_path / "tags").rglob("*.parquet"))[0]
    damage(victim, how)
    kept = victim.read_bytes()
    assert "damaged" in kinds(store_path)
    report = diagnose(store_path, fix=True)
    assert [f.path for f, _ in report.fixed] == [victim]
    (moved,) = (store_path / compaction.QUARANTINE).rglob("*.damaged")
    assert moved.read_bytes() == kept
    assert diagnose(store_path).healthy


def test_stale_temp_files_removed_fresh_ones_left(store_path: Path) -> None:
    """A temp file a dead writer left behind is removed by --fix; one being written now is not."""
    small_files(store_path, flushes=1)
    stale = store_path / "metrics" / ".dead-000001.parquet.tmp"
    fresh = store_path / "metrics" / ".live-000001.parquet.tmp"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"being written")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert kinds(store_path) == ["temp"]
    diagnose(store_path, fix=True)
    assert not stale.exists() and fresh.exists()


def test_merged_inputs_left_behind_are_cleaned(store_path: Path) -> None:
    """Inputs a killed compaction left next to its merged file are reported and removed,
    and every point stays counted once."""
    expected = small_files(store_path, runs=2, flushes=4)
    directory = store_path / "metrics" / "experiment_id=1"
    inputs = compaction.visible_files(directory)
    saved = {p: p.read_bytes() for p in inputs}
    compaction.merge_files(store_path, "metrics", "1", inputs, compaction.merged_name(directory))
    for path, data in saved.items():
        path.write_bytes(data)
    assert kinds(store_path) == ["merged-input"]
    diagnose(store_path, fix=True)
    assert not any(p.exists() for p in saved)
    assert assert_exact(store_path) == expected
    assert diagnose(store_path).healthy


def test_runs_without_experiment_are_reported_not_fixed(store_path: Path) -> None:
    """Runs whose experiment record is gone are reported and make doctor fail; --fix does not
    invent an experiment."""
    small_files(store_path, flushes=1)
    for f in (store_path / "experiments").glob("*.parquet"):
        f.unlink()
    report = diagnose(store_path, fix=True)
    assert [f.kind for f in report.remaining] == ["orphan-runs"]
    assert not report.healthy


def test_summaries_behind_histories_rebuilt(store_path: Path) -> None:
    """Summaries that lost a flush (writer killed between the two files) are recomputed from
    the histories by --fix."""
    expected = small_files(store_path, runs=2, flushes=3)
    client = store.Client(store_path)
    for run_id in expected:
        client.set_terminated(run_id)  # a rebuild waits until no run is alive
    sorted((store_path / "metric_summaries").rglob("*.parquet"))[0].unlink()
    assert summary_counts(store_path) != expected
    assert kinds(store_path) == ["summaries"]
    diagnose(store_path, fix=True)
    assert summary_counts(store_path) == expected


def test_bad_marker_reported(store_path: Path) -> None:
    """A store of an unknown format version is reported, not misread."""
    small_files(store_path, flushes=1)
    (store_path / "mltui-store.json").write_text('{"format": "mltui", "version": 99}')
    assert kinds(store_path) == ["format"]


def test_live_run_blocks_summary_rebuild(store_path: Path) -> None:
    """While a run is logging, --fix leaves the summaries alone and says why."""
    expected = small_files(store_path, runs=1, flushes=2)
    sorted((store_path / "metric_summaries").rglob("*.parquet"))[0].unlink()
    with store.start_run():
        report = diagnose(store_path, fix=True)
        assert [f.kind for f, _ in report.not_fixed] == ["summaries"]
    assert summary_counts(store_path) != expected


def summaries_of(root: Path) -> dict[str, tuple]:
    with Snapshot(root) as snap:
        rows = snap.rows("SELECT run_id, last_value, min_value, max_value, count FROM metric_summaries")
    return {r["run_id"]: (r["last_value"], r["min_value"], r["max_value"], r["count"]) for r in rows}


def test_a_damaged_history_keeps_its_summaries(store_path: Path) -> None:
    """A history file lost to damage: --fix quarantines it and keeps the summaries, all that is
    left of its points (the runs table still shows their last, min and max); doctor goes on
    naming the lost points."""
    expected = small_files(store_path, runs=2, flushes=3)
    client = store.Client(store_path)
    for run_id in expected:
        client.set_terminated(run_id)
    before = summaries_of(store_path)
    damage(sorted((store_path / "metrics").rglob("*.parquet"))[-1], "truncated")  # the last flush
    assert kinds(store_path) == ["damaged", "histories"]
    report = diagnose(store_path, fix=True)
    assert [f.kind for f in report.remaining] == ["histories"]
    assert "restore the file" in report.remaining[0].message
    assert summaries_of(store_path) == before
    assert assert_exact(store_path) == {run_id: 100 for run_id in expected}  # steps 0-99 left


def test_summary_rebuild_keeps_what_each_summary_knows_more_of(store_path: Path) -> None:
    """In one experiment, a summary behind its history (a writer killed mid-flush) is rebuilt,
    while one whose history lost a file is kept as it was."""
    client = store.Client(store_path)
    exp = client.create_experiment("mixed")
    behind, lost = (client.create_run(exp).info.run_id for _ in range(2))
    saved, writer.OWN_SEGMENTS_BEFORE_MERGE = writer.OWN_SEGMENTS_BEFORE_MERGE, 10**9
    try:
        for f, run_id in enumerate([behind, lost, behind, lost]):
            client.log_batch(run_id, [Metric("x", float(s), 0, s) for s in range(f * 50, f * 50 + 50)])
            client.flush()
    finally:
        writer.OWN_SEGMENTS_BEFORE_MERGE = saved
    for run_id in (behind, lost):
        client.set_terminated(run_id)
    sorted((store_path / "metric_summaries").rglob("*.parquet"))[2].unlink()  # behind's 2nd summary
    sorted((store_path / "metrics").rglob("*.parquet"))[1].unlink()  # lost's 1st history
    assert kinds(store_path) == ["histories", "summaries"]
    diagnose(store_path, fix=True)
    assert summaries_of(store_path) == {behind: (149.0, 0.0, 149.0, 100), lost: (199.0, 50.0, 199.0, 100)}
    assert kinds(store_path) == ["histories"]


def test_runs_whose_record_is_lost_are_reported(store_path: Path) -> None:
    """A damaged runs file hides its runs although their params, tags and metrics are there:
    doctor says how many, before and after --fix quarantines the file."""
    small_files(store_path, runs=3, flushes=1)
    compaction.compact(store_path)  # one runs file holds all three
    (victim,) = (store_path / "runs").rglob("*.parquet")
    damage(victim, "zero-byte")
    assert kinds(store_path) == ["damaged", "orphan-records"]
    report = diagnose(store_path, fix=True)
    (left,) = report.remaining
    assert left.kind == "orphan-records" and "of 3 runs of experiment" in left.message
