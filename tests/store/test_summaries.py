"""The summaries written by training processes (pyarrow) agree with the rule readers apply
(DuckDB): the runs table never disagrees with the plot, whatever the values."""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from store.schemas import SCHEMAS, SUMMARIZE_POINTS_SQL, SUMMARY_COMBINE_SQL
from store.summaries import combine, summarize

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64), st.sampled_from([0.0, 1.0, -0.0])
)
points = st.lists(
    st.tuples(st.sampled_from("ab"), st.sampled_from(["x", "y/z"]), st.integers(-3, 3), st.integers(0, 3), values),
    min_size=1,
    max_size=40,
)


def table(rows: list[tuple[str, str, int, int, float]]) -> pa.Table:
    run, key, step, ts, value = zip(*rows)
    return pa.table(
        {
            "experiment_id": ["1"] * len(rows),
            "run_id": list(run),
            "key": list(key),
            "step": list(step),
            "timestamp": list(ts),
            "value": list(value),
        },
        schema=SCHEMAS["metrics"],
    )


def rows(t: pa.Table) -> list[tuple]:
    t = t.cast(SCHEMAS["metric_summaries"]).sort_by([("run_id", "ascending"), ("key", "ascending")])
    return [
        tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in r.values()) for r in t.to_pylist()
    ]


def by_duckdb(sql: str, data: pa.Table) -> pa.Table:
    con = duckdb.connect()
    con.register("source", data)
    return con.sql(sql.format(source="source")).to_arrow_table()


@settings(max_examples=150, deadline=None)
@given(points, st.integers(0, 40))
def test_pyarrow_summaries_match_the_readers_sql(data: list, cut: int) -> None:
    """Summaries of a flush, and of two flushes combined, equal DuckDB's reading of the points."""
    pts = table(data)
    expected = rows(by_duckdb(SUMMARIZE_POINTS_SQL, pts))
    assert rows(summarize(pts)) == expected
    cut = min(cut, len(data))
    halves = [summarize(p) for p in (pts.slice(0, cut), pts.slice(cut)) if p.num_rows]
    both = pa.concat_tables(halves)
    assert rows(combine(both)) == expected
    assert rows(by_duckdb(SUMMARY_COMBINE_SQL, both)) == expected
