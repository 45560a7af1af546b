"""Finding runs: a filter in the query language, an order, a limit; as ids or as a wide table.

``search_sql`` serves ``Client.search_runs`` (MLflow filter strings, ``order_by`` as
``"metrics.accuracy DESC"``); ``runs_table`` the dashboard and ``runs_columns`` ``mltui query`` and
the exports: one row per run, one column per metric, param and tag. They filter and sort in
DuckDB with one statement, so the cost does not grow with the histories: only the per-run
summaries are read. Where the process holds the snapshot's runs in memory, or they were saved
for its files (``run_index``), ``answer_in_memory`` finds the same runs without DuckDB, and
``search_runs`` and ``runs_columns`` answer from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from store.catalog import Catalog, catalog
from store.view_type import ViewType
from store.errors import NotFound, ValidationError, did_you_mean
from store.query import compile_filter, filter_node, needs_catalog, sort_keys, where
from store.query import order_by as compile_order
from store.query.compile import SUMMARY_COLUMNS
from store.reader import Snapshot

if TYPE_CHECKING:
    import pyarrow as pa

    from store.run_index import Matched, RunIndex

RUN_COLUMNS = ("run_id", "run_name", "experiment", "status", "start_time", "end_time", "duration", "user_id")
# What a RunInfo holds (``Client.search_runs``).
RUN_INFO_COLUMNS = (
    "run_id", "run_name", "experiment_id", "status", "start_time", "end_time", "lifecycle_stage",
    "artifact_uri", "user_id", "host", "pid",
)
_STAGES = {ViewType.ACTIVE_ONLY: ["active"], ViewType.DELETED_ONLY: ["deleted"], ViewType.ALL: ["active", "deleted"]}
SYSTEM_TAG_PREFIX = "mlflow."
T = TypeVar("T")


def search_sql(
    snap: Snapshot,
    query: str = "",
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    columns: Sequence[str] = ("run_id",),
    strict: bool = True,
) -> tuple[str, list[Any]]:
    """The one SELECT over ``runs r`` that filters, sorts and limits (what ``--explain`` shows).

    ``columns`` are names from RUN_COLUMNS or RUN_INFO_COLUMNS; ``strict=False`` lets prefixed keys the store has
    never seen match nothing instead of failing (MLflow's ``search_runs`` behaviour).
    """
    _check_max_results(max_results)
    allowed = dict.fromkeys(RUN_COLUMNS + RUN_INFO_COLUMNS)
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise ValidationError(f"unknown run columns {unknown}: expected some of {', '.join(allowed)}")
    ids = list(experiment_ids) if experiment_ids is not None else None
    known = _keys_for(query, order_by, strict, lambda: catalog(snap, ids))
    params: list[Any] = [_STAGES[ViewType(view_type)], ids, ids]
    sql = (
        f"SELECT {', '.join('r.' + c for c in columns)} FROM runs r\n"
        "WHERE list_contains(?, r.lifecycle_stage)\n"
        "  AND (? IS NULL OR list_contains(?, r.experiment_id))"
    )
    if query.strip():
        condition, values = where(query, known, strict)
        sql += f"\n  AND {condition}"
        params += values
    order = "r.start_time DESC NULLS LAST, r.run_id"
    if order_by:
        items, values = compile_order(list(order_by), known, strict)
        order = f"{items}, {order}"
        params += values
    sql += f"\nORDER BY {order}\nLIMIT ?"
    params.append(max_results)
    return sql, params


def _keys_for(query: str, order_by: Sequence[str] | None, strict: bool, read: Callable[[], Catalog]) -> Catalog:
    """The store's keys, from ``read``, when resolving the filter and sort needs them (see
    ``needs_catalog``)."""
    return read() if needs_catalog(query, list(order_by or ()), strict) else Catalog()


def _check_max_results(max_results: int | None) -> None:
    if max_results is not None and (not isinstance(max_results, int) or max_results < 0):
        raise ValidationError(f"invalid max_results {max_results!r}: expected a number >= 0")


def answer_in_memory(
    snap: Snapshot,
    query: str,
    experiment_ids: Sequence[str] | None,
    view_type: ViewType,
    order_by: Sequence[str] | None,
    max_results: int | None,
    strict: bool,
    answer: Callable[[RunIndex, Matched], T],
) -> T | None:
    """``answer`` of the runs ``search_sql`` would select, found in the runs held in memory for
    the snapshot's files (see ``run_index.in_memory``), or None: search in DuckDB then."""

    def search(index: RunIndex) -> T:
        _check_max_results(max_results)
        ids = list(experiment_ids) if experiment_ids is not None else None
        known = _keys_for(query, order_by, strict, lambda: index.catalog(ids))
        node = filter_node(query, known, strict) if query.strip() else None
        if node is not None:
            compile_filter(node, query)  # a filter's errors before the sort's, as ``search_sql`` raises them
        keys = sort_keys(list(order_by), known, strict) if order_by else []
        return answer(index, index.matched(node, keys, _STAGES[ViewType(view_type)], ids, max_results, query))

    from store.run_index import in_memory

    return in_memory(snap, search)


