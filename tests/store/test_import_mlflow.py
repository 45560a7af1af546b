"""Importing MLflow stores written by the real MLflow (tests/fixtures/mlflow, made by
make_fixtures.py): everything MLflow's own client reported comes over, once."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path

import pytest

import store
from store import ViewType
from store.importers import import_mlflow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mlflow"
PLACEHOLDER = "/MLTUI_FIXTURE_ROOT"


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """The fixtures copied to a temporary folder, with its path where MLflow wrote the original."""
    dest = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, dest)
    for path in (dest / "mlruns").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if PLACEHOLDER in text:
                path.write_text(text.replace(PLACEHOLDER, str(dest)), encoding="utf-8")
    con = sqlite3.connect(dest / "mlflow.db")
    for table, column in (("experiments", "artifact_location"), ("runs", "artifact_uri")):
        con.execute(f"UPDATE {table} SET {column} = replace({column}, ?, ?)", (PLACEHOLDER, str(dest)))
    con.commit()
    con.close()
    return dest


def expected(name: str, root: Path) -> dict:
    text = (FIXTURES / f"{name}.expected.json").read_text().replace(PLACEHOLDER, str(root))
    return json.loads(text)


def value(v: object) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v)  # type: ignore[arg-type]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("name", ["mlflow.db", "mlruns"])
def test_round_trip_equals_what_mlflow_reports(fixtures: Path, tmp_path: Path, name: str) -> None:
    """Every experiment, run, param, tag, metric point and registry state matches MLflow's client."""
    want = expected(name, fixtures)
    target = tmp_path / "store"
    summary = import_mlflow(fixtures / name, target)
    assert summary.skipped == []
    client = store.Client(target)

    exps = {e.experiment_id: e for e in client.search_experiments(ViewType.ALL)}
    assert {e["experiment_id"] for e in want["experiments"]} == set(exps)
    for e in want["experiments"]:
        got = exps[e["experiment_id"]]
        assert (got.name, got.lifecycle_stage, got.tags) == (e["name"], e["lifecycle_stage"], e["tags"])

    runs = {r.info.run_id: r for r in client.search_runs(None, run_view_type=ViewType.ALL, max_results=None)}
    assert {r["run_id"] for r in want["runs"]} == set(runs)
    for r in want["runs"]:
        got = runs[r["run_id"]]
        info = got.info
        assert (info.run_name, info.experiment_id, info.status, info.start_time, info.end_time, info.lifecycle_stage) == (
            r["run_name"], r["experiment_id"], r["status"], r["start_time"], r["end_time"], r["lifecycle_stage"]
        )
        assert got.data.params == r["params"]
        assert got.data.tags == r["tags"]
        assert set(got.data.metrics) == set(r["latest"])
        for key, latest in r["latest"].items():
            assert same(got.data.metrics[key], value(latest)), (r["run_name"], key)
            history = client.get_metric_history(info.run_id, key)
            mine = sorted((m.step, m.timestamp, repr(m.value)) for m in history)
            theirs = sorted((s, t, repr(float(value(v)))) for s, t, v in r["history"][key])
            assert mine == theirs

    for m in want["models"]:
        got = client.get_registered_model(m["name"])
        assert (got.description, got.tags, got.aliases) == (
            m["description"], m["tags"], {k: int(v) for k, v in m["aliases"].items()}
        )
        for v in m["versions"]:
            mv = client.get_model_version(m["name"], v["version"])
            assert (mv.current_stage, mv.run_id, mv.source, mv.description, mv.tags, sorted(mv.aliases)) == (
                v["current_stage"], v["run_id"], v["source"], v["description"], v["tags"], v["aliases"]
            )


@pytest.mark.parametrize("name", ["mlflow.db", "mlruns"])
def test_importing_twice_adds_nothing(fixtures: Path, tmp_path: Path, name: str) -> None:
    """A second import of the same source writes no run, point or model again."""
    target = tmp_path / "store"
    first = import_mlflow(fixtures / name, target)
    again = import_mlflow(fixtures / name, target)
    assert (first.runs, first.points, first.models, first.versions) == (9, 141, 1, 3)
    assert (again.experiments, again.runs, again.runs_updated, again.points, again.params, again.tags, again.models, again.versions) == (0,) * 8
    client = store.Client(target)
    run = next(r for r in client.search_runs(None, max_results=None) if r.info.run_name == "trial-0 λ")
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 20
    assert len(client.history("classifier")) == len(store.Client(target).history("classifier"))


def test_incremental_import_adds_just_the_new(fixtures: Path, tmp_path: Path) -> None:
    """Runs and points logged in MLflow after an import come over on the next one, and only they."""
    db = fixtures / "mlflow.db"
    target = tmp_path / "store"
    import_mlflow(db, target)
    con = sqlite3.connect(db)
    run_id = con.execute("SELECT run_uuid FROM runs WHERE name = 'failed-run'").fetchone()[0]
    con.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('loss', ?, ?, ?, ?, 0)",
        [(1.0 / s, 1_700_000_001_000 + s, run_id, s) for s in range(1, 6)],
    )
    con.execute(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
        "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
        "VALUES ('abc123', 'late-run', 'LOCAL', '', '', 'ana', 'FINISHED', 1, 2, '', 'active', '', 1)"
    )
    con.execute("INSERT INTO params (key, value, run_uuid) VALUES ('lr', '0.5', 'abc123')")
    con.execute("UPDATE runs SET status = 'FINISHED' WHERE name = 'still-running'")
    con.commit()
    con.close()
    summary = import_mlflow(db, target)
    assert (summary.runs, summary.runs_updated, summary.points, summary.params) == (1, 1, 5, 1)
    client = store.Client(target)
    assert len(client.get_metric_history(run_id, "loss")) == 6
    assert client.get_run("abc123").data.params == {"lr": "0.5"}
    statuses = {r.info.run_name: r.info.status for r in client.search_runs(None, max_results=None)}
    assert statuses["still-running"] == "FINISHED"


