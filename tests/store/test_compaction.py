"""Compaction: fewer files, the same answers, whatever runs beside it."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_faults_helpers import (
    KEY,
    assert_exact,
    damage,
    histories,
    compact_forever,
    log_points,
    small_files,
    start,
    summary_counts,
)

import store
from store import compaction, writer
from store.compaction import compact
from store.reader import Snapshot


def answers(root: Path) -> tuple[list[str], ...]:
    """What a user sees: runs, params, tags, summaries and every metric point."""
    queries = [
        "SELECT * EXCLUDE (duration) FROM runs",
        "SELECT * FROM params",
        "SELECT * FROM tags",
        "SELECT * FROM metric_summaries",
        "SELECT * FROM metrics",
    ]
    with Snapshot(root) as snap:
        return tuple(sorted(map(str, snap.rows(q))) for q in queries)


def parquet_count(root: Path, table: str) -> int:
    return len(list((root / table).rglob("*.parquet")))


def test_compact_merges_small_files_and_changes_no_answer(store_path: Path) -> None:
    """After `mltui compact` a partition holds one file per table, and every query answers
    exactly as before."""
    small_files(store_path, runs=4, flushes=8)
    before = answers(store_path)
    assert parquet_count(store_path, "metrics") >= 8
    result = compact(store_path)
    assert result.files_after < result.files_before
    assert answers(store_path) == before
    for table in ("runs", "tags", "metrics", "metric_summaries"):
        assert parquet_count(store_path, table) == 1, table
    assert compact(store_path).files_after == result.files_after  # a second pass is a no-op


def test_compaction_racing_eight_writers_counts_exactly(store_path: Path) -> None:
    """Compacting over and over while 8 processes log: readers never see a point twice or a
    gap, and in the end every point is there once."""
    client = store.Client(store_path)
    exp = client.create_experiment("race")
    procs = [start(log_points, str(store_path), exp, 10_000, 100, 0.01) for _ in range(8)]
    rounds = 0
    while any(p.is_alive() for p in procs):
        compact(store_path)
        assert_exact(store_path)
        rounds += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert rounds > 1  # the compactions really overlapped the writers
    compact(store_path)
    counts = assert_exact(store_path)
    assert sorted(counts.values()) == [10_000] * 8
    assert summary_counts(store_path) == counts
    assert parquet_count(store_path, "metrics") <= 2


def test_two_compactions_at_once_do_not_double_rows(store_path: Path) -> None:
    """Two `mltui compact` started together: one waits for the other, no row is doubled."""
    expected = small_files(store_path, runs=3, flushes=10)
    before = answers(store_path)
    threads = [threading.Thread(target=compact, args=(store_path,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert assert_exact(store_path) == expected
    assert answers(store_path) == before


@pytest.mark.parametrize("how", ["zero-byte", "truncated", "garbage"])
def test_damaged_file_is_skipped_by_readers(store_path: Path, how: str) -> None:
    """A damaged Parquet file costs only its own rows: readers skip it with a warning."""
    small_files(store_path, runs=2, flushes=4)
    victim = sorted((store_path / "metrics").rglob("*.parquet"))[1]
    lost = pq.read_metadata(victim).num_rows
    damage(victim, how)
    with pytest.warns(UserWarning, match="skipping damaged file"):
        counts = histories(store_path)
    assert sum(n for n, *_ in counts.values()) == 2 * 4 * 50 - lost


@pytest.mark.parametrize("how", ["zero-byte", "truncated", "garbage"])
def test_compact_quarantines_damaged_file(store_path: Path, how: str) -> None:
    """Compaction moves a damaged file to quarantine/ instead of failing or deleting it, and
    merges the rest."""
    small_files(store_path, runs=2, flushes=4)
    victim = sorted((store_path / "tags").rglob("*.parquet"))[1]
    damage(victim, how)
    result = compact(store_path)
    assert result.quarantined == (victim,)
    assert not victim.exists()
    kept = list((store_path / compaction.QUARANTINE).rglob("*.damaged"))
    assert [p.name for p in kept] == [victim.name + ".damaged"]
    assert parquet_count(store_path, "tags") == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sum(n for n, *_ in histories(store_path).values()) == 2 * 4 * 50


def test_automatic_compaction_starts_at_the_threshold(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files are merged automatically once a partition has AUTO_COMPACT_FILES of them,
    not before."""
    monkeypatch.setattr(writer, "OWN_SEGMENTS_BEFORE_MERGE", 10**9)
    # Files only from the explicit flushes: on a loaded machine the periodic one could write a
    # run's first tags apart from its first flush's, one file more than counted here.
    monkeypatch.setenv("MLTUI_FLUSH_INTERVAL", "3600")
    small_files(store_path, runs=1, flushes=compaction.AUTO_COMPACT_FILES - 1)
    touched = [("metrics", "1"), ("tags", "1")]
    compaction.auto_compact(store_path, touched)
    assert parquet_count(store_path, "metrics") == compaction.AUTO_COMPACT_FILES - 1
    small_files(store_path, runs=1, flushes=1)  # a second experiment: partition 1 unchanged
    store.Client(store_path).log_batch(
        store.Client(store_path).search_runs(["1"])[0].info.run_id,
        [store.entities.Metric(KEY, 0.5, 0, 10_000)],
    )
    store.Client(store_path).flush()
    compaction.auto_compact(store_path, touched)
    assert parquet_count(store_path, "metrics") == 2  # partition 1 merged, partition 2 untouched
    assert parquet_count(store_path, "tags") == compaction.AUTO_COMPACT_FILES  # 31 + 1: below it


