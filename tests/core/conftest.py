"""Fixtures for the core (database + services) tests."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ridedesk.clock import FrozenClock
from ridedesk.db import demo as demo_data

# Monday 2026-11-23 10:00 in Shanghai (02:00 UTC): a working day, mid-morning.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    """A clock frozen at :data:`NOW`; tests move it with ``clock.advance(...)``."""
    return FrozenClock(NOW)


@pytest.fixture
def demo(session, clock):
    """The demo data, seeded and committed relative to the frozen clock."""
    demo_data.seed(session, clock)
    session.commit()
    return demo_data
