"""Column types shared by the models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from ridedesk.clock import ensure_utc


class UTCDateTime(TypeDecorator):
    """A datetime column that always hands back aware UTC values.

    PostgreSQL stores ``timestamptz``. SQLite has no time zone support, so values are stored
    as naive UTC and the zone is re-attached on the way out; comparisons and ordering stay
    correct because every stored value is UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        value = ensure_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
