"""Orders: the order form's validation, the fare explanation and billing disputes."""
from __future__ import annotations

import pytest

from actions.orders import ActionExplainOrder, ActionOpenOrderDispute, ValidateOrderForm
from ridedesk.db.demo import (
    DEMO_LONG_ORDER,
    DEMO_ORDER,
    DEMO_ORDER_NO_PARKING_FEE,
    DEMO_RIDER,
    DEMO_RIDING_ORDER,
    OTHER_RIDER,
    OTHER_RIDER_ORDER,
    REFUNDED_ORDER,
    RIDER_DEPOSIT_REFUNDED,
    UNKNOWN_ORDER,
)
from ridedesk.db.models import Order, Ticket

from action_helpers import build_tracker, form_tracker, load_tracker, user

FORM = "order_form"
# Facts of OTHER_RIDER_ORDER that must never reach DEMO_RIDER.
OTHER_ORDER_FACTS = ("中山公园", "长宁路", "862104623", "5.00", "1.50", "李娜", OTHER_RIDER, "调度费")


def assert_no_leak(result) -> None:
    for text in result.texts:
        for fact in OTHER_ORDER_FACTS:
            assert fact not in text, f"leaked {fact!r}: {text}"
    for message in result.messages:
        extra = {k for k, v in message.items() if v not in (None, [], {})} - {"template", "response"}
        assert not extra, f"message carries data: {extra}"


# --- validate_order_form ---------------------------------------------------------------------
@pytest.mark.parametrize("said", [DEMO_ORDER, "订单号 2026 1118 0031", "２０２６１１１８００３１"])
async def test_own_order_is_accepted(db, domain, run, said):
    tracker = form_tracker(domain, FORM, "order_number", said, slots={"form_failures": 1})

    result = await run(ValidateOrderForm(), tracker)

    assert result.responses == []
    assert result.slots() == {"order_number": DEMO_ORDER, "form_failures": 0}


async def test_another_riders_order_is_refused_without_any_of_its_data(db, domain, run):
    tracker = form_tracker(domain, FORM, "order_number", OTHER_RIDER_ORDER)

    result = await run(ValidateOrderForm(), tracker)

    assert result.responses == ["utter_order_not_yours"]
    assert result.slots() == {"order_number": None, "form_failures": 1}
    assert_no_leak(result)


async def test_unknown_order_is_not_found(db, domain, run):
    result = await run(ValidateOrderForm(), form_tracker(domain, FORM, "order_number", UNKNOWN_ORDER))

    assert result.responses == ["utter_order_not_found"]
    assert result.slots() == {"order_number": None, "form_failures": 1}


@pytest.mark.parametrize("said", ["12345", "20261118003", "2026111800311", "不知道", "GD202611230001"])
async def test_malformed_order_number_is_reasked(db, domain, run, said):
    result = await run(ValidateOrderForm(), form_tracker(domain, FORM, "order_number", said))

    assert result.responses == ["utter_invalid_order_number"]
    assert result.slots() == {"order_number": None, "form_failures": 1}


async def test_third_failed_order_number_escalates(db, domain, run):
    tracker = form_tracker(domain, FORM, "order_number", OTHER_RIDER_ORDER, slots={"form_failures": 2})

    result = await run(ValidateOrderForm(), tracker)

    assert result.responses == ["utter_form_too_many_failures"]
    assert result.slots()["handoff_reason"] == "form_failure"
    assert result.deactivates_loop and result.followups == ["action_handoff"]


# --- action_explain_order --------------------------------------------------------------------
@pytest.mark.parametrize(
    "order, facts",
    [
        (DEMO_ORDER_NO_PARKING_FEE, dict(duration=25, ride_fee="3.00", dispatch_fee="10.00", discount="0.00", total="13.00")),
        (DEMO_LONG_ORDER, dict(duration=185, ride_fee="24.00", dispatch_fee="0.00", discount="3.00", total="21.00")),
        (DEMO_ORDER, dict(duration=18, ride_fee="1.50", dispatch_fee="0.00", discount="0.00", total="1.50")),
    ],
)
async def test_explains_the_fare_and_offers_a_dispute(db, domain, run, order, facts):
    tracker = load_tracker(domain, "order_question", slots={"order_number": order})

    result = await run(ActionExplainOrder(), tracker)

    assert result.responses == ["utter_order_breakdown", "utter_ask_order_dispute"]
    breakdown = result.message("utter_order_breakdown")
    assert breakdown["order_number"] == order
    assert {k: breakdown[k] for k in facts} == facts
    assert result.slots() == {"offer": "order_dispute"}
    assert result.followups == []


async def test_breakdown_names_the_places(db, domain, run):
    result = await run(ActionExplainOrder(), load_tracker(domain, "order_question"))

    text = result.texts[0]
    assert "徐家汇美罗城 → 地铁9号线徐家汇站出口（禁停区）" in text and "合计 13.00 元" in text


