"""The fluent tracking API behaves as MLflow's does for a script that changed only its import."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import store as mlflow
from store import Metric, Param, RunTag, ViewType


def test_seed_example_runs_with_only_the_import_changed(store_path: Path) -> None:
    """The README's first script logs a run that reads back exactly."""
    mlflow.set_experiment("random_forest_tuning")
    with mlflow.start_run() as run:
        mlflow.log_param("n_estimators", 100)
        mlflow.log_params({"max_depth": 8, "criterion": "gini"})
        for step in range(5):
            mlflow.log_metric("accuracy", [0.8, 0.81, 0.82, 0.83, 0.84][step], step=step)
        mlflow.log_metrics({"f1": 0.7, "precision": 0.75}, step=4)
        mlflow.set_tag("team", "vision")
    got = mlflow.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time
    assert got.data.params == {"n_estimators": "100", "max_depth": "8", "criterion": "gini"}
    assert got.data.metrics == {"accuracy": 0.84, "f1": 0.7, "precision": 0.75}
    assert got.data.tags["team"] == "vision"
    assert mlflow.get_experiment_by_name("random_forest_tuning").experiment_id == got.info.experiment_id


def test_files_are_readable_by_plain_duckdb(store_path: Path) -> None:
    """Nothing proprietary: the store's Parquet files open in DuckDB with no mltui code."""
    mlflow.set_experiment("plain")
    with mlflow.start_run():
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_param("lr", 0.1)
    pattern = str(store_path / "**" / "*.parquet")
    rows = duckdb.sql(
        f"SELECT key, value FROM read_parquet('{pattern}', union_by_name=true) "
        "WHERE key IN ('loss', 'lr') AND run_id IS NOT NULL ORDER BY key, value NULLS FIRST"
    ).fetchall()
    assert rows == [("loss", None), ("loss", "0.5"), ("lr", "0.1")]  # summary, point, param
    metrics = str(store_path / "metrics" / "**" / "*.parquet")
    typed = duckdb.sql(f"SELECT key, step, value FROM read_parquet('{metrics}')").fetchall()
    assert typed == [("loss", 1, 0.5)]


def test_run_name_is_random_adjective_animal_number(store_path: Path) -> None:
    """Unnamed runs get MLflow-style names such as 'brave-otter-401'."""
    with mlflow.start_run() as run:
        pass
    adjective, animal, number = run.info.run_name.split("-")
    assert adjective.isalpha() and animal.isalpha() and number.isdigit()
    assert mlflow.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_system_tags_are_recorded(store_path: Path) -> None:
    """Runs say who ran what from where, like MLflow's context tags."""
    with mlflow.start_run(description="first try") as run:
        pass
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"]
    assert tags["mlflow.note.content"] == "first try"
    info = mlflow.get_run(run.info.run_id).info
    assert info.host and info.pid


def test_nested_runs_record_their_parent(store_path: Path) -> None:
    """A sweep's trials point at the parent run, as mlflow.parentRunId."""
    with mlflow.start_run(run_name="sweep") as parent:
        with mlflow.start_run(run_name="trial-1", nested=True) as child:
            mlflow.log_metric("loss", 0.3)
        assert mlflow.active_run().info.run_id == parent.info.run_id
    child_run = mlflow.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.data.metrics == {"loss": 0.3}


def test_second_run_without_nested_is_refused(store_path: Path) -> None:
    """Starting a run while one is active needs nested=True, as in MLflow."""
    with mlflow.start_run():
        with pytest.raises(mlflow.MltuiError, match="nested=True"):
            mlflow.start_run()


def test_logging_without_a_run_starts_one(store_path: Path) -> None:
    """log_metric with no active run starts one (MLflow does the same)."""
    mlflow.log_metric("loss", 1.0)
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()
    assert mlflow.get_run(run.info.run_id).data.metrics == {"loss": 1.0}


def test_resume_a_run_by_id(store_path: Path) -> None:
    """start_run(run_id=...) continues a finished run: RUNNING again, then FINISHED with more points."""
    with mlflow.start_run() as run:
        mlflow.log_metric("loss", 1.0, step=0)
        mlflow.log_param("lr", "0.1")
    with mlflow.start_run(run_id=run.info.run_id) as again:
        assert again.info.status == "RUNNING"
        assert mlflow.get_run(run.info.run_id).info.end_time is None
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_param("lr", "0.1")
        with pytest.raises(mlflow.ValidationError, match="changing param values"):
            mlflow.log_param("lr", "0.2")
    got = mlflow.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert [m.value for m in mlflow.Client().get_metric_history(run.info.run_id, "loss")] == [1.0, 0.5]


def test_latest_value_is_highest_step_not_last_call(store_path: Path) -> None:
    """A run's metric is the point with the highest (step, timestamp, value), as in MLflow."""
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.9, step=10)
        mlflow.log_metric("acc", 0.1, step=3)
        mlflow.log_metric("same", 1.0, step=5, timestamp=2000)
        mlflow.log_metric("same", 2.0, step=5, timestamp=1000)
    assert mlflow.get_run(run.info.run_id).data.metrics == {"acc": 0.9, "same": 1.0}