def search_run_ids(
    snap: Snapshot,
    query: str,
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    strict: bool = False,
) -> list[str]:
    """Run ids matching a filter (any MLflow filter string), newest first unless ``order_by``.

    As in MLflow, a prefixed key no run has logged yet (``metrics.loss < 1`` in a fresh
    experiment) matches nothing instead of failing, unless ``strict``; bare names must exist.
    """
    sql, params = search_sql(
        snap, query, experiment_ids, view_type, order_by, max_results, strict=strict
    )
    return [row[0] for row in snap.fetch(sql, params)[1]]


Columns = dict[str, list[Any]]
"""A runs table as Python lists by column name (times in ms since the epoch, UTC)."""


def runs_table(
    snap: Snapshot,
    query: str = "",
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    aggregates: dict[str, str] | None = None,
) -> pa.Table:
    """Matching runs as one wide Arrow table, in order (what the dashboard works on).

    Columns: ``run_id, run_name, experiment, status, start_time, end_time`` (timestamps in ms,
    UTC), ``duration`` (ms), ``user_id``, then ``metrics.<key>`` (the last value, or the
    aggregate ``aggregates[key]`` among last/first/min/max/count), ``params.<key>``,
    ``tags.<key>`` (system tags ``mlflow.*`` left out; the query still reaches them), each
    section sorted by key, only keys some matched run has. A metric or param a run lacks is
    null; NaN stays NaN.
    """
    import pyarrow as pa

    sql, bound, names = _wide_select(snap, query, experiment_ids, view_type, order_by, max_results, aggregates)
    table = without_empty_columns(snap.query(sql, bound).rename_columns(names))
    for name in ("start_time", "end_time"):
        stamps = table.column(name).cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
        table = table.set_column(table.column_names.index(name), name, stamps)
    return table


def runs_columns(
    snap: Snapshot,
    query: str = "",
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    aggregates: dict[str, str] | None = None,
) -> Columns:
    """The same table as ``runs_table``, as Python lists: what the exports and ``mltui query``
    print, got without importing pyarrow (most of a cold command's time). From the runs saved
    or held in memory for the snapshot's files when there are (``run_index``): a compacted
    store's ``mltui query`` then opens no DuckDB either."""
    chosen = _aggregates(aggregates)

    def wide(index: RunIndex, matched: Matched) -> Columns:
        names, fields = list(RUN_COLUMNS), [("runs", None, c) for c in RUN_COLUMNS]
        known = index.catalog(list(experiment_ids) if experiment_ids is not None else None)
        for prefix, view, keys, value_of in _pivots(known, chosen):
            names += [f"{prefix}.{key}" for key in keys]
            fields += [(view, key, value_of(key)) for key in keys]
        return _present(names, index.wide(matched, fields))

    in_memory = answer_in_memory(snap, query, experiment_ids, view_type, order_by, max_results, True, wide)
    if in_memory is not None:
        return in_memory
    sql, bound, names = _wide_select(snap, query, experiment_ids, view_type, order_by, max_results, chosen)
    _, rows = snap.fetch(sql, bound)
    return _present(names, [list(c) for c in zip(*rows)])


