"""mltui's query language (DESIGN.md section 5): text -> nodes -> resolved names -> SQL.

``parse`` builds frozen nodes from text with a lark grammar, ``resolve`` checks every name
against the store's ``Catalog``, ``compile_filter`` / ``compile_sort`` produce ``(sql, params)``
over the snapshot views. Each stage raises ``QueryError`` (with the position) and nothing else.
"""

from __future__ import annotations

from typing import Any

from store.catalog import Catalog
from store.query.compile import compile_filter, compile_sort
from store.query.nodes import (
    Aggregate,
    And,
    Compare,
    InList,
    IsNull,
    Kind,
    Literal,
    Name,
    Node,
    Not,
    Or,
    SortKey,
)

# The parser (lark, ~28 ms to import) and the resolver load with the first query that needs them:
# a process that reads runs by id from memory (``Client.get_run``) imports this package's
# compiler and evaluator, never a grammar.
_LAZY = {"parse": "parser", "parse_sort": "parser", "resolve": "resolve", "resolve_sort": "resolve"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"store.query.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def needs_catalog(text: str, sort: list[str], strict: bool) -> bool:
    """Whether resolving a filter and a sort reads the store's keys: a bare name (``accuracy``)
    must be looked up, and ``strict`` checks prefixed keys exist; MLflow's prefixed filter
    strings under ``strict=False`` resolve without reading anything (a statement saved)."""
    from store.query.parser import parse, parse_sort

    if strict:
        return bool(text.strip() or sort)
    operands = [k.operand for k in map(parse_sort, sort)]
    if text.strip():
        stack: list[Node] = [parse(text)]
        while stack:
            node = stack.pop()
            if isinstance(node, (And, Or)):
                stack.extend(node.items)
            elif isinstance(node, Not):
                stack.append(node.item)
            else:
                operands.append(node.left)
    return any(isinstance(o, Name) and o.kind is None for o in operands)


def filter_node(text: str, catalog: Catalog, strict: bool = True) -> Node:
    """A filter string -> its resolved tree (what ``evaluate`` runs in memory)."""
    from store.query.parser import parse
    from store.query.resolve import resolve

    return resolve(parse(text), catalog, text, strict)


def sort_keys(specs: list[str], catalog: Catalog, strict: bool = True) -> list[SortKey]:
    """Sort strings (``accuracy:desc``, ``metrics.accuracy DESC``) -> resolved sort keys."""
    from store.query.parser import parse_sort
    from store.query.resolve import resolve_sort

    return [resolve_sort(parse_sort(s), catalog, s, strict) for s in specs]


def where(text: str, catalog: Catalog, strict: bool = True) -> tuple[str, list[Any]]:
    """A filter string -> (boolean SQL over ``runs r``, bound values)."""
    return compile_filter(filter_node(text, catalog, strict), text)


def order_by(specs: list[str], catalog: Catalog, strict: bool = True) -> tuple[str, list[Any]]:
    """Sort strings -> (ORDER BY items, values)."""
    return compile_sort(sort_keys(specs, catalog, strict))


__all__ = [
    "Aggregate",
    "And",
    "Compare",
    "InList",
    "IsNull",
    "Kind",
    "Literal",
    "Name",
    "Node",
    "Not",
    "Or",
    "SortKey",
    "compile_filter",
    "compile_sort",
    "filter_node",
    "needs_catalog",
    "order_by",
    "parse",
    "parse_sort",
    "resolve",
    "resolve_sort",
    "sort_keys",
    "where",
]
