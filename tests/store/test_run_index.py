"""Searches answered from the runs a process holds in memory (``store.run_index``) return exactly
what the same search returns from DuckDB, see every write made before they start, and are only
used when the process searches the same files again."""

from __future__ import annotations

import json
import marshal
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_query_fuzz import values
from test_query_helpers import build_store

import store
from store import liveness, run_index, run_index_file
from store.compaction import compact
from store.entities import Run, ViewType
from store.errors import MltuiError, QueryError
from store.reader import Snapshot
from store.search import RUN_INFO_COLUMNS, answer_in_memory, runs_columns, search_sql
from store.state_cache import states

ROOT = Path(__file__).resolve().parents[2]

# Text that DuckDB and Python could read differently: numbers in odd spellings, case rules
# outside ASCII, LIKE's wildcards, a newline, nothing at all.
ODD_TEXT = ["nan", " 1.5 ", "1_000", "1e400", "-0", "İSTANBUL", "ΑΣ", "a%b_c", "TRUE", "x\ny", "", "0x10", "Ⅻ"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[store.Client]:
    root = tmp_path_factory.mktemp("index") / "mlstore"
    build_store(root)
    c = store.Client(root)
    exp = c.get_or_create_experiment("odd")
    for i, text in enumerate(ODD_TEXT):
        run = c.create_run(exp, run_name=text or None, start_time=1_790_000_000_000 + i)
        c.log_param(run.info.run_id, "text", text)
        c.set_tag(run.info.run_id, "note", text)
        c.log_metric(run.info.run_id, "accuracy", [math.nan, math.inf, -math.inf, 0.0, 0.5][i % 5])
        if i % 3 == 0:
            c.set_terminated(run.info.run_id, "FINISHED")
        elif i % 3 == 1:
            liveness.release(c.root, run.info.run_id)  # no heartbeat any more: CRASHED
    c.flush()
    yield c


def _plain(runs: list[Run]) -> list[tuple[Any, ...]]:
    """Runs as comparable values (NaN equal to NaN)."""
    return [
        (r.info, sorted((k, repr(v)) for k, v in r.data.metrics.items()), r.data.params, r.data.tags)
        for r in runs
    ]


@pytest.fixture(scope="module")
def indexes(client: store.Client) -> dict[tuple[str, ...] | None, tuple[run_index.RunIndex, run_index.RunIndex]]:
    """For each searched set of experiments: the runs read by DuckDB for it, and the whole
    store's runs as saved on disk for the next process (``run_index_file``) and loaded back."""
    with client.snapshot() as whole:
        run_index_file.save(client.root, whole.files, run_index.read_data(whole))
    found = {}
    for scope in (None, ["1"], ["2", "3"]):
        with client.snapshot(scope) as snap:
            place = run_index_file.saved(client.root, snap.files, scope)
            saved = run_index_file.load(client.root, place) if place is not None else None
            assert saved is not None
            key = tuple(scope) if scope is not None else None
            found[key] = (run_index.RunIndex(client.root, run_index.read_data(snap)),
                          run_index.RunIndex(client.root, saved))
    return found


def _answers(client: store.Client, indexes: dict, query: str, order_by: list[str] | None, view: ViewType,
             limit: int | None, experiments: list[str] | None) -> list[object]:
    """The same search answered by DuckDB, from the runs read into memory, and from the runs
    saved on disk: runs, or the error's message."""
    answers: list[object] = []
    with client.snapshot(experiments) as snap:
        slot = (snap.root, tuple(experiments) if experiments is not None else None)
        key = tuple(tuple(snap.files.get(t, ())) for t in run_index_file.TABLES)
        for index in (None, *indexes[slot[1]]):
            try:
                if index is None:
                    sql, params = search_sql(snap, query, experiments, view, order_by, limit,
                                             RUN_INFO_COLUMNS, strict=False)
                    found = client._runs_of(snap, sql, params)
                else:
                    run_index._cache[slot] = (key, index)
                    found = answer_in_memory(
                        snap, query, experiments, view, order_by, limit, False, run_index.RunIndex.runs
                    )
                    assert found is not None
                answers.append(_plain(found))
            except QueryError as exc:
                answers.append(f"QueryError: {exc}")
    return answers


NAMES = ["accuracy", "loss", "metrics.accuracy", "params.lr", "params.optimizer", "params.layers",
         "params.text", "tags.team", "tags.note", "status", "run_name", "duration", "start_time",
         "end_time", "user", "experiment", "run_id", "host", "min(accuracy)", "max(loss)",
         "first(accuracy)", "count(accuracy)", "params.missing", "datasets.name"]
ODD_VALUES = st.sampled_from(
    ["'nan'", "'1.5'", "'İstanbul'", "'ασ'", "'a%'", "'%b_c'", "'TRUE'", "'x_y'", "'%'", "'_'", "''",
     "'FINISHED'", "'crashed'", "'0.01'", "'adam'", "'1e400'", "'Ⅻ'", "0", "-0.0", "1e400", "'x%'"]
)
predicates = st.one_of(
    st.builds(lambda n, o, v: f"{n} {o} {v}", st.sampled_from(NAMES),
              st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"]),
              st.one_of(values, ODD_VALUES)),
    st.builds(lambda n, vs, neg: f"{n} {'NOT ' if neg else ''}IN ({', '.join(vs)})", st.sampled_from(NAMES),
              st.lists(st.one_of(values, ODD_VALUES), min_size=1, max_size=3), st.booleans()),
    st.builds(lambda n, neg: f"{n} IS {'NOT ' if neg else ''}NULL", st.sampled_from(NAMES), st.booleans()),
)
queries = st.one_of(
    st.just(""),
    st.recursive(
        predicates,
        lambda inner: st.one_of(
            st.builds(lambda a, b, op: f"({a}) {op} ({b})", inner, inner, st.sampled_from(["AND", "OR"])),
            st.builds(lambda a: f"NOT ({a})", inner),
        ),
        max_leaves=4,
    ),
)
sorts = st.lists(
    st.builds(lambda n, d: f"{n}{d}", st.sampled_from([n for n in NAMES if not n.startswith("datasets")]),
              st.sampled_from(["", " ASC", " DESC", ":desc"])),
    max_size=2,
)


SEARCHES = {
    "query": queries,
    "order_by": sorts,
    "view": st.sampled_from(list(ViewType)),
    "limit": st.one_of(st.none(), st.integers(0, 6)),
    "scope": st.sampled_from([None, ["1"], ["2", "3"]]),
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**SEARCHES)
def test_memory_and_duckdb_answer_alike(client: store.Client, indexes: dict, query: str, order_by: list[str],
                                        view: ViewType, limit: int | None, scope: list[str] | None) -> None:
    """Any query, sort, view, limit and experiments: the same runs in the same order (or the
    same error) from memory, read or saved, as from DuckDB, on values chosen to tell them apart."""
    from_duckdb, from_memory, from_disk = _answers(client, indexes, query, order_by or None, view, limit, scope)
    event("error" if isinstance(from_duckdb, str) else "no run" if not from_duckdb else "runs")
    assert from_memory == from_duckdb
    assert from_disk == from_duckdb


def _wide_answers(client: store.Client, indexes: dict, query: str, order_by: list[str] | None, view: ViewType,
                  limit: int | None, experiments: list[str] | None, aggregates: dict[str, str]) -> list[object]:
    """``mltui query``'s wide table of the same search from DuckDB, from the runs read into
    memory and from the runs saved on disk: columns (a running run's duration, which moves with
    the clock, left out), or the error's message."""
    answers: list[object] = []
    with client.snapshot(experiments) as snap:
        slot = (snap.root, tuple(experiments) if experiments is not None else None)
        key = tuple(tuple(snap.files.get(t, ())) for t in run_index_file.TABLES)
        for index in (None, *indexes[slot[1]]):
            run_index._cache[slot] = (key, index)  # None: no runs in memory, DuckDB answers
            try:
                table = runs_columns(snap, query, experiments, view, order_by, limit, aggregates)
            except MltuiError as exc:
                answers.append(f"{type(exc).__name__}: {exc}")
                continue
            running = [s == "RUNNING" for s in table["status"]]
            table["duration"] = [None if r else d for r, d in zip(running, table["duration"])]
            answers.append({name: [repr(v) for v in values] for name, values in table.items()})
    return answers


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    **SEARCHES,
    aggregates=st.dictionaries(st.sampled_from(["accuracy", "loss", "nothing"]),
                               st.sampled_from(["last", "first", "min", "max", "count", "median"]), max_size=2),
)
def test_query_tables_from_memory_and_duckdb_agree(client: store.Client, indexes: dict, query: str,
                                                   order_by: list[str], view: ViewType, limit: int | None,
                                                   scope: list[str] | None, aggregates: dict[str, str]) -> None:
    """``mltui query``'s table (every column, aggregates, strict names) is the same, or fails
    the same way, whether DuckDB computes it or the runs held in memory or saved on disk do."""
    from_duckdb, from_memory, from_disk = _wide_answers(client, indexes, query, order_by or None, view, limit,
                                                        scope, aggregates)
    event("error" if isinstance(from_duckdb, str) else "no run" if not from_duckdb["run_id"] else "runs")
    assert from_memory == from_duckdb
    assert from_disk == from_duckdb


