"""The Model Registry's Python API: models, versions, stages, aliases, tags and the audit trail."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import store
from store.errors import AlreadyExists, NotFound, ValidationError
from store.registry_entities import Stage, validate_alias
from store.registry_fluent import register_model

STAGES = ["None", "Staging", "Production", "Archived"]


@pytest.fixture
def run_id(client: store.Client) -> str:
    """A finished run with a ``model`` artifact folder."""
    run = client.create_run()
    client.log_text(run.info.run_id, "flavors: {}", "model/MLmodel")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


@pytest.fixture
def iris(client: store.Client, tmp_path) -> store.Client:
    """Model 'iris' with versions 1, 2 and 3 of a local model folder, all in stage None."""
    (tmp_path / "model").mkdir()
    for _ in range(3):
        client.register_model_version(str(tmp_path / "model"), "iris")
    return client


def stages(client: store.Client, name: str = "iris") -> dict[int, str]:
    return {v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")}


def test_register_model_creates_model_then_versions(client, run_id, capsys):
    """store.register_model numbers versions from 1 and prints MLflow's messages."""
    mv1 = register_model(f"runs:/{run_id}/model", "iris")
    mv2 = register_model(f"runs:/{run_id}/model", "iris", tags={"team": "cv"})
    assert (mv1.version, mv2.version) == (1, 2)
    assert mv2.run_id == run_id and mv2.source == f"runs:/{run_id}/model"
    assert mv2.current_stage == "None" and mv2.tags == {"team": "cv"}
    assert mv2.creation_timestamp > 0 and mv2.last_updated_timestamp >= mv2.creation_timestamp
    assert capsys.readouterr().err.splitlines() == [
        "Successfully registered model 'iris'.",
        "Created version '1' of model 'iris'.",
        "Registered model 'iris' already exists. Creating a new version of this model...",
        "Created version '2' of model 'iris'.",
    ]


def test_create_registered_model_twice_fails(client):
    """A model name can be taken only once, with MLflow's message."""
    client.create_registered_model("iris", tags={"k": "v"}, description="flowers")
    with pytest.raises(AlreadyExists, match=r"Registered Model \(name=iris\) already exists\."):
        client.create_registered_model("iris")
    model = client.get_registered_model("iris")
    assert (model.description, model.tags, model.aliases) == ("flowers", {"k": "v"}, {})


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "a@b", " lead", "..", "x" * 251])
def test_bad_model_names_are_refused(client, name):
    """Names that would break a models:/ URI are refused before anything is written."""
    with pytest.raises(ValidationError):
        client.register_model_version(".", name)
    assert client.search_registered_models() == []


@pytest.mark.parametrize("source", ["runs:/nope/model", "RUN/missing", "./not-here", "models:/ghost/1"])
def test_missing_source_writes_nothing(client, run_id, source):
    """A source that does not exist is an error and leaves no model behind."""
    source = source.replace("RUN", f"runs:/{run_id}")
    with pytest.raises(NotFound):
        client.register_model_version(source, "iris")
    assert client.search_registered_models() == []


def test_local_folder_source_is_kept_as_absolute_path(client, tmp_path):
    """A plain folder can be registered; it resolves wherever the command was run from."""
    folder = tmp_path / "exported"
    folder.mkdir()
    mv, created = client.register_model_version("exported", "iris")
    assert created and mv.source == str(folder) and mv.run_id is None


def test_create_model_version_needs_an_existing_model(client, run_id):
    """create_model_version on an unknown model fails, as in MLflow."""
    with pytest.raises(NotFound, match="Registered Model with name=iris not found"):
        client.create_model_version("iris", f"runs:/{run_id}/model", run_id=run_id)
    client.create_registered_model("iris")
    mv = client.create_model_version("iris", f"runs:/{run_id}/model", description="first")
    assert (mv.version, mv.run_id, mv.description) == (1, run_id, "first")


