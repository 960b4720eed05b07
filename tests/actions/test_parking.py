"""Parking and dispatch fees: help, the dispute form's validation and the fee dispute."""
from __future__ import annotations

from actions.parking import ActionOpenParkingDispute, ActionParkingHelp, ValidateParkingDisputeForm
from ridedesk.db.demo import (
    DEMO_ORDER,
    DEMO_ORDER_NO_PARKING_FEE,
    DEMO_ORDER_OUTSIDE_AREA_FEE,
    DEMO_RIDER,
    OTHER_RIDER_ORDER,
    REFUNDED_ORDER,
    RIDER_DEPOSIT_REFUNDED,
)
from ridedesk.db.models import Deposit, Order, Rider, Ticket

from action_helpers import build_tracker, form_tracker, user

FORM = "parking_dispute_form"


def parking_tracker(domain, rider=DEMO_RIDER, text="停车点外还车被扣了调度费", **slots):
    return build_tracker(domain, sender_id=rider, slots=slots, events=[user(text, "parking_issue")])


# --- action_parking_help ---------------------------------------------------------------------
async def test_help_finds_the_latest_fee_and_offers_a_dispute(db, domain, run):
    result = await run(ActionParkingHelp(), parking_tracker(domain))

    assert result.responses == ["utter_parking_rules", "utter_parking_fee_found", "utter_ask_parking_dispute"]
    found = result.message("utter_parking_fee_found")
    # The riding trip and the long trip are newer but carry no fee.
    assert (found["order_number"], found["dispatch_fee"]) == (DEMO_ORDER_OUTSIDE_AREA_FEE, "20.00")
    assert result.slots() == {"offer": "parking_dispute", "order_number": DEMO_ORDER_OUTSIDE_AREA_FEE}


async def test_help_uses_the_order_the_rider_named(db, domain, run):
    result = await run(ActionParkingHelp(), parking_tracker(domain, order_number=DEMO_ORDER_NO_PARKING_FEE))

    found = result.message("utter_parking_fee_found")
    assert (found["order_number"], found["dispatch_fee"]) == (DEMO_ORDER_NO_PARKING_FEE, "10.00")
    assert result.slots()["order_number"] == DEMO_ORDER_NO_PARKING_FEE


async def test_help_without_fee_orders_gives_the_rules_and_asks(db, domain, run):
    result = await run(ActionParkingHelp(), parking_tracker(domain, rider="new-rider-42", text="怎么还车"))

    assert result.responses == ["utter_parking_rules", "utter_ask_parking_dispute"]
    assert result.slots() == {"offer": "parking_dispute"}
    # First contact creates the rider, but outside development no demo trips or deposit.
    assert db.get(Rider, "new-rider-42") is not None
    assert db.all(Order, Order.rider_id == "new-rider-42") == []
    assert db.all(Deposit, Deposit.rider_id == "new-rider-42") == []


async def test_help_does_not_offer_a_fee_that_was_already_refunded(db, domain, run):
    result = await run(ActionParkingHelp(), parking_tracker(domain, rider=RIDER_DEPOSIT_REFUNDED))

    assert "utter_parking_fee_found" not in result.responses
    assert REFUNDED_ORDER not in " ".join(result.texts)
    assert not result.sets("order_number")


async def test_help_for_a_named_order_without_fee_does_not_pick_another(db, domain, run):
    result = await run(ActionParkingHelp(), parking_tracker(domain, order_number=DEMO_ORDER))

    assert result.responses == ["utter_parking_rules", "utter_ask_parking_dispute"]
    assert not result.sets("order_number")


# --- validate_parking_dispute_form -----------------------------------------------------------
async def test_order_with_dispatch_fee_is_accepted(db, domain, run):
    tracker = form_tracker(domain, FORM, "order_number", DEMO_ORDER_NO_PARKING_FEE, slots={"form_failures": 1})

    result = await run(ValidateParkingDisputeForm(), tracker)

    assert result.responses == []
    assert result.slots() == {"order_number": DEMO_ORDER_NO_PARKING_FEE, "form_failures": 0}


async def test_order_without_dispatch_fee_is_rejected(db, domain, run):
    result = await run(ValidateParkingDisputeForm(), form_tracker(domain, FORM, "order_number", DEMO_ORDER))

    assert result.responses == ["utter_parking_no_fee_generic"]
    assert result.slots() == {"order_number": None, "form_failures": 1}


async def test_dispute_form_refuses_another_riders_fee(db, domain, run):
    result = await run(ValidateParkingDisputeForm(), form_tracker(domain, FORM, "order_number", OTHER_RIDER_ORDER))

    assert result.responses == ["utter_order_not_yours"]
    assert result.slots() == {"order_number": None, "form_failures": 1}


async def test_dispute_form_escalates_on_the_third_failure(db, domain, run):
    tracker = form_tracker(domain, FORM, "order_number", DEMO_ORDER, slots={"form_failures": 2})

    result = await run(ValidateParkingDisputeForm(), tracker)

    assert result.responses == ["utter_form_too_many_failures"]
    assert result.slots()["handoff_reason"] == "form_failure"
    assert result.deactivates_loop and result.followups == ["action_handoff"]


# --- action_open_parking_dispute -------------------------------------------------------------
async def test_dispute_opens_a_parking_ticket(db, domain, run):
    tracker = parking_tracker(domain, order_number=DEMO_ORDER_NO_PARKING_FEE, offer="parking_dispute")

    result = await run(ActionOpenParkingDispute(), tracker)

    ticket = db.one(Ticket)
    assert ticket.category == "parking_dispute" and ticket.order_number == DEMO_ORDER_NO_PARKING_FEE
    assert ticket.rider_id == DEMO_RIDER and ticket.conversation_id == DEMO_RIDER
    assert ticket.place == "地铁9号线徐家汇站出口（禁停区）"
    assert ticket.description == "停车点外还车被扣了调度费"
    assert result.responses == ["utter_parking_dispute_opened"]
    assert result.message("utter_parking_dispute_opened")["ticket_number"] == ticket.number
    assert db.get(Order, DEMO_ORDER_NO_PARKING_FEE).status == "disputed"
    assert result.slots() == {"order_number": None, "offer": None}

    again = await run(ActionOpenParkingDispute(), tracker)
    assert again.message("utter_parking_dispute_opened")["ticket_number"] == ticket.number
    assert len(db.all(Ticket)) == 1


async def test_dispute_of_an_order_without_fee_writes_nothing(db, domain, run):
    result = await run(ActionOpenParkingDispute(), parking_tracker(domain, order_number=DEMO_ORDER))

    assert result.responses == ["utter_parking_no_fee_generic"]
    assert result.events == []
    assert db.all(Ticket) == []
    assert db.get(Order, DEMO_ORDER).status == "completed"


async def test_dispute_of_a_refunded_fee_writes_nothing(db, domain, run):
    tracker = parking_tracker(domain, rider=RIDER_DEPOSIT_REFUNDED, order_number=REFUNDED_ORDER)

    result = await run(ActionOpenParkingDispute(), tracker)

    assert result.responses == ["utter_order_already_refunded"]
    assert db.all(Ticket) == []
