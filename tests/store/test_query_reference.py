"""Random queries answered twice: by the compiled SQL over a real store, and by a small Python
model of the documented semantics (docs/query.md). Any disagreement is a bug in one of them."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_query_helpers import RUNS, build_store

import store
from store.reader import Snapshot
from store.search import search_run_ids

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
LIVE = {name: spec for name, spec in RUNS.items() if name != "deleted"}


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root = tmp_path_factory.mktemp("reference") / "mlstore"
    build_store(root)
    with store.Client(root).snapshot() as snapshot:
        yield snapshot


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _metric(run: str, func: str, key: str) -> float | None:
    values = LIVE[run][2].get(key)
    if values is None:
        return None
    finite = [v for v in values if not math.isnan(v)]
    return {
        "last": values[-1], "first": values[0], "count": float(len(values)),
        "min": min(finite) if finite else math.nan, "max": max(finite) if finite else math.nan,
    }[func]


def _like(pattern: str, text: str, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.S | (re.I if fold else 0)) is not None


def _text_matches(value: str | None, op: str, literal: tuple[str, Any]) -> bool:
    """A param or tag against a literal, by the rules of docs/query.md."""
    if value is None:
        return False
    kind, lit = literal
    if op.endswith("LIKE"):
        found = _like(lit, value, "ILIKE" in op)
        return not found if op.startswith("NOT") else found
    if kind == "number":
        number = _number(value)
        return number is not None and OPS[op](number, lit)
    if op in ("=", "!="):
        return OPS[op](value, lit)
    left, right = _number(value), _number(lit)
    if left is not None and right is not None:
        return OPS[op](left, right)
    return OPS[op](value, lit)


def _metric_matches(value: float | None, op: str, lit: float) -> bool:
    if value is None:
        return False
    if math.isnan(value):
        return op == "!="
    return OPS[op](value, lit)


# Each leaf: (query text, python predicate on a run name).
metric_leaves = st.builds(
    lambda func, key, op, lit: (
        f"{func}({key}) {op} {lit!r}" if func != "last" else f"metrics.{key} {op} {lit!r}",
        lambda run: _metric_matches(_metric(run, func, key), op, lit),
    ),
    st.sampled_from(["last", "first", "min", "max", "count"]), st.sampled_from(["accuracy", "loss"]),
    st.sampled_from(list(OPS)), st.sampled_from([0.0, 0.2, 0.5, 0.85, 0.92, 0.95, 1.0, 2.0, 3.0, math.inf]).map(
        lambda v: 1e308 if v == math.inf else v
    ),
)
text_literals = st.one_of(
    st.sampled_from(["0.01", "0.1", "1e-3", "auto", "adam", "sgd", "SGD", "vision", "it's", "3", "2", "a", "z"]).map(lambda v: ("string", v)),
    st.sampled_from([0.001, 0.01, 0.05, 2.0, 3.0]).map(lambda v: ("number", v)),
)


def _quoted(literal: tuple[str, Any]) -> str:
    kind, value = literal
    return repr(value) if kind == "number" else "'" + value.replace("'", "''") + "'"


def _value(run: str, prefix: str, key: str) -> str | None:
    return LIVE[run][1 if prefix == "params" else 3].get(key)


text_leaves = st.one_of(
    st.builds(
        lambda prefix, key, op, lit: (
            f"{prefix}.{key} {op} {_quoted(lit)}",
            lambda run: _text_matches(_value(run, prefix, key), op, lit),
        ),
        st.sampled_from(["params"]), st.sampled_from(["lr", "optimizer", "layers"]),
        st.sampled_from(list(OPS)), text_literals,
    ),
    st.builds(
        lambda key, op, pattern: (
            f"params.{key} {op} '{pattern}'",
            lambda run: _text_matches(_value(run, "params", key), op, ("string", pattern)),
        ),
        st.sampled_from(["lr", "optimizer"]), st.sampled_from(["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"]),
        st.sampled_from(["s%", "S%", "%d%", "_dam", "0.0%", "%", "a_to"]),
    ),
    st.builds(
        lambda key, negated, values: (
            f"params.{key} {'NOT ' if negated else ''}IN ({', '.join(_quoted(v) for v in values)})",
            lambda run: all(_text_matches(_value(run, "params", key), "!=", v) for v in values)
            if negated else any(_text_matches(_value(run, "params", key), "=", v) for v in values),
        ),
        st.sampled_from(["lr", "optimizer", "layers"]), st.booleans(), st.lists(text_literals, min_size=1, max_size=3),
    ),
    st.builds(
        lambda prefix, key, negated: (
            f"{prefix}.{key} IS {'NOT ' if negated else ''}NULL",
            lambda run: (_value(run, prefix, key) is not None) == negated,
        ),
        st.sampled_from(["params", "tags"]), st.sampled_from(["lr", "optimizer", "layers", "team"]), st.booleans(),
    ),
    st.builds(
        lambda op, status: (
            f"status {op} '{status}'",
            lambda run: OPS[op](LIVE[run][4], status.upper()),
        ),
        st.sampled_from(["=", "!="]), st.sampled_from(["finished", "FAILED", "Killed"]),
    ),
)
leaves = st.one_of(metric_leaves, text_leaves)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda a, b: (f"({a[0]}) AND ({b[0]})", lambda run: a[1](run) and b[1](run)), inner, inner),
        st.builds(lambda a, b: (f"({a[0]}) OR ({b[0]})", lambda run: a[1](run) or b[1](run)), inner, inner),
        st.builds(lambda a: (f"NOT ({a[0]})", lambda run: not a[1](run)), inner),
    ),
    max_leaves=4,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trees)
def test_sql_agrees_with_the_documented_semantics(snap: Snapshot, case: tuple[str, Callable[[str], bool]]) -> None:
    """The store returns exactly the runs the documented rules select."""
    text, predicate = case
    by_id = {r["run_id"]: r["run_name"] for r in snap.rows("SELECT run_id, run_name FROM runs")}
    found = sorted(by_id[i] for i in search_run_ids(snap, text))
    assert found == sorted(run for run in LIVE if predicate(run)), text
