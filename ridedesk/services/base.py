"""What every core service shares: the caller's unit of work and an injectable clock."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ridedesk.clock import Clock, utcnow


class Service:
    """Base of the core services (``Tickets``, ``Orders``, ``HandoffQueue`` ...).

    Args:
        session: The caller's unit of work; services flush but never commit, so an action or
            a console request commits or rolls back everything it did as one.
        clock: Source of "now" (a ``FrozenClock`` in tests).
    """

    def __init__(self, session: Session, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
