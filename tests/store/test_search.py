"""Searching runs: ordering, limits, view types, the wide runs table, and search_runs through the API."""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest
from test_query_helpers import build_store

import store
from store.entities import ViewType
from store.errors import NotFound, ValidationError
from store.reader import Snapshot
from store.search import experiment_ids_for, experiments_rows, runs_table, search_run_ids, search_sql


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("search") / "mlstore"
    return root, build_store(root)


@pytest.fixture(scope="module")
def snap(built: tuple[Path, dict[str, str]]) -> Iterator[Snapshot]:
    with store.Client(built[0]).snapshot() as snapshot:
        yield snapshot


def run_names(snap: Snapshot, ids: list[str]) -> list[str]:
    by_id = {r["run_id"]: r["run_name"] for r in snap.rows("SELECT run_id, run_name FROM runs")}
    return [by_id[i] for i in ids]


def test_default_order_is_newest_first(snap: Snapshot) -> None:
    """Without a sort, the newest run comes first (MLflow's start_time DESC)."""
    assert run_names(snap, search_run_ids(snap, "")) == ["cifar-1", "failed", "inf-run", "nan-run", "sgd-1", "adam-1"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["metrics.accuracy DESC"], ["cifar-1", "inf-run", "adam-1", "sgd-1", "failed", "nan-run"]),
        (["accuracy"], ["sgd-1", "adam-1", "inf-run", "cifar-1", "failed", "nan-run"]),
        (["accuracy:desc"], ["cifar-1", "inf-run", "adam-1", "sgd-1", "failed", "nan-run"]),
        (["max(accuracy):desc"], ["cifar-1", "inf-run", "adam-1", "sgd-1", "nan-run", "failed"]),
        (["params.lr"], ["cifar-1", "nan-run", "failed", "adam-1", "sgd-1", "inf-run"]),
        (["lr:desc", "run_name"], ["sgd-1", "adam-1", "failed", "nan-run", "cifar-1", "inf-run"]),
        (["attributes.run_name ASC"], ["adam-1", "cifar-1", "failed", "inf-run", "nan-run", "sgd-1"]),
        (["duration DESC", "run_name"], ["cifar-1", "failed", "sgd-1", "adam-1", "inf-run", "nan-run"]),
        (["tags.team", "run_name"], ["failed", "nan-run", "adam-1", "cifar-1", "sgd-1", "inf-run"]),
    ],
)
def test_order_by(snap: Snapshot, order: list[str], expected: list[str]) -> None:
    """Sorts by metrics, aggregates, params (numbers as numbers) and attributes; missing and NaN last both ways."""
    assert run_names(snap, search_run_ids(snap, "", order_by=order)) == expected


def test_limit_view_type_and_experiments(snap: Snapshot, built: tuple[Path, dict[str, str]]) -> None:
    """max_results, deleted runs and experiment restriction behave like MLflow's."""
    assert len(search_run_ids(snap, "", max_results=2)) == 2
    assert run_names(snap, search_run_ids(snap, "", view_type=ViewType.DELETED_ONLY)) == ["deleted"]
    assert len(search_run_ids(snap, "", view_type=ViewType.ALL)) == 7
    assert run_names(snap, search_run_ids(snap, "accuracy > 0.99", view_type=ViewType.ALL)) == ["deleted"]
    cifar = experiment_ids_for(snap, ["cifar"])
    assert run_names(snap, search_run_ids(snap, "", experiment_ids=cifar)) == ["cifar-1"]
    with pytest.raises(ValidationError, match="max_results"):
        search_run_ids(snap, "", max_results=-1)


def test_experiment_names_resolve_with_suggestions(snap: Snapshot) -> None:
    """-x takes names or ids; a typo suggests the closest experiment."""
    [mnist] = experiment_ids_for(snap, ["mnist"])
    assert experiment_ids_for(snap, [mnist]) == [mnist]
    with pytest.raises(NotFound, match="did you mean mnist"):
        experiment_ids_for(snap, ["mnsit"])


def test_experiments_table_counts_runs(snap: Snapshot) -> None:
    """The experiments listing counts active runs only, most recent first."""
    rows = experiments_rows(snap)
    assert [(r["name"], r["runs"]) for r in rows[:2]] == [("cifar", 1), ("mnist", 5)]