def test_statuses_and_names_come_through(client: store.Client) -> None:
    """The runs of the odd experiment as a user reads them: CRASHED derived, odd names kept."""
    client.search_runs(filter_string="params.text != 'none'")
    runs = client.search_runs(filter_string="params.text != 'none'")
    assert {r.info.status for r in runs} == {"FINISHED", "RUNNING", "CRASHED"}
    assert {r.info.run_name for r in runs} >= {"İSTANBUL", "a%b_c", "x\ny"}
    assert [r.info.run_name for r in client.search_runs(filter_string="params.text ILIKE 'i%'")] == ["İSTANBUL"]


def test_get_run_from_memory_and_duckdb_alike(client: store.Client, indexes: dict) -> None:
    """Every run by id, deleted and crashed ones included, is the same Run from the runs held in
    memory (and from the saved ones) as from DuckDB; unknown ids are left out."""
    with client.snapshot() as snap:
        ids = [row["run_id"] for row in snap.rows("SELECT run_id FROM runs ORDER BY run_id")]
        from_duckdb = sorted(client._runs_from(snap, ids + ["0" * 32]), key=lambda r: r.info.run_id)
    for held in indexes[None]:
        assert _plain(held.by_ids(ids + ["0" * 32])) == _plain(from_duckdb)
    client.search_runs()
    client.search_runs()  # the runs are held in memory from now on
    with client.snapshot() as snap:
        assert run_index.index_for(snap) is not None
    assert _plain(client.get_runs(ids)) == _plain(from_duckdb)
    assert _plain([client.get_run(i) for i in reversed(ids)]) == _plain(from_duckdb[::-1])
    assert {r.info.status for r in from_duckdb} >= {"CRASHED", "FINISHED"}
    assert {r.info.lifecycle_stage for r in from_duckdb} == {"active", "deleted"}


