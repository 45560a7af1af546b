"""Fuzzing the query language: whatever the text, only QueryError escapes, and no user text is
ever pasted into SQL (keys and values travel as bound parameters)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_query_helpers import build_store

import store
from store.catalog import Catalog
from store.errors import QueryError
from store.query import order_by, parse, where
from store.reader import Snapshot
from store.search import runs_table, search_run_ids

HOSTILE = ["'", '"', "`", ";", "--", "/*", "*/", "\\", "(", ")", "DROP TABLE runs", "OR 1=1", "\x00", "é", "\n", "?", "$1"]
KEYS = ["accuracy", "loss", "lr", "optimizer", "team", "x'; DROP TABLE runs; --", "a`b", "f1 score", "é/ü-:.k"]
CATALOG = Catalog(frozenset(KEYS[:2] + KEYS[5:]), frozenset(["lr", "optimizer", "layers"]), frozenset(["team", "mlflow.user"]))

# Every word the compiler and the search may write; anything else in the SQL came from the user.
SQL_WORDS = set(
    """SELECT FROM WHERE AND OR NOT EXISTS IS NULL LIKE ILIKE IN CASE WHEN THEN ELSE END AS DOUBLE
    TRY_CAST coalesce true false isnan lower r m p t run_id key value last_value first_value min_value
    max_value count metric_summaries params tags runs status run_name experiment experiment_id
    start_time end_time duration user_id host artifact_uri lifecycle_stage list_contains ORDER BY
    DESC ASC NULLS LAST LIMIT 1""".split()
)


def _quote(text: str, quote: str) -> str:
    return quote + text.replace(quote, quote + quote) + quote


def _key(key: str) -> str:
    return "`" + key + "`" if re.fullmatch(r"[A-Za-z_][\w./\-:]*", key) is None else key


names = st.one_of(
    st.sampled_from(["accuracy", "loss", "optimizer", "team", "status", "run_name", "duration", "start_time"]),
    st.builds(lambda p, k: f"{p}.{_key(k)}", st.sampled_from(["metrics", "params", "tags", "attributes", "run", "datasets"]), st.sampled_from(KEYS + ["digest"])),
    st.builds(lambda f, k: f"{f}({_key(k)})", st.sampled_from(["min", "max", "first", "last", "count"]), st.sampled_from(KEYS[:2])),
)
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.builds(_quote, st.text(max_size=12), st.sampled_from(["'", '"'])),
    st.sampled_from(["true", "FALSE", "2h", "1h30m", "250ms", "'2026-11-01'", "'2026-11-01 14:30'", "1e300",
                     "-1e400", "'0001-01-01'", "'9999-12-31T23:59:59+14:00'", "99999999999999999999h", "0.5s"]),
)
predicates = st.one_of(
    st.builds(lambda n, o, v: f"{n} {o} {v}", names, st.sampled_from(["=", "==", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "NOT ILIKE"]), values),
    st.builds(lambda n, vs, neg: f"{n} {'NOT ' if neg else ''}IN ({', '.join(vs)})", names, st.lists(values, min_size=1, max_size=3), st.booleans()),
    st.builds(lambda n, neg: f"{n} IS {'NOT ' if neg else ''}NULL", names, st.booleans()),
)
queries = st.recursive(
    predicates,
    lambda inner: st.one_of(
        st.builds(lambda a, b, op: f"{a} {op} {b}", inner, inner, st.sampled_from(["AND", "OR", "and", "Or"])),
        st.builds(lambda a: f"NOT {a}", inner),
        st.builds(lambda a: f"({a})", inner),
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid-looking query with hostile pieces inserted, characters dropped or swapped."""
    text = draw(queries)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=3)))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    return text


def _only_own_words(sql: str) -> None:
    assert "'" not in sql and '"' not in sql and ";" not in sql and "--" not in sql and "/*" not in sql
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*|\d+", sql))
    assert words <= SQL_WORDS, words - SQL_WORDS


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=60))
def test_random_text_raises_only_query_error(text: str) -> None:
    """Any text at all either parses or fails with the project's own QueryError."""
    try:
        where(text, CATALOG)
    except QueryError as exc:
        assert str(exc)


@settings(max_examples=800, deadline=None)
@given(mutated())
def test_mutated_queries_raise_only_query_error(text: str) -> None:
    """Mutated queries full of quotes, comments and semicolons never crash the compiler."""
    try:
        sql, params = where(text, CATALOG, strict=False)
    except QueryError:
        return
    _only_own_words(sql)


@settings(max_examples=500, deadline=None)
@given(queries)
def test_generated_queries_compile_to_own_sql(text: str) -> None:
    """Valid queries compile; every key and value is a bound parameter, never SQL text."""
    try:
        sql, params = where(text, CATALOG, strict=False)
    except QueryError:
        return
    _only_own_words(sql)
    assert sql.count("?") == len(params)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_sort_keys_raise_only_query_error(text: str) -> None:
    """--sort accepts any text without an internal error."""
    try:
        sql, _ = order_by([text], CATALOG, strict=False)
    except QueryError:
        return
    _only_own_words(sql)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root = tmp_path_factory.mktemp("fuzz") / "mlstore"
    build_store(root)
    with store.Client(root).snapshot() as snapshot:
        yield snapshot


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(queries, mutated()))
def test_queries_run_in_duckdb_without_internal_errors(snap: Snapshot, text: str) -> None:
    """Executed against a real store, a query returns runs or a QueryError, never a DuckDB error,
    and the store's views are all still there afterwards."""
    try:
        search_run_ids(snap, text)
    except QueryError:
        pass
    assert snap.rows("SELECT count(*) AS n FROM runs")[0]["n"] == 7


def test_parse_is_total_on_hostile_pieces() -> None:
    """Every hostile fragment alone is a QueryError, not an exception from lark."""
    for piece in HOSTILE:
        with pytest.raises(QueryError):
            parse(piece)


def test_runs_table_raises_only_query_error(snap: Snapshot) -> None:
    """The dashboard's entry point has the same guarantee."""
    with pytest.raises(QueryError):
        runs_table(snap, "accuracy > 0.9 AND")
