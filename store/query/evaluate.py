"""A resolved query evaluated in Python over runs held in memory (``store.run_index``).

DuckDB spends 3-5 ms planning any statement, whatever the data: on a store of a thousand runs
that is nearly all of a search. A process that searches the same files again keeps their runs in
memory and answers here instead, with the meaning ``compile`` gives the same tree in SQL (a test
runs both on random stores and queries and compares):

- every condition is two-valued (SQL's ``coalesce(..., false)``): a condition on a key a run lacks
  is false, also for ``!=``, ``NOT LIKE`` and ``NOT IN``; ``NOT`` is plain negation;
- doubles compare in DuckDB's total order: NaN equals NaN and is above every number; metric
  conditions other than ``!=`` never match NaN;
- text compares by code point (DuckDB's binary collation); text read as a number, and text
  lowered for ``ILIKE`` or ``true``/``false``, are DuckDB's own ``TRY_CAST`` and ``lower``,
  computed when the runs are loaded;
- a sort puts missing values last both ways; ties keep the store's order (newest first).

The source answers for each column only the runs that have a value: their positions and values
(``Pairs``); text columns give ``Text`` records.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property, lru_cache
from itertools import compress, repeat
from typing import Any, NamedTuple, Protocol

from store.query.compile import Column, column, compile_filter, moment, number_of
from store.query.nodes import And, Compare, InList, IsNull, Kind, Literal, Name, Node, Not, Operand, Or, SortKey

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Text(NamedTuple):
    """A text value with DuckDB's ``TRY_CAST(value AS DOUBLE)`` and ``lower(value)``."""

    text: str
    number: float | None
    lowered: str


Pairs = tuple[Sequence[int], Sequence[Any]]
"""A column: the positions of the runs that have a value, and their values, in the same order."""


class Source(Protocol):
    size: int

    def values(self, col: Column) -> Pairs:
        """Every run with a non-null value in ``col``, and its value."""

    def present(self, col: Column) -> set[int]:
        """Positions of the runs that have ``col``'s key (metrics, params, tags)."""


Test = Callable[[Any], bool | None]  # None: SQL's unknown (only text read as a number)


def matching(node: Node, source: Source, text: str = "") -> set[int]:
    """Positions of the runs ``node`` (resolved) matches. Invalid comparisons fail as the SQL
    compiler fails them, with its message: it checks the tree first."""
    compile_filter(node, text)
    return _Evaluator(source, text).node(node)


class _Evaluator:
    def __init__(self, source: Source, text: str) -> None:
        self.source = source
        self.text = text

    @cached_property
    def every(self) -> set[int]:
        return set(range(self.source.size))

    def node(self, node: Node) -> set[int]:
        if isinstance(node, And):
            found = self.node(node.items[0])
            for item in node.items[1:]:
                found = found & self.node(item)
            return found
        if isinstance(node, Or):
            return set().union(*(self.node(item) for item in node.items))
        if isinstance(node, Not):
            return self.every - self.node(node.item)
        if isinstance(node.left, Name) and node.left.kind is Kind.DATASET:
            return set(self.every) if isinstance(node, IsNull) and not node.negated else set()
        col = column(node.left)
        if isinstance(node, IsNull):
            if col.long_view is None:
                present = set(self.source.values(col)[0])
            else:
                present = self.source.present(col)
            return set(present) if node.negated else self.every - present
        if isinstance(node, InList):
            tests = [self.test(col, node.left, "=", value) for value in node.values]
            if node.negated:  # NOT (a OR b) in SQL's logic: unknown (text that is no number) is not false
                return {p for p, v in zip(*self.source.values(col)) if all(t(v) is False for t in tests)}
            return {p for p, v in zip(*self.source.values(col)) if any(t(v) for t in tests)}
        assert isinstance(node, Compare)
        positions, values = self.source.values(col)
        if col.type in ("number", "count") and "LIKE" not in node.op:
            x = float(number_of(node.right))  # type: ignore[arg-type]
            if x == x:  # Python compares doubles as DuckDB does, but for NaN: it matches only !=
                return set(compress(positions, map(_OPS[node.op], values, repeat(x))))
        test = self.test(col, node.left, node.op, node.right)
        return {p for p, v in zip(positions, values) if test(v)}

    def test(self, col: Column, operand: Operand, op: str, lit: Literal) -> Test:
        """A function of one value, true where the SQL condition is."""
        if "LIKE" in op:
            return _like(col, op, str(lit.value))
        cmp = _OPS[op]
        if col.type in ("number", "count"):
            return _doubles(op, float(number_of(lit)), skip_nan=col.type == "number" and op != "!=")  # type: ignore[arg-type]
        if col.type == "text":
            return _text(op, lit)
        if col.type == "status":
            wanted = str(lit.value).upper()
            return lambda v: cmp(v, wanted)
        when = moment(col, operand, lit, self.text)
        return lambda v: cmp(v, when)


