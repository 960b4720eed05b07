"""Two-stage fallback, the satisfaction survey and declined offers."""
from __future__ import annotations

import pytest

from actions.fallback import ActionClarifyTopic
from actions.handoff import ActionHandoff
from actions.offers import ActionDeclineOffer
from actions.survey import ActionAskRating, ActionRecordRating
from ridedesk.db.demo import DEMO_RIDER
from ridedesk.db.models import Handoff, SurveyResponse

from action_helpers import action, bot, build_tracker, entity, load_tracker, user


def fallback_message(text, ranking):
    return user(text, "nlu_fallback", intent_ranking=[{"name": n, "confidence": c} for n, c in ranking])


# --- action_clarify_topic --------------------------------------------------------------------
async def test_first_fallback_offers_the_two_likeliest_topics_and_a_human(db, domain, run):
    message = fallback_message(
        "那个钱的事", [("nlu_fallback", 0.7), ("greet", 0.4), ("deposit_refund", 0.3), ("parking_issue", 0.2), ("order_issue", 0.1)]
    )
    tracker = build_tracker(domain, events=[action("action_listen"), message])

    result = await run(ActionClarifyTopic(), tracker)

    assert result.responses == ["utter_clarify"]
    assert result.messages[0]["buttons"] == [
        {"title": "押金和退押金", "payload": "/deposit_refund"},
        {"title": "停车和调度费", "payload": "/parking_issue"},
        {"title": "转人工客服", "payload": "/request_human"},
    ]
    assert result.events == []


async def test_topics_default_when_the_ranking_has_none(db, domain, run):
    message = fallback_message("嗯嗯", [("nlu_fallback", 0.7), ("faq", 0.2), ("greet", 0.1)])

    result = await run(ActionClarifyTopic(), build_tracker(domain, events=[message]))

    assert [b["payload"] for b in result.messages[0]["buttons"]] == ["/faq", "/report_bike_fault", "/request_human"]


async def test_second_consecutive_fallback_goes_to_a_human(db, agent_online, domain, run):
    tracker = load_tracker(domain, "fallback_twice")

    result = await run(ActionClarifyTopic(), tracker)

    assert result.responses == []
    assert result.slots() == {"handoff_reason": "fallback"}
    assert result.followups == ["action_handoff"]

    handoff = await run(ActionHandoff(), load_tracker(domain, "fallback_twice", slots={"handoff_reason": "fallback"}))
    assert db.one(Handoff).reason == "fallback"
    assert handoff.responses == ["utter_handoff_queued"]


async def test_fallback_after_a_helpful_turn_clarifies_again(db, domain, run):
    events = [
        fallback_message("那个东西", [("nlu_fallback", 0.7)]),
        action("action_clarify_topic"),
        bot("我想确认一下，您是想问哪一类问题？"),
        action("action_listen"),
        user("押金", "deposit_refund"),
        action("action_deposit_status"),
        action("action_listen"),
        fallback_message("还有那个呢", [("nlu_fallback", 0.7), ("order_issue", 0.2)]),
    ]

    result = await run(ActionClarifyTopic(), build_tracker(domain, events=events))

    assert result.responses == ["utter_clarify"]
    assert result.followups == []


@pytest.mark.parametrize("text", ["", "   "])
async def test_empty_message(db, domain, run, text):
    result = await run(ActionClarifyTopic(), build_tracker(domain, events=[fallback_message(text, [])]))

    assert result.responses == ["utter_empty_message"]
    assert result.events == []


# --- action_ask_rating -----------------------------------------------------------------------
async def test_rating_is_asked_after_a_resolving_action(db, domain, run):
    events = [user("押金退了吗", "deposit_refund"), action("action_deposit_status"), action("action_listen"), user("谢谢", "thanks")]

    result = await run(ActionAskRating(), build_tracker(domain, events=events))

    assert result.responses == ["utter_ask_rating"]
    buttons = result.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [f'/rate_service{{"rating": {n}}}' for n in (5, 4, 3, 2, 1)]
    assert result.events == []


async def test_rating_is_not_asked_before_anything_was_resolved(db, domain, run):
    events = [user("你好", "greet"), action("utter_greet"), action("action_listen"), user("谢谢", "thanks")]

    result = await run(ActionAskRating(), build_tracker(domain, events=events))

    assert result.responses == []


@pytest.mark.parametrize("earlier", ["action_ask_rating", "action_record_rating"])
async def test_rating_is_asked_only_once(db, domain, run, earlier):
    events = [user("报修", "report_bike_fault"), action("action_report_fault"), action(earlier), user("谢谢", "thanks")]

    result = await run(ActionAskRating(), build_tracker(domain, events=events))

    assert result.responses == []


# --- action_record_rating --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, entities, rating",
    [
        ('/rate_service{"rating": 4}', [entity("rating", 4)], 4),
        ("5 非常满意", [entity("rating", "5")], 5),
        ("五星", [], 5),
        ("给3分", [], 3),
        ("1", [], 1),
    ],
)
async def test_rating_is_stored(db, domain, run, text, entities, rating):
    tracker = build_tracker(domain, events=[user(text, "rate_service", entities)])

    result = await run(ActionRecordRating(), tracker)

    assert result.responses == ["utter_rating_thanks"]
    stored = db.one(SurveyResponse)
    assert (stored.rating, stored.conversation_id, stored.rider_id) == (rating, DEMO_RIDER, DEMO_RIDER)


@pytest.mark.parametrize(
    "text, entities",
    [("0", []), ("6", []), ("给6分", []), ("asdf？？", []), ("明天下雨吗", []), ("/rate_service", [entity("rating", "0")]),
     ("/rate_service", [entity("rating", 6)]), ("/rate_service", [entity("rating", "abc")]), ("", [])],
)
async def test_invalid_rating_is_reasked_and_nothing_is_written(db, domain, run, text, entities):
    result = await run(ActionRecordRating(), build_tracker(domain, events=[user(text, "rate_service", entities)]))

    assert result.responses == ["utter_rating_invalid"]
    assert result.events == []
    assert db.all(SurveyResponse) == []


async def test_one_rating_per_conversation(db, domain, run):
    await run(ActionRecordRating(), build_tracker(domain, events=[user("5", "rate_service")]))

    again = await run(ActionRecordRating(), build_tracker(domain, events=[user("1", "rate_service")]))

    assert again.responses == ["utter_rating_thanks"]
    assert db.one(SurveyResponse).rating == 5


# --- action_decline_offer --------------------------------------------------------------------
@pytest.mark.parametrize("offer", ["deposit_refund", "order_dispute", "parking_dispute", None])
async def test_declining_clears_the_offer(db, domain, run, offer):
    tracker = build_tracker(domain, slots={"offer": offer}, events=[user("不用了", "deny")])

    result = await run(ActionDeclineOffer(), tracker)

    assert result.responses == ["utter_anything_else"]
    assert result.slots() == {"offer": None}
