"""Exports: strict JSON, CSV spreadsheets read back, GitHub Markdown, self-contained HTML."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_query_helpers import build_store

import store
from store import export
from store.diff import diff_runs
from store.errors import ValidationError
from store.search import runs_columns, runs_table, table_columns


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[store.Client, dict[str, str]]:
    root = tmp_path_factory.mktemp("export") / "mlstore"
    return store.Client(root), build_store(root)


@pytest.fixture(scope="module")
def table(built: tuple[store.Client, dict[str, str]]):  # noqa: ANN201
    with built[0].snapshot() as snap:
        return runs_columns(snap, "experiment = 'mnist'", order_by=["run_name"])


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_has_the_design_shape_and_is_strict(table) -> None:  # noqa: ANN001
    """--format json: DESIGN.md section 6 objects; NaN and inf spelled as strings a strict parser accepts."""
    data = _strict(export.render_table(table, "json"))
    assert [d["run_name"] for d in data] == ["adam-1", "failed", "inf-run", "nan-run", "sgd-1"]
    first = data[0]
    assert set(first) == {"run_id", "run_name", "experiment", "status", "start_time", "end_time", "params", "metrics", "tags"}
    assert first["metrics"] == {"accuracy": 0.92, "loss": 0.2}
    assert first["params"] == {"layers": "3", "lr": "0.01", "optimizer": "adam"}
    assert first["start_time"].startswith("2026-09-21T") and first["start_time"][-6] in "+-"
    by_name = {d["run_name"]: d for d in data}
    assert by_name["nan-run"]["metrics"] == {"accuracy": "NaN", "loss": "NaN"}
    assert by_name["inf-run"]["metrics"]["loss"] == "Infinity"
    assert by_name["failed"]["metrics"] == {}


def test_csv_reads_back_with_one_column_per_key(table) -> None:  # noqa: ANN001
    """CSV: a header with metrics.*, params.*, tags.*; NaN, inf and missing cells as spreadsheets expect."""
    rows = list(csv.DictReader(io.StringIO(export.render_table(table, "csv"))))
    assert len(rows) == 5
    by_name = {r["run_name"]: r for r in rows}
    assert float(by_name["adam-1"]["metrics.accuracy"]) == 0.92
    assert by_name["nan-run"]["metrics.loss"] == "NaN" and math.isnan(float(by_name["nan-run"]["metrics.loss"]))
    assert float(by_name["inf-run"]["metrics.loss"]) == math.inf
    assert by_name["failed"]["metrics.accuracy"] == ""
    assert by_name["failed"]["tags.team"] == "it's"


def test_markdown_is_a_github_table(table) -> None:  # noqa: ANN001
    """Markdown: header, separator, one line per run, pipes escaped."""
    text = export.render_table(table, "markdown", ["run_name", "metrics.accuracy", "tags.team"])
    lines = text.splitlines()
    assert lines[0] == "| run_name | metrics.accuracy | tags.team |"
    assert lines[1] == "|---|---|---|"
    assert lines[2] == "| adam-1 | 0.92 | vision |"
    assert len(lines) == 7
    assert export._markdown(["a"], [["x|y"]]).splitlines()[2] == "| x\\|y |"


def test_html_is_self_contained_and_highlights_differences(table) -> None:  # noqa: ANN001
    """HTML: one file with inline CSS, no scripts or links; columns that differ are highlighted; values escaped."""
    text = export.render_table(table, "html")
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text
    assert "<script" not in text and "<link" not in text and "http" not in text
    assert '<th class="differs">metrics.accuracy</th>' in text
    assert "it&#x27;s" in text


def test_diff_exports(built: tuple[store.Client, dict[str, str]]) -> None:
    """A diff exports to every format; HTML marks the differing cells, JSON carries deltas."""
    client, ids = built
    diff = diff_runs(client, [ids["adam-1"], ids["sgd-1"]])
    data = _strict(export.render_diff(diff, "json"))
    assert data["baseline"] == ids["adam-1"]
    acc = next(r for r in data["rows"] if r["key"] == "accuracy")
    assert acc["values"] == [0.92, 0.85] and acc["deltas"][0] is None and acc["deltas"][1] == pytest.approx(-0.07)
    html_text = export.render_diff(diff, "html")
    assert html_text.count('<tr class="differs">') == len(diff.rows)
    assert 'class="num differs"' in html_text
    md = export.render_diff(diff, "markdown")
    assert "| metrics | **accuracy** | 0.92 | 0.85 -0.07 (-7.6%) |" in md
    rows = list(csv.reader(io.StringIO(export.render_diff(diff, "csv"))))
    assert rows[0] == ["section", "key", ids["adam-1"], ids["sgd-1"], "differs"]


def test_a_value_equal_to_the_baseline_shows_no_delta(tmp_path: Path) -> None:
    """Equal rows (shown on request) carry no "+0 (+0.0%)"; JSON still gives the delta, 0."""
    client = store.Client(tmp_path / "mlstore")
    ids = []
    for lr in ("0.1", "0.01"):
        run_id = client.create_run(client.create_experiment(f"lr={lr}")).info.run_id
        client.log_param(run_id, "lr", lr)
        client.log_metric(run_id, "accuracy", 0.9)
        ids.append(run_id)
    diff = diff_runs(client, ids, show_all=True)
    md = export.render_diff(diff, "markdown")
    assert "| metrics | accuracy | 0.9 | 0.9 |" in md and "+0" not in md
    acc = next(r for r in _strict(export.render_diff(diff, "json"))["rows"] if r["key"] == "accuracy")
    assert acc["deltas"] == [None, 0.0]


def test_format_from_suffix_and_atomic_write(tmp_path: Path) -> None:
    """-o report.md means Markdown; an unknown suffix asks for --format; files are written whole."""
    assert export.format_for("a/report.md") == "markdown"
    assert export.format_for("x.HTML") == "html"
    assert export.format_for("x.txt", "csv") == "csv"
    with pytest.raises(ValidationError, match="suffix"):
        export.format_for("x.txt")
    target = tmp_path / "out.json"
    export.write("[]\n", target)
    assert target.read_text() == "[]\n" and not list(tmp_path.glob(".*tmp"))


def test_terminal_columns_put_varying_values_first(table) -> None:  # noqa: ANN001
    """The table format shows run, status, time, then what varies, and fits the width."""
    wide = export.default_columns(table, None)
    assert wide[:5] == ["run_name", "run_id", "status", "start_time", "duration"]
    assert set(wide[5:]) == {"metrics.accuracy", "metrics.loss", "params.lr", "params.optimizer", "params.layers", "tags.team"}
    narrow = export.default_columns(table, 60)
    assert narrow == [c for c in wide if c in narrow] and len(narrow) < len(wide)
    assert export.column_label("metrics.accuracy", list(table)) == "accuracy"
    assert export.resolve_columns(table, ["accuracy", "params.lr"]) == ["metrics.accuracy", "params.lr"]
    with pytest.raises(ValidationError, match="did you mean"):
        export.resolve_columns(table, ["acuracy"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=5), st.text(max_size=10))
def test_any_value_round_trips_through_json_and_csv(values: list[float], text: str) -> None:
    """Whatever the floats and strings, JSON stays strict and both formats give the values back."""
    n = len(values)
    table = {
        "run_id": [f"r{i}" for i in range(n)], "run_name": [text] * n, "experiment": ["e"] * n,
        "status": ["FINISHED"] * n, "start_time": [0] * n, "end_time": [None] * n, "duration": [None] * n,
        "user_id": ["u"] * n, "metrics.m": values, "params.p": [text] * n,
    }
    data = _strict(export.render_table(table, "json"))
    back = [float(d["metrics"]["m"]) if isinstance(d["metrics"]["m"], str) else d["metrics"]["m"] for d in data]
    assert [repr(v) for v in back] == [repr(v) for v in values]
    assert all(d["params"]["p"] == text for d in data)
    rows = list(csv.DictReader(io.StringIO(export.render_table(table, "csv"), newline="")))
    assert [repr(float(r["metrics.m"])) for r in rows] == [repr(v) for v in values]
    assert all(r["params.p"] == text for r in rows)


_FIELD = st.text(alphabet=st.sampled_from(['a', 'é', ' ', ',', '"', "\r", "\n", "'"]), max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3).flatmap(
    lambda width: st.lists(st.lists(_FIELD, min_size=width, max_size=width), min_size=1, max_size=4)
))
def test_any_csv_field_reads_back_as_written(rows: list[list[str]]) -> None:
    """Commas, quotes, line breaks (a lone carriage return too) and empty fields, alone on a row
    or not: Python's csv reader gives back every row and field, Lines end in a plain newline."""
    table = {f"params.p{i}": list(column) for i, column in enumerate(zip(*rows))}
    text = export.render_table(table, "csv")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [list(table), *rows]
    assert text.endswith("\n") and not text.endswith("\r\n")


def test_the_dashboard_table_exports_the_same_as_the_command(built: tuple[store.Client, dict[str, str]]) -> None:
    """The dashboard exports its Arrow table; every format comes out as ``mltui query`` writes it."""
    with built[0].snapshot() as snap:
        arrow = runs_table(snap, "experiment = 'mnist'", order_by=["run_name"])
        plain = runs_columns(snap, "experiment = 'mnist'", order_by=["run_name"])
    for fmt in export.FORMATS:
        assert export.render_table(table_columns(arrow), fmt) == export.render_table(plain, fmt)
