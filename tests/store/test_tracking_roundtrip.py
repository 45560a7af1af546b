"""Whatever a script logs comes back exactly: hypothesis-generated keys, values and steps."""

from __future__ import annotations

import math
import string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import store

KEY_CHARS = st.sampled_from(string.ascii_letters + string.digits + "_-. :" + "éßλ损")
segment = st.text(KEY_CHARS, min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..") and not s.startswith("..")
)
keys = st.lists(segment, min_size=1, max_size=3).map("/".join).filter(
    lambda k: len(k) <= 250 and all(part not in (".", "..") for part in k.split("/"))
)
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
steps = st.integers(min_value=-(2**63), max_value=2**63 - 1)
param_values = st.text(max_size=300)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points=st.lists(st.tuples(keys, floats, steps), min_size=1, max_size=20),
    params=st.dictionaries(keys, param_values, max_size=5),
    tags=st.dictionaries(keys, param_values, max_size=5),
)
def test_everything_logged_comes_back(
    tmp_path_factory, points: list[tuple[str, float, int]], params: dict, tags: dict
) -> None:
    """Unicode keys, NaN, ±inf, subnormal and huge floats, extreme int64 steps: exact round trip."""
    client = store.Client(tmp_path_factory.mktemp("rt") / "s")
    run = client.create_run(client.create_experiment("rt"))
    run_id = run.info.run_id
    for i, (key, value, step) in enumerate(points):
        client.log_metric(run_id, key, value, timestamp=i, step=step)
    for key, value in params.items():
        client.log_param(run_id, key, value)
    for key, value in tags.items():
        client.set_tag(run_id, key, value)
    client.set_terminated(run_id)
    got = client.get_run(run_id)
    assert got.data.params == params
    assert {k: v for k, v in got.data.tags.items() if k in tags} == tags
    for key in {k for k, _, _ in points}:
        logged = sorted(((s, i, v) for i, (k, v, s) in enumerate(points) if k == key), key=lambda p: (p[0], p[1]))
        history = client.get_metric_history(run_id, key)
        assert [(m.step, m.timestamp) for m in history] == [(s, i) for s, i, _ in logged]
        assert all(same(m.value, v) for m, (_, _, v) in zip(history, logged))
        latest = max(((s, i, v) for i, (k, v, s) in enumerate(points) if k == key), key=lambda p: (p[0], p[1], p[2] if not math.isnan(p[2]) else math.inf))
        assert same(got.data.metrics[key], latest[2])

