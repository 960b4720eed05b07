"""Escalation to a human agent (转人工): a queue entry with a summary, then the bot pauses.

Every road to a person ends here: an explicit request, a failed clarification, three failed
form answers, a safety issue, or a strongly angry rider. The summary is what the agent
reads first in the console, so it says what the rider wanted without scrolling.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import INTENT_SPLIT, latest_text, local_time, reply_on_failure, rider_id, rider_session
from ridedesk.clock import utcnow
from ridedesk.mood import default_lexicon
from ridedesk.services.agents import AgentPresence
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.riders import Riders
from ridedesk.services.service_hours import describe
from ridedesk.services.tickets import Tickets

# What each intent means for the agent's queue: a category to route by.
CATEGORY_BY_INTENT = {
    "report_bike_fault": "fault",
    "deposit_refund": "deposit",
    "parking_issue": "parking",
    "order_issue": "order",
    "safety_issue": "safety",
    "complaint_suggestion": "complaint",
    "check_ticket_status": "ticket",
}
PRIORITY_BY_REASON = {"safety": "urgent", "anger": "high", "form_failure": "high"}
INTERNAL_SLOTS = {"requested_slot", "form_failures", "handoff_reason", "session_started_metadata", "offer"}
LAST_TURNS = 12


def anger_events(text: Text) -> List[EventType]:
    """Events that hand a strongly angry rider to a human after the current action.

    Args:
        text: What the rider said about the problem at hand.
    """
    if default_lexicon().is_strongly_angry(text):
        return [SlotSet("handoff_reason", "anger"), FollowupAction("action_handoff")]
    return []


def conversation_summary(tracker: Tracker, reason: Text) -> Dict[str, Any]:
    """Builds the handoff summary from the tracker: intents seen, slots and the last turns."""
    intents: List[str] = []
    turns: List[Dict[str, str]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            # A several-problem message (report_bike_fault+order_issue) names each topic.
            for name in (intent or "").split(INTENT_SPLIT):
                if name and name not in intents:
                    intents.append(name)
            turns.append({"role": "rider", "text": event.get("text") or "", "intent": intent or ""})
        elif kind == "bot" and event.get("text"):
            turns.append({"role": "bot", "text": event.get("text")})
    slots = {name: value for name, value in tracker.current_slot_values().items() if value not in (None, "", []) and name not in INTERNAL_SLOTS}
    topic = next((i for i in reversed(intents) if i in CATEGORY_BY_INTENT), None)
    return {
        "reason": reason,
        "topic": topic,
        "intents": intents,
        "slots": slots,
        "last_turns": turns[-LAST_TURNS:],
        "last_message": latest_text(tracker),
    }


class ActionHandoff(Action):
    """Queues the conversation for an agent, tells the rider their place, and pauses the bot."""

    def name(self) -> Text:
        return "action_handoff"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        reason = _reason(tracker)
        summary = conversation_summary(tracker, reason)
        rider = rider_id(tracker)
        leave_form = [SlotSet("requested_slot", None), ActiveLoop(None), SlotSet("handoff_reason", None)]
        with rider_session(tracker) as session:
            availability = AgentPresence(session).availability()
            # Nobody to talk to: promise a callback rather than an endless wait. A safety
            # issue is still queued (urgent) so the first agent online sees it at once.
            if not availability.agents_available and reason != "safety":
                phone = Riders(session).get(rider).phone
                callback_by = local_time(availability.callback_by(utcnow()))
                if availability.in_service_hours:
                    dispatcher.utter_message(response="utter_handoff_no_agents", callback=callback_by)
                else:
                    dispatcher.utter_message(response="utter_handoff_closed", hours=describe(), callback=callback_by)
                return leave_form + [SlotSet("offer", "callback"), SlotSet("phone_number", phone)]
            summary["tickets"] = [
                {"number": t.number, "category": t.category, "status": t.status, "priority": t.priority}
                for t in Tickets(session).list_for(rider, limit=None)
                if t.conversation_id == tracker.sender_id
            ]
            queue = HandoffQueue(session)
            already = queue.active_for(tracker.sender_id) is not None
            handoff, position = queue.enqueue(
                tracker.sender_id,
                rider,
                reason,
                summary,
                priority=PRIORITY_BY_REASON.get(reason, "normal"),
                category=CATEGORY_BY_INTENT.get(summary["topic"] or "", "other"),
            )
            wait = queue.estimated_wait_minutes(position, max(availability.agents_online, 1)) if position else None
        if position is None:
            # An agent already has this conversation: the rider is talking to them.
            dispatcher.utter_message(response="utter_handoff_with_agent")
        else:
            response = "utter_handoff_already" if already else "utter_handoff_queued"
            dispatcher.utter_message(response=response, ahead=position - 1, wait=wait)
        return leave_form + [ConversationPaused()]


def _reason(tracker: Tracker) -> Text:
    marked: Optional[Text] = tracker.get_slot("handoff_reason")
    if marked:
        return marked
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if intent == "request_human":
        return "requested"
    if intent == "safety_issue":
        return "safety"
    if intent == "nlu_fallback":
        return "fallback"
    return "other"