def test_summaries_give_min_max_first_last_count(client: mlflow.Client) -> None:
    """The runs table's min/max/first columns come from summaries, without reading histories."""
    exp = client.create_experiment("s")
    run = client.create_run(exp)
    for step, value in enumerate([3.0, 1.0, float("nan"), 2.0]):
        client.log_metric(run.info.run_id, "loss", value, step=step)
    client.set_terminated(run.info.run_id)
    (summary,) = client.get_metric_summaries(run.info.run_id)
    assert (summary.first, summary.last, summary.min, summary.max, summary.count) == (
        3.0,
        2.0,
        1.0,
        3.0,
        4,
    )
    assert (summary.first_step, summary.last_step) == (0, 3)


def test_tags_can_be_changed_and_deleted(store_path: Path) -> None:
    """Tags are mutable (params are not): the last value wins, delete_tag removes it."""
    with mlflow.start_run() as run:
        mlflow.set_tags({"stage": "draft", "owner": "ana"})
        mlflow.set_tag("stage", "final")
        mlflow.delete_tag("owner")
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["stage"] == "final"
    assert "owner" not in tags
    with mlflow.start_run():
        with pytest.raises(mlflow.NotFound, match="no tag 'missing'"):
            mlflow.delete_tag("missing")


def test_artifacts_land_under_the_run(store_path: Path, tmp_path: Path) -> None:
    """log_artifact, log_artifacts, log_text and log_dict write plain files under the run."""
    src = tmp_path / "model.txt"
    src.write_text("weights")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    with mlflow.start_run() as run:
        mlflow.log_artifact(src)
        mlflow.log_artifact(src, "models")
        mlflow.log_artifacts(folder, "plots")
        mlflow.log_text("hello", "notes/readme.txt")
        mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
        mlflow.log_dict({"lr": 0.1}, "config.yaml")
    root = Path(mlflow.get_run(run.info.run_id).info.artifact_uri)
    assert (root / "model.txt").read_text() == "weights"
    assert (root / "models" / "model.txt").read_text() == "weights"
    assert (root / "plots" / "sub" / "a.txt").read_text() == "a"
    assert (root / "notes" / "readme.txt").read_text() == "hello"
    assert json.loads((root / "config.json").read_text()) == {"lr": 0.1, "layers": [1, 2]}
    assert (root / "config.yaml").read_text() == "lr: 0.1\n"
    names = [f.path for f in mlflow.Client().list_artifacts(run.info.run_id)]
    assert names == ["config.json", "config.yaml", "model.txt", "models", "notes", "plots"]


@pytest.mark.parametrize("bad", ["../escape", "/etc/x", "a/../../b", "~/x"])
def test_artifact_paths_cannot_escape_the_run(store_path: Path, tmp_path: Path, bad: str) -> None:
    """A hostile artifact path is refused before anything is written."""
    src = tmp_path / "f.txt"
    src.write_text("x")
    with mlflow.start_run():
        with pytest.raises(mlflow.ValidationError, match="artifact path"):
            mlflow.log_artifact(src, bad)
        with pytest.raises(mlflow.ValidationError):
            mlflow.log_text("x", bad)
    assert not (tmp_path / "escape").exists()


def test_client_explicit_id_api(client: mlflow.Client) -> None:
    """MlflowClient's explicit-id calls: create, log_batch, history, terminate, delete, restore."""
    exp_id = client.create_experiment("explicit", tags={"team": "nlp"})
    assert client.get_experiment(exp_id).tags == {"team": "nlp"}
    run = client.create_run(exp_id, run_name="r1", tags={"k": "v"})
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (i + 1), 1000 + i, i) for i in range(10)],
        params=[Param("lr", "0.01")],
        tags=[RunTag("phase", "train")],
    )
    client.log_param(run_id, "epochs", 10)
    client.set_tag(run_id, "phase", "eval")
    client.set_terminated(run_id, "KILLED")
    got = client.get_run(run_id)
    assert got.info.status == "KILLED"
    assert got.info.run_name == "r1"
    assert got.data.params == {"lr": "0.01", "epochs": "10"}
    assert got.data.tags["phase"] == "eval"
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(i, 1000 + i) for i in range(10)]
    assert history[-1].value == pytest.approx(0.1)
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    assert [r.info.run_id for r in client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)] == [run_id]
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [run_id]


