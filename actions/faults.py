"""Bike faults (车辆故障): collect the bike and the broken part, then open a repair ticket."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text, local_time, reply_on_failure, rider_id, rider_session
from actions.forms import RiderFormValidation, slot_reset
from actions.handoff import anger_events
from actions.problems import then_next_problem
from ridedesk.db.session import session_scope
from ridedesk.services.bikes import Bikes
from ridedesk.services.tickets import Tickets
from ridedesk.text import normalize, parse_bike_number

# tickets.fault_part is VARCHAR(32); the rider's full words go into the ticket description.
MAX_PART_LENGTH = 32


class ValidateFaultReportForm(RiderFormValidation):
    """Checks that the bike exists and that the rider named a broken part."""

    def name(self) -> Text:
        return "validate_fault_report_form"

    def validate_bike_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = parse_bike_number(str(value or ""))
        if number:
            with session_scope() as session:
                if Bikes(session).exists(number):
                    return self.accept("bike_number", number)
        return self.reject("bike_number", dispatcher, tracker, "utter_invalid_bike_number")

    def validate_fault_part(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # A known part arrives canonical from the entity extractor; free text ("骑着咔咔响")
        # is a description in the rider's words and just as useful to the repair crew.
        text = normalize(str(value or "")).strip()
        if not text:
            return self.reject("fault_part", dispatcher, tracker, "utter_ask_fault_part")
        return self.accept("fault_part", text[:MAX_PART_LENGTH])


class ActionReportFault(Action):
    """Opens (or finds the already open) repair ticket and tells the rider its number."""

    def name(self) -> Text:
        return "action_report_fault"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        bike = tracker.get_slot("bike_number")
        part = tracker.get_slot("fault_part")
        said = _description(tracker, part)
        with rider_session(tracker) as session:
            ticket, created = Tickets(session).open(
                rider_id(tracker),
                "fault",
                said,
                conversation_id=tracker.sender_id,
                bike_number=bike,
                fault_part=part,
                place=tracker.get_slot("place"),
            )
            number, due, priority = ticket.number, ticket.due_at, ticket.priority
        if created:
            # The service levels decide what is dangerous (brakes, handlebar); we only say so.
            if priority in ("high", "urgent"):
                dispatcher.utter_message(response="utter_fault_urgent_note")
            dispatcher.utter_message(response="utter_fault_ticket_created", ticket_number=number, due=local_time(due))
        else:
            dispatcher.utter_message(response="utter_fault_ticket_exists", ticket_number=number)
        events = slot_reset("bike_number", "fault_part", "place") + anger_events(said)
        return then_next_problem("report_bike_fault", tracker, dispatcher, events)


def _description(tracker: Tracker, part: Text) -> Text:
    """The rider's own words about the fault: every message since the report began."""
    texts = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            texts.append(event.get("text") or "")
            if (event.get("parse_data") or {}).get("intent", {}).get("name") == "report_bike_fault":
                break
    said = " / ".join(t for t in reversed(texts) if t.strip()) or latest_text(tracker)
    return f"故障部位：{part}。车主描述：{said}"[:2000]
