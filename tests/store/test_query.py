"""The query language: every operator, aggregate and name form, its errors and its semantics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_query_helpers import T0, build_store

import store
from store.catalog import Catalog, catalog
from store.errors import QueryError
from store.query import Aggregate, And, Compare, InList, IsNull, Kind, Literal, Name, Not, Or, parse, parse_sort, where
from store.reader import Snapshot
from store.search import search_run_ids


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root = tmp_path_factory.mktemp("query") / "mlstore"
    build_store(root)
    with store.Client(root).snapshot() as snapshot:
        yield snapshot


def names(snap: Snapshot, query: str) -> list[str]:
    ids = search_run_ids(snap, query)
    rows = snap.rows("SELECT run_id, run_name FROM runs WHERE list_contains(?, run_id)", [ids])
    return sorted(r["run_name"] for r in rows)


# ---------------------------------------------------------------- parsing


def test_parse_builds_typed_nodes() -> None:
    """The parse tree is what the compiler and the dashboard rely on."""
    assert parse("accuracy > 0.9") == Compare(Name("accuracy"), ">", Literal(0.9, "number"))
    assert parse("NOT (a = 1 OR b <> 'x') AND c IS NOT NULL") == And((
        Not(Or((Compare(Name("a"), "=", Literal(1.0, "number")), Compare(Name("b"), "!=", Literal("x", "string"))))),
        IsNull(Name("c"), negated=True),
    ))
    assert parse("max(metrics.loss) <= 1e-3") == Compare(
        Aggregate("max", Name("loss", Kind.METRIC)), "<=", Literal(0.001, "number")
    )
    assert parse("run_id NOT IN ('a', \"b\")") == InList(
        Name("run_id"), (Literal("a", "string"), Literal("b", "string")), negated=True
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("metrics.accuracy = 1", Name("accuracy", Kind.METRIC)),
        ("metric.accuracy = 1", Name("accuracy", Kind.METRIC)),
        ("params.lr = 1", Name("lr", Kind.PARAM)),
        ("parameter.lr = 1", Name("lr", Kind.PARAM)),
        ("tags.team = 1", Name("team", Kind.TAG)),
        ("attributes.status = 1", Name("status", Kind.ATTRIBUTE)),
        ("attr.status = 1", Name("status", Kind.ATTRIBUTE)),
        ("run.status = 1", Name("status", Kind.ATTRIBUTE)),
        ("metrics.`f1 score` = 1", Name("f1 score", Kind.METRIC)),
        ('tags."mlflow.runName" = 1', Name("mlflow.runName", Kind.TAG)),
        ("`train/loss` = 1", Name("train/loss")),
        ("train/loss = 1", Name("train/loss")),
        ("mlflow.runName = 1", Name("mlflow.runName")),
        ("METRICS.acc = 1", Name("acc", Kind.METRIC)),
    ],
)
def test_name_forms(text: str, name: Name) -> None:
    """Prefixes, their MLflow aliases, back-quoted and double-quoted keys all parse."""
    node = parse(text)
    assert isinstance(node, Compare) and node.left == name


@pytest.mark.parametrize(
    ("text", "op"),
    [("a = 1", "="), ("a == 1", "="), ("a != 1", "!="), ("a <> 1", "!="), ("a < 1", "<"),
     ("a <= 1", "<="), ("a > 1", ">"), ("a >= 1", ">="), ("a LIKE 'x'", "LIKE"),
     ("a not like 'x'", "NOT LIKE"), ("a ILike 'x'", "ILIKE"), ("a NOT ILIKE 'x'", "NOT ILIKE")],
)
def test_operators(text: str, op: str) -> None:
    """Every comparison operator, keywords in any case."""
    node = parse(text)
    assert isinstance(node, Compare) and node.op == op


@pytest.mark.parametrize(
    ("text", "literal"),
    [("a = -1.5e2", Literal(-150.0, "number")), ("a = .5", Literal(0.5, "number")),
     ("a = 'it''s'", Literal("it's", "string")), ("a = 'it\\'s'", Literal("it's", "string")),
     ('a = "x"', Literal("x", "string")), ("a = TRUE", Literal(True, "bool")),
     ("a = false", Literal(False, "bool")), ("a = 1h30m", Literal(5_400_000, "duration")),
     ("a = 250ms", Literal(250, "duration")), ("a = 2d", Literal(172_800_000, "duration"))],
)
def test_values(text: str, literal: Literal) -> None:
    """Numbers, both quotes with escapes, booleans and durations."""
    node = parse(text)
    assert isinstance(node, Compare) and node.right == literal


def test_sort_keys() -> None:
    """--sort and MLflow's order_by spellings both work."""
    assert parse_sort("accuracy:desc").descending
    assert parse_sort("metrics.accuracy DESC").operand == Name("accuracy", Kind.METRIC)
    assert not parse_sort("max(loss) asc").descending
    assert parse_sort("max(loss)").operand == Aggregate("max", Name("loss"))


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("accuracy >", 10, "a number"),
        ("accuracy > 0.9 AND", 18, "a name"),
        ("(accuracy > 0.9", 15, ")"),
        ("accuracy > 0.9; DROP TABLE runs", 14, "AND"),
        ("accuracy ! 1", 9, "a comparison (= != < <= > >=)"),
        ("accuracy > 'open", 11, ""),
        ("0.9 < accuracy", 0, "a name"),
    ],
)
def test_syntax_errors_point_at_the_problem(text: str, position: int, expected: str) -> None:
    """A syntax error names the position (caret) and what would have been valid there."""
    with pytest.raises(QueryError) as info:
        parse(text)
    assert info.value.position == position
    if expected:
        assert expected in info.value.expected
        assert expected in str(info.value)
    assert str(info.value).splitlines()[-1] == "  " + " " * position + "^"


