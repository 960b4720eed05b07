"""Callbacks (回电): when no agent can take the chat, the rider leaves a number and a promise."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import local_time, reply_on_failure, rider_id, rider_session
from actions.forms import PhoneValidation, slot_reset
from actions.handoff import conversation_summary
from ridedesk.clock import utcnow
from ridedesk.services.agents import AgentPresence
from ridedesk.services.riders import Riders
from ridedesk.services.tickets import Tickets


class ValidateCallbackForm(PhoneValidation):
    """A callback needs a number we can call; "不用" stops the form (a rule in
    ``data/rules/form_interruptions.yml``), it is not a declined number."""

    def name(self) -> Text:
        return "validate_callback_form"


class ActionLeaveCallback(Action):
    """Leaves a callback ticket, due when we promised to call, with the conversation summary."""

    def name(self) -> Text:
        return "action_leave_callback"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        rider = rider_id(tracker)
        phone = tracker.get_slot("phone_number")
        summary = conversation_summary(tracker, "callback")
        asked = [t["text"] for t in summary["last_turns"] if t["role"] == "rider" and t.get("intent") not in ("affirm", "inform", "request_human")]
        with rider_session(tracker) as session:
            Riders(session).set_phone(rider, phone)
            availability = AgentPresence(session).availability()
            ticket, _ = Tickets(session).open(
                rider,
                "callback",
                f"请回电 {phone}。骑手的问题：{' / '.join(asked[-3:]) or '（未说明）'}"[:2000],
                conversation_id=tracker.sender_id,
                due_at=availability.callback_by(utcnow()),
            )
            number, due = ticket.number, ticket.due_at
        dispatcher.utter_message(response="utter_callback_ticket_created", ticket_number=number, due=local_time(due), phone=phone)
        return slot_reset("phone_number", "offer")