def _search_twice(c: store.Client, query: str) -> list[str]:
    c.search_runs(filter_string=query)
    return sorted(r.info.run_name for r in c.search_runs(filter_string=query))


def test_a_search_sees_what_another_process_wrote(tmp_path: Path) -> None:
    """Searching from memory never answers from stale files: a run logged by another process
    between two searches is in the second one, with its values."""
    root = tmp_path / "mlstore"
    c = store.Client(root)
    exp = c.create_experiment("live")
    run = c.create_run(exp, run_name="first")
    c.log_metric(run.info.run_id, "accuracy", 0.95)
    c.set_terminated(run.info.run_id)
    assert _search_twice(c, "accuracy > 0.9") == ["first"]
    with c.snapshot() as snap:
        assert run_index.index_for(snap) is not None  # answered from memory from now on
    script = (
        "import store; c = store.Client(r'%s'); r = c.create_run('%s', run_name='second'); "
        "c.log_metric(r.info.run_id, 'accuracy', 0.97); c.set_terminated(r.info.run_id)" % (root, exp)
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)
    runs = c.search_runs(filter_string="accuracy > 0.9")
    assert sorted(r.info.run_name for r in runs) == ["first", "second"]
    assert {r.info.run_name: r.data.metrics["accuracy"] for r in runs}["second"] == 0.97


def test_returned_runs_are_the_callers_own(client: store.Client) -> None:
    """Changing a returned run's data does not change what the next search returns."""
    first = client.search_runs(filter_string="params.optimizer = 'adam'", order_by=["run_name"])
    first[0].data.metrics["accuracy"] = -1.0
    first[0].data.params.clear()
    again = client.search_runs(filter_string="params.optimizer = 'adam'", order_by=["run_name"])
    assert again[0].data.metrics["accuracy"] != -1.0 and again[0].data.params["optimizer"] == "adam"