def test_experiments_create_search_delete_restore(client: mlflow.Client) -> None:
    """Experiment lifecycle as in MLflow: unique names, soft delete, restore."""
    a = client.create_experiment("a")
    b = client.create_experiment("b")
    with pytest.raises(mlflow.ValidationError, match="already exists"):
        client.create_experiment("a")
    run = client.create_run(a)
    client.delete_experiment(a)
    assert [e.name for e in client.search_experiments()] == ["b"]
    assert client.search_runs(None) == []  # as in MLflow, a deleted experiment's runs are deleted
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert [e.name for e in client.search_experiments(ViewType.DELETED_ONLY)] == ["a"]
    with pytest.raises(mlflow.ValidationError, match="deleted"):
        mlflow.set_experiment("a")
    client.restore_experiment(a)
    assert [r.info.run_id for r in client.search_runs(None)] == [run.info.run_id]
    assert sorted(e.experiment_id for e in client.search_experiments(order_by=["name"])) == sorted([a, b])
    assert [e.name for e in client.search_experiments(order_by=["name DESC"])] == ["b", "a"]
    client.rename_experiment(b, "c")
    assert client.get_experiment(b).name == "c"
    with pytest.raises(mlflow.NotFound):
        client.get_experiment("999")
    assert client.get_experiment_by_name("nope") is None


def test_default_experiment_is_zero(store_path: Path) -> None:
    """Runs started with no experiment land in 'Default' with id 0, as in MLflow."""
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == "0"
    assert mlflow.get_experiment("0").name == "Default"


def test_tracking_uri_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLTUI_STORE chooses the store when set_tracking_uri was not called; else ./mlstore."""
    assert mlflow.get_tracking_uri() == str(tmp_path / "mlstore")
    from store import fluent

    fluent._client = None
    monkeypatch.setenv("MLTUI_STORE", str(tmp_path / "elsewhere"))
    with mlflow.start_run():
        mlflow.log_metric("x", 1.0)
    assert (tmp_path / "elsewhere" / "mltui-store.json").exists()


def test_search_runs_returns_mlflow_columns(store_path: Path) -> None:
    """search_runs gives a DataFrame with run_id, status, metrics.*, params.*, tags.* columns."""
    mlflow.set_experiment("df")
    with mlflow.start_run():
        mlflow.log_metric("acc", 0.5)
        mlflow.log_param("lr", "0.1")
    frame = mlflow.search_runs()
    assert {"run_id", "status", "start_time", "metrics.acc", "params.lr"} <= set(frame.columns)
    assert frame["metrics.acc"].tolist() == [0.5]
    runs = mlflow.search_runs(output_format="list")
    assert runs[0].data.params == {"lr": "0.1"}
    with pytest.raises(mlflow.ValidationError, match="output_format"):
        mlflow.search_runs(output_format="xml")


def test_unsupported_tracking_uri_is_a_clear_error(tmp_path: Path) -> None:
    """A database or HTTP tracking URI is refused with a pointer to the importer."""
    with pytest.raises(mlflow.ValidationError, match="mltui import mlflow"):
        mlflow.set_tracking_uri("sqlite:///mlflow.db")


def test_store_of_another_version_is_refused(tmp_path: Path) -> None:
    """Opening a store written by a newer mltui says so instead of misreading it."""
    root = tmp_path / "future"
    root.mkdir()
    (root / "mltui-store.json").write_text('{"format": "mltui", "version": 9}')
    with pytest.raises(mlflow.StoreFormatError, match="format version 9, newer"):
        mlflow.Client(root).search_experiments()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(mlflow.StoreFormatError, match="not an mltui store"):
        mlflow.Client(other).create_experiment("x")
    assert (other / "notes.txt").read_text() == "mine"


def test_experiment_lookups_follow_changes_from_any_process(client: mlflow.Client) -> None:
    """Experiments are looked up once per set of files (every `create_run` asks), yet a rename
    by another process, a delete and a new tag are seen at once, and a returned experiment is
    the caller's own."""
    import subprocess
    import sys

    exp = client.create_experiment("before", tags={"team": "vision"})
    first = client.get_experiment_by_name("before")
    first.tags["team"] = "changed by the caller"
    assert client.get_experiment(exp).tags == {"team": "vision"}
    script = f"import store; store.Client(r'{client.root}').rename_experiment('{exp}', 'after')"
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[2])
    assert client.get_experiment_by_name("before") is None
    assert client.get_experiment_by_name("after").experiment_id == exp
    client.set_experiment_tag(exp, "stage", "ready")
    assert client.get_experiment(exp).tags == {"team": "vision", "stage": "ready"}
    client.delete_experiment(exp)
    assert client.get_experiment(exp).lifecycle_stage == "deleted"


def test_many_short_runs_leave_few_files(store_path: Path) -> None:
    """A process running short runs one after another merges its files every few runs, not at
    each end: 60 runs leave a bounded number of files per table, and every run reads back."""
    mlflow.set_experiment("sweep")
    for i in range(60):
        with mlflow.start_run(run_name=f"r{i}"):
            mlflow.log_param("i", i)
            mlflow.log_metric("loss", 1 / (i + 1))
    for table in ("runs", "params", "metrics", "metric_summaries"):
        files = list((store_path / table).glob("experiment_id=*/*.parquet"))
        assert 0 < len(files) <= 20, (table, len(files))
    runs = mlflow.search_runs(filter_string="loss < 1", output_format="list")
    assert len(runs) == 59 and {r.data.params["i"] for r in runs} == {str(i) for i in range(1, 60)}