def _doubles(op: str, x: float, skip_nan: bool) -> Test:
    """``v op x`` in DuckDB's order of doubles (``skip_nan``: false for a NaN ``v``)."""
    cmp = _OPS[op]
    if x != x:
        if_nan = op in ("=", "<=", ">=") and not skip_nan
        if_number = op in ("<", "<=", "!=")
        return lambda v: if_nan if v != v else if_number
    if_nan = op in (">", ">=", "!=") and not skip_nan
    return lambda v: cmp(v, x) if v == v else if_nan


def _text(op: str, lit: Literal) -> Test:
    cmp = _OPS[op]
    if lit.kind == "bool":
        wanted = "true" if lit.value else "false"
        return lambda t: cmp(t.lowered, wanted)
    value = number_of(lit)
    if lit.kind == "number":
        numbers = _doubles(op, float(value), skip_nan=False)  # type: ignore[arg-type]
        return lambda t: None if t.number is None else numbers(t.number)
    written = lit.text
    if value is None or op in ("=", "!="):
        return lambda t: cmp(t.text, written)
    numbers = _doubles(op, value, skip_nan=False)
    return lambda t: cmp(t.text, written) if t.number is None else numbers(t.number)


def _like(col: Column, op: str, pattern: str) -> Test:
    """SQL ``LIKE``: ``%`` any text, ``_`` one character, no escape character; ``ILIKE``
    compares the lowered value with the pattern lowered the same way."""
    insensitive = "ILIKE" in op
    regex = _like_regex(_duck_lower(pattern) if insensitive else pattern)
    negated = op.startswith("NOT")
    if col.type == "status":
        def subject(v: Any) -> str:
            return v.lower() if insensitive else v
    elif insensitive:
        subject = operator.attrgetter("lowered")
    else:
        subject = operator.attrgetter("text")
    return lambda v: (regex.fullmatch(subject(v)) is None) == negated


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _duck_lower(text: str) -> str:
    """``lower`` as DuckDB does it: one character at a time (no final-sigma rule, İ to i)."""
    return "".join("i" if c == "\u0130" else c.lower() for c in text)


def ordered(positions: Iterable[int], keys: list[SortKey], source: Source) -> list[int]:
    """``positions`` sorted by ``keys`` as ``compile_sort`` orders them, ties in store order."""
    order = sorted(positions)
    items: list[tuple[dict[int, Any], bool]] = []
    for key in keys:
        col = column(key.operand)
        values = dict(zip(*source.values(col)))
        if col.type == "text":
            if col.long_view is not None:
                numbers = {p: t.number for p, t in values.items() if t.number is not None}
                items.append((numbers, key.descending))
            values = {p: t.text for p, t in values.items()}
        elif col.type == "number":
            values = {p: v for p, v in values.items() if v == v}
        items.append((values, key.descending))
    for values, descending in reversed(items):
        have = [p for p in order if p in values]
        missing = [p for p in order if p not in values]
        have.sort(key=lambda p: _sortable(values[p]), reverse=descending)
        order = have + missing
    return order


def _sortable(value: Any) -> Any:
    """Doubles in DuckDB's order (NaN last ascending); anything else as it is."""
    if isinstance(value, float):
        return (1, 0.0) if value != value else (0, value)
    return value
