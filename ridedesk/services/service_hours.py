"""Service hours of the human agents (人工客服服务时间), in the operator's local time.

The schedule is a short string from ``settings.service_hours``:

* ``"08:00-22:00"``: every day from 08:00 (inclusive) to 22:00 (exclusive);
* ``"08:00-12:00,13:00-22:00"``: several windows a day;
* ``"22:00-06:00"``: a window that crosses midnight;
* ``"00:00-24:00"``: always open.

Example (what the bot does before queueing a rider)::

    from ridedesk.services.service_hours import is_open, next_opening
    if not is_open():            # now, settings.service_hours, settings.timezone
        opens = next_opening()   # aware UTC datetime of the next opening
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import List, Optional, Tuple

from ridedesk.clock import ensure_utc, local_zone, utcnow
from ridedesk.services.errors import InvalidValue

Window = Tuple[int, int]
"""A daily window as (start, end) minutes after local midnight; end may exceed 1440."""

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")
MINUTES_PER_DAY = 24 * 60


def parse_hours(spec: str) -> List[Window]:
    """Parses a schedule string into daily windows.

    Returns:
        Windows as ``(start_minute, end_minute)``; a window crossing midnight ends after
        1440 (``22:00-06:00`` → ``(1320, 1800)``).

    Raises:
        InvalidValue: ``service_hours_invalid`` (details: ``reason``).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidValue("service_hours_invalid", reason="empty")
    windows: List[Window] = []
    for part in spec.split(","):
        match = _WINDOW.match(part)
        if not match:
            raise InvalidValue("service_hours_invalid", reason=f"not HH:MM-HH:MM: {part.strip()!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise InvalidValue("service_hours_invalid", reason=f"no such time: {part.strip()!r}")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise InvalidValue("service_hours_invalid", reason=f"empty window: {part.strip()!r}")
        if end < start:
            end += MINUTES_PER_DAY  # crosses midnight
        windows.append((start, end))
    return windows


def _schedule(hours: Optional[str]) -> str:
    if hours is not None:
        return hours
    from ridedesk.settings import get_settings

    return get_settings().service_hours


def _local(now: Optional[datetime], zone: Optional[str]) -> datetime:
    return ensure_utc(now if now is not None else utcnow()).astimezone(local_zone(zone))


def is_open(
    now: Optional[datetime] = None, hours: Optional[str] = None, zone: Optional[str] = None
) -> bool:
    """True if ``now`` falls in the service hours.

    Args:
        now: Aware (or naive UTC) time; default: the current time.
        hours: Schedule string; default ``settings.service_hours``.
        zone: IANA time zone; default ``settings.timezone``.
    """
    local = _local(now, zone)
    minute = local.hour * 60 + local.minute
    for start, end in parse_hours(_schedule(hours)):
        # Today's window, or yesterday's window that runs past midnight into today.
        if start <= minute < end or start <= minute + MINUTES_PER_DAY < end:
            return True
    return False


def next_opening(
    now: Optional[datetime] = None, hours: Optional[str] = None, zone: Optional[str] = None
) -> datetime:
    """The next time the service opens (``now`` itself if it is open), as aware UTC.

    Handles daylight-saving zones by resolving each candidate in local wall time.
    """
    local = _local(now, zone)
    if is_open(local, hours, zone):
        return ensure_utc(local)
    windows = parse_hours(_schedule(hours))
    tz = local.tzinfo
    candidates = []
    for days in (0, 1, 2):
        day = (local + timedelta(days=days)).date()
        for start, _ in windows:
            wall = datetime.combine(day, time(start // 60, start % 60), tzinfo=tz)
            if wall > local:
                candidates.append(wall)
    return ensure_utc(min(candidates))


def describe(hours: Optional[str] = None) -> str:
    """The schedule for riders, e.g. ``08:00–22:00`` or ``08:00–12:00、13:00–22:00``."""

    def fmt(minute: int) -> str:
        minute = minute % MINUTES_PER_DAY if minute != MINUTES_PER_DAY else minute
        return f"{minute // 60:02d}:{minute % 60:02d}"

    windows = parse_hours(_schedule(hours))
    if any(end - start >= MINUTES_PER_DAY for start, end in windows):
        return "全天24小时"
    parts = []
    for start, end in windows:
        label = f"{fmt(start)}–{fmt(end)}"
        if end > MINUTES_PER_DAY:
            label += "（次日）"
        parts.append(label)
    return "、".join(parts)


__all__ = ["parse_hours", "is_open", "next_opening", "describe", "Window"]
