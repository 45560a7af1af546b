"""Bad keys and values are refused with a message naming the key and the rule, and nothing of a
refused call is written."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import store as mlflow
from store import Metric, Param
from store.validation import MAX_KEY_LENGTH, MAX_VALUE_LENGTH


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("", "must not be empty"),
        ("a//b", "relative paths"),
        ("a/", "relative paths"),
        ("../x", "relative paths"),
        ("/x", "relative paths"),
        ("bad!char", "may only contain"),
        ("tab\there", "may only contain"),
        ("x" * (MAX_KEY_LENGTH + 1), "limit is 250"),
    ],
)
def test_bad_keys_name_the_rule(store_path: Path, key: str, rule: str) -> None:
    """MLflow's key rule: ^[/\\w.\\- :]*$, a clean relative path, at most 250 characters."""
    with mlflow.start_run():
        for call in (
            lambda: mlflow.log_metric(key, 1.0),
            lambda: mlflow.log_param(key, 1),
            lambda: mlflow.set_tag(key, 1),
        ):
            with pytest.raises(mlflow.ValidationError, match=rule):
                call()


def test_good_unusual_keys_are_accepted(store_path: Path) -> None:
    """Slashes, spaces, colons, dots, dashes and unicode letters are fine, as in MLflow."""
    keys = ["train/loss", "f1 score", "a:b", "v1.2-x", "précision", "损失"]
    with mlflow.start_run() as run:
        for key in keys:
            mlflow.log_metric(key, 1.0)
    assert set(mlflow.get_run(run.info.run_id).data.metrics) == set(keys)


def test_param_values_cannot_change(store_path: Path) -> None:
    """Re-logging a param with the same value is fine; a different value raises and names both."""
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_param("lr", "0.1")
        with pytest.raises(mlflow.ValidationError, match=r"'lr'.*'0\.1'.*'0\.2'"):
            mlflow.log_param("lr", 0.2)
    assert mlflow.get_run(run.info.run_id).data.params == {"lr": "0.1"}


def test_long_values_are_kept_whole_up_to_the_limit(store_path: Path) -> None:
    """MLflow truncates at 6000 characters silently; mltui keeps the whole value."""
    long = "x" * 50_000
    with mlflow.start_run() as run:
        mlflow.log_param("prompt", long)
        mlflow.set_tag("note", long)
        with pytest.raises(mlflow.ValidationError, match="limit is 1,000,000"):
            mlflow.log_param("huge", "y" * (MAX_VALUE_LENGTH + 1))
    data = mlflow.get_run(run.info.run_id).data
    assert data.params["prompt"] == long
    assert data.tags["note"] == long
    assert "huge" not in data.params


@pytest.mark.parametrize("value", ["abc", None, [1.0], {"a": 1}, object()])
def test_metric_values_must_be_numbers(store_path: Path, value: object) -> None:
    """A non-number metric value names the key and the value."""
    with mlflow.start_run():
        with pytest.raises(mlflow.ValidationError, match="'loss': value must be a number"):
            mlflow.log_metric("loss", value)


def test_numbers_of_other_types_are_coerced(store_path: Path) -> None:
    """ints, bools, numeric strings and numpy scalars log as floats, as MLflow accepts them."""
    import numpy as np

    with mlflow.start_run() as run:
        mlflow.log_metric("i", 3)
        mlflow.log_metric("b", True)
        mlflow.log_metric("s", "1.5")
        mlflow.log_metric("n", np.float32(0.25))
        mlflow.log_metric("step", 1.0, step=np.int64(7))
    metrics = mlflow.get_run(run.info.run_id).data.metrics
    assert metrics == {"i": 3.0, "b": 1.0, "s": 1.5, "n": 0.25, "step": 1.0}
    assert mlflow.Client().get_metric_history(run.info.run_id, "step")[0].step == 7


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"step": 1.5}, "step must be an integer"),
        ({"step": "one"}, "step must be an integer"),
        ({"step": 2**63}, "64-bit"),
        ({"timestamp": -1}, "nonnegative"),
        ({"timestamp": "now"}, "milliseconds"),
    ],
)
def test_bad_steps_and_timestamps(store_path: Path, kwargs: dict, rule: str) -> None:
    """Steps are int64 and timestamps non-negative milliseconds."""
    with mlflow.start_run():
        with pytest.raises(mlflow.ValidationError, match=rule):
            mlflow.log_metric("loss", 1.0, **kwargs)


def test_nan_and_infinities_survive(store_path: Path) -> None:
    """NaN and ±inf come back as logged (MLflow's SQL store clamps inf; we do not)."""
    with mlflow.start_run() as run:
        mlflow.log_metric("a", float("nan"), step=0)
        mlflow.log_metric("a", float("inf"), step=1)
        mlflow.log_metric("a", float("-inf"), step=2)
    values = [m.value for m in mlflow.Client().get_metric_history(run.info.run_id, "a")]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


def test_bad_batch_writes_nothing(client: mlflow.Client) -> None:
    """log_batch validates everything first: one bad item and no part of the batch is written."""
    run = client.create_run(client.create_experiment("b"))
    with pytest.raises(mlflow.ValidationError, match="bad!"):
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("ok", 1.0, 1, 0), Metric("bad!", 1.0, 1, 0)],
            params=[Param("p", "1")],
        )
    with pytest.raises(mlflow.ValidationError, match="duplicate param keys"):
        client.log_batch(run.info.run_id, params=[Param("p", "1"), Param("p", "2")])
    got = client.get_run(run.info.run_id)
    assert got.data.metrics == {} and got.data.params == {}


def test_bad_experiment_names_and_statuses(client: mlflow.Client) -> None:
    """Empty experiment names and unknown statuses are refused with the valid choices."""
    with pytest.raises(mlflow.ValidationError, match="non-empty"):
        client.create_experiment("  ")
    run = client.create_run(client.create_experiment("e"))
    with pytest.raises(mlflow.ValidationError, match="expected one of RUNNING"):
        client.set_terminated(run.info.run_id, "DONE")
    with pytest.raises(mlflow.ValidationError, match="invalid run id"):
        client.get_run("../../etc")
    with pytest.raises(mlflow.NotFound, match="no run with id"):
        client.get_run("0" * 32)
