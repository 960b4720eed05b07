"""Ticket status: by number, the latest one, none, and other riders' tickets."""
from __future__ import annotations

import pytest

from actions.tickets import ActionTicketStatus
from ridedesk.db.demo import DEMO_BIKE, DEMO_ORDER_NO_PARKING_FEE, DEMO_RIDER, OTHER_RIDER, RIDER_WITHOUT_DEPOSIT
from ridedesk.services.tickets import Tickets

from action_helpers import build_tracker, user


def open_ticket(db, rider, category="fault", description="车锁坏了", **kwargs) -> str:
    with db.session() as session:
        ticket, created = Tickets(session).open(rider, category, description, conversation_id=rider, **kwargs)
        assert created
        return ticket.number


def status_tracker(domain, rider=DEMO_RIDER, ticket_number=None, text="我的工单怎么样了"):
    return build_tracker(
        domain, sender_id=rider, slots={"ticket_number": ticket_number}, events=[user(text, "check_ticket_status")]
    )


async def test_own_ticket_by_number(db, domain, run):
    number = open_ticket(db, DEMO_RIDER, bike_number=DEMO_BIKE, fault_part="车锁")

    result = await run(ActionTicketStatus(), status_tracker(domain, ticket_number=number))

    assert result.responses == ["utter_ticket_status"]
    message = result.message("utter_ticket_status")
    assert (message["ticket_number"], message["category"], message["status"]) == (number, "车辆报修", "已受理，等待处理")
    assert message["detail"].startswith("承诺在 ")
    assert result.slots() == {"ticket_number": None}


async def test_number_is_matched_however_the_rider_typed_it(db, domain, run):
    number = open_ticket(db, DEMO_RIDER)

    result = await run(ActionTicketStatus(), status_tracker(domain, ticket_number=number.lower()))

    assert result.message("utter_ticket_status")["ticket_number"] == number


async def test_resolved_ticket_tells_the_resolution(db, domain, run):
    number = open_ticket(db, DEMO_RIDER, "order_dispute", "多扣钱了", order_number=DEMO_ORDER_NO_PARKING_FEE)
    with db.session() as session:
        Tickets(session).transition(number, "resolved", "agent-xiaowang", note="调度费 10 元已退回")

    result = await run(ActionTicketStatus(), status_tracker(domain, ticket_number=number))

    message = result.message("utter_ticket_status")
    assert (message["category"], message["status"]) == ("订单申诉", "已处理完成")
    assert message["detail"] == "处理结果：调度费 10 元已退回"


async def test_another_riders_ticket_is_answered_like_a_missing_one(db, domain, run):
    number = open_ticket(db, OTHER_RIDER, "complaint", "李娜的投诉：客服态度差")

    result = await run(ActionTicketStatus(), status_tracker(domain, ticket_number=number))

    assert result.responses == ["utter_ticket_not_found"]
    assert result.slots() == {"ticket_number": None}
    assert all(number not in text and "投诉" not in text for text in result.texts)
    assert set(result.messages[0]) - {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"} == set()


@pytest.mark.parametrize("number", ["GD209901010001", "GD123", "gd-abc"])
async def test_unknown_or_malformed_number_is_not_found(db, domain, run, number):
    result = await run(ActionTicketStatus(), status_tracker(domain, ticket_number=number))

    assert result.responses == ["utter_ticket_not_found"]
    assert result.slots() == {"ticket_number": None}


async def test_latest_ticket_without_a_number(db, domain, run):
    open_ticket(db, DEMO_RIDER, "fault", "车锁坏了", bike_number=DEMO_BIKE)
    newest = open_ticket(db, DEMO_RIDER, "complaint", "客服电话打不通")
    open_ticket(db, OTHER_RIDER, "complaint", "别人的投诉")

    result = await run(ActionTicketStatus(), status_tracker(domain))

    message = result.message("utter_ticket_status")
    assert (message["ticket_number"], message["category"]) == (newest, "投诉建议")


async def test_rider_without_tickets(db, domain, run):
    open_ticket(db, OTHER_RIDER, "complaint", "别人的投诉")

    result = await run(ActionTicketStatus(), status_tracker(domain, rider=RIDER_WITHOUT_DEPOSIT))

    assert result.responses == ["utter_no_tickets"]
    assert result.events == []
