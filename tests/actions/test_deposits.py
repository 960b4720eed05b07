"""Deposits: status in every state and the refund request."""
from __future__ import annotations

from actions.deposits import ActionDepositStatus, ActionRequestDepositRefund
from ridedesk.db.demo import (
    RIDER_DEPOSIT_HELD,
    RIDER_DEPOSIT_OVERDUE,
    RIDER_DEPOSIT_REFUND_REQUESTED,
    RIDER_DEPOSIT_REFUNDED,
    RIDER_WITHOUT_DEPOSIT,
)
from ridedesk.db.models import Deposit, Ticket

from action_helpers import build_tracker, user


def deposit_tracker(domain, rider, text="我的押金怎么还没退", intent="deposit_refund", **slots):
    return build_tracker(domain, sender_id=rider, slots=slots, events=[user(text, intent)])


def deposit_of(db, rider) -> Deposit:
    return db.one(Deposit, Deposit.rider_id == rider)


# --- action_deposit_status -------------------------------------------------------------------
async def test_held_deposit_offers_a_refund(db, domain, run):
    result = await run(ActionDepositStatus(), deposit_tracker(domain, RIDER_DEPOSIT_HELD, "押金还在吗"))

    assert result.responses == ["utter_deposit_held"]
    assert result.message("utter_deposit_held")["amount"] == "199.00"
    assert result.slots() == {"offer": "deposit_refund"}
    assert db.all(Ticket) == []


async def test_refund_in_time_is_in_progress(db, domain, run):
    result = await run(ActionDepositStatus(), deposit_tracker(domain, RIDER_DEPOSIT_REFUND_REQUESTED))

    assert result.responses == ["utter_deposit_refund_in_progress"]
    message = result.message("utter_deposit_refund_in_progress")
    assert message["amount"] == "199.00" and message["expected"] != "—" and message["requested"] != "—"
    assert result.events == []
    assert db.all(Ticket) == []


async def test_overdue_refund_opens_one_deposit_ticket(db, domain, run):
    tracker = deposit_tracker(domain, RIDER_DEPOSIT_OVERDUE)

    first = await run(ActionDepositStatus(), tracker)
    again = await run(ActionDepositStatus(), tracker)

    assert first.responses == again.responses == ["utter_deposit_refund_overdue"]
    ticket = db.one(Ticket)
    assert ticket.category == "deposit" and ticket.rider_id == RIDER_DEPOSIT_OVERDUE
    assert ticket.conversation_id == RIDER_DEPOSIT_OVERDUE
    for result in (first, again):
        assert result.message("utter_deposit_refund_overdue")["ticket_number"] == ticket.number
    assert deposit_of(db, RIDER_DEPOSIT_OVERDUE).status == "refund_requested"


async def test_refunded_deposit_says_when(db, domain, run):
    result = await run(ActionDepositStatus(), deposit_tracker(domain, RIDER_DEPOSIT_REFUNDED))

    assert result.responses == ["utter_deposit_refunded"]
    assert result.message("utter_deposit_refunded")["refunded"] != "—"
    assert result.events == []


async def test_rider_without_deposit(db, domain, run):
    result = await run(ActionDepositStatus(), deposit_tracker(domain, RIDER_WITHOUT_DEPOSIT))

    assert result.responses == ["utter_deposit_none"]
    assert result.events == []


async def test_angry_deposit_question_is_handed_over(db, domain, run):
    tracker = deposit_tracker(domain, RIDER_DEPOSIT_REFUND_REQUESTED, "骗子公司，押金到现在都不退，我要去消协投诉！！！")

    result = await run(ActionDepositStatus(), tracker)

    assert result.responses == ["utter_deposit_refund_in_progress"]
    assert result.slots() == {"handoff_reason": "anger"}
    assert result.followups == ["action_handoff"]


# --- action_request_deposit_refund -----------------------------------------------------------
async def test_refund_request_changes_the_status_once(db, domain, run):
    tracker = deposit_tracker(domain, RIDER_DEPOSIT_HELD, "好的", "affirm", offer="deposit_refund")

    first = await run(ActionRequestDepositRefund(), tracker)

    assert first.responses == ["utter_deposit_refund_started"]
    assert first.message("utter_deposit_refund_started")["amount"] == "199.00"
    assert first.slots() == {"offer": None}
    deposit = deposit_of(db, RIDER_DEPOSIT_HELD)
    assert deposit.status == "refund_requested" and deposit.refund_requested_at is not None

    again = await run(ActionRequestDepositRefund(), tracker)

    assert again.responses == ["utter_deposit_refund_in_progress"]
    assert again.message("utter_deposit_refund_in_progress")["expected"] == first.message("utter_deposit_refund_started")["expected"]
    unchanged = deposit_of(db, RIDER_DEPOSIT_HELD)
    assert (unchanged.status, unchanged.refund_requested_at) == ("refund_requested", deposit.refund_requested_at)
    assert db.all(Ticket) == []


async def test_refund_request_when_already_requested_in_time(db, domain, run):
    before = deposit_of(db, RIDER_DEPOSIT_REFUND_REQUESTED)

    result = await run(ActionRequestDepositRefund(), deposit_tracker(domain, RIDER_DEPOSIT_REFUND_REQUESTED))

    assert result.responses == ["utter_deposit_refund_in_progress"]
    assert deposit_of(db, RIDER_DEPOSIT_REFUND_REQUESTED).refund_requested_at == before.refund_requested_at


async def test_refund_request_when_overdue_tells_the_escalation_ticket(db, domain, run):
    tracker = deposit_tracker(domain, RIDER_DEPOSIT_OVERDUE)

    result = await run(ActionRequestDepositRefund(), tracker)

    # The promised date has passed: "please wait until <a past date>" would be wrong.
    assert result.responses == ["utter_deposit_refund_overdue"]
    ticket = db.one(Ticket)
    assert ticket.category == "deposit"
    assert result.message("utter_deposit_refund_overdue")["ticket_number"] == ticket.number
    assert result.slots() == {"offer": None}

    status = await run(ActionDepositStatus(), tracker)
    assert status.message("utter_deposit_refund_overdue")["ticket_number"] == ticket.number
    assert len(db.all(Ticket)) == 1


async def test_refund_request_without_deposit(db, domain, run):
    tracker = deposit_tracker(domain, RIDER_WITHOUT_DEPOSIT, offer="deposit_refund")

    result = await run(ActionRequestDepositRefund(), tracker)

    assert result.responses == ["utter_deposit_none"]
    assert result.slots() == {"offer": None}
    assert db.all(Deposit, Deposit.rider_id == RIDER_WITHOUT_DEPOSIT) == []


async def test_refund_request_when_already_refunded(db, domain, run):
    before = deposit_of(db, RIDER_DEPOSIT_REFUNDED)

    result = await run(ActionRequestDepositRefund(), deposit_tracker(domain, RIDER_DEPOSIT_REFUNDED))

    assert result.responses == ["utter_deposit_refunded"]
    after = deposit_of(db, RIDER_DEPOSIT_REFUNDED)
    assert (after.status, after.refunded_at) == ("refunded", before.refunded_at)
