"""End to end over the REST channel: real `rasa run`, real `rasa run actions`, real SQLite.

Each test is one rider's conversation; assertions read the rows the bot wrote through the
core services, exactly as the console will.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ridedesk.db.models import Handoff, Ticket
from ridedesk.db.session import session_scope
from ridedesk.services.deposits import Deposits
from ridedesk.services.orders import Orders
from ridedesk.services.tickets import Tickets

pytestmark = pytest.mark.servers

TICKET = re.compile(r"GD\d{12}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def ticket_numbers(replies):
    return TICKET.findall(texts(replies))


def test_brake_fault_with_bike_number_gets_a_real_ticket(ridedesk, sender):
    replies = ridedesk.say(sender, "刹车坏了，车号862104573")
    numbers = ticket_numbers(replies)
    assert numbers, f"no ticket number in {replies}"
    with session_scope(ridedesk.database_url) as session:
        ticket = Tickets(session).get(numbers[0], rider_id=sender)
        assert ticket.category == "fault"
        assert ticket.bike_number == "862104573"
        assert ticket.fault_part == "刹车"
        assert ticket.conversation_id == sender


def test_fault_form_asks_for_missing_values_and_a_repeat_makes_no_second_ticket(ridedesk, sender):
    assert "车号" in texts(ridedesk.say(sender, "我扫的这辆车坏了，骑不了"))
    assert "哪里" in texts(ridedesk.say(sender, "862104573"))
    first = ticket_numbers(ridedesk.say(sender, "链条掉了"))
    assert first
    again = ticket_numbers(ridedesk.say(sender, "我扫的车号862104573这辆车链条掉了，骑不了"))
    assert again == first
    with session_scope(ridedesk.database_url) as session:
        count = session.execute(select(func.count()).select_from(Ticket).where(Ticket.rider_id == sender)).scalar_one()
    assert count == 1


def test_three_bad_bike_numbers_escalate_to_a_human(ridedesk, sender):
    ridedesk.agent_online()
    ridedesk.say(sender, "车坏了要报修")
    for bad in ("12345", "999999999", "abc"):
        replies = ridedesk.say(sender, bad)
    assert "人工" in texts(replies)
    with session_scope(ridedesk.database_url) as session:
        handoff = session.execute(select(Handoff).where(Handoff.conversation_id == sender)).scalar_one()
        assert handoff.reason == "form_failure"
    assert ridedesk.tracker(sender)["paused"] is True


def test_order_overcharge_is_explained_and_disputed(ridedesk, sender):
    # First look-up: in development a new rider gets demo trips to ask about.
    assert "工单" in texts(ridedesk.say(sender, "我的工单处理得怎么样了"))
    with session_scope(ridedesk.database_url) as session:
        order = Orders(session).recent_for(sender, limit=10)[-1]
        number = order.number
    replies = ridedesk.say(sender, f"订单{number}多扣了我钱")
    assert number in texts(replies) and "合计" in texts(replies)
    opened = ticket_numbers(ridedesk.say(sender, "是的，帮我申诉"))
    assert opened
    with session_scope(ridedesk.database_url) as session:
        ticket = Tickets(session).get(opened[0], rider_id=sender)
        assert (ticket.category, ticket.order_number) == ("order_dispute", number)


def test_another_riders_order_is_refused_without_data(ridedesk, sender):
    replies = ridedesk.say(sender, "帮我查下订单202611170088为什么扣这么多")
    said = texts(replies)
    assert "不在您的账号下" in said
    assert "合计" not in said and "调度费" not in said  # none of that order's facts


def test_deposit_refund_is_started(ridedesk, sender):
    replies = ridedesk.say(sender, "押金怎么退")
    assert "押金" in texts(replies)
    ridedesk.say(sender, "好的")
    with session_scope(ridedesk.database_url) as session:
        assert Deposits(session).status_for(sender).status == "refund_requested"


def test_dispatch_fee_dispute_writes_a_parking_ticket(ridedesk, sender):
    replies = ridedesk.say(sender, "为什么收了我调度费，我明明停在停车点")
    assert "调度费" in texts(replies)
    opened = ticket_numbers(ridedesk.say(sender, "对，帮我申诉"))
    assert opened
    with session_scope(ridedesk.database_url) as session:
        assert Tickets(session).get(opened[0], rider_id=sender).category == "parking_dispute"


def test_asking_for_a_human_queues_and_pauses_the_bot(ridedesk, sender):
    ridedesk.agent_online()
    replies = ridedesk.say(sender, "转人工")
    assert "前面还有" in texts(replies)
    assert ridedesk.tracker(sender)["paused"] is True
    # While paused the rider's words are kept for the agent, and the bot stays quiet.
    assert ridedesk.say(sender, "我等着呢") == []
    events = ridedesk.tracker(sender)["events"]
    assert any(e["event"] == "user" and e.get("text") == "我等着呢" for e in events)


def test_with_no_agent_online_the_rider_leaves_a_callback(ridedesk, sender):
    ridedesk.agents_offline()
    replies = ridedesk.say(sender, "我要找人工客服")
    assert "回电" in texts(replies)
    assert ridedesk.tracker(sender)["paused"] is False
    assert "手机号" in texts(ridedesk.say(sender, "好的"))  # utter_ask_callback_form_phone_number
    assert "不太对" in texts(ridedesk.say(sender, "1234"))
    opened = ticket_numbers(ridedesk.say(sender, "13812345678"))
    assert opened
    with session_scope(ridedesk.database_url) as session:
        ticket = Tickets(session).get(opened[0], rider_id=sender)
        assert ticket.category == "callback" and "13812345678" in ticket.description
        assert session.execute(select(Handoff).where(Handoff.conversation_id == sender)).first() is None


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "啊" * 5000,
        "😡😡😡🚲",
        "hello, my bike is broken",
        "车号 862104573'); DROP TABLE tickets; --",
        "<script>alert('x')</script><b>退押金</b>",
        "SELECT * FROM riders WHERE 1=1",
        "ﾃｽﾄ mixed 文字 ＡＢＣ １２３",
    ],
    ids=["empty", "whitespace", "5000-chars", "emoji", "english", "sql-bike", "html", "sql", "mixed-script"],
)
def test_bad_input_gets_a_chinese_reply_and_writes_nothing_wrong(ridedesk, sender, message):
    replies = ridedesk.say(sender, message)
    assert replies, "every message gets an answer"
    assert CJK.search(texts(replies)), f"reply is not Chinese: {replies}"
    with session_scope(ridedesk.database_url) as session:
        tickets = session.execute(select(Ticket).where(Ticket.rider_id == sender)).scalars().all()
    for ticket in tickets:
        # Only a genuine fault form could have written a ticket, and it holds a real bike.
        assert ticket.bike_number is None or ticket.bike_number == "862104573"


def test_after_the_agent_hands_back_the_rider_rates_the_agent(ridedesk, sender):
    import requests

    from ridedesk.db.models import SurveyResponse
    from ridedesk.services.handoff import HandoffQueue

    ridedesk.agent_online()
    ridedesk.say(sender, "转人工")
    with session_scope(ridedesk.database_url) as session:
        queue = HandoffQueue(session)
        handoff = queue.active_for(sender)
        queue.claim(handoff.id, "xiaowang")
        queue.resolve(handoff.id, "xiaowang")
    # What the console does on hand-back (ridedesk/console/rasa_client.py), over Rasa's HTTP API.
    api = f"{ridedesk.rasa_url}/conversations/{sender}"
    auth = {"token": ridedesk.token}
    requests.post(f"{api}/tracker/events", params=auth, json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}], timeout=30).raise_for_status()
    asked = requests.post(
        f"{api}/trigger_intent", params={**auth, "output_channel": "collector"}, json={"name": "EXTERNAL_handed_back"}, timeout=60
    )
    asked.raise_for_status()
    assert "满意" in texts(asked.json()["messages"])
    replies = ridedesk.say(sender, '/rate_service{"rating": 5}')
    assert "谢谢您的评价" in texts(replies), replies
    with session_scope(ridedesk.database_url) as session:
        survey = session.execute(select(SurveyResponse).where(SurveyResponse.conversation_id == sender)).scalar_one()
        assert (survey.rating, survey.agent, survey.handoff_id) == (5, "xiaowang", handoff.id)


def test_two_problems_in_one_message_are_both_handled_in_turn(ridedesk, sender):
    ridedesk.say(sender, "我的工单处理得怎么样了")  # in development this gives the rider demo trips
    with session_scope(ridedesk.database_url) as session:
        number = Orders(session).recent_for(sender, limit=10)[-1].number

    replies = ridedesk.say(sender, "车坏了而且还多扣了我钱")
    assert "车辆故障" in texts(replies) and "订单扣费" in texts(replies), replies
    payloads = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert payloads == ["/report_bike_fault", "/order_issue"]

    assert "订单号" in texts(ridedesk.say(sender, "/order_issue"))
    assert "合计" in texts(ridedesk.say(sender, number))
    replies = ridedesk.say(sender, "是的，帮我申诉")
    dispute = ticket_numbers(replies)
    assert dispute and "车辆故障" in texts(replies), replies  # the waiting problem is offered
    assert [b["payload"] for r in replies for b in r.get("buttons", [])] == ["/affirm", "/deny"]

    assert "车号" in texts(ridedesk.say(sender, "好的"))
    ridedesk.say(sender, "862104573")
    fault = ticket_numbers(ridedesk.say(sender, "刹车"))
    assert fault and fault != dispute
    with session_scope(ridedesk.database_url) as session:
        tickets = Tickets(session)
        assert tickets.get(dispute[0], rider_id=sender).category == "order_dispute"
        assert tickets.get(fault[0], rider_id=sender).category == "fault"
    assert ridedesk.tracker(sender)["slots"]["pending_problems"] is None
