"""Deposits (押金): status, refund request and the refund timeline."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, local_date, local_time, reply_on_failure, rider_id, rider_session
from actions.handoff import anger_events
from actions.problems import then_next_problem
from ridedesk.services.money import yuan
from ridedesk.services.deposits import Deposits


class ActionDepositStatus(Action):
    """Tells the rider where their deposit stands and what happens next."""

    def name(self) -> Text:
        return "action_deposit_status"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = []
        rider = rider_id(tracker)
        with rider_session(tracker) as session:
            deposits = Deposits(session)
            deposit = deposits.status_for(rider)
            if deposit is None:
                dispatcher.utter_message(response="utter_deposit_none")
            elif deposit.status == "held":
                dispatcher.utter_message(response="utter_deposit_held", amount=yuan(deposit.amount_fen))
                events.append(SlotSet("offer", "deposit_refund"))
            elif deposit.status == "refund_requested":
                facts = dict(
                    amount=yuan(deposit.amount_fen),
                    requested=local_date(deposit.refund_requested_at),
                    expected=local_date(deposits.expected_refund_date(deposit)),
                )
                ticket, _ = deposits.escalate_overdue(rider, conversation_id=tracker.sender_id)
                if ticket is not None:
                    dispatcher.utter_message(
                        response="utter_deposit_refund_overdue",
                        ticket_number=ticket.number,
                        due=local_time(ticket.due_at),
                        **facts,
                    )
                else:
                    dispatcher.utter_message(response="utter_deposit_refund_in_progress", **facts)
            else:
                dispatcher.utter_message(
                    response="utter_deposit_refunded",
                    amount=yuan(deposit.amount_fen),
                    refunded=local_date(deposit.refunded_at),
                )
        events += anger_events(latest_text(tracker))
        if deposit is not None and deposit.status == "held":
            return events  # the refund offer is still open; the next problem comes after it
        return then_next_problem("deposit_refund", tracker, dispatcher, events)


class ActionRequestDepositRefund(Action):
    """Starts a deposit refund; asking twice does not start two."""

    def name(self) -> Text:
        return "action_request_deposit_refund"

    @reply_on_failure
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        self._request(dispatcher, tracker)
        return then_next_problem("deposit_refund", tracker, dispatcher, [SlotSet("offer", None)])

    @staticmethod
    def _request(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        with rider_session(tracker) as session:
            deposits = Deposits(session)
            deposit = deposits.status_for(rider_id(tracker))
            if deposit is None:
                dispatcher.utter_message(response="utter_deposit_none")
                return
            if deposit.status == "refunded":
                dispatcher.utter_message(
                    response="utter_deposit_refunded",
                    amount=yuan(deposit.amount_fen),
                    refunded=local_date(deposit.refunded_at),
                )
                return
            request = deposits.request_refund(rider_id(tracker), conversation_id=tracker.sender_id)
            amount = yuan(request.deposit.amount_fen)
            expected = local_date(request.expected_date)
            requested = local_date(request.deposit.refund_requested_at)
        if request.ticket is not None:
            # Overdue: the promised date has passed, so name the escalation ticket instead.
            dispatcher.utter_message(
                response="utter_deposit_refund_overdue",
                amount=amount,
                requested=requested,
                expected=expected,
                ticket_number=request.ticket.number,
                due=local_time(request.ticket.due_at),
            )
        elif request.already_requested:
            dispatcher.utter_message(
                response="utter_deposit_refund_in_progress", amount=amount, requested=requested, expected=expected
            )
        else:
            dispatcher.utter_message(response="utter_deposit_refund_started", amount=amount, expected=expected)
