"""Safety (骑行安全): an accident or injury gets an urgent ticket and a human at once."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, reply_on_failure, rider_id, rider_session
from ridedesk.services.tickets import Tickets


class ActionSafetyReport(Action):
    """Opens the urgent safety ticket; the rule that follows hands the rider to an agent."""

    def name(self) -> Text:
        return "action_safety_report"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        with rider_session(tracker) as session:
            ticket, _ = Tickets(session).open(
                rider_id(tracker),
                "safety",
                latest_text(tracker)[:2000] or "骑行安全事件",
                conversation_id=tracker.sender_id,
                bike_number=tracker.get_slot("bike_number"),
                place=tracker.get_slot("place"),
            )
            number = ticket.number
        dispatcher.utter_message(response="utter_safety_first", ticket_number=number)
        return [SlotSet("handoff_reason", "safety")]
