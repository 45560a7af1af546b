"""Resolved syntax tree to DuckDB SQL over the snapshot views, every value a bound parameter.

The result is a boolean expression over ``runs r``. Metric, param and tag conditions are
``EXISTS`` sub-queries on the long views with the key bound as a value, e.g.::

    EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.run_id AND m.key = ?
            AND (NOT isnan(m.last_value) AND m.last_value > ?))

so a run without the key never matches (also for ``!=``, ``NOT LIKE`` and ``NOT IN``, as in
MLflow), while ``NOT (...)`` is plain logical negation. The only text that reaches SQL is this
module's own: columns come from fixed tables, operators from a fixed set, values are ``?``.

Typing, decided here: metrics compare with numbers (NaN never matches = < <= > >=). Params,
tags and text attributes against an unquoted number compare as numbers (a value that is not a
number never matches); against a quoted string ``=``/``!=`` compare text exactly, as in MLflow,
and ``< <= > >=`` compare as numbers when both sides are numbers, else as text. ``true`` and
``false`` match the text true/false in any case; times take dates or epoch ms; ``duration``
takes ``2h`` or ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.errors import QueryError, ValidationError
from store.query.attributes import ATTRIBUTES
from store.query.nodes import (
    Aggregate,
    And,
    InList,
    IsNull,
    Kind,
    Literal,
    Name,
    Node,
    Not,
    Operand,
    Or,
    SortKey,
)
from store.timefmt import INT64_MAX, parse_time

ORDERING = ("=", "!=", "<", "<=", ">", ">=")
SUMMARY_COLUMNS = {
    "last": "last_value",
    "first": "first_value",
    "min": "min_value",
    "max": "max_value",
    "count": "count",
}
_LONG_VIEWS = {Kind.METRIC: ("metric_summaries", "m"), Kind.PARAM: ("params", "p"), Kind.TAG: ("tags", "t")}


@dataclass(frozen=True)
class Column:
    """Where an operand's value lives and how its values compare."""

    sql: str  # an expression of this module's own making
    type: str  # number, count, text, status, time or duration
    long_view: tuple[str, str] | None = None  # (view, alias) when the key is bound
    key: str | None = None


def column(operand: Operand) -> Column:
    """The SQL column an operand reads (inside its EXISTS for metrics, params and tags)."""
    if isinstance(operand, Aggregate):
        summary = SUMMARY_COLUMNS[operand.func]
        kind = "count" if operand.func == "count" else "number"
        return Column(f"m.{summary}", kind, _LONG_VIEWS[Kind.METRIC], operand.name.key)
    name: Name = operand
    if name.kind is Kind.METRIC:
        return Column("m.last_value", "number", _LONG_VIEWS[Kind.METRIC], name.key)
    if name.kind in (Kind.PARAM, Kind.TAG):
        view, alias = _LONG_VIEWS[name.kind]
        return Column(f"{alias}.value", "text", (view, alias), name.key)
    attr = ATTRIBUTES[name.key]
    return Column(f"r.{attr.column}", attr.type)


