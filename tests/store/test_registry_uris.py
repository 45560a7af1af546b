"""runs:/ and models:/ URIs resolve to the artifact folder a user expects."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import store
from store import uris
from store.errors import NotFound, ValidationError
from store.registry_entities import validate_model_name


@pytest.fixture
def setup(client: store.Client) -> tuple[store.Client, str, Path]:
    """Model 'iris': versions 1 and 2 from one run's model folder (v2 also has a 'better' file),
    v1 in Production, v2 in Staging with alias @champion."""
    run = client.create_run(run_name="trainer")
    rid = run.info.run_id
    client.log_text(rid, "flavors: {}", "model/MLmodel")
    client.log_text(rid, "flavors: {}", "model2/MLmodel")
    client.set_terminated(rid)
    client.register_model_version(f"runs:/{rid}/model", "iris")
    client.register_model_version(f"runs:/{rid}/model2", "iris")
    client.transition_model_version_stage("iris", 1, "Production")
    client.transition_model_version_stage("iris", 2, "Staging")
    client.set_registered_model_alias("iris", "champion", 2)
    return client, rid, Path(run.info.artifact_uri)


def test_every_uri_form_resolves(setup):
    """Versions, stages (any case), latest and aliases all resolve to the right folder."""
    client, rid, root = setup
    expected = {
        f"runs:/{rid}/model": root / "model",
        f"runs:/{rid[:8]}/model": root / "model",
        "runs:/trainer/model2": root / "model2",
        f"runs:/{rid}": root,
        "models:/iris/1": root / "model",
        "models:/iris/2": root / "model2",
        "models:/iris/Production": root / "model",
        "models:/iris/staging": root / "model2",
        "models:/iris/latest": root / "model2",
        "models:/iris@champion": root / "model2",
        str(root / "model"): root / "model",
        f"file://{root / 'model'}": root / "model",
    }
    assert {uri: uris.resolve(client, uri) for uri in expected} == expected
    assert client.get_model_version_download_uri("iris", 1) == str(root / "model")


def test_stage_uri_follows_promotions(setup):
    """models:/iris/Production names whatever is in Production now."""
    client, _, root = setup
    client.transition_model_version_stage("iris", 2, "Production", archive_existing_versions=True)
    assert uris.resolve(client, "models:/iris/Production") == root / "model2"
    client.set_registered_model_alias("iris", "champion", 1)
    assert uris.resolve(client, "models:/iris@champion") == root / "model"


def test_registering_from_a_models_uri_pins_the_source(setup):
    """A version registered from models:/ keeps today's source even when the stage moves on."""
    client, rid, _ = setup
    mv, created = client.register_model_version("models:/iris/Production", "iris-prod")
    assert created and mv.source == f"runs:/{rid}/model" and mv.run_id == rid
    client.transition_model_version_stage("iris", 2, "Production", archive_existing_versions=True)
    assert client.get_model_version("iris-prod", 1).source == f"runs:/{rid}/model"


def test_prefix_run_uri_is_stored_with_the_full_id(setup):
    """A run named by prefix or name is recorded with its full id."""
    client, rid, _ = setup
    mv, _ = client.register_model_version("runs:/trainer/model", "iris")
    assert mv.source == f"runs:/{rid}/model" and mv.run_id == rid


BAD_URIS = [
    ("models:/iris/Archived", NotFound),
    ("models:/iris/7", NotFound),
    ("models:/nope/1", NotFound),
    ("models:/iris@ghost", NotFound),
    ("models:/iris/Prod", ValidationError),
    ("models:/iris", ValidationError),
    ("models:/iris/1/extra", ValidationError),
    ("models:/@champion", ValidationError),
    ("models:/iris@latest", ValidationError),
    ("runs:/", ValidationError),
    ("runs:/RUN/../../etc", ValidationError),
    ("runs:/RUN/absent", NotFound),
    ("/no/such/folder", NotFound),
]


def test_bad_uris_fail_clearly(setup):
    """Unknown versions, stages, aliases or paths, and malformed URIs, are clear errors."""
    client, rid, _ = setup
    for uri, error in BAD_URIS:
        with pytest.raises(error):
            uris.resolve(client, uri.replace("RUN", rid))


def test_parse_models_uri():
    """models:/ URIs split into name and exactly one selector."""
    assert uris.parse_models_uri("models:/iris/3") == uris.ModelsUri("iris", version=3)
    assert uris.parse_models_uri("models:/iris/LATEST") == uris.ModelsUri("iris", latest=True)
    assert uris.parse_models_uri("models:/my model@prod-2").alias == "prod-2"
    assert uris.parse_models_uri("models:/iris/production").stage.value == "Production"


@given(
    st.from_regex(r"[\w.\-][\w.\- ]{0,30}[\w.\-]", fullmatch=True).filter(lambda n: n.strip(".")),
    st.integers(1, 10**6),
    st.from_regex(r"[A-Za-z_][\w\-]{0,20}", fullmatch=True),
)
def test_every_valid_model_name_round_trips_through_uris(name, version, alias):
    """Any name the registry accepts can be written in a models:/ URI and read back."""
    validate_model_name(name)
    assert uris.parse_models_uri(f"models:/{name}/{version}") == uris.ModelsUri(name, version=version)
    if alias.lower() != "latest" and not (alias[0] == "v" and alias[1:].isdigit()):
        assert uris.parse_models_uri(f"models:/{name}@{alias}") == uris.ModelsUri(name, alias=alias)
