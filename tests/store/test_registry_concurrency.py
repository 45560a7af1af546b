"""Registry writes from several processes at once stay consistent: one Production version."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import store

WORKERS = 4


def promote(root: str, version: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    """One process: wait for the others, then promote ``version`` archiving the rest."""
    client = store.Client(root)
    barrier.wait(timeout=60)
    client.transition_model_version_stage("iris", version, "Production", archive_existing_versions=True)


def test_four_processes_promoting_leave_one_production_version(client: store.Client, tmp_path: Path):
    """Four simultaneous promotions end with exactly one Production version, and the history
    shows each promotion archiving the one before it."""
    (tmp_path / "model").mkdir()
    for _ in range(WORKERS):
        client.register_model_version(str(tmp_path / "model"), "iris")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["store"])  # import once, fork the four workers from there
    barrier = ctx.Barrier(WORKERS)
    procs = [
        ctx.Process(target=promote, args=(str(client.root), v, barrier)) for v in range(1, WORKERS + 1)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WORKERS

    versions = client.search_model_versions("name = 'iris'")
    production = [v.version for v in versions if v.current_stage == "Production"]
    assert len(production) == 1
    assert sorted(v.current_stage for v in versions) == ["Archived"] * 3 + ["Production"]

    transitions = [e for e in client.history("iris") if e.action == "transition"]
    promoted = [e.version for e in transitions if e.to_stage == "Production"]
    assert sorted(promoted) == [1, 2, 3, 4] and promoted[-1] == production[0]
    expected = []
    for i, version in enumerate(promoted):
        expected.append((version, "None", "Production"))
        if i:
            expected.append((promoted[i - 1], "Production", "Archived"))
    assert [(e.version, e.from_stage, e.to_stage) for e in transitions] == expected