def test_every_transition(iris):
    """Any stage can move to any stage; input case does not matter, output is canonical."""
    for start in STAGES:
        for target in STAGES:
            iris.transition_model_version_stage("iris", 1, start.upper())
            mv = iris.transition_model_version_stage("iris", "1", target.lower())
            assert mv.current_stage == target
            assert iris.get_model_version("iris", 1).current_stage == target
            last = iris.history("iris")[-1]
            assert (last.from_stage, last.to_stage, last.version) == (start, target, 1)
    assert stages(iris) == {1: "Archived", 2: "None", 3: "None"}


def test_unknown_stage_message_is_mlflows(iris):
    """A stage outside the four is refused with MLflow's exact message."""
    with pytest.raises(ValidationError) as err:
        iris.transition_model_version_stage("iris", 1, "Prod")
    assert str(err.value) == (
        "Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived."
    )


def test_archive_existing_versions_archives_only_the_target_stage(iris):
    """Promoting with archive_existing_versions archives the other Production versions only."""
    iris.transition_model_version_stage("iris", 1, "Production")
    iris.transition_model_version_stage("iris", 2, "Staging")
    iris.transition_model_version_stage("iris", 3, "Production", archive_existing_versions=True)
    assert stages(iris) == {1: "Archived", 2: "Staging", 3: "Production"}
    events = iris.history("iris")[-2:]
    assert [(e.version, e.from_stage, e.to_stage) for e in events] == [
        (3, "None", "Production"),
        (1, "Production", "Archived"),
    ]
    assert events[1].note == "archived by version 3 moving to Production"


def test_without_archive_existing_two_versions_share_a_stage(iris):
    """archive_existing_versions=False (the default) leaves the others where they are."""
    iris.transition_model_version_stage("iris", 1, "Production")
    iris.transition_model_version_stage("iris", 2, "Production")
    assert stages(iris) == {1: "Production", 2: "Production", 3: "None"}
    assert [v.version for v in iris.get_latest_versions("iris", ["production"])] == [2]


@pytest.mark.parametrize("target", ["Archived", "None"])
def test_archive_existing_only_for_staging_and_production(iris, target):
    """archive_existing_versions with Archived or None is refused and changes nothing."""
    with pytest.raises(ValidationError, match=f"'{target}' is not a Staging or Production stage"):
        iris.transition_model_version_stage("iris", 1, target, archive_existing_versions=True)
    assert stages(iris) == {1: "None", 2: "None", 3: "None"}


def test_versions_to_archive_previews_a_promotion(iris):
    """The preview names exactly the versions archive_existing_versions would move."""
    iris.transition_model_version_stage("iris", 1, "Production")
    iris.transition_model_version_stage("iris", 2, "Production")
    assert [v.version for v in iris.versions_to_archive("iris", 3, "production")] == [1, 2]
    assert iris.versions_to_archive("iris", 3, "Archived") == []


def test_get_latest_versions_per_stage(iris):
    """get_latest_versions gives the newest version of each requested stage."""
    iris.transition_model_version_stage("iris", 1, "Production")
    iris.transition_model_version_stage("iris", 2, "Staging")
    latest = iris.get_latest_versions("iris")
    assert [(v.version, v.current_stage) for v in latest] == [
        (3, "None"),
        (2, "Staging"),
        (1, "Production"),
    ]
    assert [v.version for v in iris.get_latest_versions("iris", stages=["Archived"])] == []
    with pytest.raises(NotFound):
        iris.get_latest_versions("nope")


def test_unknown_model_and_version_errors(iris):
    """Unknown models and versions are NotFound with MLflow's wording."""
    with pytest.raises(NotFound, match="Registered Model with name=nope not found"):
        iris.get_registered_model("nope")
    with pytest.raises(NotFound, match=r"Model Version \(name=iris, version=9\) not found"):
        iris.transition_model_version_stage("iris", 9, "Production")
    with pytest.raises(ValidationError, match="invalid model version"):
        iris.get_model_version("iris", "two")