def test_bad_function_and_empty_query() -> None:
    """Unknown functions list the aggregates; an empty filter says what to write."""
    with pytest.raises(QueryError, match="expected one of last, first, min, max, count"):
        parse("avg(loss) < 1")
    with pytest.raises(QueryError, match="empty query"):
        parse("   ")


def test_nesting_is_bounded() -> None:
    """A pathological nesting fails cleanly instead of exhausting the stack."""
    with pytest.raises(QueryError, match="nested too deeply"):
        parse("NOT " * 500 + "a = 1")
    assert parse("(" * 500 + "a = 1" + ")" * 500) == parse("a = 1")


# ---------------------------------------------------------------- names against the catalog


CAT = Catalog(frozenset({"accuracy", "loss", "lr"}), frozenset({"lr", "optimizer"}), frozenset({"team"}))


def test_unknown_names_suggest_the_closest() -> None:
    """A typo gets 'did you mean', pointing at the name."""
    with pytest.raises(QueryError, match="did you mean accuracy") as info:
        where("loss < 1 and acuracy > 0.9", CAT)
    assert info.value.position == 13
    with pytest.raises(QueryError, match="no param named 'optimiser'.*did you mean optimizer"):
        where("params.optimiser = 'adam'", CAT)
    with pytest.raises(QueryError, match="there is params.optimizer"):
        where("metrics.optimizer > 1", CAT)
    with pytest.raises(QueryError, match="unknown attribute 'stauts'.*did you mean status"):
        where("attributes.stauts = 'FAILED'", CAT)


def test_ambiguous_bare_name_lists_the_prefixes() -> None:
    """A bare name that is both a metric and a param must be spelled out."""
    with pytest.raises(QueryError, match="'lr' is ambiguous: write metrics.lr or params.lr"):
        where("lr > 0.01", CAT)
    where("params.lr > 0.01", CAT)
    where("max(lr) > 0.01", CAT)


def test_aggregates_apply_to_metrics_only() -> None:
    """min(params.x) is an error naming the reason."""
    with pytest.raises(QueryError, match="summarises a metric's history"):
        where("min(params.lr) > 1", CAT)


def test_type_errors_are_query_errors() -> None:
    """Comparing a metric with text, LIKE on a number or an impossible date fails with a message."""
    for bad in ("accuracy > 'high'", "accuracy LIKE 'x%'", "duration > 'soon'", "start_time > 2h",
                "status = 3", "optimizer > true", "optimizer = 2h", "start_time >= 'yesterday'",
                "start_time > 1e300", "end_time < -1e400", "start_time > '0001-01-01'",
                "duration > 99999999999999999999999h"):
        with pytest.raises(QueryError):
            where(bad, CAT)


def test_values_are_bound_never_pasted() -> None:
    """User text reaches SQL only as bound values."""
    sql, params = where("tags.`x'; DROP TABLE runs; --` = 'a''; DROP TABLE runs; --'", Catalog(tags=frozenset({"x'; DROP TABLE runs; --"})))
    assert "DROP" not in sql
    assert params == ["x'; DROP TABLE runs; --", "a'; DROP TABLE runs; --"]


