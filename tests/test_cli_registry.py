"""`mltui models ...`: exact output, JSON with MLflow's field names, and exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import store
from cli import main
from store.registry_view import fmt_time


@pytest.fixture
def cli_store(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[store.Client, str]:
    """A store (as MLTUI_STORE) with one finished run holding a ``model`` folder."""
    client = store.Client(store_path)
    run = client.create_run(run_name="trainer")
    client.log_text(run.info.run_id, "flavors: {}", "model/MLmodel")
    client.set_terminated(run.info.run_id)
    monkeypatch.setenv("MLTUI_STORE", str(store_path))
    return client, run.info.run_id


def mltui(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the real entry point; (exit status, stdout, stderr) with trailing blanks stripped."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    strip = lambda text: "\n".join(line.rstrip() for line in text.splitlines())  # noqa: E731
    return code, strip(out), strip(err)


def test_register_then_list_versions(cli_store, capsys):
    """register prints MLflow's messages; versions shows the table, newest first."""
    client, rid = cli_store
    assert mltui(capsys, "models", "register", f"runs:/{rid}/model", "iris") == (
        0,
        "Successfully registered model 'iris'.\nCreated version '1' of model 'iris'.",
        "",
    )
    assert mltui(capsys, "models", "register", "runs:/trainer/model", "iris")[1] == (
        "Created version '2' of model 'iris'."
    )
    code, out, _ = mltui(capsys, "models", "versions", "iris")
    created = [fmt_time(client.get_model_version("iris", v).creation_timestamp, seconds=False) for v in (2, 1)]
    assert code == 0
    assert out.splitlines() == [
        "Version  Stage  Run       Source                Created           Aliases",
        f"2        None   {rid[:8]}  runs:/{rid[:8]}/model  {created[0]}",
        f"1        None   {rid[:8]}  runs:/{rid[:8]}/model  {created[1]}",
    ]


def test_stage_with_archive_existing(cli_store, capsys):
    """stage takes any case, prints the canonical stage and what it archived."""
    client, rid = cli_store
    for _ in range(2):
        client.register_model_version(f"runs:/{rid}/model", "iris")
    assert mltui(capsys, "models", "stage", "iris", "1", "production") == (
        0,
        "Model 'iris' version 1: None -> Production.",
        "",
    )
    assert mltui(capsys, "models", "stage", "iris", "2", "PRODUCTION", "--archive-existing") == (
        0,
        "Model 'iris' version 2: None -> Production.\nArchived version 1 (was Production).",
        "",
    )
    code, out, _ = mltui(capsys, "models", "stage", "iris", "1", "staging", "--format", "json")
    record = json.loads(out)
    assert code == 0 and record["current_stage"] == "Staging" and record["version"] == 1


def test_versions_json_uses_mlflow_field_names(cli_store, capsys):
    """--format json prints MLflow's model version fields."""
    client, rid = cli_store
    client.register_model_version(f"runs:/{rid}/model", "iris")
    client.set_registered_model_alias("iris", "champion", 1)
    code, out, _ = mltui(capsys, "models", "versions", "iris", "--format", "json")
    mv = client.get_model_version("iris", 1)
    assert code == 0
    assert json.loads(out) == [
        {
            "name": "iris",
            "version": 1,
            "current_stage": "None",
            "aliases": ["champion"],
            "run_id": rid,
            "source": f"runs:/{rid}/model",
            "creation_timestamp": mv.creation_timestamp,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "description": "",
            "tags": {},
            "user_id": mv.user_id,
            "status": "READY",
        }
    ]


def test_models_list(cli_store, capsys):
    """list shows each model's Production and Staging versions and its aliases."""
    client, rid = cli_store
    assert mltui(capsys, "models", "list") == (0, "No registered models.", "")
    for _ in range(3):
        client.register_model_version(f"runs:/{rid}/model", "iris")
    client.transition_model_version_stage("iris", 2, "Production")
    client.transition_model_version_stage("iris", 3, "Staging")
    client.set_registered_model_alias("iris", "champion", 2)
    code, out, _ = mltui(capsys, "models", "list")
    updated = fmt_time(client.get_registered_model("iris").last_updated_timestamp, seconds=False)
    assert (code, out.splitlines()) == (
        0,
        [
            "Model  Latest  Production  Staging  Updated           Aliases",
            f"iris   v3      v2          v3       {updated}  @champion=v2",
        ],
    )
    code, out, _ = mltui(capsys, "models", "list", "--format", "json")
    [model] = json.loads(out)
    assert model["aliases"] == {"champion": 2}
    assert [v["version"] for v in model["latest_versions"]] == [1, 3, 2]


