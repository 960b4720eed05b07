"""Complaints and suggestions (投诉建议): recorded as a ticket answered within 24 hours."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import local_time, reply_on_failure, rider_id, rider_session
from actions.forms import PhoneValidation, slot_reset
from actions.handoff import anger_events
from ridedesk.services.riders import Riders
from ridedesk.services.tickets import Tickets

DECLINED = "未留"


class ValidateComplaintForm(PhoneValidation):
    """A complaint is recorded even when the rider would rather not leave a number."""

    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_phone_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if (tracker.latest_message or {}).get("intent", {}).get("name") == "deny":
            return self.accept("phone_number", DECLINED)
        return super().validate_phone_number(value, dispatcher, tracker, domain)


class ActionRecordComplaint(Action):
    """Records the complaint as a ticket in the rider's words, with the callback number."""

    def name(self) -> Text:
        return "action_record_complaint"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        phone = tracker.get_slot("phone_number")
        said = _complaint_text(tracker)
        with rider_session(tracker) as session:
            if phone and phone != DECLINED:
                Riders(session).set_phone(rider_id(tracker), phone)
            ticket, _ = Tickets(session).open(
                rider_id(tracker),
                "complaint",
                f"{said}（回电：{phone or DECLINED}）"[:2000],
                conversation_id=tracker.sender_id,
            )
            number, due = ticket.number, ticket.due_at
        dispatcher.utter_message(response="utter_complaint_recorded", ticket_number=number, due=local_time(due))
        return slot_reset("phone_number") + anger_events(said)


def _complaint_text(tracker: Tracker) -> Text:
    event = _complaint_event(tracker)
    return (event.get("text") if event else "") or "投诉建议"


def _complaint_event(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "complaint_suggestion":
            return event
    return {}
