"""Injectable time.

Every service takes a ``clock``: a zero-argument callable returning the current time as a
timezone-aware UTC ``datetime``. Production code uses :func:`utcnow`; tests pass a
:class:`FrozenClock` so due times, refund promises and queue order are deterministic.

Storage is always UTC. The operator's local time zone (``settings.timezone``) is only used
where a *calendar* matters to a rider: the date part of ticket numbers and the working days
of the deposit refund promise.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable, Optional
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
"""Type of the injectable clock: returns an aware UTC ``datetime``."""


def utcnow() -> datetime:
    """Returns the current time as an aware UTC datetime (the default clock)."""
    return datetime.now(timezone.utc)


def ensure_utc(value: datetime) -> datetime:
    """Returns ``value`` as an aware UTC datetime.

    Naive values are taken to be UTC already: that is how they are stored, and guessing a
    local zone here would silently shift times by hours.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_zone(name: Optional[str] = None) -> ZoneInfo:
    """Returns the operator's time zone (``settings.timezone`` unless ``name`` is given)."""
    if name is None:
        # Imported lazily so this module stays importable without any environment.
        from ridedesk.settings import get_settings

        name = get_settings().timezone
    return _zone(name)


def to_local(value: datetime, zone: Optional[str] = None) -> datetime:
    """Converts a stored (UTC) time to the operator's local time."""
    return ensure_utc(value).astimezone(local_zone(zone))


def local_date(value: datetime, zone: Optional[str] = None) -> date:
    """Returns the operator-local calendar date of a stored time."""
    return to_local(value, zone).date()


class FrozenClock:
    """A clock that stands still until told to move; for tests and reproducible demos.

    Example:
        >>> clock = FrozenClock(datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
        >>> clock.advance(hours=1)
        datetime.datetime(2026, 11, 22, 3, 0, tzinfo=datetime.timezone.utc)
    """

    def __init__(self, at: Optional[datetime] = None) -> None:
        self._now = ensure_utc(at) if at is not None else utcnow()

    def __call__(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> datetime:
        """Jumps to ``at`` and returns it."""
        self._now = ensure_utc(at)
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Moves forward by ``timedelta(**delta)`` and returns the new time."""
        self._now = self._now + timedelta(**delta)
        return self._now