def _present(names: list[str], columns: list[list[Any]]) -> Columns:
    """A wide table's columns by name, without the key columns no run has a value in."""
    if not columns or not columns[0]:
        return {n: [] for n in RUN_COLUMNS}
    return {n: v for n, v in zip(names, columns) if n in RUN_COLUMNS or any(x is not None for x in v)}


def _aggregates(aggregates: dict[str, str] | None) -> dict[str, str]:
    """``aggregates`` checked: a metric key's summary to show instead of its last value."""
    chosen = dict(aggregates or {})
    for key, func in chosen.items():
        if func not in SUMMARY_COLUMNS:
            raise ValidationError(
                f"invalid aggregate {func!r} for {key!r}: expected one of {', '.join(SUMMARY_COLUMNS)}"
            )
    return chosen


def _pivots(known: Catalog, chosen: dict[str, str]) -> list[tuple[str, str, list[str], Callable[[str], str]]]:
    """The wide table's columns after RUN_COLUMNS, by section: its prefix, the long view it comes
    from, the section's keys in order (system tags left out), and each key's field."""
    return [
        ("metrics", "metric_summaries", sorted(known.metrics), lambda key: SUMMARY_COLUMNS[chosen.get(key, "last")]),
        ("params", "params", sorted(known.params), lambda _key: "value"),
        ("tags", "tags", sorted(k for k in known.tags if not k.startswith(SYSTEM_TAG_PREFIX)), lambda _key: "value"),
    ]


def without_empty_columns(table: pa.Table) -> pa.Table:
    """A runs table without the metric, param and tag columns none of its runs has a value in
    (what is left of a wide table once some of its rows are filtered out)."""
    empty = [n for n in table.column_names[len(RUN_COLUMNS):] if table.column(n).null_count == table.num_rows]
    return table.drop_columns(empty)


def table_columns(table: pa.Table) -> Columns:
    """An Arrow runs table (``runs_table``, or rows the dashboard picked from it) as ``Columns``."""
    import pyarrow as pa

    out: Columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        out[name] = column.to_pylist()
    return out


def _wide_select(
    snap: Snapshot,
    query: str,
    experiment_ids: Sequence[str] | None,
    view_type: ViewType,
    order_by: Sequence[str] | None,
    max_results: int | None,
    aggregates: dict[str, str] | None,
) -> tuple[str, list[Any], list[str]]:
    """One statement of the wide table, its bound values and its column names.

    The matched runs are computed once (``with_matched``); each long table (summaries, params,
    tags) is pivoted in DuckDB with one filtered aggregate per key of the catalog: for the
    matched runs only the first time, then (the same files searched again, as a script or the
    dashboard does) for every run once, into a table shared like the current states, that
    later searches join. Keys are bound as values: a key's text never becomes SQL. Columns of
    keys no matched run has come back all null, and the callers drop them.
    """
    chosen = _aggregates(aggregates)
    ids = list(experiment_ids) if experiment_ids is not None else None
    known = catalog(snap, ids)
    sql, params = search_sql(snap, query, experiment_ids, view_type, order_by, max_results, RUN_COLUMNS)
    names = list(RUN_COLUMNS)
    select = [f"x.{c}" if c != "duration" else "x.duration::BIGINT" for c in RUN_COLUMNS]
    joins: list[str] = []
    for alias, (prefix, view, ordered, value_of) in zip("mpt", _pivots(known, chosen)):
        if not ordered:
            continue
        pivots = ", ".join(
            f"first(v.{value_of(key)}) FILTER (WHERE v.key = ?) AS {alias}{i}" for i, key in enumerate(ordered)
        )
        every_run = snap.derived(view, f"SELECT v.run_id, {pivots} FROM {view} v GROUP BY v.run_id", ordered)
        if every_run is None:
            rows = snap.state_of(view, MATCHED_IDS)
            joins.append(f"LEFT JOIN (SELECT v.run_id, {pivots} FROM {rows} v GROUP BY v.run_id) {alias} USING (run_id)")
            params += ordered
        else:
            joins.append(f"LEFT JOIN {every_run} {alias} USING (run_id)")
        select += [f"{alias}.{alias}{i}" for i in range(len(ordered))]
        names += [f"{prefix}.{key}" for key in ordered]
    return (
        f"{with_matched(sql)}SELECT {', '.join(select)} FROM matched x {' '.join(joins)} ORDER BY x.position",
        params,
        names,
    )


