"""MLflow's registry filter strings (``name='iris'``, ``name LIKE 'ir%'``, ``tags.team = 'cv'``).

The registry is small and held in memory (see ``registry_store``), so a filter compiles to a
Python predicate over a record's fields rather than to SQL. The grammar is MLflow's: comparisons
joined by AND, on ``name``, ``version``/``version_number``, ``run_id``, ``source`` or
``tags.<key>``, with ``=``, ``!=``, ``LIKE``, ``ILIKE`` and ``IN (...)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from store.errors import QueryError, ValidationError

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>!=|<>|==|=|\(|\)|,)
      | (?P<word>`[^`]*`|[A-Za-z_][\w.]*(?:\.`[^`]*`)?|-?\d+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "LIKE", "ILIKE", "IN", "NOT"}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            start = len(text) - len(text[pos:].lstrip())
            raise QueryError(f"unexpected character {text[start]!r}", text, start)
        kind = m.lastgroup or ""
        start = m.start(kind)
        out.append((kind, m.group(kind), start))
        pos = m.end()
    return out


def _like(pattern: str, case: bool) -> Callable[[str], bool]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(f"^{regex}$", re.DOTALL | (0 if case else re.IGNORECASE))
    return lambda value: compiled.match(value) is not None


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def compile_filter(text: str | None, attributes: Sequence[str]) -> Predicate:
    """A predicate over records; ``attributes`` are the names this search accepts."""
    if not text or not text.strip():
        return lambda _record: True
    tokens = _tokens(text)
    clauses: list[Predicate] = []
    i = 0

    def take(expected: str) -> tuple[str, str, int]:
        nonlocal i
        if i >= len(tokens):
            raise QueryError(f"filter ends early: expected {expected}", text, len(text), [expected])
        tok = tokens[i]
        i += 1
        return tok

    while True:
        kind, name, pos = take("an attribute name")
        if kind != "word" or name.upper() in _KEYWORDS:
            raise QueryError(f"expected an attribute name, got {name!r}", text, pos, list(attributes))
        field = _field(name, attributes, text, pos)
        kind, op, pos = take("a comparison operator")
        op = op.upper()
        negate = False
        if op == "NOT":
            negate = True
            kind, op, pos = take("LIKE, ILIKE or IN")
            op = op.upper()
        if op not in ("=", "==", "!=", "<>", "LIKE", "ILIKE", "IN") or (
            negate and op not in ("LIKE", "ILIKE", "IN")
        ):
            raise QueryError(
                f"unknown comparison {op!r}", text, pos, ["=", "!=", "LIKE", "ILIKE", "IN"]
            )
        if op == "IN":
            values = _value_list(take, text)
            test: Callable[[str], bool] = lambda v, vs=frozenset(values): v in vs  # noqa: E731
        else:
            kind, raw, pos = take("a value")
            if kind not in ("str", "word") or raw.upper() in _KEYWORDS:
                raise QueryError(f"expected a quoted value, got {raw!r}", text, pos, ["'value'"])
            value = _unquote(raw) if kind == "str" else raw
            if op in ("LIKE", "ILIKE"):
                test = _like(value, case=op == "LIKE")
            elif op in ("=", "=="):
                test = lambda v, x=value: v == x  # noqa: E731
            else:
                test = lambda v, x=value: v != x  # noqa: E731
        clauses.append(_clause(field, test, negate))
        if i >= len(tokens):
            break
        kind, word, pos = take("AND")
        if word.upper() != "AND":
            raise QueryError(f"expected AND, got {word!r} (only AND is supported)", text, pos, ["AND"])
    return lambda record: all(c(record) for c in clauses)


def _field(name: str, attributes: Sequence[str], text: str, pos: int) -> str:
    if name.startswith("tags.") and len(name) > 5:
        key = name[5:]
        return "tags." + (key[1:-1] if key.startswith("`") else key)
    bare = name.removeprefix("attributes.")
    bare = "version" if bare == "version_number" else bare
    if bare not in attributes:
        raise QueryError(
            f"invalid attribute {name!r}: expected one of {', '.join(attributes)} or tags.<key>",
            text,
            pos,
            list(attributes),
        )
    return bare


def _value_list(take: Callable[[str], tuple[str, str, int]], text: str) -> list[str]:
    kind, tok, pos = take("(")
    if tok != "(":
        raise QueryError("IN needs a parenthesised list of values", text, pos, ["("])
    values = []
    while True:
        kind, raw, pos = take("a value")
        if kind not in ("str", "word"):
            raise QueryError(f"expected a value, got {raw!r}", text, pos, ["'value'"])
        values.append(_unquote(raw) if kind == "str" else raw)
        kind, tok, pos = take(", or )")
        if tok == ")":
            return values
        if tok != ",":
            raise QueryError(f"expected ',' or ')', got {tok!r}", text, pos, [",", ")"])


def _clause(field: str, test: Callable[[str], bool], negate: bool) -> Predicate:
    def check(record: Record) -> bool:
        if field.startswith("tags."):
            value = record.get("tags", {}).get(field[5:])
        else:
            value = record.get(field)
        if value is None:
            return False
        return test(str(value)) != negate

    return check


ORDER_COLUMNS = {
    "name": "name",
    "version_number": "version",
    "version": "version",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}


def sort_records(
    records: list[Record],
    order_by: Sequence[str] | None,
    default: Sequence[str],
    columns: Sequence[str],
) -> list[Record]:
    """Sort by MLflow ``order_by`` items (``"name ASC"``, ``"version_number DESC"``), then by
    ``default``; ``columns`` are the sortable fields of this kind of record."""
    keys: list[tuple[str, bool]] = []
    for item in list(order_by or []) + list(default):
        words = item.split()
        column = ORDER_COLUMNS.get(words[0].removeprefix("attributes.")) if words else None
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if column not in columns or direction not in ("ASC", "DESC") or len(words) > 2:
            names = [k for k, v in ORDER_COLUMNS.items() if v in columns and k != "version"]
            raise ValidationError(
                f"invalid order_by {item!r}: expected one of {', '.join(names)} "
                "optionally followed by ASC or DESC"
            )
        keys.append((column, direction == "DESC"))
    for column, desc in reversed(keys):
        records.sort(key=lambda r, c=column: r[c], reverse=desc)
    return records
