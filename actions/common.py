"""Glue shared by every RideDesk action: who the rider is, a database session, error replies.

Actions stay thin: they read the tracker, call a core service, and turn the result (or a
typed service error) into a response from ``domain.yml``.
"""
from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Dict, Iterator, List, Optional
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from ridedesk.db.session import session_scope
from ridedesk.services.riders import Riders
from ridedesk.settings import get_settings

logger = logging.getLogger(__name__)


def rider_id(tracker: Tracker) -> str:
    """Returns the rider behind a conversation.

    The chat widget authenticates riders and uses their id as the conversation's sender id,
    so the sender id *is* the rider id.
    """
    return tracker.sender_id


@contextmanager
def rider_session(tracker: Tracker) -> Iterator[Session]:
    """Opens a database session and makes sure the rider exists (first contact creates them)."""
    with session_scope() as session:
        Riders(session).ensure(rider_id(tracker))
        yield session


def local_time(moment: Optional[datetime]) -> str:
    """Formats a UTC time for riders in the operator's time zone, e.g. ``11月23日 14:30``."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = moment.astimezone(ZoneInfo(get_settings().timezone))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def local_date(moment: Optional[datetime]) -> str:
    """Formats a UTC time as a local date for riders, e.g. ``11月23日``."""
    return local_time(moment).split(" ")[0]


def latest_text(tracker: Tracker) -> str:
    """Returns the text of the rider's latest message (never None)."""
    return (tracker.latest_message or {}).get("text") or ""


def reply_on_failure(run: Callable) -> Callable:
    """Wraps an action's ``run`` so an unexpected failure gets a calm Chinese reply.

    The rider's message stays in the tracker either way; nothing is half-written because
    every service call commits or rolls back as one unit of work.
    """

    @functools.wraps(run)
    async def wrapper(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
        try:
            return await run(self, dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - last line of defence, logged with its stack
            logger.exception("action %s failed for %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_service_error")
            return []

    return wrapper
