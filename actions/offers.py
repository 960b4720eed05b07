"""Yes/no offers (退押金吗？申诉吗？): the rider's "no" closes the offer politely."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionDeclineOffer(Action):
    """Forgets the pending offer so a later "好的" cannot accept it by accident."""

    def name(self) -> Text:
        return "action_decline_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offer", None)]