def test_runs_table_columns_and_values(snap: Snapshot) -> None:
    """One row per run and a column per metric, param and tag; missing is null, NaN stays NaN."""
    table = runs_table(snap, "experiment = 'mnist'", order_by=["run_name"])
    assert table.column_names[:8] == ["run_id", "run_name", "experiment", "status", "start_time", "end_time", "duration", "user_id"]
    assert {"metrics.accuracy", "metrics.loss", "params.lr", "params.optimizer", "params.layers", "tags.team"} <= set(table.column_names)
    assert not any(n.startswith("tags.mlflow.") for n in table.column_names)
    rows = {r["run_name"]: r for r in table.to_pylist()}
    assert list(rows) == ["adam-1", "failed", "inf-run", "nan-run", "sgd-1"]
    assert rows["adam-1"]["metrics.accuracy"] == 0.92
    assert rows["adam-1"]["params.layers"] == "3"
    assert rows["failed"]["metrics.accuracy"] is None
    assert math.isnan(rows["nan-run"]["metrics.accuracy"])
    assert rows["inf-run"]["metrics.loss"] == math.inf
    assert rows["sgd-1"]["duration"] == 2 * 3_600_000
    assert table.schema.field("start_time").type == pa.timestamp("ms", tz="UTC")


def test_runs_table_of_every_run_has_only_their_keys(snap: Snapshot) -> None:
    """The unfiltered table (the dashboard's first screen) has no column only a hidden run has."""
    active = runs_table(snap, "")
    assert active.num_rows == 6 and "params.only_deleted" not in active.column_names
    everything = runs_table(snap, "", view_type=ViewType.ALL)
    assert everything.num_rows == 7 and "params.only_deleted" in everything.column_names
    assert active.column("run_name").to_pylist() == run_names(snap, search_run_ids(snap, ""))


def test_runs_table_aggregates(snap: Snapshot) -> None:
    """A metric column can show min, max, first or count instead of the last value."""
    table = runs_table(snap, "run_name = 'adam-1'", aggregates={"accuracy": "max", "loss": "count"})
    row = table.to_pylist()[0]
    assert row["metrics.accuracy"] == 0.92 and row["metrics.loss"] == 3
    first = runs_table(snap, "run_name = 'adam-1'", aggregates={"accuracy": "first"}).to_pylist()[0]
    assert first["metrics.accuracy"] == 0.5
    with pytest.raises(ValidationError, match="invalid aggregate 'mean'"):
        runs_table(snap, "", aggregates={"accuracy": "mean"})


def test_runs_table_empty_result(snap: Snapshot) -> None:
    """No match gives an empty table with the run columns."""
    table = runs_table(snap, "accuracy > 5")
    assert table.num_rows == 0 and table.column_names[0] == "run_id"


def test_explain_binds_every_value(snap: Snapshot) -> None:
    """The SQL --explain prints carries keys and values as parameters."""
    sql, params = search_sql(snap, "accuracy > 0.9 AND params.optimizer = 'adam'", order_by=["loss"])
    assert "accuracy" not in sql and "adam" not in sql
    assert params[3:] == ["accuracy", 0.9, "optimizer", "adam", "loss", None]


def test_client_and_fluent_search_runs_take_mlflow_filters(built: tuple[Path, dict[str, str]]) -> None:
    """Ported scripts: search_runs with MLflow filter strings and order_by strings."""
    root, _ = built
    client = store.Client(root)
    runs = client.search_runs(None, "metrics.accuracy > 0.9 AND params.optimizer = 'adam'", order_by=["metrics.accuracy DESC"])
    assert [r.info.run_name for r in runs] == ["cifar-1", "adam-1"]
    store.set_tracking_uri(root)
    frame = store.search_runs(search_all_experiments=True, filter_string="attributes.status = 'FAILED'", output_format="list")
    assert [r.info.run_name for r in frame] == ["failed"]
    table = store.search_runs(search_all_experiments=True, filter_string="tags.team ILIKE 'VIS%'", output_format="arrow")
    assert table.num_rows == 3


def same(a: pa.Table, b: pa.Table) -> bool:
    """Equal tables, NaN equal to NaN (Arrow's ``equals`` says NaN differs from itself)."""
    return a.schema == b.schema and repr(a.to_pylist()) == repr(b.to_pylist())


