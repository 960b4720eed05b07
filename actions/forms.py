"""Form validation with a limit on failed answers.

A rider who cannot give a valid value three times in a row should not be stuck in a loop
with a bot: the form stops and the conversation goes to a human (``action_handoff``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import reply_on_failure
from ridedesk.text import parse_phone

MAX_FAILED_ANSWERS = 3
FAILURES_SLOT = "form_failures"
ESCALATION_MARK = "form_failure"


class RiderFormValidation(FormValidationAction, ABC):
    """Base class for RideDesk form validations.

    Subclasses validate slots with ``validate_<slot>`` methods and call :meth:`accept` or
    :meth:`reject`. Three rejections in one form escalate to a human.
    """

    @abstractmethod
    def name(self) -> Text:
        """``validate_<form name>``. Abstract, so rasa-sdk registers only concrete forms."""

    def accept(self, slot: Text, value: Any) -> Dict[Text, Any]:
        """Accepts a value and resets the failure count."""
        return {slot: value, FAILURES_SLOT: 0}

    def reject(
        self,
        slot: Text,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        response: Text,
    ) -> Dict[Text, Any]:
        """Rejects a value: re-asks clearly, or escalates after the third failure."""
        failures = int(tracker.get_slot(FAILURES_SLOT) or 0) + 1
        if failures >= MAX_FAILED_ANSWERS:
            dispatcher.utter_message(response="utter_form_too_many_failures")
            return {slot: None, FAILURES_SLOT: 0, "requested_slot": None, "handoff_reason": ESCALATION_MARK}
        dispatcher.utter_message(response=response)
        return {slot: None, FAILURES_SLOT: failures}

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if _escalating(events):
            # Leave the form for good, then hand over; the reason travels in a slot.
            events += [ActiveLoop(None), FollowupAction("action_handoff")]
        return events


class PhoneValidation(RiderFormValidation, ABC):
    """Forms that ask for a number we can call back: a valid mainland mobile number."""

    def validate_phone_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = parse_phone(str(value or ""))
        if phone:
            return self.accept("phone_number", phone)
        return self.reject("phone_number", dispatcher, tracker, "utter_invalid_phone_number")


def _escalating(events: List[EventType]) -> bool:
    marks: List[Optional[Any]] = [
        e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == "handoff_reason"
    ]
    return bool(marks) and marks[-1] == ESCALATION_MARK


def slot_reset(*slots: Text) -> List[EventType]:
    """Clears slots once a form's result has been acted on, so the next request starts clean."""
    return [SlotSet(slot, None) for slot in slots]
