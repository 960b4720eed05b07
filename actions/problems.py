"""Several problems in one message (车坏了而且还多扣了我钱): one at a time, none forgotten.

The NLU model reads such a message as a multi-intent (``report_bike_fault+order_issue``).
The bot names both problems and asks which to handle first. Every topic's closing action
then calls :func:`next_problem_events`, which offers the problem still waiting. Each
waiting topic has its own value of the ``offer`` slot (``next_order`` ...), so the rules
in ``data/rules/problems.yml`` start the right topic on "yes" and drop it on "no".
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import INTENT_SPLIT, reply_on_failure
from actions.fallback import TOPIC_LABELS

PENDING_SLOT = "pending_problems"

# The offer that asks "shall we go on with this topic?"; a rule starts the topic on "yes".
NEXT_PROBLEM_OFFERS = {
    "report_bike_fault": "next_fault",
    "order_issue": "next_order",
    "deposit_refund": "next_deposit",
    "parking_issue": "next_parking",
}

# How the rider would name the problem in a sentence ("您还提到了扣费的问题").
TOPIC_NAMES = {
    "report_bike_fault": "车辆故障",
    "order_issue": "订单扣费",
    "deposit_refund": "押金",
    "parking_issue": "停车和调度费",
}


def split_problems(intent_name: Optional[Text]) -> List[Text]:
    """The topics of a (multi-)intent that the bot can handle one after another."""
    parts = (intent_name or "").split(INTENT_SPLIT)
    topics: List[Text] = []
    for part in parts:
        if part in NEXT_PROBLEM_OFFERS and part not in topics:
            topics.append(part)
    return topics


def pending_problems(tracker: Tracker) -> List[Text]:
    """The problems the rider raised that are still waiting, in order."""
    return [t for t in (tracker.get_slot(PENDING_SLOT) or []) if t in NEXT_PROBLEM_OFFERS]


def next_problem_events(topic: Text, tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Closes ``topic`` and offers the next problem the rider raised, if one is waiting.

    Called by each topic's closing action, after its own reply.

    Args:
        topic: the intent name of the topic just handled.
        tracker: the conversation.
        dispatcher: where the offer is said.

    Returns:
        Slot events: what is still pending and, when something is, the offer.
    """
    before = pending_problems(tracker)
    if not before:
        return []
    waiting = [t for t in before if t != topic]
    if not waiting:
        events: List[EventType] = [SlotSet(PENDING_SLOT, None)]
        if tracker.get_slot("offer") in NEXT_PROBLEM_OFFERS.values():
            events.append(SlotSet("offer", None))
        return events
    dispatcher.utter_message(response="utter_offer_next_problem", problem=TOPIC_NAMES[waiting[0]])
    return [SlotSet(PENDING_SLOT, waiting), SlotSet("offer", NEXT_PROBLEM_OFFERS[waiting[0]])]


def then_next_problem(
    topic: Text, tracker: Tracker, dispatcher: CollectingDispatcher, events: List[EventType]
) -> List[EventType]:
    """``events`` of a closing action, followed by the offer of the next waiting problem.

    Nothing is offered when the action already hands the rider to someone else (a
    follow-up action such as the handoff of a very angry rider): the agent sees the
    waiting problems in the summary.
    """
    if any(event.get("event") == "followup" for event in events):
        return events
    return events + next_problem_events(topic, tracker, dispatcher)


class ActionPlanProblems(Action):
    """Names the problems of a several-problem message and asks which to handle first."""

    def name(self) -> Text:
        return "action_plan_problems"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        topics = split_problems(intent)
        if len(topics) < 2:
            # A multi-intent we cannot split into topics: handle it as an unclear message.
            return [FollowupAction("action_clarify_topic")]
        dispatcher.utter_message(
            response="utter_several_problems",
            problems="、".join(TOPIC_NAMES[t] for t in topics),
            buttons=[{"title": TOPIC_LABELS[t], "payload": f"/{t}"} for t in topics],
        )
        # "好的" to the question takes the problems in the order the rider told them.
        return [SlotSet(PENDING_SLOT, topics), SlotSet("offer", NEXT_PROBLEM_OFFERS[topics[0]])]