def test_alias_moves_between_versions(iris):
    """Setting an alias that exists moves it; a version may hold several aliases."""
    iris.set_registered_model_alias("iris", "champion", 1)
    iris.set_registered_model_alias("iris", "challenger", 1)
    assert iris.get_model_version("iris", 1).aliases == ("challenger", "champion")
    iris.set_registered_model_alias("iris", "champion", 2)
    assert iris.get_model_version_by_alias("iris", "champion").version == 2
    assert iris.get_model_version("iris", 1).aliases == ("challenger",)
    assert iris.get_registered_model("iris").aliases == {"challenger": 1, "champion": 2}
    moved = iris.history("iris")[-1]
    assert (moved.alias, moved.from_version, moved.version) == ("champion", 1, 2)


def test_delete_alias(iris):
    """A deleted alias no longer resolves; deleting an unknown alias is NotFound."""
    iris.set_registered_model_alias("iris", "champion", 3)
    iris.delete_registered_model_alias("iris", "champion")
    with pytest.raises(NotFound, match="Registered model alias champion not found."):
        iris.get_model_version_by_alias("iris", "champion")
    with pytest.raises(NotFound):
        iris.delete_registered_model_alias("iris", "champion")
    assert iris.get_model_version("iris", 3).aliases == ()


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("latest", "'latest' alias name (case insensitive) is reserved."),
        ("LaTeSt", "'latest' alias name (case insensitive) is reserved."),
        ("v1", "Version alias name 'v1' is reserved."),
        ("v42", "Version alias name 'v42' is reserved."),
        ("a b", "Invalid alias name: 'a b'."),
        ("x" * 256, "Alias name must not exceed 255 characters."),
    ],
)
def test_reserved_and_invalid_aliases(iris, alias, message):
    """MLflow's reserved aliases and alias syntax are refused."""
    with pytest.raises(ValidationError) as err:
        iris.set_registered_model_alias("iris", alias, 1)
    assert str(err.value).startswith(message)
    assert iris.get_registered_model("iris").aliases == {}


@given(st.from_regex(r"[A-Za-z0-9_\-]{1,40}", fullmatch=True))
def test_alias_rule_accepts_every_legal_name_but_the_reserved(alias):
    """Every name of MLflow's alias alphabet is accepted unless reserved."""
    reserved = alias.lower() == "latest" or (alias[0] == "v" and alias[1:].isdigit())
    if reserved:
        with pytest.raises(ValidationError):
            validate_alias(alias)
    else:
        assert validate_alias(alias) == alias


def test_alias_on_unknown_version_fails(iris):
    """An alias cannot point at a version that does not exist."""
    with pytest.raises(NotFound):
        iris.set_registered_model_alias("iris", "champion", 7)


def test_delete_version_removes_its_aliases_and_keeps_numbering(iris):
    """A deleted version disappears with its aliases; the next version does not reuse its number."""
    iris.set_registered_model_alias("iris", "champion", 3)
    iris.delete_model_version("iris", 3)
    assert stages(iris) == {1: "None", 2: "None"}
    assert iris.get_registered_model("iris").aliases == {}
    mv = iris.create_model_version("iris", iris.get_model_version("iris", 1).source)
    assert mv.version == 4


def test_delete_model_then_recreate_starts_over(iris):
    """Deleting a model removes its versions; a new model of that name starts at version 1,
    and the history keeps both lives."""
    source = iris.get_model_version("iris", 1).source
    iris.delete_registered_model("iris")
    assert iris.search_registered_models() == []
    with pytest.raises(NotFound):
        iris.get_model_version("iris", 1)
    mv, created = iris.register_model_version(source, "iris")
    assert created and mv.version == 1
    actions = [e.action for e in iris.history("iris")]
    assert actions.count("create_model") == 2 and "delete_model" in actions