def test_copy_artifacts_brings_files_into_the_store(fixtures: Path, tmp_path: Path) -> None:
    """With copy_artifacts the run's files live in the store, so the source can go away."""
    target = tmp_path / "store"
    summary = import_mlflow(fixtures / "mlruns", target, copy_artifacts=True)
    assert summary.artifacts_copied >= 2
    client = store.Client(target)
    run = next(r for r in client.search_runs(None, max_results=None) if r.info.run_name == "trial-1 λ")
    shutil.rmtree(fixtures)
    assert (Path(run.info.artifact_uri) / "notes" / "hello.txt").read_text() == "hello"
    assert str(target) in run.info.artifact_uri


def test_artifacts_are_referenced_by_default(fixtures: Path, tmp_path: Path) -> None:
    """Without copying, a run's artifact_uri is MLflow's, as MLflow reported it."""
    import_mlflow(fixtures / "mlflow.db", tmp_path / "store")
    client = store.Client(tmp_path / "store")
    run = next(r for r in client.search_runs(None, max_results=None) if r.info.run_name == "trial-0 λ")
    assert run.info.artifact_uri.startswith(f"file://{fixtures}/artifacts/")


def test_bad_sources_are_clear_errors(tmp_path: Path) -> None:
    """A missing path, a non-MLflow database, a corrupt file and a foreign folder name the problem."""
    with pytest.raises(store.NotFound, match="no such file or folder"):
        import_mlflow(tmp_path / "missing.db", tmp_path / "s")
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.close()
    with pytest.raises(store.ValidationError, match="not an MLflow tracking store"):
        import_mlflow(other, tmp_path / "s")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(store.ValidationError, match="not a readable SQLite database"):
        import_mlflow(garbage, tmp_path / "s")
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(store.ValidationError, match="not an MLflow file store"):
        import_mlflow(folder, tmp_path / "s")
    with pytest.raises(store.ValidationError, match="unsupported source"):
        import_mlflow("postgresql://host/db", tmp_path / "s")


def test_corrupt_database_is_reported(fixtures: Path, tmp_path: Path) -> None:
    """A truncated mlflow.db fails with a message, and the store is left readable."""
    db = fixtures / "mlflow.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    with pytest.raises(store.MltuiError):
        import_mlflow(db, tmp_path / "s")
    assert store.Client(tmp_path / "s").search_runs(None) == []


def test_broken_run_folder_is_skipped_and_reported(fixtures: Path, tmp_path: Path) -> None:
    """One unreadable run folder is reported and skipped; every other run imports."""
    exp_dir = next(d for d in (fixtures / "mlruns").iterdir() if d.is_dir() and d.name not in ("0", ".trash", "models"))
    broken = next(d for d in exp_dir.iterdir() if (d / "meta.yaml").exists())
    (broken / "meta.yaml").write_text("run_id: [unclosed")
    summary = import_mlflow(fixtures / "mlruns", tmp_path / "store")
    assert summary.runs == 8
    assert [s.what for s in summary.skipped] == [f"run folder {exp_dir.name}/{broken.name}"]


def test_legacy_file_store_layouts_import(tmp_path: Path) -> None:
    """MLflow 1.x folders: int ids, `run_uuid`, no lifecycle, names only in tags, 2- and 5-field
    metric lines, keys with '/' as sub-folders."""
    root = tmp_path / "mlruns"
    exp = root / "0"
    run = exp / "a1b2c3d4e5f6"
    (run / "metrics" / "train").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "tags").mkdir()
    (exp / "meta.yaml").write_text("artifact_location: ./mlruns/0\nexperiment_id: 0\nname: Default\n")
    (run / "meta.yaml").write_text(
        "artifact_uri: ./mlruns/0/a1b2c3d4e5f6/artifacts\nend_time: 1500000001000\n"
        "experiment_id: 0\nrun_uuid: a1b2c3d4e5f6\nsource_type: 4\nstart_time: 1500000000000\n"
        "status: 3\ntags: []\nuser_id: ana\n"
    )
    (run / "metrics" / "loss").write_text("1500000000000 0.5\n1500000000100 0.25\n")
    (run / "metrics" / "train" / "acc").write_text("1500000000000 0.9 3 ds 0abc\n1500000000001 nan 4\n")
    (run / "params" / "lr").write_text("0.01")
    (run / "tags" / "mlflow.runName").write_text("old-run")
    summary = import_mlflow(root, tmp_path / "store")
    assert (summary.runs, summary.points, summary.skipped) == (1, 4, [])
    got = store.Client(tmp_path / "store").get_run("a1b2c3d4e5f6")
    assert (got.info.run_name, got.info.status, got.info.lifecycle_stage) == ("old-run", "FINISHED", "active")
    assert got.data.params == {"lr": "0.01"}
    client = store.Client(tmp_path / "store")
    assert [(m.step, m.value) for m in client.get_metric_history("a1b2c3d4e5f6", "loss")] == [(0, 0.5), (0, 0.25)]
    acc = client.get_metric_history("a1b2c3d4e5f6", "train/acc")
    assert [m.step for m in acc] == [3, 4] and math.isnan(acc[1].value)
