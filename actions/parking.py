"""Parking and dispatch fees (停车/调度费): the rules, the rider's fee, and a fee dispute."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, local_time, reply_on_failure, rider_id, rider_session
from actions.forms import slot_reset
from actions.handoff import anger_events
from actions.problems import then_next_problem
from actions.orders import RiderOrderValidation, _dispute_reason
from ridedesk.services.money import yuan
from ridedesk.services.orders import Orders
from ridedesk.services.parking import Parking


class ValidateParkingDisputeForm(RiderOrderValidation):
    """The order must be the rider's and must carry a dispatch fee to dispute."""

    def name(self) -> Text:
        return "validate_parking_dispute_form"

    def check_order(self, order: Any) -> str:
        return "" if order.dispatch_fee_fen else "utter_parking_no_fee_generic"


class ActionParkingHelp(Action):
    """Explains where to park and, when the rider was charged a dispatch fee, offers a dispute."""

    def name(self) -> Text:
        return "action_parking_help"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_parking_rules")
        with rider_session(tracker) as session:
            charged = _order_with_fee(Orders(session), tracker)
            facts = charged and dict(order_number=charged.number, dispatch_fee=yuan(charged.dispatch_fee_fen))
        events: List[EventType] = [SlotSet("offer", "parking_dispute")]
        if facts:
            dispatcher.utter_message(response="utter_parking_fee_found", **facts)
            events.append(SlotSet("order_number", facts["order_number"]))
        dispatcher.utter_message(response="utter_ask_parking_dispute")
        return events + anger_events(latest_text(tracker))


class ActionOpenParkingDispute(Action):
    """Opens a dispatch-fee dispute on the rider's order."""

    def name(self) -> Text:
        return "action_open_parking_dispute"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        with rider_session(tracker) as session:
            ticket, _ = Parking(session).open_fee_dispute(
                tracker.get_slot("order_number"),
                rider_id(tracker),
                reason=_dispute_reason(tracker),
                conversation_id=tracker.sender_id,
            )
            number, due = ticket.number, ticket.due_at
        dispatcher.utter_message(response="utter_parking_dispute_opened", ticket_number=number, due=local_time(due))
        return then_next_problem("parking_issue", tracker, dispatcher, slot_reset("order_number", "offer"))


def _order_with_fee(orders: Orders, tracker: Tracker) -> Optional[Any]:
    """The order the rider named, else their most recent order that carries a dispatch fee."""
    named = tracker.get_slot("order_number")
    for order in orders.recent_for(rider_id(tracker), limit=10):
        # A refunded fee is settled: offering to dispute it would only end in "already refunded".
        if order.dispatch_fee_fen and order.status != "refunded" and (not named or order.number == named):
            return order
    return None
