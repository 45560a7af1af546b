"""Text to syntax tree: a lark LALR grammar whose rules build ``nodes`` directly.

The grammar is the whole language of DESIGN.md section 5 (a superset of MLflow's filter strings).
Rules are turned into nodes while the LALR parser reduces them (lark's inline transformer), so
nothing recurses on the depth of the query; the depth of the finished tree is then bounded so
that the compiler and DuckDB never meet a pathological nesting. Every lark error becomes a
``QueryError`` with the position and the tokens that would have been valid there.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from store.errors import QueryError, ValidationError
from store.query.nodes import (
    AGGREGATES,
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
    Operand,
    Or,
    SortKey,
)
from store.timefmt import parse_duration

MAX_DEPTH = 64
MAX_LENGTH = 20_000

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: NOT not_expr -> negation
         | atom
?atom: predicate
     | "(" or_expr ")"
?predicate: operand COMPARATOR value -> compare
          | operand NOT? LIKE value -> like
          | operand NOT? ILIKE value -> like
          | operand NOT? _IN "(" value ("," value)* ")" -> in_list
          | operand _IS NOT? _NULL -> is_null
?operand: name | aggregate
aggregate: IDENT "(" name ")"
name: IDENT | QUOTED_NAME | IDENT QUOTED_NAME | IDENT STRING
?value: NUMBER -> number
      | STRING -> string
      | DURATION -> duration
      | TRUE -> true
      | FALSE -> false
sort_key: operand

_OR: "OR"i
_AND: "AND"i
NOT: "NOT"i
_IS: "IS"i
_NULL: "NULL"i
_IN: "IN"i
LIKE: "LIKE"i
ILIKE: "ILIKE"i
TRUE: "TRUE"i
FALSE: "FALSE"i
COMPARATOR: "==" | "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
IDENT: /[^\W\d][\w.\/\-:]*/
QUOTED_NAME: /`[^`]*`/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.|"")*"/
DURATION.2: /(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+(?![\w.])/
NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])/
%ignore /\s+/
"""

PREFIXES = {
    "metrics": Kind.METRIC,
    "metric": Kind.METRIC,
    "params": Kind.PARAM,
    "param": Kind.PARAM,
    "parameter": Kind.PARAM,
    "parameters": Kind.PARAM,
    "tags": Kind.TAG,
    "tag": Kind.TAG,
    "attributes": Kind.ATTRIBUTE,
    "attribute": Kind.ATTRIBUTE,
    "attr": Kind.ATTRIBUTE,
    "run": Kind.ATTRIBUTE,
    "datasets": Kind.DATASET,
    "dataset": Kind.DATASET,
}

# What each terminal is called in an error message, in the order they are listed.
TOKEN_WORDS = {
    "IDENT": "a name",
    "QUOTED_NAME": "a `quoted name`",
    "NUMBER": "a number",
    "STRING": "a 'string'",
    "DURATION": "a duration (2h)",
    "TRUE": "true",
    "FALSE": "false",
    "COMPARATOR": "a comparison (= != < <= > >=)",
    "NOT": "NOT",
    "LIKE": "LIKE",
    "ILIKE": "ILIKE",
    "_IN": "IN",
    "_IS": "IS",
    "_NULL": "NULL",
    "_AND": "AND",
    "_OR": "OR",
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "$END": "the end of the query",
}

_ESCAPE = re.compile(r"\\(.)|('')|(\"\")", re.S)


def _unquote(text: str) -> str:
    """``'it''s'`` / ``'it\\'s'`` -> ``it's``: SQL doubling and backslash escapes both work."""
    return _ESCAPE.sub(lambda m: m.group(1) or (m.group(2) or m.group(3))[0], text[1:-1])


class _Build(Transformer):
    """Reduces grammar rules to nodes (called by the LALR parser as it goes)."""

    def negation(self, children: list[Any]) -> Not:
        return Not(children[1])

    def and_expr(self, children: list[Node]) -> And:
        return And(tuple(children))

    def or_expr(self, children: list[Node]) -> Or:
        return Or(tuple(children))

    def compare(self, children: list[Any]) -> Compare:
        left, op, right = children
        canonical = {"==": "=", "<>": "!="}.get(str(op), str(op))
        return Compare(left, canonical, right, _pos(left))

    def like(self, children: list[Any]) -> Compare:
        left, *words, right = children
        op = " ".join(str(w).upper() for w in words)
        return Compare(left, op, right, _pos(left))

    def in_list(self, children: list[Any]) -> InList:
        left, *rest = children
        negated = isinstance(rest[0], Token) and rest[0].type == "NOT"
        values = tuple(v for v in rest if isinstance(v, Literal))
        return InList(left, values, negated, _pos(left))

    def is_null(self, children: list[Any]) -> IsNull:
        return IsNull(children[0], len(children) > 1, _pos(children[0]))

    def aggregate(self, children: list[Any]) -> Aggregate:
        func, name = children
        if func.lower() not in AGGREGATES:
            raise _error(
                f"unknown function {str(func)!r}: expected one of {', '.join(AGGREGATES)}",
                func.start_pos,
            )
        return Aggregate(func.lower(), name, func.start_pos)

    def name(self, children: list[Token]) -> Name:
        first = children[0]
        if first.type == "QUOTED_NAME":
            return Name(_bare_key(first), None, first.start_pos)
        if len(children) == 2:
            quoted = children[1]
            kind = PREFIXES.get(first[:-1].lower()) if first.endswith(".") else None
            if kind is None:
                raise _error(
                    f"unexpected {str(quoted)!r} after {str(first)!r}: a quoted key needs a "
                    "prefix (metrics.`key`), and a value needs a comparison before it",
                    quoted.start_pos,
                )
            return Name(_bare_key(quoted), kind, first.start_pos)
        head, dot, rest = first.partition(".")
        kind = PREFIXES.get(head.lower()) if dot else None
        if kind is None:
            return Name(str(first), None, first.start_pos)
        if not rest:
            raise _error(f"expected a key after {str(first)!r}", first.end_pos)
        return Name(rest, kind, first.start_pos)

    def sort_key(self, children: list[Operand]) -> Operand:
        return children[0]

    def number(self, children: list[Token]) -> Literal:
        return Literal(float(children[0]), "number", children[0].start_pos, str(children[0]))

    def string(self, children: list[Token]) -> Literal:
        text = _unquote(children[0])
        return Literal(text, "string", children[0].start_pos, text)

    def duration(self, children: list[Token]) -> Literal:
        token = children[0]
        try:
            ms = parse_duration(str(token))
        except ValidationError as exc:
            raise _error(str(exc), token.start_pos) from None
        return Literal(ms, "duration", token.start_pos, str(token))

    def true(self, children: list[Token]) -> Literal:
        return Literal(True, "bool", children[0].start_pos, "true")

    def false(self, children: list[Token]) -> Literal:
        return Literal(False, "bool", children[0].start_pos, "false")


