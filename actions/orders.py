"""Orders and billing (订单/扣费): look up the rider's own trip, explain the fare, open a dispute."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text, local_time, reply_on_failure, rider_id, rider_session
from actions.forms import RiderFormValidation, slot_reset
from actions.handoff import anger_events
from actions.problems import then_next_problem
from ridedesk.services.errors import NotFound, NotYours
from ridedesk.services.orders import Orders
from ridedesk.text import parse_order_number


class RiderOrderValidation(RiderFormValidation):
    """Shared check for forms that ask for an order number: it must exist and be the rider's."""

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = parse_order_number(str(value or ""))
        if not number:
            return self.reject("order_number", dispatcher, tracker, "utter_invalid_order_number")
        try:
            with rider_session(tracker) as session:
                order = Orders(session).get_for_rider(number, rider_id(tracker))
                problem = self.check_order(order)
        except NotYours:
            return self.reject("order_number", dispatcher, tracker, "utter_order_not_yours")
        except NotFound:
            return self.reject("order_number", dispatcher, tracker, "utter_order_not_found")
        if problem:
            return self.reject("order_number", dispatcher, tracker, problem)
        return self.accept("order_number", number)

    def check_order(self, order: Any) -> str:
        """Returns a response name when this form cannot use the order, else an empty string."""
        return ""


class ValidateOrderForm(RiderOrderValidation):
    """Order look-up form: any order of the rider's own."""

    def name(self) -> Text:
        return "validate_order_form"


class ActionExplainOrder(Action):
    """Shows the fare breakdown of the rider's order and offers a dispute."""

    def name(self) -> Text:
        return "action_explain_order"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        with rider_session(tracker) as session:
            orders = Orders(session)
            order = orders.get_for_rider(tracker.get_slot("order_number"), rider_id(tracker))
            fare = orders.explain_fare(order)
            riding = order.status == "riding"
            facts = dict(
                order_number=order.number,
                start_place=order.start_place or "起点",
                end_place=order.end_place or ("骑行中" if riding else "终点"),
                duration=fare.duration_minutes,
                ride_fee=fare.ride_fee,
                dispatch_fee=fare.dispatch_fee,
                discount=fare.discount,
                total=fare.total,
            )
        dispatcher.utter_message(response="utter_order_breakdown", **facts)
        if riding:
            dispatcher.utter_message(response="utter_order_still_riding")
        dispatcher.utter_message(response="utter_ask_order_dispute")
        return [SlotSet("offer", "order_dispute")] + anger_events(_dispute_reason(tracker))


class ActionOpenOrderDispute(Action):
    """Opens a billing dispute for the order the rider is asking about."""

    def name(self) -> Text:
        return "action_open_order_dispute"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        with rider_session(tracker) as session:
            orders = Orders(session)
            number = tracker.get_slot("order_number")
            riding = orders.get_for_rider(number, rider_id(tracker)).status == "riding"
            # A trip that will not end is settled from the lock time, not disputed later.
            open_ticket = orders.report_trip_not_ended if riding else orders.open_dispute
            ticket, created = open_ticket(
                number, rider_id(tracker), reason=_dispute_reason(tracker), conversation_id=tracker.sender_id
            )
            number, due = ticket.number, ticket.due_at
        if created:
            dispatcher.utter_message(response="utter_order_dispute_opened", ticket_number=number, due=local_time(due))
        else:
            dispatcher.utter_message(response="utter_order_dispute_exists", ticket_number=number)
        return then_next_problem("order_issue", tracker, dispatcher, slot_reset("order_number", "offer"))


def _dispute_reason(tracker: Tracker) -> Text:
    """What the rider said about the charge: their first message on the topic, in their words."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in {"order_issue", "parking_issue"}:
                return (event.get("text") or "")[:2000]
    return latest_text(tracker)[:2000]
