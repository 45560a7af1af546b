"""The query language's syntax tree: small frozen records, one per construct.

The parser builds them from text, ``resolve`` fills in what each name refers to, and the
compiler turns them into SQL. Every node keeps ``pos``, the offset in the query text where it
starts, so that a later stage can still point a caret at the culprit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """What a name refers to; the prefix that selects it in the text."""

    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"
    DATASET = "datasets"  # MLflow's dataset inputs: accepted in filters, never recorded by mltui


AGGREGATES = ("last", "first", "min", "max", "count")


@dataclass(frozen=True)
class Name:
    """``accuracy``, ``metrics.accuracy``, ``params.`odd name```; ``kind`` None until resolved."""

    key: str
    kind: Kind | None = None
    pos: int = field(default=0, compare=False)

    def __str__(self) -> str:
        plain = all(c.isalnum() or c in "_./-:" for c in self.key) and self.key[:1].isalpha()
        key = self.key if plain else f"`{self.key}`"
        return key if self.kind is None else f"{self.kind.value}.{key}"


@dataclass(frozen=True)
class Aggregate:
    """``max(accuracy)``: a summary of a metric's whole history."""

    func: str
    name: Name
    pos: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.func}({self.name})"


Operand = Name | Aggregate


@dataclass(frozen=True)
class Literal:
    """A value: ``kind`` is number, string, bool or duration (value in ms); ``text`` as written."""

    value: float | str | bool | int
    kind: str
    pos: int = field(default=0, compare=False)
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class Compare:
    """``left op right``; op is one of = != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE."""

    left: Operand
    op: str
    right: Literal
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class InList:
    """``left [NOT] IN (v, ...)``."""

    left: Operand
    values: tuple[Literal, ...]
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class IsNull:
    """``left IS [NOT] NULL``: whether the run has the key (or the attribute is set)."""

    left: Operand
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class SortKey:
    """One ``--sort`` / ``order_by`` entry."""

    operand: Operand
    descending: bool = False


Predicate = Compare | InList | IsNull
Node = Predicate | And | Or | Not