class _PositionedError(Exception):
    """Raised inside the transformer; turned into a QueryError once the query text is at hand."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _error(message: str, pos: int) -> _PositionedError:
    return _PositionedError(message, pos)


def _bare_key(token: Token) -> str:
    key = _unquote(token) if token.type == "STRING" else token[1:-1]
    if not key:
        raise _error("empty key name", token.start_pos)
    return key


def _pos(operand: Operand) -> int:
    return operand.pos


_parser: Lark | None = None


def _lark() -> Lark:
    """Built on first use (cached on disk by lark, so a fresh process pays ~3 ms)."""
    global _parser
    if _parser is None:
        _parser = Lark(
            GRAMMAR,
            parser="lalr",
            start=["start", "sort_key"],
            transformer=_Build(),
            cache=True,
        )
    return _parser


def _expected(text: str, pos: int, start: str, fallback: set[str]) -> list[str]:
    """What would be valid at ``pos``, found by replaying the text before it."""
    try:
        interactive = _lark().parse_interactive(text[:pos], start=start)
        interactive.exhaust_lexer()
        names = set(interactive.accepts())
    except (UnexpectedInput, _PositionedError, VisitError):
        names = fallback
    return [word for token, word in TOKEN_WORDS.items() if token in names]


def _describe(exc: UnexpectedInput, text: str) -> tuple[str, int]:
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "unexpected end of the query", len(text)
        return f"unexpected {str(exc.token)!r}", exc.token.start_pos
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    if text[pos] in "'\"`":
        return f"unterminated quote {text[pos]}", pos
    return f"unexpected character {text[pos]!r}", pos


def _parse(text: str, start: str) -> Any:
    if len(text) > MAX_LENGTH:
        raise QueryError(f"query too long ({len(text)} characters, at most {MAX_LENGTH})", text)
    if not text.strip():
        raise QueryError("empty query: expected a condition such as accuracy > 0.9", text, 0)
    try:
        return _lark().parse(text, start=start)
    except (UnexpectedToken, UnexpectedCharacters) as exc:
        what, pos = _describe(exc, text)
        fallback = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
        expected = _expected(text, pos, start, fallback)
        message = f"syntax error: {what}; expected {_one_of(expected)}" if expected else what
        raise QueryError(message, text, pos, expected) from None
    except VisitError as exc:
        inner = exc.orig_exc
        if isinstance(inner, _PositionedError):
            raise QueryError(inner.message, text, inner.pos) from None
        raise
    except _PositionedError as exc:
        raise QueryError(exc.message, text, exc.pos) from None
    except UnexpectedInput as exc:
        raise QueryError(f"syntax error: {exc}", text, len(text)) from None


def _one_of(words: list[str]) -> str:
    return words[0] if len(words) == 1 else "one of: " + ", ".join(words)


def _children(node: Any) -> tuple[Any, ...]:
    if isinstance(node, (And, Or)):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()


def _check_depth(node: Node, text: str) -> None:
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise QueryError(f"query nested too deeply (more than {MAX_DEPTH} levels)", text)
        stack.extend((child, depth + 1) for child in _children(current))


@functools.lru_cache(maxsize=256)
def parse(text: str) -> Node:
    """A filter expression -> its syntax tree (names not yet resolved). Trees are frozen, so a
    script or dashboard that runs the same query again does not parse it again (0.3 ms)."""
    node = _parse(text, "start")
    _check_depth(node, text)
    return node


_DIRECTION = re.compile(r"(?:\s*:\s*|\s+)(asc|desc)\s*$", re.I)


@functools.lru_cache(maxsize=256)
def parse_sort(text: str) -> SortKey:
    """``accuracy``, ``accuracy:desc``, ``metrics.accuracy DESC``, ``max(loss) ASC``."""
    match = _DIRECTION.search(text)
    body = text[: match.start()] if match else text
    operand = _parse(body, "sort_key")
    return SortKey(operand, bool(match) and match.group(1).lower() == "desc")
