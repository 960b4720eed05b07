"""Hand-off to a human agent, and safety reports that lead there."""
from __future__ import annotations

import pytest

from actions.faults import ActionReportFault
from actions.handoff import ActionHandoff
from actions.safety import ActionSafetyReport
from ridedesk.db.demo import DEMO_BIKE, DEMO_RIDER, OTHER_RIDER
from ridedesk.db.models import Bike, Handoff, Ticket
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.tickets import Tickets

from action_helpers import build_tracker, load_tracker, user


def handoff_tracker(domain, rider=DEMO_RIDER, text="转人工", intent="request_human", **slots):
    return build_tracker(domain, sender_id=rider, slots=slots, events=[user(text, intent)])


def assert_pauses_the_bot(result) -> None:
    kinds = [e["event"] for e in result.events]
    assert "pause" in kinds
    assert result.deactivates_loop
    assert result.slots() == {"requested_slot": None, "handoff_reason": None}
    assert result.followups == []


# --- action_handoff --------------------------------------------------------------------------
async def test_handoff_queues_the_conversation_with_a_summary(db, agent_online, domain, run):
    # This conversation's fault ticket, and an older ticket of the same rider from elsewhere.
    await run(ActionReportFault(), load_tracker(domain, "fault_report_brake", slots={"bike_number": "862104590"}))
    with db.session() as session:
        elsewhere, _ = Tickets(session).open(DEMO_RIDER, "complaint", "上周的投诉", conversation_id="another-chat")
    mine = db.one(Ticket, Ticket.conversation_id == DEMO_RIDER)
    tracker = load_tracker(domain, "handoff_after_fault")

    result = await run(ActionHandoff(), tracker)

    handoff = db.one(Handoff)
    assert (handoff.conversation_id, handoff.rider_id) == (DEMO_RIDER, DEMO_RIDER)
    assert (handoff.reason, handoff.priority, handoff.status) == ("requested", "normal", "waiting")
    assert handoff.category == "fault"
    summary = handoff.summary
    assert summary["reason"] == "requested" and summary["topic"] == "report_bike_fault"
    assert summary["intents"] == ["report_bike_fault", "inform", "request_human"]
    assert summary["slots"] == {"bike_number": DEMO_BIKE, "place": "人民广场"}  # no internal slots
    assert summary["last_turns"][0] == {"role": "rider", "text": "人民广场这辆车刹车坏了", "intent": "report_bike_fault"}
    assert {"role": "bot", "text": "已经为您登记报修。"} in summary["last_turns"]
    assert summary["last_message"] == "我要找人工客服"
    assert [t["number"] for t in summary["tickets"]] == [mine.number]
    assert elsewhere.number not in str(summary)
    assert result.responses == ["utter_handoff_queued"]
    queued = result.message("utter_handoff_queued")
    assert (queued["ahead"], queued["wait"]) == (0, 4)
    assert_pauses_the_bot(result)


@pytest.mark.parametrize(
    "slots, intent, reason, priority",
    [
        ({}, "request_human", "requested", "normal"),
        ({}, "nlu_fallback", "fallback", "normal"),
        ({"handoff_reason": "form_failure"}, "inform", "form_failure", "high"),
        ({"handoff_reason": "safety"}, "safety_issue", "safety", "urgent"),
        ({}, "safety_issue", "safety", "urgent"),
        ({"handoff_reason": "anger"}, "order_issue", "anger", "high"),
        ({"handoff_reason": "fallback"}, "nlu_fallback", "fallback", "normal"),
        ({}, "greet", "other", "normal"),
    ],
)
async def test_reason_comes_from_the_slot_or_the_intent(db, agent_online, domain, run, slots, intent, reason, priority):
    result = await run(ActionHandoff(), handoff_tracker(domain, text="……", intent=intent, **slots))

    handoff = db.one(Handoff)
    assert (handoff.reason, handoff.priority) == (reason, priority)
    assert handoff.summary["reason"] == reason
    assert result.responses == ["utter_handoff_queued"]


async def test_second_handoff_of_a_conversation_keeps_one_row(db, agent_online, domain, run):
    tracker = handoff_tracker(domain)
    await run(ActionHandoff(), tracker)

    again = await run(ActionHandoff(), tracker)

    assert again.responses == ["utter_handoff_already"]
    assert again.message("utter_handoff_already")["ahead"] == 0
    assert len(db.all(Handoff)) == 1
    assert_pauses_the_bot(again)


