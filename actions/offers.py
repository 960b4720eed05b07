"""Yes/no offers (退押金吗？申诉吗？): the rider's "no" closes the offer politely."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.problems import NEXT_PROBLEM_OFFERS, PENDING_SLOT, next_problem_events

# The topic an offer belongs to: declining it closes that topic, and the next problem the
# rider raised in the same message is offered.
OFFER_TOPIC = {
    "deposit_refund": "deposit_refund",
    "order_dispute": "order_issue",
    "parking_dispute": "parking_issue",
}


class ActionDeclineOffer(Action):
    """Forgets the pending offer so a later "好的" cannot accept it by accident."""

    def name(self) -> Text:
        return "action_decline_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        offer = tracker.get_slot("offer")
        if offer in NEXT_PROBLEM_OFFERS.values():
            # "先不用了" to the waiting problems drops them all; the rider can raise them again.
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("offer", None), SlotSet(PENDING_SLOT, None)]
        events: List[EventType] = [SlotSet("offer", None)]
        follow = next_problem_events(OFFER_TOPIC[offer], tracker, dispatcher) if offer in OFFER_TOPIC else []
        if not any(e.get("name") == "offer" and e.get("value") for e in follow):
            dispatcher.utter_message(response="utter_anything_else")
        return events + follow
