"""Times and durations as people type and read them.

The store keeps times as epoch milliseconds and durations as milliseconds. Queries accept
``'2026-11-01'`` / ``'2026-11-01 14:30'`` (local time unless an offset is given) and ``1h30m``;
tables show ``2026-11-01 14:30``; exports write ISO 8601 with the UTC offset, so a file read in
another time zone still means the same instant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from store.errors import ValidationError

INT64_MAX = 2**63 - 1
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> int:
    """``'1h30m'`` -> 5400000 (ms). Units: ms, s, m, h, d, w."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValidationError(f"invalid duration {text!r}: expected e.g. 90s, 15m, 2h, 1h30m, 3d")
    total = sum(float(n) * _UNITS_MS[u] for n, u in parts)
    if not total <= INT64_MAX:
        raise ValidationError(f"duration {text!r} is too long")
    return round(total)


def parse_time(text: str) -> int:
    """An ISO 8601 date or date-time (local time unless it names an offset) -> epoch ms."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return round(moment.timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        raise ValidationError(
            f"invalid time {text!r}: expected a date like '2026-11-01' or '2026-11-01 14:30'"
        ) from None


_zones: dict[int, timezone] = {}
_quarter_offsets: dict[int, int] = {}
_zone_names = time.tzname


def _local(ms: int) -> datetime:
    """The local time of an instant, with the offset in force then (daylight saving included).

    ``datetime.astimezone()`` asks the system for the zone on every call, most of an export's
    time over 100,000 runs. Offsets change only on quarter hours (every zone's offset and every
    transition are whole quarters), so the offset is asked once per quarter hour and its zone
    object made once.
    """
    global _zone_names
    seconds = ms / 1000
    quarter = int(seconds // 900)
    offset = _quarter_offsets.get(quarter)
    if offset is None or _zone_names is not time.tzname:  # time.tzset() switched zones
        if len(_quarter_offsets) > 100_000 or _zone_names is not time.tzname:
            _quarter_offsets.clear()
            _zone_names = time.tzname
        offset = _quarter_offsets[quarter] = time.localtime(quarter * 900).tm_gmtoff
    zone = _zones.get(offset)
    if zone is None:
        zone = _zones.setdefault(offset, timezone(timedelta(seconds=offset)))
    return datetime.fromtimestamp(seconds, zone)


def iso_time(ms: int | None) -> str | None:
    """Epoch ms -> ``2026-11-01T14:30:05.120+01:00`` (None stays None)."""
    if ms is None:
        return None
    return _local(ms).isoformat(timespec="milliseconds")


_SECONDS = [f"{n:02d}" for n in range(60)]
_MILLISECONDS = [f"{n:03d}" for n in range(1000)]


def iso_times(values: Iterable[int | None]) -> list[str | None]:
    """``iso_time`` of many instants (an export's column), the text of each minute made once: a
    table of 10,000 runs' start times in 3 ms instead of 16."""
    minutes: dict[int, tuple[str, str] | None] = {}
    out: list[str | None] = []
    add = out.append
    for ms in values:
        if ms is None:
            add(None)
            continue
        minute, within = divmod(ms, 60_000)
        parts = minutes.get(minute, ())
        if parts == ():
            text = iso_time(minute * 60_000)
            # An offset of whole minutes (every zone's since the early 20th century) keeps the
            # UTC minute's seconds; an older one of seconds (local mean time) is done one by one.
            parts = minutes[minute] = (text[:17], text[23:]) if text[17:23] == "00.000" else None
        if parts is None:
            add(iso_time(ms))
        else:
            seconds, milliseconds = divmod(within, 1000)
            add(parts[0] + _SECONDS[seconds] + "." + _MILLISECONDS[milliseconds] + parts[1])
    return out


def short_time(ms: int | None) -> str:
    """Epoch ms -> ``2026-11-01 14:30`` for tables ('' when unknown)."""
    return "" if ms is None else _local(ms).strftime("%Y-%m-%d %H:%M")


def short_duration(ms: int | None) -> str:
    """Milliseconds -> ``850ms``, ``42s``, ``3m05s``, ``2h04m``, ``3d02h`` ('' when unknown)."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