async def test_riding_order_says_it_is_still_running(db, domain, run):
    tracker = load_tracker(domain, "order_question", slots={"order_number": DEMO_RIDING_ORDER})

    result = await run(ActionExplainOrder(), tracker)

    assert result.responses == ["utter_order_breakdown", "utter_order_still_riding", "utter_ask_order_dispute"]
    breakdown = result.message("utter_order_breakdown")
    assert breakdown["end_place"] == "骑行中" and breakdown["total"] == "0.00"
    assert result.slots() == {"offer": "order_dispute"}


async def test_explain_refuses_another_riders_order_like_a_missing_one(db, domain, run):
    tracker = load_tracker(domain, "order_question", slots={"order_number": OTHER_RIDER_ORDER})

    result = await run(ActionExplainOrder(), tracker)

    assert result.responses == ["utter_order_not_found"]
    assert result.events == []
    assert_no_leak(result)


async def test_angry_order_question_is_handed_over(db, domain, run):
    tracker = build_tracker(
        domain,
        slots={"order_number": DEMO_ORDER_NO_PARKING_FEE},
        events=[user("凭什么扣我调度费？骗钱的黑心公司！！！", "order_issue"), user(DEMO_ORDER_NO_PARKING_FEE, "inform")],
    )

    result = await run(ActionExplainOrder(), tracker)

    assert result.slots() == {"offer": "order_dispute", "handoff_reason": "anger"}
    assert result.followups == ["action_handoff"]


# --- action_open_order_dispute ---------------------------------------------------------------
async def test_dispute_opens_a_ticket_and_marks_the_order(db, domain, run):
    tracker = load_tracker(domain, "order_question", slots={"offer": "order_dispute"})

    result = await run(ActionOpenOrderDispute(), tracker)

    ticket = db.one(Ticket)
    assert ticket.category == "order_dispute" and ticket.order_number == DEMO_ORDER_NO_PARKING_FEE
    assert ticket.rider_id == DEMO_RIDER and ticket.conversation_id == DEMO_RIDER
    assert ticket.description == "这单为什么扣了我13块？我明明停好了"
    assert result.responses == ["utter_order_dispute_opened"]
    assert result.message("utter_order_dispute_opened")["ticket_number"] == ticket.number
    assert db.get(Order, DEMO_ORDER_NO_PARKING_FEE).status == "disputed"
    assert result.slots() == {"order_number": None, "offer": None}


async def test_dispute_twice_keeps_one_ticket(db, domain, run):
    first = await run(ActionOpenOrderDispute(), load_tracker(domain, "order_question"))
    number = first.message("utter_order_dispute_opened")["ticket_number"]

    again = await run(ActionOpenOrderDispute(), load_tracker(domain, "order_question"))

    assert again.responses == ["utter_order_dispute_exists"]
    assert again.message("utter_order_dispute_exists")["ticket_number"] == number
    assert len(db.all(Ticket)) == 1


async def test_riding_order_gets_a_trip_not_ended_ticket(db, domain, run):
    tracker = load_tracker(domain, "order_question", slots={"order_number": DEMO_RIDING_ORDER})

    result = await run(ActionOpenOrderDispute(), tracker)

    ticket = db.one(Ticket)
    assert ticket.category == "order_dispute" and ticket.order_number == DEMO_RIDING_ORDER
    assert ticket.description.startswith("行程无法结束")
    assert result.responses == ["utter_order_dispute_opened"]
    assert db.get(Order, DEMO_RIDING_ORDER).status == "riding"  # settled from the lock time, not disputed

    again = await run(ActionOpenOrderDispute(), tracker)
    assert again.responses == ["utter_order_dispute_exists"]
    assert len(db.all(Ticket)) == 1


async def test_refunded_order_is_not_disputed(db, domain, run):
    tracker = load_tracker(
        domain, "order_question", sender_id=RIDER_DEPOSIT_REFUNDED, slots={"order_number": REFUNDED_ORDER}
    )

    result = await run(ActionOpenOrderDispute(), tracker)

    assert result.responses == ["utter_order_already_refunded"]
    assert result.events == []
    assert db.all(Ticket) == []
    assert db.get(Order, REFUNDED_ORDER).status == "refunded"


async def test_dispute_of_another_riders_order_writes_nothing(db, domain, run):
    tracker = load_tracker(domain, "order_question", slots={"order_number": OTHER_RIDER_ORDER})

    result = await run(ActionOpenOrderDispute(), tracker)

    assert result.responses == ["utter_order_not_found"]
    assert db.all(Ticket) == []
    assert db.get(Order, OTHER_RIDER_ORDER).status == "completed"
    assert_no_leak(result)
