"""A damaged registry event file is skipped with a warning and found by the doctor's check."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

import store
from store.registry_doctor import check_registry_files, check_registry_versions
from store.registry_store import events_dir, last_seq


def test_damaged_event_file_is_skipped_then_quarantined(client: store.Client, tmp_path: Path):
    """Reading goes on without the damaged file; the doctor names it and --fix moves it away;
    new changes go on numbering after the last readable event."""
    (tmp_path / "model").mkdir()
    client.register_model_version(str(tmp_path / "model"), "iris")
    seq = last_seq(client.root) + 1
    bad = events_dir(client.root) / f"{seq:012d}-{seq:012d}-1-deadbeef.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.warns(UserWarning, match="skipping damaged file"):
        assert client.get_model_version("iris", 1).current_stage == "None"

    [finding] = check_registry_files(client.root)
    assert finding.path == bad and finding.kind == "damaged"
    assert finding.fix is not None and finding.fix().startswith("moved to quarantine/")
    assert not bad.exists() and check_registry_files(client.root) == []

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mv = client.transition_model_version_stage("iris", 1, "Staging")
    assert mv.current_stage == "Staging"
    assert [e.seq for e in client.history("iris")] == [1, 2, seq]


def test_versions_whose_run_or_model_folder_is_gone_are_named(client: store.Client, tmp_path: Path):
    """A version that can no longer be loaded, its model folder deleted or its run's record
    lost, is named by the doctor; a healthy registry gives nothing."""
    run_ids = []
    for _ in range(2):
        run = client.create_run(client.create_experiment(f"e{len(run_ids)}"))
        client.log_text(run.info.run_id, "flavors: {}", "model/MLmodel")
        client.set_terminated(run.info.run_id)
        client.register_model_version(f"runs:/{run.info.run_id}/model", "iris")
        run_ids.append(run.info.run_id)
    (tmp_path / "exported").mkdir()
    client.register_model_version(str(tmp_path / "exported"), "iris")
    client.flush()
    assert check_registry_versions(client.root) == []

    shutil.rmtree(tmp_path / "exported")
    for runs_file in (client.root / "runs" / "experiment_id=1").glob("*.parquet"):
        runs_file.unlink()  # the first run's record, lost
    messages = [f.message for f in check_registry_versions(client.root)]
    assert messages == [
        f"model 'iris' version 1 comes from run {run_ids[0]}, which is not in the store",
        f"model 'iris' version 3 cannot be loaded: model source does not exist: {tmp_path / 'exported'}",
    ]