async def test_a_second_conversation_waits_behind_the_first(db, agent_online, domain, run):
    first = await run(ActionHandoff(), handoff_tracker(domain, rider=DEMO_RIDER))
    second = await run(ActionHandoff(), handoff_tracker(domain, rider=OTHER_RIDER))

    assert first.message("utter_handoff_queued")["ahead"] == 0
    queued = second.message("utter_handoff_queued")
    assert queued["ahead"] == 1 and queued["wait"] > first.message("utter_handoff_queued")["wait"]
    assert len(db.all(Handoff)) == 2


async def test_rider_already_with_an_agent_is_told_so(db, agent_online, domain, run):
    await run(ActionHandoff(), handoff_tracker(domain))
    with db.session() as session:
        HandoffQueue(session).claim(db.one(Handoff).id, "agent-xiaowang")

    result = await run(ActionHandoff(), handoff_tracker(domain))

    assert result.responses == ["utter_handoff_with_agent"]
    assert len(db.all(Handoff)) == 1
    assert_pauses_the_bot(result)


# --- action_safety_report --------------------------------------------------------------------
async def test_safety_report_opens_an_urgent_ticket_and_marks_the_reason(db, agent_online, domain, run):
    tracker = handoff_tracker(
        domain, text="骑车的时候刹车失灵摔倒了，膝盖流血", intent="safety_issue", bike_number=DEMO_BIKE, place="静安寺"
    )

    result = await run(ActionSafetyReport(), tracker)

    ticket = db.one(Ticket)
    assert (ticket.category, ticket.priority, ticket.department) == ("safety", "urgent", "safety")
    assert (ticket.due_at - ticket.created_at).total_seconds() == 3600
    assert (ticket.bike_number, ticket.place, ticket.rider_id) == (DEMO_BIKE, "静安寺", DEMO_RIDER)
    assert ticket.description == "骑车的时候刹车失灵摔倒了，膝盖流血"
    assert db.get(Bike, DEMO_BIKE).status == "reported"
    assert result.responses == ["utter_safety_first"]
    assert result.message("utter_safety_first")["ticket_number"] == ticket.number
    assert result.slots() == {"handoff_reason": "safety"}


async def test_safety_handoff_jumps_the_queue(db, agent_online, domain, run):
    await run(ActionHandoff(), handoff_tracker(domain, rider=OTHER_RIDER))
    tracker = handoff_tracker(domain, text="我被车撞了", intent="safety_issue")
    safety = await run(ActionSafetyReport(), tracker)
    assert safety.slots() == {"handoff_reason": "safety"}

    result = await run(ActionHandoff(), handoff_tracker(domain, text="我被车撞了", intent="safety_issue", handoff_reason="safety"))

    assert result.message("utter_handoff_queued")["ahead"] == 0
    mine = db.one(Handoff, Handoff.conversation_id == DEMO_RIDER)
    assert (mine.reason, mine.priority, mine.category) == ("safety", "urgent", "safety")
    assert [t["category"] for t in mine.summary["tickets"]] == ["safety"]


async def test_safety_report_without_a_bike(db, agent_online, domain, run):
    result = await run(ActionSafetyReport(), handoff_tracker(domain, text="有人受伤了", intent="safety_issue"))

    ticket = db.one(Ticket)
    assert ticket.bike_number is None and ticket.category == "safety"
    assert result.responses == ["utter_safety_first"]


async def test_summary_names_each_problem_of_a_several_problem_message(db, agent_online, domain, run):
    tracker = build_tracker(
        domain,
        slots={"pending_problems": ["order_issue"]},
        events=[user("车坏了而且还多扣了我钱", "report_bike_fault+order_issue"), user("转人工", "request_human")],
    )

    await run(ActionHandoff(), tracker)

    summary = db.one(Handoff).summary
    assert summary["intents"] == ["report_bike_fault", "order_issue", "request_human"]
    assert summary["topic"] == "order_issue"
    assert summary["slots"] == {"pending_problems": ["order_issue"]}  # the agent sees what still waits
