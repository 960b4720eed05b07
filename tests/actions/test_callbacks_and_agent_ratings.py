"""No agent available → a promised callback; a rating after an agent belongs to that agent."""
from __future__ import annotations

import re
from datetime import timedelta

from actions.callbacks import ActionLeaveCallback, ValidateCallbackForm
from actions.handoff import ActionHandoff
from actions.survey import ActionAskRating, ActionRecordRating
from ridedesk.clock import utcnow
from ridedesk.db.demo import DEMO_RIDER
from ridedesk.db.models import Handoff, SurveyResponse, Ticket
from ridedesk.db.session import session_scope
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.riders import Riders
from ridedesk.settings import get_settings

from action_helpers import build_tracker, entity, form_tracker, user


def asked_for_a_human(domain):
    return build_tracker(domain, sender_id=DEMO_RIDER, events=[user("押金一直不到账", "deposit_refund"), user("转人工", "request_human")])


async def test_nobody_online_offers_a_callback_instead_of_a_queue(db, domain, run):
    result = await run(ActionHandoff(), asked_for_a_human(domain))

    assert result.responses == ["utter_handoff_no_agents"]
    assert re.search(r"\d+月\d+日 \d\d:\d\d", result.texts[0]), result.texts[0]
    assert result.slots()["offer"] == "callback"
    assert "pause" not in [e["event"] for e in result.events]
    assert db.all(Handoff) == []


async def test_outside_service_hours_the_rider_is_told_the_hours(db, agent_online, domain, run, monkeypatch):
    now_local = utcnow().astimezone(__import__("zoneinfo").ZoneInfo(get_settings().timezone))
    start = (now_local + timedelta(hours=2)).strftime("%H:00")
    end = (now_local + timedelta(hours=4)).strftime("%H:00")
    monkeypatch.setenv("RIDEDESK_SERVICE_HOURS", f"{start}-{end}")
    get_settings.cache_clear()

    result = await run(ActionHandoff(), asked_for_a_human(domain))

    assert result.responses == ["utter_handoff_closed"]
    assert f"{start}–{end}" in result.texts[0] or f"{start}-{end}" in result.texts[0]
    assert db.all(Handoff) == []


async def test_a_safety_issue_is_queued_even_with_nobody_online(db, domain, run):
    tracker = build_tracker(domain, sender_id=DEMO_RIDER, slots={"handoff_reason": "safety"}, events=[user("我摔伤了", "safety_issue")])
    result = await run(ActionHandoff(), tracker)

    assert result.responses == ["utter_handoff_queued"]
    assert db.one(Handoff).priority == "urgent"


async def test_a_known_phone_is_prefilled_for_the_callback(db, domain, run):
    with session_scope(db.url) as session:
        Riders(session).set_phone(DEMO_RIDER, "13812345678")
    result = await run(ActionHandoff(), asked_for_a_human(domain))
    assert result.slots()["phone_number"] == "13812345678"


async def test_callback_form_needs_a_valid_number(db, domain, run):
    bad = await run(ValidateCallbackForm(), form_tracker(domain, "callback_form", "phone_number", "12345"))
    assert bad.responses == ["utter_invalid_phone_number"]
    good = await run(ValidateCallbackForm(), form_tracker(domain, "callback_form", "phone_number", "+86 139-0000-1111"))
    assert good.slots()["phone_number"] == "13900001111"


async def test_a_no_is_not_a_callback_number(db, domain, run):
    # Unlike a complaint, a callback without a number cannot happen: the "no" is rejected
    # here and the form's stop rule ends it before validation.
    said = await run(
        ValidateCallbackForm(), form_tracker(domain, "callback_form", "phone_number", "不用了", intent="deny")
    )
    assert said.responses == ["utter_invalid_phone_number"]
    assert said.slots()["phone_number"] is None


async def test_the_callback_ticket_is_due_when_we_promised(db, domain, run):
    tracker = build_tracker(
        domain,
        sender_id=DEMO_RIDER,
        slots={"phone_number": "13900001111", "offer": "callback"},
        events=[user("押金一直不到账", "deposit_refund"), user("转人工", "request_human"), user("好的", "affirm")],
    )
    result = await run(ActionLeaveCallback(), tracker)

    ticket = db.one(Ticket)
    assert ticket.category == "callback" and "13900001111" in ticket.description
    assert "押金一直不到账" in ticket.description
    assert ticket.number in result.texts[0]
    assert timedelta(hours=1) < ticket.due_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None) <= timedelta(hours=2, minutes=1)
    assert result.slots() == {"phone_number": None, "offer": None}


def resolved_handoff(db):
    with session_scope(db.url) as session:
        queue = HandoffQueue(session)
        handoff, _ = queue.enqueue(DEMO_RIDER, DEMO_RIDER, "requested", {"reason": "requested"})
        queue.claim(handoff.id, "xiaowang")
        queue.resolve(handoff.id, "xiaowang")
        return handoff.id


async def test_after_an_agent_the_bot_asks_for_a_rating_and_stores_it_with_the_agent(db, domain, run):
    handoff_id = resolved_handoff(db)
    events = [user("转人工", "request_human"), {"event": "resume"}]
    asked = await run(ActionAskRating(), build_tracker(domain, sender_id=DEMO_RIDER, events=events))
    assert asked.responses == ["utter_ask_rating"]

    rated = await run(
        ActionRecordRating(),
        build_tracker(domain, sender_id=DEMO_RIDER, events=events + [user('/rate_service{"rating": 5}', "rate_service", [entity("rating", 5)])]),
    )
    assert rated.responses == ["utter_rating_thanks"]
    survey = db.one(SurveyResponse)
    assert (survey.rating, survey.handoff_id, survey.agent) == (5, handoff_id, "xiaowang")
