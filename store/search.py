"""Finding runs: a filter in the query language, an order, a limit; as ids or as a wide table.

``search_run_ids`` serves ``Client.search_runs`` (MLflow filter strings, ``order_by`` as
``"metrics.accuracy DESC"``); ``runs_table`` serves ``mltui query``, the exports and the dashboard:
one Arrow row per run, one column per metric, param and tag. Both filter and sort in DuckDB with
one statement (``search_sql``), so the cost does not grow with the histories: only the per-run
summaries are read.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from store.catalog import Catalog, catalog
from store.entities import ViewType
from store.errors import NotFound, ValidationError
from store.query import order_by as compile_order
from store.query import where
from store.query.compile import SUMMARY_COLUMNS
from store.reader import Snapshot

RUN_COLUMNS = ("run_id", "run_name", "experiment", "status", "start_time", "end_time", "duration", "user_id")
_STAGES = {ViewType.ACTIVE_ONLY: ["active"], ViewType.DELETED_ONLY: ["deleted"], ViewType.ALL: ["active", "deleted"]}
SYSTEM_TAG_PREFIX = "mlflow."
_matched_names = itertools.count()


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

    ``columns`` are names from RUN_COLUMNS; ``strict=False`` lets prefixed keys the store has
    never seen match nothing instead of failing (MLflow's ``search_runs`` behaviour).
    """
    if max_results is not None and (not isinstance(max_results, int) or max_results < 0):
        raise ValidationError(f"invalid max_results {max_results!r}: expected a number >= 0")
    unknown = [c for c in columns if c not in RUN_COLUMNS]
    if unknown:
        raise ValidationError(f"unknown run columns {unknown}: expected some of {', '.join(RUN_COLUMNS)}")
    ids = list(experiment_ids) if experiment_ids is not None else None
    known = catalog(snap, ids) if query.strip() or order_by else Catalog()
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