def test_memory_is_used_only_for_repeated_reads(client: store.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """No runs are loaded for a one-shot command, nor beyond MAX_VALUES: DuckDB answers alone."""
    with client.snapshot() as snap:
        slot_files = snap.files
    run_index_file.path_of(client.root).unlink(missing_ok=True)
    monkeypatch.setattr(run_index_file, "save", lambda *args: None)
    monkeypatch.setattr(run_index, "_cache", {})
    monkeypatch.setattr(run_index, "_seen", {})
    with client.snapshot() as snap:
        assert run_index.index_for(snap) is None  # the first read of these files
        assert run_index.index_for(snap) is not None
        assert snap.files == slot_files
    monkeypatch.setattr(run_index, "_cache", {})
    monkeypatch.setattr(run_index, "MAX_VALUES", 3)
    with client.snapshot() as snap:
        run_index.index_for(snap)
        assert run_index.index_for(snap) is None
        assert len(client.search_runs(filter_string="params.lr = '0.01'")) == 2
    monkeypatch.setattr(run_index, "_cache", {})
    monkeypatch.setattr(run_index, "_seen", {})
    monkeypatch.setattr(states, "share_repeated", False)
    with client.snapshot() as snap:
        assert run_index.index_for(snap) is None and run_index.index_for(snap) is None


def test_memory_held_is_bounded(client: store.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Searching many sets of experiments keeps at most 2 x MAX_VALUES values in memory, the most
    recently searched ones."""
    run_index_file.path_of(client.root).unlink(missing_ok=True)
    monkeypatch.setattr(run_index_file, "save", lambda *args: None)
    monkeypatch.setattr(run_index, "_cache", {})
    monkeypatch.setattr(run_index, "MAX_VALUES", 75)
    scopes = [["1"], ["2"], ["3"], ["1", "2"], ["2", "3"]]
    for scope in scopes:
        for _ in range(2):
            client.search_runs(experiment_ids=scope)
        assert 0 < run_index._held() <= 150
    held = [slot[1] for slot in run_index._cache]
    assert held[-1] == ("2", "3") and ("1",) not in held


def test_snapshot_sees_one_listing(client: store.Client) -> None:
    """A snapshot's files are what the index is keyed on: the same store lists the same files."""
    with client.snapshot() as a, client.snapshot() as b:
        assert isinstance(a, Snapshot) and a.files == b.files


# ---------------------------------------------------------------- runs saved for the next process


def _two_experiments(root: Path) -> store.Client:
    c = store.Client(root)
    for name in ("a", "b"):
        exp = c.create_experiment(name)
        for i in range(3):
            run = c.create_run(exp, run_name=f"{name}{i}")
            c.log_metric(run.info.run_id, "accuracy", 0.5 + i / 5)
            c.set_terminated(run.info.run_id)
    c.flush()
    compact(root)
    return c


def test_first_search_after_compaction_opens_no_duckdb(tmp_path: Path) -> None:
    """`mltui compact` saves the store's runs: a new process's first search answers from them,
    the same runs as DuckDB gives, without opening DuckDB at all."""
    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    assert run_index_file.path_of(root).exists()
    script = (
        "import json, store; from store import duck; c = store.Client(r'%s')\n"
        "runs = c.search_runs(filter_string='accuracy > 0.6', order_by=['accuracy DESC'])\n"
        "print(json.dumps([[r.info.run_name for r in runs], duck._database is None]))" % root
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True)
    names, no_duckdb = json.loads(done.stdout)
    assert names == ["b2", "a2", "b1", "a1"]  # ties in the store's order: newest first
    assert no_duckdb
    with c.snapshot() as snap:
        sql, params = search_sql(snap, "accuracy > 0.6", None, ViewType.ACTIVE_ONLY, ["accuracy DESC"], None,
                                 RUN_INFO_COLUMNS, strict=False)
        assert [r.info.run_name for r in c._runs_of(snap, sql, params)] == names


def test_saved_runs_serve_only_the_files_they_were_made_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run logged after the compaction makes the saved runs useless for its experiment and
    the whole store (the search reads the files, and finds it), not for another experiment."""
    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    b = c.get_experiment_by_name("b").experiment_id
    run = c.create_run(b, run_name="b-late")
    c.log_metric(run.info.run_id, "accuracy", 0.99)
    c.set_terminated(run.info.run_id)
    c.flush()
    monkeypatch.setattr(run_index, "_cache", {})
    a = c.get_experiment_by_name("a").experiment_id
    for scope, usable in (([a], True), ([b], False), (None, False)):
        with c.snapshot(scope) as snap:
            assert (run_index_file.saved(root, snap.files, scope) is not None) is usable
    assert [r.info.run_name for r in c.search_runs([b], "accuracy > 0.9")] == ["b-late"]
    assert [r.info.run_name for r in c.search_runs(None, "accuracy > 0.9")] == ["b-late"]
    assert [r.info.run_name for r in c.search_runs([a], "accuracy > 0.8")] == ["a2"]


def test_runs_saved_beyond_memory_answer_but_are_held_by_one_shot_commands_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mltui compact` saves more runs than a process holds in memory (MAX_VALUES): a first
    search answers from the columns it reads of them, what DuckDB answers. A process that
    searches again holds nothing and searches DuckDB from its second search of these files; a
    one-shot command (`mltui query`) keeps what it read for the rest of its work."""
    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    with c.snapshot() as snap:
        wide = runs_columns(snap, "accuracy > 0.6", order_by=["accuracy:desc"])
    run_index_file.path_of(root).unlink()
    monkeypatch.setattr(run_index, "_cache", {})
    with c.snapshot() as snap:
        assert runs_columns(snap, "accuracy > 0.6", order_by=["accuracy:desc"]) == wide  # DuckDB's
    monkeypatch.setattr(run_index, "MAX_VALUES", 3)
    compact(root)
    assert run_index_file.path_of(root).exists()
    monkeypatch.setattr(run_index, "_cache", {})
    monkeypatch.setattr(run_index, "_seen", {})
    with c.snapshot() as snap:
        index = run_index.index_for(snap)
        assert index is not None and index.values > 3
        assert run_index.index_for(snap) is None  # the second search: DuckDB's
        assert runs_columns(snap, "accuracy > 0.6", order_by=["accuracy:desc"]) == wide
    assert run_index._cache == {}
    monkeypatch.setattr(run_index, "_seen", {})
    with c.snapshot() as snap:
        assert runs_columns(snap, "accuracy > 0.6", order_by=["accuracy:desc"]) == wide  # the save's
    monkeypatch.setattr(states, "share_repeated", False)  # a one-shot command's process
    with c.snapshot() as snap:
        index = run_index.index_for(snap)
        assert index is not None and index is run_index.index_for(snap)
        assert runs_columns(snap, "accuracy > 0.6", order_by=["accuracy:desc"]) == wide


@pytest.mark.parametrize("damage", ["flip", "ids column", "statuses column", "truncate", "garbage", "empty"])
def test_damaged_saved_runs_are_ignored_and_doctor_removes_them(tmp_path: Path, damage: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved runs whose bytes are damaged are never used: searches read the files and give the
    right runs; `doctor` names the file and `--fix` removes it (it is derived, nothing is lost)."""
    from store.doctor import diagnose

    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    path = run_index_file.path_of(root)
    data = path.read_bytes()
    header, body = data.split(b"\n", 1)
    offset, length, _ = json.loads(header)["contents"]
    columns = marshal.loads(body[offset : offset + length])[1]
    at = {"ids": len(header) + 1 + columns[0][0] + 10, "statuses": len(header) + 1 + columns[3][0] + 5}
    damaged = {
        "flip": data[:-40] + bytes([data[-40] ^ 1]) + data[-39:],  # in the contents, saved last
        # a column read when answering (the run ids), or when the runs are loaded (the statuses)
        **{f"{name} column": data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :] for name, i in at.items()},
        "truncate": data[: len(data) - 100],
        "garbage": b"\x00\xffnot json\n[]",
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    monkeypatch.setattr(run_index, "_cache", {})
    with c.snapshot() as snap:
        found = run_index_file.saved(root, snap.files, None)
        assert "column" in damage or found is None or run_index_file.load(root, found) is None
    assert sorted(r.info.run_name for r in c.search_runs(filter_string="accuracy > 0.8")) == ["a2", "b2"]
    monkeypatch.setattr(run_index, "_seen", {})  # a first search again: a second would save sound runs
    with c.snapshot() as snap:
        assert runs_columns(snap, "accuracy > 0.8", order_by=["run_name"])["run_name"] == ["a2", "b2"]
    report = diagnose(root)
    assert [f.kind for f in report.findings] == ["index"] and not report.healthy
    assert diagnose(root, fix=True).fixed and not path.exists()
    assert diagnose(root).healthy


def test_saved_runs_of_another_shape_fail_clearly_and_doctor_removes_them(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A saved file whose CRC matches but whose columns are not what mltui writes (a bug, or a
    file made by hand) fails the search with a message naming the fix; `doctor` finds it and
    `--fix` removes it, and the search then reads the Parquet files."""
    import zlib

    from store.doctor import diagnose

    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    path = run_index_file.path_of(root)
    header, body = path.read_bytes().split(b"\n", 1)
    fields = json.loads(header)
    offset, length, _ = fields["contents"]
    size, runs, long, keys, experiments = marshal.loads(body[offset : offset + length])
    short = marshal.dumps(["one name for six runs"], 4)  # the run names' column, too short
    runs[1] = (len(body), len(short), zlib.crc32(short))
    body += short
    contents = marshal.dumps((size, runs, long, keys, experiments), 4)
    fields["contents"] = [len(body), len(contents), zlib.crc32(contents)]
    path.write_bytes(json.dumps(fields).encode() + b"\n" + body + contents)
    monkeypatch.setattr(run_index, "_cache", {})
    with pytest.raises(MltuiError, match="doctor --fix"):
        c.search_runs(filter_string="accuracy > 0.8")
    report = diagnose(root)
    assert [f.kind for f in report.findings] == ["index"]
    assert diagnose(root, fix=True).fixed and not path.exists()
    monkeypatch.setattr(run_index, "_cache", {})
    assert sorted(r.info.run_name for r in c.search_runs(filter_string="accuracy > 0.8")) == ["a2", "b2"]


def test_doctor_removes_saved_runs_of_an_older_mltui(tmp_path: Path) -> None:
    """The JSON file an older mltui saved its runs in is named by `doctor` and removed by `--fix`;
    the runs this mltui saved stay."""
    from store.doctor import diagnose

    root = tmp_path / "mlstore"
    _two_experiments(root)
    old = run_index_file.path_of(root).with_name("runs.json")
    old.write_text('{"format":1}\n[]')
    report = diagnose(root)
    assert [(f.kind, f.path) for f in report.findings] == [("index", old)] and not report.healthy
    assert diagnose(root, fix=True).fixed and not old.exists()
    assert run_index_file.path_of(root).exists() and diagnose(root).healthy


def test_a_store_being_written_to_is_not_saved_by_a_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process searching a store twice saves its runs for the next process, but not while a
    run's process is alive: that run's next flush would make the file stale at once."""
    root = tmp_path / "mlstore"
    c = store.Client(root)
    run = c.create_run(run_name="training").info.run_id
    c.log_metric(run, "accuracy", 0.5)
    c.flush()
    monkeypatch.setattr(run_index, "_cache", {})
    monkeypatch.setattr(run_index, "_seen", {})
    for _ in range(2):
        assert [r.info.run_name for r in c.search_runs(filter_string="accuracy > 0.1")] == ["training"]
    assert not run_index_file.path_of(root).exists()
    c.set_terminated(run)
    for _ in range(2):
        assert [r.info.status for r in c.search_runs(filter_string="accuracy > 0.1")] == ["FINISHED"]
    assert run_index_file.path_of(root).exists()


def test_saving_where_the_store_cannot_be_written_is_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only store (or a full disk) keeps the runs it had saved and no temporary file;
    the search that tried to save still answers."""
    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    before = run_index_file.path_of(root).read_bytes()

    def refuse(*args: object) -> None:
        raise PermissionError(30, "Read-only file system")

    monkeypatch.setattr(run_index_file.os, "replace", refuse)
    with c.snapshot() as snap:
        run_index_file.save(root, snap.files, run_index.read_data(snap))
    assert run_index_file.path_of(root).read_bytes() == before
    assert [p.name for p in run_index_file.path_of(root).parent.iterdir()] == [run_index_file.NAME]


def test_saves_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    """Threads (like processes) saving at the same moment leave one whole, loadable file and no
    temporary file behind."""
    import threading

    root = tmp_path / "mlstore"
    c = _two_experiments(root)
    with c.snapshot() as snap:
        rows = run_index.read_data(snap)
        files = snap.files
    versions = [rows._replace(size=min(i + 1, rows.size), runs=[c[: i + 1] for c in rows.runs], long=[]) for i in range(8)]
    threads = [threading.Thread(target=run_index_file.save, args=(root, files, v)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = run_index_file.saved(root, files, None)
    assert found is not None
    loaded = run_index_file.load(root, found)
    assert loaded is not None and [list(r) for r in loaded.runs] in [[list(r) for r in v.runs] for v in versions]
    assert [p.name for p in run_index_file.path_of(root).parent.iterdir()] == [run_index_file.NAME]