def test_descriptions_and_tags(iris):
    """Descriptions and tags of models and versions can be set, changed and deleted."""
    iris.update_registered_model("iris", description="Iris classifier")
    iris.set_registered_model_tag("iris", "task", "classification")
    iris.update_model_version("iris", 2, description="tuned")
    iris.set_model_version_tag("iris", 2, "validated", "yes")
    iris.set_model_version_tag("iris", 2, "owner", "ana")
    iris.delete_model_version_tag("iris", 2, "owner")
    model = iris.get_registered_model("iris")
    mv = iris.get_model_version("iris", 2)
    assert (model.description, model.tags) == ("Iris classifier", {"task": "classification"})
    assert (mv.description, mv.tags) == ("tuned", {"validated": "yes"})
    iris.delete_registered_model_tag("iris", "task")
    assert iris.get_registered_model("iris").tags == {}
    with pytest.raises(NotFound):
        iris.delete_model_version_tag("iris", 2, "owner")


def test_search_registered_models_filters(client):
    """search_registered_models understands name =, LIKE, ILIKE and tags."""
    for name in ("iris", "iris-v2", "wine"):
        client.create_registered_model(name, tags={"team": "cv" if "iris" in name else "nlp"})
    names = lambda f: [m.name for m in client.search_registered_models(f)]  # noqa: E731
    assert names(None) == ["iris", "iris-v2", "wine"]
    assert names("name = 'iris'") == ["iris"]
    assert names("name LIKE 'iris%'") == ["iris", "iris-v2"]
    assert names("name ILIKE 'IRIS%' AND tags.team = 'cv'") == ["iris", "iris-v2"]
    assert names("tags.team != 'cv'") == ["wine"]
    assert [m.name for m in client.search_registered_models(order_by=["name DESC"])][0] == "wine"


def test_search_model_versions_filters(iris, run_id):
    """search_model_versions filters by name, version, run_id and stage; newest version first."""
    iris.create_model_version("iris", f"runs:/{run_id}/model")
    iris.create_model_version("iris", f"runs:/{run_id}/model")
    iris.transition_model_version_stage("iris", 2, "Staging")
    versions = lambda f: [v.version for v in iris.search_model_versions(f)]  # noqa: E731
    assert versions("name='iris'") == [5, 4, 3, 2, 1]
    assert versions(f"run_id = '{run_id}' AND version_number IN (1, 3, 5)") == [5]
    assert versions("current_stage = 'Staging'") == [2]
    assert versions("name = 'other'") == []


@pytest.mark.parametrize(
    "bad",
    ["name", "name = ", "nom = 'x'", "name > 'x'", "name = 'x' OR name = 'y'", "name = 'x' AND"],
)
def test_bad_filters_name_the_problem(iris, bad):
    """A filter the registry cannot read is a QueryError naming what was expected."""
    with pytest.raises(store.QueryError):
        iris.search_model_versions(bad)


def test_history_records_who_and_when(iris):
    """Every change is an event with a user and a time, in the order it happened."""
    iris.transition_model_version_stage("iris", 1, "Staging")
    iris.set_registered_model_alias("iris", "champion", 1)
    events = iris.history("iris")
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert [e.action for e in events] == [
        "create_model",
        "create_version",
        "create_version",
        "create_version",
        "transition",
        "set_alias",
    ]
    assert all(e.user and e.timestamp > 0 for e in events)
    assert events[-1].summary() == "alias @champion -> version 1"
    with pytest.raises(NotFound):
        iris.history("nope")


def test_refused_change_writes_no_event(iris):
    """A change that fails validation leaves the event log untouched."""
    before = len(iris.history("iris"))
    with pytest.raises(ValidationError):
        iris.set_registered_model_alias("iris", "latest", 1)
    with pytest.raises(NotFound):
        iris.transition_model_version_stage("iris", 99, "Staging")
    assert len(iris.history("iris")) == before


def test_stage_enum_parses_any_case():
    """Stage.parse canonicalises the four names and nothing else."""
    assert [Stage.parse(s.swapcase()).value for s in STAGES] == STAGES


def test_empty_store_has_an_empty_registry(tmp_path):
    """Reading the registry of a store that does not exist yet gives nothing, creates nothing."""
    client = store.Client(tmp_path / "nowhere")
    assert client.search_registered_models() == [] and client.search_model_versions() == []
    assert not (tmp_path / "nowhere").exists()