# ---------------------------------------------------------------- semantics over a store


def test_catalog_lists_keys(snap: Snapshot) -> None:
    """The catalog holds every logged key, per experiment when asked."""
    everything = catalog(snap)
    assert {"accuracy", "loss"} <= everything.metrics
    assert {"lr", "optimizer", "layers"} <= everything.params
    assert "team" in everything.tags and "mlflow.runName" in everything.tags
    cifar = snap.rows("SELECT experiment_id FROM experiments WHERE name = 'cifar'")[0]["experiment_id"]
    assert catalog(snap, [cifar]).params == {"lr", "optimizer"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("accuracy > 0.9", ["adam-1", "cifar-1", "inf-run"]),
        ("metrics.accuracy >= 0.92", ["adam-1", "cifar-1", "inf-run"]),
        ("accuracy = 0.92", ["adam-1"]),
        ("accuracy == 0.92", ["adam-1"]),
        ("accuracy != 0.92", ["cifar-1", "inf-run", "nan-run", "sgd-1"]),
        ("accuracy <> 0.92", ["cifar-1", "inf-run", "nan-run", "sgd-1"]),
        ("accuracy < 0.9", ["sgd-1"]),
        ("accuracy <= 0.85", ["sgd-1"]),
        ("loss > 100", ["inf-run"]),
        ("loss >= 0", ["adam-1", "cifar-1", "inf-run", "sgd-1"]),
        ("max(accuracy) >= 0.9", ["adam-1", "cifar-1", "inf-run"]),
        ("min(loss) < 0.3", ["adam-1", "cifar-1"]),
        ("first(accuracy) = 0.5", ["adam-1"]),
        ("last(accuracy) = 0.92", ["adam-1"]),
        ("count(accuracy) = 3", ["adam-1", "sgd-1"]),
        ("count(accuracy) >= 1", ["adam-1", "cifar-1", "inf-run", "nan-run", "sgd-1"]),
        ("max(accuracy) > 0.29", ["adam-1", "cifar-1", "inf-run", "nan-run", "sgd-1"]),
    ],
)
def test_metric_comparisons(snap: Snapshot, query: str, expected: list[str]) -> None:
    """Metrics compare by their latest value (or an aggregate); NaN never matches = < >."""
    assert names(snap, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("params.lr = '0.01'", ["adam-1", "failed"]),
        ("lr = '0.010'", []),
        ("lr = 0.010", ["adam-1", "failed"]),
        ("lr > 0.005", ["adam-1", "failed", "sgd-1"]),
        ("lr < 0.005", ["cifar-1", "nan-run"]),
        ("lr < '0.005'", ["cifar-1", "nan-run"]),
        ("lr != 'auto'", ["adam-1", "cifar-1", "failed", "nan-run", "sgd-1"]),
        ("lr >= 'a'", ["inf-run"]),
        ("optimizer LIKE 'ad%'", ["adam-1", "cifar-1", "nan-run"]),
        ("optimizer LIKE 's%'", ["sgd-1"]),
        ("optimizer ILIKE 's%'", ["inf-run", "sgd-1"]),
        ("optimizer NOT LIKE 'ad%'", ["inf-run", "sgd-1"]),
        ("optimizer NOT ILIKE 's%'", ["adam-1", "cifar-1", "nan-run"]),
        ("optimizer IN ('sgd', 'SGD')", ["inf-run", "sgd-1"]),
        ("optimizer NOT IN ('adam')", ["inf-run", "sgd-1"]),
        ("layers IN (2, 3)", ["adam-1", "sgd-1"]),
        ("optimizer IS NULL", ["failed"]),
        ("params.layers IS NOT NULL", ["adam-1", "sgd-1"]),
        ("tags.team = 'it''s'", ["failed"]),
        ("team = \"vision\" AND accuracy > 0.9", ["adam-1", "cifar-1"]),
        ("team IS NULL", ["inf-run"]),
        ("tags.mlflow.runName = 'sgd-1'", ["sgd-1"]),
    ],
)
def test_param_and_tag_comparisons(snap: Snapshot, query: str, expected: list[str]) -> None:
    """Params compare numerically against numbers, as text against quoted strings; a missing key never matches."""
    assert names(snap, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status = 'FAILED'", ["failed"]),
        ("attributes.status = 'killed'", ["inf-run"]),
        ("status IN ('FAILED', 'KILLED')", ["failed", "inf-run"]),
        ("status NOT IN ('FINISHED')", ["failed", "inf-run"]),
        ("run_name LIKE '%-1'", ["adam-1", "cifar-1", "sgd-1"]),
        ("attributes.`run name` = 'failed'", ["failed"]),
        ("experiment = 'cifar'", ["cifar-1"]),
        ("duration > 2h", ["cifar-1", "failed"]),
        ("duration >= 2h", ["cifar-1", "failed", "sgd-1"]),
        ("duration < 90m", ["adam-1", "inf-run", "nan-run"]),
        ("duration = 7200000", ["sgd-1"]),
        (f"start_time >= {T0 + 4 * 3_600_000}", ["cifar-1", "failed"]),
        (f"created < {T0 + 3_600_000}", ["adam-1"]),
        ("start_time >= '2026-09-21T18:13:20Z'", ["cifar-1", "failed"]),
        ("start_time < '2026-09-21T15:13:20.001+00:00'", ["adam-1", "sgd-1"]),
        ("start_time > '2026-09-20'", ["adam-1", "cifar-1", "failed", "inf-run", "nan-run", "sgd-1"]),
        ("end_time IS NULL", []),
        ("user_id IS NOT NULL AND host IS NOT NULL", ["adam-1", "cifar-1", "failed", "inf-run", "nan-run", "sgd-1"]),
    ],
)
def test_attribute_comparisons(snap: Snapshot, query: str, expected: list[str]) -> None:
    """Attributes: status in any case, times as dates or epoch ms, durations as 2h or ms."""
    assert names(snap, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("accuracy > 0.9 OR status = 'FAILED'", ["adam-1", "cifar-1", "failed", "inf-run"]),
        ("NOT accuracy > 0.9", ["failed", "nan-run", "sgd-1"]),
        ("not (optimizer = 'adam' or optimizer = 'sgd')", ["failed", "inf-run"]),
        ("(accuracy > 0.9 OR loss < 0.5) AND NOT experiment = 'cifar'", ["adam-1", "inf-run", "sgd-1"]),
        ("accuracy > 0.9 and loss < 1 and team = 'vision'", ["adam-1", "cifar-1"]),
    ],
)
def test_boolean_logic(snap: Snapshot, query: str, expected: list[str]) -> None:
    """AND, OR, NOT and parentheses, with AND binding tighter than OR."""
    assert names(snap, query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "metrics.accuracy > 0.72",
        "metrics.`accuracy` <= 0",
        'params.lr = "0.01"',
        'params.optimizer LIKE "ad%" AND params.lr = "0.01"',
        'tags.team ILIKE "VIS%"',
        "attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')",
        "attributes.start_time >= 1664067852747",
        "metrics.loss <= 0.15 AND metrics.loss >= 0.1",
        'params.optimizer = "adam" and params.lr = "0.001" and metrics.loss <= 0.05',
        'attributes.status = "FAILED"',
        'tags."mlflow.runName" = "failed"',
        "params.batch_size IS NULL",
        "metrics.unknown_metric > 1",
        "datasets.digest IN ('s8ds293b', 'jks834s2')",
    ],
)
def test_every_mlflow_filter_string_is_accepted(snap: Snapshot, query: str) -> None:
    """MLflow's documented filter strings run unchanged through search_runs."""
    search_run_ids(snap, query)


def test_unknown_prefixed_key_matches_nothing_in_search_runs(snap: Snapshot) -> None:
    """As in MLflow, search_runs on a key nobody logged yet returns no runs rather than failing."""
    assert search_run_ids(snap, "metrics.not_yet > 1") == []
    assert search_run_ids(snap, "datasets.name = 'train' OR run_name = 'sgd-1'") == search_run_ids(snap, "run_name = 'sgd-1'")
    with pytest.raises(QueryError, match="records no datasets"):
        where("datasets.name = 'train'", CAT)
    with pytest.raises(QueryError, match="did you mean"):
        search_run_ids(snap, "acuracy > 1")


def test_hostile_values_are_only_data(snap: Snapshot) -> None:
    """A hostile-looking value is only ever data: the store's views are intact afterwards."""
    assert names(snap, "run_name = 'x''; DROP VIEW runs; --'") == []
    with pytest.raises(QueryError, match="unexpected character '-'"):
        names(snap, "run_name = 'adam-1' -- comment")
    assert names(snap, "run_name = 'adam-1'") == ["adam-1"]