def test_interrupted_compaction_is_invisible_and_finished_later(store_path: Path) -> None:
    """A compaction killed after writing its merged file but before deleting the inputs
    doubles nothing; the next compaction deletes the leftovers."""
    expected = small_files(store_path, runs=2, flushes=5)
    directory = store_path / "metrics" / "experiment_id=1"
    inputs = compaction.visible_files(directory)
    saved = {p: p.read_bytes() for p in inputs}
    assert compaction.merge_files(store_path, "metrics", "1", inputs, compaction.merged_name(directory))
    for path, data in saved.items():  # as if killed before the unlinks
        path.write_bytes(data)
    assert assert_exact(store_path) == expected
    compact(store_path)
    assert not any(p.exists() for p in saved)
    assert assert_exact(store_path) == expected


def test_searches_in_another_process_never_fail_while_compacting(store_path: Path) -> None:
    """A script searching again and again (which builds shared state and pivot tables from the
    files it lists) while writers log and a compactor merges and deletes those files: every
    search answers, none raises."""
    from store.search import runs_table

    client = store.Client(store_path)
    exp = client.create_experiment("race")
    writers = [start(log_points, str(store_path), exp, 4_000, 50, 0.01) for _ in range(3)]
    compactor = start(compact_forever, str(store_path))
    searches = 0
    try:
        while any(p.is_alive() for p in writers) or searches < 20:  # the compactor still runs
            found = client.search_runs(filter_string=f"metrics.{KEY} >= 0", max_results=None)
            with client.snapshot() as snap:
                table = runs_table(snap, "")
            assert table.num_rows >= len(found)  # runs only come, never go
            searches += 1
    finally:
        compactor.kill()
        compactor.join()
    for p in writers:
        p.join()
        assert p.exitcode == 0


def test_a_merged_file_the_system_cannot_read_fails_the_read(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the system cannot read a merged file's footer (too many open files, permissions), a
    read fails and says so: it never shows the store as if that file's rows were not there. A
    damaged footer is different: the file is skipped, with a warning naming it."""
    import errno

    from store import listing
    from store.errors import MltuiError

    run_id = next(iter(small_files(store_path, runs=2, flushes=3)))
    compact(store_path)
    client = store.Client(store_path)
    client.log_metric(run_id, "late", 1.0)  # a file beside the merged one: its footer is read
    client.flush()
    merged = sorted((store_path / "metrics").rglob(f"*{listing.MERGED_SUFFIX}"))
    assert merged and len(list(merged[0].parent.glob("*.parquet"))) == 2
    monkeypatch.setattr(listing, "_replaces_cache", {})

    def refused(path: Path, key: bytes) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(listing, "_footer_value", refused)
    with pytest.raises(MltuiError, match="Too many open files"):
        Snapshot(store_path)
    monkeypatch.undo()
    monkeypatch.setattr(listing, "_replaces_cache", {})
    data = merged[0].read_bytes()
    merged[0].write_bytes(data[:-12] + b"\0" * 8 + data[-4:])  # the footer's length destroyed
    with pytest.warns(UserWarning, match="skipping damaged merged file"):
        listing.visible_files(merged[0].parent)
