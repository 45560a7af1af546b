"""Run diffs: which params, metrics and tags differ, and metric deltas against a baseline."""

from __future__ import annotations

import math

import pytest
from test_query_helpers import build_store

import store
from store.diff import diff_runs, same_value
from store.errors import NotFound, ValidationError


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[store.Client, dict[str, str]]:
    root = tmp_path_factory.mktemp("diff") / "mlstore"
    ids = build_store(root)
    return store.Client(root), ids


def rows_by_key(diff) -> dict[tuple[str, str], object]:  # noqa: ANN001
    return {(r.section, r.key): r for r in diff.rows}


def test_only_differing_rows_by_default(built: tuple[store.Client, dict[str, str]]) -> None:
    """The diff hides what both runs share, and shows values side by side in run order."""
    client, ids = built
    diff = diff_runs(client, [ids["adam-1"], ids["sgd-1"]])
    rows = rows_by_key(diff)
    assert set(rows) == {("params", "lr"), ("params", "optimizer"), ("params", "layers"), ("metrics", "accuracy"), ("metrics", "loss")}
    assert rows[("params", "lr")].values == ("0.01", "0.1")
    assert [r.run_name for r in diff.runs] == ["adam-1", "sgd-1"]
    assert diff.differing == 5


def test_show_all_includes_equal_rows(built: tuple[store.Client, dict[str, str]]) -> None:
    """--all shows equal rows too, marked as not differing; sections come params, metrics, tags."""
    client, ids = built
    with client.snapshot() as snap:
        diff = diff_runs(snap, [ids["adam-1"], ids["sgd-1"]], show_all=True)
    team = rows_by_key(diff)[("tags", "team")]
    assert team.values == ("vision", "vision") and not team.differs
    assert [r.section for r in diff.rows] == sorted((r.section for r in diff.rows), key=["params", "metrics", "tags"].index)
    assert ("tags", "mlflow.runName") not in rows_by_key(diff)


def test_metric_deltas_against_baseline(built: tuple[store.Client, dict[str, str]]) -> None:
    """Deltas and percentages are against the baseline (the first run unless chosen)."""
    client, ids = built
    diff = diff_runs(client, [ids["adam-1"], ids["sgd-1"], ids["nan-run"]], baseline=ids["sgd-1"])
    acc = rows_by_key(diff)[("metrics", "accuracy")]
    assert diff.baseline == 1
    assert acc.deltas[0] == pytest.approx(0.07) and acc.percents[0] == pytest.approx(0.07 / 0.85 * 100)
    assert acc.deltas[1] is None and acc.deltas[2] is None
    assert math.isnan(acc.values[2])


def test_missing_values_differ_and_nan_equals_nan(built: tuple[store.Client, dict[str, str]]) -> None:
    """A key one run lacks differs; two NaN losses do not count as a difference."""
    client, ids = built
    rows = rows_by_key(diff_runs(client, [ids["adam-1"], ids["failed"]]))
    assert rows[("metrics", "accuracy")].values == (0.92, None)
    assert rows[("params", "optimizer")].values == ("adam", None)
    assert same_value(math.nan, math.nan) and not same_value(math.nan, math.inf)


def test_bad_diff_requests(built: tuple[store.Client, dict[str, str]]) -> None:
    """One run, a repeated run, an unknown run or a foreign baseline are clear errors."""
    client, ids = built
    with pytest.raises(ValidationError, match="at least two"):
        diff_runs(client, [ids["adam-1"]])
    with pytest.raises(ValidationError, match="twice"):
        diff_runs(client, [ids["adam-1"], ids["adam-1"]])
    with pytest.raises(NotFound, match="f" * 32):
        diff_runs(client, [ids["adam-1"], "f" * 32])
    with pytest.raises(ValidationError, match="baseline"):
        diff_runs(client, [ids["adam-1"], ids["sgd-1"]], baseline=ids["failed"])