def test_filters_typed_at_once_on_one_snapshot_do_not_mix(built: tuple[Path, dict[str, str]]) -> None:
    """The dashboard filters from several workers on one snapshot: each gets its own runs, and a
    dashboard left open does not pile up the matched runs of every filter typed."""
    queries = ["experiment = 'mnist'", "accuracy > 0.9", "params.optimizer = 'adam'", "status = 'FAILED'"] * 3
    with store.Client(built[0]).snapshot(materialize=True) as shared:
        alone = {q: runs_table(shared, q) for q in queries}
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda q: runs_table(shared, q), queries))
        left = shared.rows("SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'search%'")
    assert left == []
    for query, table in zip(queries, together):
        assert same(table, alone[query])


def test_filtered_and_unfiltered_tables_agree(snap: Snapshot) -> None:
    """A filter that keeps every run gives the same table as no filter, and a limit its first rows."""
    everything = runs_table(snap, "")
    assert same(runs_table(snap, "run_name != 'no such run'"), everything)
    first = runs_table(snap, "run_name != 'no such run'", max_results=2)
    assert first.num_rows == 2 and set(first.column_names) <= set(everything.column_names)
    assert same(first, everything.slice(0, 2).select(first.column_names))


def state_tables() -> set[str]:
    from store import duck

    con = duck.cursor()
    try:
        rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
    finally:
        con.close()
    return {n for (n,) in rows if n.startswith("mltui_state_")}


def test_a_one_shot_process_reads_inline_and_builds_no_tables(tmp_path: Path) -> None:
    """A command that reads the same state several times and exits (``mltui runs show``) gets
    the same answers without building tables of every run's state."""
    from store.state_cache import one_shot

    client = store.Client(tmp_path / "mlstore")
    run = client.create_run(run_name="only").info.run_id
    client.log_metric(run, "accuracy", 0.9)
    client.set_terminated(run)
    client.flush()
    before = state_tables()
    one_shot()
    for _ in range(3):
        assert client.get_run(run).data.metrics == {"accuracy": 0.9}
        with client.snapshot() as snap:
            assert runs_table(snap, "accuracy > 0.5")["run_name"].to_pylist() == ["only"]
    assert state_tables() == before


def test_repeated_searches_see_every_change_and_keep_few_tables(tmp_path: Path) -> None:
    """A script searching again and again (served from shared state and pivot tables after the
    first search) sees each new run and value at once, and old tables do not pile up."""
    before = state_tables()  # other tests' snapshots may still hold theirs
    client = store.Client(tmp_path / "mlstore")
    for i in range(6):
        run = client.create_run(run_name=f"r{i}").info.run_id
        client.log_metric(run, "accuracy", 0.5 + i / 100)
        client.set_terminated(run)
        client.flush()
        client.log_param(run, "seed", str(i))
        client.flush()
        for _ in range(3):
            found = client.search_runs(filter_string="metrics.accuracy >= 0.5", max_results=None)
            assert [r.info.run_name for r in found] == [f"r{j}" for j in range(i, -1, -1)]
            with client.snapshot() as snap:  # the wide table: pivoted from shared tables too
                table = runs_table(snap, "accuracy >= 0.5")
            assert table["run_name"].to_pylist() == [f"r{j}" for j in range(i, -1, -1)]
            assert table["metrics.accuracy"].to_pylist() == [0.5 + j / 100 for j in range(i, -1, -1)]
            assert table["params.seed"].to_pylist() == [str(j) for j in range(i, -1, -1)]
    assert len(state_tables() - before) <= 6 + 2  # the newest of each state and each pivot stays


def test_prefixed_mlflow_filters_read_no_catalog(built: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's filter strings name every key with its prefix: search_runs resolves them without
    reading the store's keys (one statement less), and still finds the keys' runs; a bare name
    still looks its key up."""
    import store.search
    from store.run_index import RunIndex

    read: list[object] = []
    real, held = store.search.catalog, RunIndex.catalog
    monkeypatch.setattr(store.search, "catalog", lambda *a: read.append(a) or real(*a))
    monkeypatch.setattr(RunIndex, "catalog", lambda *a: read.append(a) or held(*a))  # runs held in memory
    client = store.Client(built[0])
    runs = client.search_runs(filter_string="metrics.accuracy > 0.9 and params.optimizer = 'adam'",
                              order_by=["metrics.loss DESC", "attributes.start_time"])
    assert sorted(r.info.run_name for r in runs) == ["adam-1", "cifar-1"] and not read
    assert client.search_runs(filter_string="metrics.never_logged > 1") == [] and not read
    assert len(client.search_runs(filter_string="accuracy > 0.9")) == 3 and read