MATCHED_IDS = "SELECT run_id FROM matched"


def with_matched(sql: str) -> str:
    """A WITH clause naming ``matched`` the runs a SELECT (``search_sql``) returns, numbered in
    its order by ``position``: computed once, then joined to the long states (``MATCHED_IDS``)
    in the same statement. A search of a thousand runs costs DuckDB more to plan than to run,
    so one statement instead of a temporary table and its reads is most of its time saved."""
    return f"WITH matched AS MATERIALIZED (SELECT s.*, row_number() OVER () AS position FROM ({sql}) s)\n"


def runs_data_sql(snap: Snapshot, sql: str) -> str:
    """One statement of the runs a SELECT of RUN_INFO_COLUMNS returns with their data: rows of
    ``part`` 'run' are the runs (RUN_INFO_COLUMNS in order from ``run_id`` on, then ``position``
    in order); rows of ``part`` 'metrics', 'params' and 'tags' (RunData's fields) their ``key``
    and ``number`` or ``text`` (a metric's last value)."""
    parts = [
        "SELECT 'run' AS part, * FROM matched",
        f"SELECT 'metrics' AS part, run_id, key, last_value AS number FROM {snap.state_of('metric_summaries', MATCHED_IDS)}",
        f"SELECT 'params' AS part, run_id, key, value AS text FROM {snap.state_of('params', MATCHED_IDS)}",
        f"SELECT 'tags' AS part, run_id, key, value AS text FROM {snap.state_of('tags', MATCHED_IDS)}",
    ]
    return with_matched(sql) + "\nUNION ALL BY NAME\n".join(parts)


def experiment_ids_for(snap: Snapshot, names: Sequence[str]) -> list[str]:
    """Experiment ids from ids or names (``-x``); an unknown one fails with the closest names.
    Read from the runs saved or held in memory for the snapshot's files when there are."""
    from store.run_index import EXPERIMENT_NAMES_SQL, index_for

    index = index_for(snap)
    rows = index.experiments if index is not None else snap.fetch(EXPERIMENT_NAMES_SQL)[1]
    by_id = {experiment_id: experiment_id for experiment_id, _ in rows}
    by_name = {name: experiment_id for experiment_id, name in rows}
    ids = []
    for name in names:
        found = by_name.get(name) or by_id.get(name)
        if found is None:
            raise NotFound(f"no experiment named or numbered {name!r}{did_you_mean(name, by_name)}")
        ids.append(found)
    return ids


def experiments_rows(snap: Snapshot, view_type: ViewType = ViewType.ACTIVE_ONLY) -> list[dict[str, Any]]:
    """``experiment_id, name, runs, running, last_start_time, lifecycle_stage`` (newest first),
    as Python rows: ``mltui experiments`` imports no pyarrow (0.2 s of a cold command)."""
    names, rows = snap.fetch(
        """
        SELECT e.experiment_id, e.name, count(r.run_id) AS runs,
               count(r.run_id) FILTER (WHERE r.status = 'RUNNING') AS running,
               max(r.start_time) AS last_start_time, e.lifecycle_stage
        FROM experiments e
        LEFT JOIN runs r ON r.experiment_id = e.experiment_id AND r.lifecycle_stage = 'active'
        WHERE list_contains(?, e.lifecycle_stage)
        GROUP BY e.experiment_id, e.name, e.lifecycle_stage, e.creation_time
        ORDER BY last_start_time DESC NULLS LAST, e.creation_time DESC, e.experiment_id
        """,
        [_STAGES[ViewType(view_type)]],
    )
    return [dict(zip(names, row)) for row in rows]