def test_alias_set_move_delete(cli_store, capsys):
    """alias sets, moves (saying from where) and deletes an alias."""
    client, rid = cli_store
    for _ in range(2):
        client.register_model_version(f"runs:/{rid}/model", "iris")
    assert mltui(capsys, "models", "alias", "iris", "champion", "1")[1] == (
        "Alias @champion of model 'iris' now points to version 1."
    )
    assert mltui(capsys, "models", "alias", "iris", "champion", "2")[1] == (
        "Alias @champion of model 'iris' now points to version 2 (moved from version 1)."
    )
    assert mltui(capsys, "models", "alias", "iris", "champion", "--delete") == (
        0,
        "Alias @champion removed from version 2 of model 'iris'.",
        "",
    )
    assert client.get_registered_model("iris").aliases == {}


def test_describe_and_set_description(cli_store, capsys):
    """describe shows a model or a version; --set replaces the description."""
    client, rid = cli_store
    client.register_model_version(f"runs:/{rid}/model", "iris")
    code, out, _ = mltui(capsys, "models", "describe", "iris", "--set", "Iris classifier")
    assert code == 0 and "Description: Iris classifier" in out.splitlines()
    code, out, _ = mltui(capsys, "models", "describe", "iris", "1")
    lines = out.splitlines()
    assert lines[:5] == ["Model: iris", "Version: 1", "Stage: None", "Aliases:", f"Run: {rid}"]
    assert client.get_registered_model("iris").description == "Iris classifier"


def test_history_lists_every_event_oldest_first(cli_store, capsys):
    """history shows time, user and each event in order; JSON has the same events."""
    client, rid = cli_store
    client.register_model_version(f"runs:/{rid}/model", "iris")
    client.transition_model_version_stage("iris", 1, "Staging")
    events = client.history("iris")
    code, out, _ = mltui(capsys, "models", "history", "iris", "--format", "json")
    assert code == 0
    assert [(e["action"], e.get("to_stage")) for e in json.loads(out)] == [
        ("create_model", None),
        ("create_version", "None"),
        ("transition", "Staging"),
    ]
    code, out, _ = mltui(capsys, "models", "history", "iris")
    lines = out.splitlines()
    assert lines[0].split() == ["Time", "User", "Event"]
    assert lines[1] == f"{fmt_time(events[0].timestamp)}  {events[0].user}  model created"
    assert lines[-1] == f"{fmt_time(events[2].timestamp)}  {events[2].user}  version 1: None -> Staging"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["versions", "nope"], 1, "Error: Registered Model with name=nope not found"),
        (["stage", "iris", "9", "Staging"], 1, "Error: Model Version (name=iris, version=9) not found"),
        (
            ["stage", "iris", "1", "Prod"],
            2,
            "Error: Invalid Model Version stage: Prod. Value must be one of None, Staging, "
            "Production, Archived.",
        ),
        (
            ["stage", "iris", "1", "Archived", "--archive-existing"],
            2,
            "Error: Model version transition cannot archive existing model versions because "
            "'Archived' is not a Staging or Production stage.",
        ),
        (["alias", "iris", "latest", "1"], 2, "Error: 'latest' alias name (case insensitive) is reserved."),
        (["alias", "iris", "ghost", "--delete"], 1, "Error: Registered model alias ghost not found."),
        (["register", "./missing", "iris"], 1, "Error: model source does not exist: ./missing"),
        (["register", "runs:/nope/model", "wine"], 1, "Error: no run with id, id prefix or name 'nope'"),
        (["stage", "iris", "one", "Staging"], 2, "Error: invalid model version 'one': expected a positive integer"),
        (
            ["stage", "nope", "9", "Prod"],
            2,
            "Error: Invalid Model Version stage: Prod. Value must be one of None, Staging, "
            "Production, Archived.",
        ),
    ],
)
def test_errors_are_one_line_with_exit_status(cli_store, capsys, args, code, message):
    """Bad input is one clear line on stderr: 2 for bad usage, 1 at run time; nothing written."""
    client, rid = cli_store
    client.register_model_version(f"runs:/{rid}/model", "iris")
    before = client.history("iris")
    result = mltui(capsys, "models", *args)
    assert result == (code, "", message)
    assert client.history("iris") == before
    assert [m.name for m in client.search_registered_models()] == ["iris"]


def test_alias_needs_version_or_delete(cli_store, capsys):
    """alias without VERSION (and without --delete) is a usage error, exit 2."""
    code, out, err = mltui(capsys, "models", "alias", "iris", "champion")
    assert code == 2 and "give VERSION to set an alias, or --delete without VERSION" in err
