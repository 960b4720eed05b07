"""RideDesk business services.

All business rules live here; Rasa actions and the agent console call these classes and
never issue SQL of their own. Each class takes the caller's ``Session`` (and optionally a
``clock``), flushes but never commits: the caller's ``session_scope`` decides.

Example:
    >>> from ridedesk.db.session import session_scope
    >>> with session_scope() as session:
    ...     ticket, created = Tickets(session).open(
    ...         "rider-001", "fault", "刹车失灵", conversation_id="rider-001",
    ...         bike_number="862104573", fault_part="brake")
"""
from ridedesk.services.bikes import Bikes
from ridedesk.services.deposits import Deposits, RefundRequest
from ridedesk.services.errors import (
    InvalidTransition,
    InvalidValue,
    NotFound,
    NotYours,
    ServiceError,
)
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.money import format_yuan, to_fen, yuan
from ridedesk.services.orders import FareBreakdown, Orders
from ridedesk.services.parking import DispatchFeeRule, Parking
from ridedesk.services.riders import Riders
from ridedesk.services.surveys import Surveys
from ridedesk.services.tickets import Tickets

__all__ = [
    "Bikes",
    "Deposits",
    "RefundRequest",
    "HandoffQueue",
    "Orders",
    "FareBreakdown",
    "Parking",
    "DispatchFeeRule",
    "Riders",
    "Surveys",
    "Tickets",
    "ServiceError",
    "NotFound",
    "NotYours",
    "InvalidTransition",
    "InvalidValue",
    "yuan",
    "format_yuan",
    "to_fen",
]
