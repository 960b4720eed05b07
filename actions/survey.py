"""Satisfaction survey (满意度调查): a 1–5 rating, stored with the conversation."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, reply_on_failure, rider_id, rider_session
from ridedesk.services.agents import HandoffRatings
from ridedesk.services.errors import InvalidValue
from ridedesk.services.surveys import Surveys
from ridedesk.text import parse_rating

# The bot asks for a rating only after it did something real for the rider.
RESOLVING_ACTIONS = {
    "action_report_fault",
    "action_open_order_dispute",
    "action_request_deposit_refund",
    "action_open_parking_dispute",
    "action_record_complaint",
    "action_explain_order",
    "action_deposit_status",
    "action_ticket_status",
}


class ActionAskRating(Action):
    """Asks for a 1–5 rating once, after the bot resolved something in this conversation."""

    def name(self) -> Text:
        return "action_ask_rating"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        with rider_session(tracker) as session:
            after_agent = HandoffRatings(session).pending(tracker.sender_id) is not None
        done = {e.get("name") for e in _since_resume(tracker) if e.get("event") == "action"}
        # The current run is not in the tracker yet, so "action_ask_rating" in done means asked before.
        resolved_by_bot = bool(done & RESOLVING_ACTIONS) and not done & {"action_ask_rating", "action_record_rating"}
        if not (after_agent or resolved_by_bot):
            return []
        labels = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
        buttons = [{"title": f"{n} {label}", "payload": f'/rate_service{{"rating": {n}}}'} for n, label in labels.items()]
        dispatcher.utter_message(response="utter_ask_rating", buttons=buttons)
        return []


class ActionRecordRating(Action):
    """Stores the rider's rating; anything but 1–5 is re-asked."""

    def name(self) -> Text:
        return "action_record_rating"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        rating = rating_from(tracker)
        if rating is None:
            dispatcher.utter_message(response="utter_rating_invalid")
            return []
        try:
            with rider_session(tracker) as session:
                # After an agent the rating is the agent's; otherwise it rates the bot's session.
                if HandoffRatings(session).record(tracker.sender_id, rider_id(tracker), rating) is None:
                    Surveys(session).record(tracker.sender_id, rider_id(tracker), rating, episode=episode_of(tracker))
        except InvalidValue:
            dispatcher.utter_message(response="utter_rating_invalid")
            return []
        dispatcher.utter_message(response="utter_rating_thanks")
        return []


def rating_from(tracker: Tracker) -> Optional[int]:
    """The rating from a button's entity, or parsed from what the rider typed."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "rating":
            try:
                value = int(str(entity.get("value")))
            except ValueError:
                return None
            return value if 1 <= value <= 5 else None
    return parse_rating(latest_text(tracker))


def episode_of(tracker: Tracker) -> str:
    """Names the current Rasa session of the conversation, so each session can be rated once."""
    started = [e.get("timestamp") for e in tracker.events if e.get("event") == "session_started"]
    return f"session-{started[-1]}" if started and started[-1] is not None else "session-0"


def _since_resume(tracker: Tracker) -> List[Dict[str, Any]]:
    """Events since an agent last handed the conversation back (all of them if never)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "resume":
            return events[index + 1 :]
    return events
