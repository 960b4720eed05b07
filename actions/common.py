"""Glue shared by every RideDesk action: who the rider is, a database session, error replies.

Actions stay thin: they read the tracker, call a core service, and turn the result (or a
typed service error) into a response from ``domain.yml``.
"""
from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Callable, Dict, Iterator, List, Optional, Union
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from ridedesk.db.demo import give_new_rider_demo_account
from ridedesk.db.session import session_scope
from ridedesk.services.errors import ServiceError
from ridedesk.services.riders import Riders
from ridedesk.settings import get_settings

logger = logging.getLogger(__name__)


# config.yml's ``intent_split_symbol``: several problems in one message arrive as
# ``report_bike_fault+order_issue``.
INTENT_SPLIT = "+"


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
        _, created = Riders(session).ensure(rider_id(tracker))
        if created and get_settings().env == "development":
            # A person trying the bot from a fresh browser gets a few trips and a deposit
            # to look up; never outside development.
            give_new_rider_demo_account(rider_id(tracker), session=session)
        yield session


def local_time(moment: Optional[datetime]) -> str:
    """Formats a UTC time for riders in the operator's time zone, e.g. ``11月23日 14:30``."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = moment.astimezone(ZoneInfo(get_settings().timezone))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def local_date(moment: Union[datetime, date, None]) -> str:
    """Formats a local date (or a UTC time, as its local date) for riders, e.g. ``11月23日``."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return local_time(moment).split(" ")[0]
    return f"{moment.month}月{moment.day}日"


def latest_text(tracker: Tracker) -> str:
    """Returns the text of the rider's latest message (never None)."""
    return (tracker.latest_message or {}).get("text") or ""


# Service error codes that riders can meet, and how we explain them.
ERROR_RESPONSES = {
    "order_not_found": "utter_order_not_found",
    "order_not_yours": "utter_order_not_found",
    "order_already_refunded": "utter_order_already_refunded",
    "order_not_riding": "utter_order_already_ended",
    "no_dispatch_fee": "utter_parking_no_fee_generic",
    "ticket_not_found": "utter_ticket_not_found",
    "ticket_not_yours": "utter_ticket_not_found",
    "deposit_already_refunded": "utter_deposit_already_refunded",
}


def reply_on_failure(run: Callable) -> Callable:
    """Wraps an action's ``run`` so an unexpected failure gets a calm Chinese reply.

    The rider's message stays in the tracker either way; nothing is half-written because
    every service call commits or rolls back as one unit of work.
    """

    @functools.wraps(run)
    async def wrapper(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
        try:
            return await run(self, dispatcher, tracker, domain)
        except ServiceError as error:
            # A business rule said no (e.g. the order was already refunded): say why, calmly.
            logger.info("action %s: %r for %s", self.name(), error, tracker.sender_id)
            dispatcher.utter_message(response=ERROR_RESPONSES.get(error.code, "utter_service_error"))
            return []
        except Exception:  # noqa: BLE001 - last line of defence, logged with its stack
            logger.exception("action %s failed for %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_service_error")
            return []

    return wrapper
