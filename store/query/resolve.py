"""Names to what they mean: every name is checked against the store's catalog.

A bare name must mean exactly one thing: a metric, a param, a tag or a run attribute (in that
order of precedence when listing alternatives). A name the store has never seen fails with the
closest existing keys ("did you mean accuracy?"); a bare name that several kinds share fails with
the prefixed spellings to choose from. Inside an aggregate, a bare name is looked up among the
metrics only.

``strict=False`` lets a *prefixed* metric, param or tag the store has not seen yet through (it
matches no run): that is MLflow's ``search_runs`` behaviour, which scripts rely on before their
first run has logged anything. MLflow's ``datasets.name/digest/context`` are accepted the same
way (mltui records no datasets, so they match no run).
"""

from __future__ import annotations

from dataclasses import replace

from store.catalog import Catalog
from store.errors import QueryError, did_you_mean
from store.query.attributes import ATTRIBUTES, attribute
from store.query.nodes import (
    Aggregate,
    And,
    Compare,
    InList,
    IsNull,
    Kind,
    Name,
    Node,
    Not,
    Operand,
    Or,
    SortKey,
)

_KIND_WORD = {Kind.METRIC: "metric", Kind.PARAM: "param", Kind.TAG: "tag", Kind.ATTRIBUTE: "attribute"}
DATASET_KEYS = ("name", "digest", "context")


def _keys(catalog: Catalog, kind: Kind) -> frozenset[str]:
    if kind is Kind.ATTRIBUTE:
        return frozenset(ATTRIBUTES)
    return getattr(catalog, kind.value)


def _kinds_having(catalog: Catalog, key: str) -> list[Kind]:
    kinds = [k for k in (Kind.METRIC, Kind.PARAM, Kind.TAG) if key in _keys(catalog, k)]
    if attribute(key) is not None:
        kinds.append(Kind.ATTRIBUTE)
    return kinds


class _Resolver:
    def __init__(self, catalog: Catalog, text: str, strict: bool) -> None:
        self.catalog = catalog
        self.text = text
        self.strict = strict

    def fail(self, message: str, pos: int) -> QueryError:
        return QueryError(message, self.text, pos)

    def name(self, name: Name, metrics_only: bool = False) -> Name:
        if name.kind is Kind.DATASET:
            if self.strict or name.key not in DATASET_KEYS:
                raise self.fail(
                    f"mltui records no datasets: datasets.{name.key} matches no run "
                    "(MLflow's datasets.name, digest and context are accepted by search_runs)",
                    name.pos,
                )
            return name
        if name.kind is Kind.ATTRIBUTE:
            found = attribute(name.key)
            if found is None:
                raise self.fail(
                    f"unknown attribute {name.key!r}{did_you_mean(name.key, sorted(ATTRIBUTES), containing=True)}; "
                    f"attributes are {', '.join(ATTRIBUTES)}",
                    name.pos,
                )
            return replace(name, key=found.name)
        if name.kind is not None:
            return self.prefixed(name)
        if metrics_only:
            return self.prefixed(replace(name, kind=Kind.METRIC))
        kinds = _kinds_having(self.catalog, name.key)
        if len(kinds) == 1:
            return self.name(replace(name, kind=kinds[0]))
        if kinds:
            spelled = " or ".join(str(replace(name, kind=k)) for k in kinds)
            raise self.fail(f"{name.key!r} is ambiguous: write {spelled}", name.pos)
        everything = sorted(
            self.catalog.metrics | self.catalog.params | self.catalog.tags | set(ATTRIBUTES)
        )
        raise self.fail(
            f"unknown name {name.key!r}{did_you_mean(name.key, everything, containing=True)}", name.pos
        )

    def prefixed(self, name: Name) -> Name:
        assert name.kind is not None
        keys = _keys(self.catalog, name.kind)
        if name.key in keys or not self.strict:
            return name
        word = _KIND_WORD[name.kind]
        elsewhere = [str(replace(name, kind=k)) for k in _kinds_having(self.catalog, name.key)]
        if elsewhere:
            hint = f"; there is {' and '.join(elsewhere)}"
        else:
            hint = did_you_mean(name.key, sorted(keys), containing=True)
        raise self.fail(f"no {word} named {name.key!r} in this store{hint}", name.pos)

    def operand(self, operand: Operand) -> Operand:
        if isinstance(operand, Aggregate):
            if operand.name.kind not in (None, Kind.METRIC):
                raise self.fail(
                    f"{operand.func}() summarises a metric's history; "
                    f"{operand.name} is not a metric",
                    operand.name.pos,
                )
            return replace(operand, name=self.name(operand.name, metrics_only=True))
        return self.name(operand)

    def node(self, node: Node) -> Node:
        if isinstance(node, (And, Or)):
            return type(node)(tuple(self.node(item) for item in node.items))
        if isinstance(node, Not):
            return Not(self.node(node.item))
        assert isinstance(node, (Compare, InList, IsNull))
        return replace(node, left=self.operand(node.left))


def resolve(node: Node, catalog: Catalog, text: str = "", strict: bool = True) -> Node:
    """The same tree with every name's kind filled in and checked (QueryError otherwise)."""
    return _Resolver(catalog, text, strict).node(node)


def resolve_sort(key: SortKey, catalog: Catalog, text: str = "", strict: bool = True) -> SortKey:
    """A sort key with its name resolved like a filter's (datasets cannot be sorted on)."""
    operand = key.operand
    if isinstance(operand, Name) and operand.kind is Kind.DATASET:
        raise QueryError(f"cannot sort by datasets.{operand.key}: mltui records no datasets", text, operand.pos)
    return replace(key, operand=_Resolver(catalog, text, strict).operand(operand))
