"""Two-stage fallback: first offer the two likeliest topics as buttons, then a human."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, reply_on_failure

# The rider-facing name of each topic we can offer as a button.
TOPIC_LABELS = {
    "report_bike_fault": "车辆故障报修",
    "deposit_refund": "押金和退押金",
    "parking_issue": "停车和调度费",
    "order_issue": "订单和扣费",
    "check_ticket_status": "查询工单进度",
    "safety_issue": "骑行事故或受伤",
    "complaint_suggestion": "投诉和建议",
    "faq": "用车和收费问题",
}
DEFAULT_TOPICS = ["report_bike_fault", "order_issue"]


class ActionClarifyTopic(Action):
    """Asks which of the two likeliest topics the rider means; a second miss escalates."""

    def name(self) -> Text:
        return "action_clarify_topic"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if _clarified_just_before(tracker):
            return [SlotSet("handoff_reason", "fallback"), FollowupAction("action_handoff")]
        if not latest_text(tracker).strip():
            dispatcher.utter_message(response="utter_empty_message")
            return []
        topics = likeliest_topics(tracker.latest_message or {})
        buttons = [{"title": TOPIC_LABELS[t], "payload": f"/{t}"} for t in topics]
        buttons.append({"title": "转人工客服", "payload": "/request_human"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


def likeliest_topics(parse: Dict[str, Any], count: int = 2) -> List[str]:
    """The ``count`` highest-ranked intents that we can offer as topics, best first."""
    ranked = [item.get("name") for item in parse.get("intent_ranking") or []]
    topics = [name for name in ranked if name in TOPIC_LABELS][:count]
    for name in DEFAULT_TOPICS:
        if len(topics) >= count:
            break
        if name not in topics:
            topics.append(name)
    return topics


def _clarified_just_before(tracker: Tracker) -> bool:
    """True when the bot's previous turn was a clarification that did not help."""
    seen_user = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            seen_user += 1
            if seen_user > 1:
                return False
        elif kind == "action" and seen_user == 1:
            name = event.get("name")
            if name == "action_clarify_topic":
                return True
            if name not in ("action_listen", None):
                return False
    return False