class _Compiler:
    def __init__(self, text: str) -> None:
        self.text = text
        self.params: list[Any] = []

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def fail(self, message: str, pos: int) -> QueryError:
        return QueryError(message, self.text, pos)

    # ------------------------------------------------------------ booleans

    def node(self, node: Node) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.node(i) for i in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(i) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item)})"
        if isinstance(node.left, Name) and node.left.kind is Kind.DATASET:
            return "true" if isinstance(node, IsNull) and not node.negated else "false"
        col = column(node.left)
        if isinstance(node, IsNull):
            return self.presence(col, node.negated)
        head = self.open(col)
        if isinstance(node, InList):
            conditions = [self.condition(col, node.left, "=", v) for v in node.values]
            body = "(" + " OR ".join(conditions) + ")"
            body = f"NOT {body}" if node.negated else body
        else:
            body = self.condition(col, node.left, node.op, node.right)
        return self.close(col, head, body)

    def open(self, col: Column) -> str:
        """The start of the EXISTS that binds a long view's key (bound before the condition)."""
        if col.long_view is None:
            return ""
        view, alias = col.long_view
        return (
            f"EXISTS (SELECT 1 FROM {view} {alias} WHERE {alias}.run_id = r.run_id "
            f"AND {alias}.key = {self.bind(col.key)}"
        )

    def close(self, col: Column, head: str, body: str) -> str:
        if col.long_view is None:
            return f"coalesce({body}, false)"
        return f"{head} AND coalesce({body}, false))"

    def presence(self, col: Column, negated: bool) -> str:
        if col.long_view is None:
            return f"({col.sql} IS {'NOT ' if negated else ''}NULL)"
        exists = self.open(col) + ")"
        return exists if negated else f"(NOT {exists})"

    # ------------------------------------------------------------ one comparison

    def condition(self, col: Column, operand: Operand, op: str, lit: Literal) -> str:
        if "LIKE" in op:
            return self.like(col, operand, op, lit)
        if op not in ORDERING:
            raise self.fail(f"unknown operator {op!r}", lit.pos)
        if col.type in ("number", "count"):
            return self.numeric(col, operand, op, lit)
        if col.type == "text":
            return self.text_compare(col, operand, op, lit)
        if col.type == "status":
            if lit.kind != "string":
                raise self.fail("status is text: write status = 'FINISHED'", lit.pos)
            return f"{col.sql} {op} {self.bind(str(lit.value).upper())}"
        return f"{col.sql} {op} {self.bind(moment(col, operand, lit, self.text))}"

    def like(self, col: Column, operand: Operand, op: str, lit: Literal) -> str:
        if col.type not in ("text", "status"):
            raise self.fail(f"{op} matches text, and {operand} is not text", lit.pos)
        if lit.kind != "string":
            raise self.fail(f"{op} needs a quoted pattern such as 'adam%'", lit.pos)
        return f"{col.sql} {op} {self.bind(lit.value)}"

    def numeric(self, col: Column, operand: Operand, op: str, lit: Literal) -> str:
        value = number_of(lit)
        if value is None:
            raise self.fail(f"{operand} is a number: compare it with a number", lit.pos)
        bound = self.bind(value)
        if col.type == "number" and op != "!=":
            return f"(NOT isnan({col.sql}) AND {col.sql} {op} {bound})"
        return f"{col.sql} {op} {bound}"

    def text_compare(self, col: Column, operand: Operand, op: str, lit: Literal) -> str:
        if lit.kind == "bool":
            if op not in ("=", "!="):
                raise self.fail("true and false compare with = or !=", lit.pos)
            return f"lower({col.sql}) {op} {self.bind('true' if lit.value else 'false')}"
        if lit.kind == "duration":
            raise self.fail(f"a duration compares with duration, not with {operand}", lit.pos)
        value = number_of(lit)
        as_number = f"TRY_CAST({col.sql} AS DOUBLE)"
        if lit.kind == "number":
            return f"{as_number} {op} {self.bind(value)}"
        if value is None or op in ("=", "!="):
            return f"{col.sql} {op} {self.bind(lit.text)}"
        return (
            f"CASE WHEN {as_number} IS NULL THEN {col.sql} {op} {self.bind(lit.text)} "
            f"ELSE {as_number} {op} {self.bind(value)} END"
        )

    # ------------------------------------------------------------ sorting

    def sort(self, key: SortKey) -> str:
        col = column(key.operand)
        direction = "DESC" if key.descending else "ASC"
        if col.long_view is None:
            return f"{col.sql} {direction} NULLS LAST"
        view, alias = col.long_view
        source = f"FROM {view} {alias} WHERE {alias}.run_id = r.run_id AND {alias}.key = "
        if col.type == "text":
            numeric = f"(SELECT TRY_CAST({col.sql} AS DOUBLE) {source}{self.bind(col.key)})"
            text = f"(SELECT {col.sql} {source}{self.bind(col.key)})"
            return f"{numeric} {direction} NULLS LAST, {text} {direction} NULLS LAST"
        value = f"CASE WHEN isnan({col.sql}) THEN NULL ELSE {col.sql} END"
        if col.type == "count":
            value = col.sql
        return f"(SELECT {value} {source}{self.bind(col.key)}) {direction} NULLS LAST"


def moment(col: Column, operand: Operand, lit: Literal, text: str = "") -> int:
    """A time (epoch ms) or a duration (ms) from a literal, per the attribute's type."""
    if lit.kind == "number":
        if not abs(float(lit.value)) <= INT64_MAX:
            raise QueryError(f"{lit.text} is out of range for {operand}", text, lit.pos)
        return round(float(lit.value))
    if col.type == "duration":
        if lit.kind == "duration":
            return int(lit.value)
        raise QueryError("duration takes a duration such as 90s, 15m, 2h or 1h30m", text, lit.pos)
    if lit.kind == "string":
        try:
            return parse_time(str(lit.value))
        except ValidationError as exc:
            raise QueryError(str(exc), text, lit.pos) from None
    raise QueryError(f"{operand} takes a date such as '2026-11-01' or epoch milliseconds", text, lit.pos)


def number_of(lit: Literal) -> float | None:
    """The number a literal means, if any (numbers, numeric strings, true/false as 1/0)."""
    if lit.kind == "number":
        return float(lit.value)
    if lit.kind == "bool":
        return 1.0 if lit.value else 0.0
    if lit.kind == "string":
        try:
            return float(str(lit.value))
        except ValueError:
            return None
    return None


def compile_filter(node: Node, text: str = "") -> tuple[str, list[Any]]:
    """A resolved tree -> (boolean SQL over ``runs r``, bound values in order)."""
    compiler = _Compiler(text)
    sql = compiler.node(node)
    return sql, compiler.params


def compile_sort(keys: list[SortKey]) -> tuple[str, list[Any]]:
    """Resolved sort keys -> (ORDER BY items, bound values); missing values last both ways."""
    compiler = _Compiler("")
    sql = ", ".join(compiler.sort(k) for k in keys)
    return sql, compiler.params
