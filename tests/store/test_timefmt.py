"""Times in exports and tables: the local offset of each instant, daylight saving included."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.timefmt import iso_time, iso_times, short_time

# Africa/Monrovia: an offset of seconds (-0:44:30) until 1972
ZONES = ["UTC", "Europe/Paris", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "Africa/Monrovia"]


@pytest.fixture
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize("zone", ZONES, indirect=True)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ms=st.integers(min_value=-(10**12), max_value=4 * 10**12))
def test_iso_time_matches_the_system_zone(zone: str, ms: int) -> None:
    """Whatever the instant, the text names the same local time and offset as the system does
    (the zone is the fixture's for every example: it is set once, which is the point)."""
    expected = datetime.fromtimestamp(ms / 1000).astimezone()
    assert iso_time(ms) == expected.isoformat(timespec="milliseconds")
    assert short_time(ms) == expected.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("zone", ZONES, indirect=True)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(min_value=-(10**12), max_value=4 * 10**12),
    gaps=st.lists(st.one_of(st.none(), st.integers(min_value=-200_000, max_value=200_000)), max_size=30),
)
def test_a_column_of_times_reads_as_each_alone(zone: str, start: int, gaps: list[int | None]) -> None:
    """An export's column of instants (many in the same minute, some missing) gets the text
    each gets alone, in zones whose old offsets had seconds too."""
    values = [None if g is None else start + g for g in gaps]
    assert iso_times(values) == [iso_time(v) for v in values]


@pytest.mark.parametrize("zone", ["Europe/Paris"], indirect=True)
def test_daylight_saving_changes_the_offset_at_the_switch(zone: str) -> None:
    """Paris moved to summer time at 2024-03-31 01:00 UTC: one second apart, two offsets."""
    assert iso_time(1711846799000) == "2024-03-31T01:59:59.000+01:00"
    assert iso_time(1711846800000) == "2024-03-31T03:00:00.000+02:00"
    assert iso_time(None) is None