def search_run_ids(
    snap: Snapshot,
    query: str,
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[str]:
    """Run ids matching a filter (any MLflow filter string), newest first unless ``order_by``.

    As in MLflow, a prefixed key no run has logged yet (``metrics.loss < 1`` in a fresh
    experiment) matches nothing instead of failing; bare names must still exist.
    """
    sql, params = search_sql(
        snap, query, experiment_ids, view_type, order_by, max_results, strict=False
    )
    return snap.query(sql, params).column("run_id").to_pylist()


def runs_table(
    snap: Snapshot,
    query: str = "",
    experiment_ids: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    aggregates: dict[str, str] | None = None,
) -> pa.Table:
    """Matching runs as one wide table, in order.

    Columns: ``run_id, run_name, experiment, status, start_time, end_time`` (timestamps in ms,
    UTC), ``duration`` (ms), ``user_id``, then ``metrics.<key>`` (the last value, or the
    aggregate ``aggregates[key]`` among last/first/min/max/count), ``params.<key>``,
    ``tags.<key>`` (system tags ``mlflow.*`` left out; the query still reaches them), each
    section sorted by key, only keys some matched run has. A metric or param a run lacks is
    null; NaN stays NaN.

    A filter's matched runs are kept once in a temporary table of the snapshot's cursor, in
    order, and the long tables are joined to it: no list of ids travels between Python and
    DuckDB, and each long row arrives with its run's row number, ready for the pivot.
    """
    chosen = dict(aggregates or {})
    for key, func in chosen.items():
        if func not in SUMMARY_COLUMNS:
            raise ValidationError(
                f"invalid aggregate {func!r} for {key!r}: expected one of {', '.join(SUMMARY_COLUMNS)}"
            )
    sql, params = search_sql(snap, query, experiment_ids, view_type, order_by, max_results, RUN_COLUMNS)
    if not query.strip() and max_results is None:
        runs = snap.query(sql, params)
        return _wide(runs, _long_values(snap, runs, None, chosen))
    matched = f"search_matched_{next(_matched_names)}"
    snap.query(f"CREATE TEMP TABLE {matched} AS {sql}", params)
    try:
        runs = snap.query(f"SELECT * FROM {matched} ORDER BY rowid")
        return _wide(runs, _long_values(snap, runs, matched, chosen))
    finally:
        snap.query(f"DROP TABLE IF EXISTS {matched}")


def _wide(runs: pa.Table, long_columns: dict[str, pa.Array]) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for name in RUN_COLUMNS:
        array = runs.column(name).combine_chunks()
        if name in ("start_time", "end_time"):
            array = array.cast(pa.int64()).view(pa.timestamp("ms", tz="UTC"))
        elif name == "duration":
            array = array.cast(pa.int64())
        columns[name] = array
    columns.update(long_columns)
    return pa.table(columns)


def _long_values(
    snap: Snapshot, runs: pa.Table, matched: str | None, chosen: dict[str, str]
) -> dict[str, pa.Array]:
    """The metric, param and tag columns of ``runs``, in their order.

    A filtered table's runs are in the temporary table ``matched``, whose row numbers the long
    rows of its runs are joined to. Without a filter (``matched`` None: every run, the
    dashboard's first screen) the long tables are read whole, as joining costs more than
    reading the few rows of runs left out (deleted ones), which the pivot skips.
    """
    if runs.num_rows == 0:
        return {}
    summaries = sorted({SUMMARY_COLUMNS[f] for f in chosen.values()} | {"last_value"})
    if matched is None:
        select = "SELECT v.run_id, v.key, {columns} FROM {view} v"
    else:
        select = f"SELECT x.rowid AS row, v.key, {{columns}} FROM {{view}} v JOIN {matched} x USING (run_id)"
    ids = runs.column("run_id").combine_chunks()
    out: dict[str, pa.Array] = {}
    for view, prefix, values, pick in (
        ("metric_summaries", "metrics", summaries, lambda key: SUMMARY_COLUMNS[chosen.get(key, "last")]),
        ("params", "params", ["value"], lambda _key: "value"),
        ("tags", "tags", ["value"], lambda _key: "value"),
    ):
        long = snap.query(
            select.format(columns=", ".join(f"v.{c}" for c in values), view=view)
            + " WHERE NOT (? AND starts_with(v.key, ?))",
            [view == "tags", SYSTEM_TAG_PREFIX],
        )
        if matched is None:
            long = long.append_column("row", pc.index_in(long.column("run_id"), value_set=ids))
        out.update(_pivot(long, runs.num_rows, prefix, pick))
    return out


def _pivot(long: pa.Table, count: int, prefix: str, value_column: Callable[[str], str]) -> dict[str, pa.Array]:
    """Long ``(row, key, value...)`` rows -> one column per key of ``count`` rows, by key.

    Each key's rows are picked out by its dictionary code and placed by ``index_in``/``take`` on
    their row numbers: all in Arrow's C++, so thousands of runs and keys cost milliseconds. Rows
    without a row number (runs not in the table) are skipped, and a key only they have gets no
    column.
    """
    if long.num_rows == 0:
        return {}
    every_row = pa.array(range(count), long.column("row").type)
    keys = pc.dictionary_encode(long.column("key").combine_chunks())
    out: dict[str, pa.Array] = {}
    for code, key in sorted(enumerate(keys.dictionary.to_pylist()), key=lambda item: item[1]):
        mine = pc.and_kleene(pc.equal(keys.indices, code), pc.is_valid(long.column("row")))
        rows = pc.filter(long.column("row"), mine)
        if len(rows):
            placed = pc.index_in(every_row, value_set=rows)
            out[f"{prefix}.{key}"] = pc.take(pc.filter(long.column(value_column(key)), mine), placed).combine_chunks()
    return out


def experiment_ids_for(snap: Snapshot, names: Sequence[str]) -> list[str]:
    """Experiment ids from ids or names (``-x``); an unknown one fails with the closest names."""
    rows = snap.rows("SELECT experiment_id, name FROM experiments")
    by_id = {r["experiment_id"]: r["experiment_id"] for r in rows}
    by_name = {r["name"]: r["experiment_id"] for r in rows}
    ids = []
    for name in names:
        found = by_name.get(name) or by_id.get(name)
        if found is None:
            close = difflib.get_close_matches(name, list(by_name), n=3)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise NotFound(f"no experiment named or numbered {name!r}{hint}")
        ids.append(found)
    return ids


def experiments_table(snap: Snapshot, view_type: ViewType = ViewType.ACTIVE_ONLY) -> pa.Table:
    """``experiment_id, name, runs, running, last_start_time, lifecycle_stage`` (newest first)."""
    return snap.query(
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
