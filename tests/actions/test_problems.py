"""Several problems in one message: named, asked which first, then each offered in turn."""
from __future__ import annotations

import pytest

from actions.deposits import ActionDepositStatus, ActionRequestDepositRefund
from actions.faults import ActionReportFault
from actions.offers import ActionDeclineOffer
from actions.orders import ActionOpenOrderDispute
from actions.problems import ActionPlanProblems, split_problems
from ridedesk.db.demo import DEMO_ORDER, DEMO_RIDER, RIDER_DEPOSIT_HELD, RIDER_WITHOUT_DEPOSIT
from ridedesk.db.models import Ticket

from action_helpers import build_tracker, load_tracker, user

FAULT_AND_ORDER = "report_bike_fault+order_issue"
DEPOSIT_AND_ORDER = ["deposit_refund", "order_issue"]


def waiting_tracker(domain, pending, offer, said, intent, sender_id=DEMO_RIDER, **slots):
    """A rider with problems still ``pending``, answering ``offer`` with ``said``."""
    return build_tracker(
        domain,
        sender_id=sender_id,
        slots={"pending_problems": list(pending), "offer": offer, **slots},
        events=[user(said, intent)],
    )


@pytest.mark.parametrize(
    "intent, topics",
    [
        (FAULT_AND_ORDER, ["report_bike_fault", "order_issue"]),
        ("deposit_refund+order_issue", ["deposit_refund", "order_issue"]),
        ("order_issue+order_issue", ["order_issue"]),
        ("complaint_suggestion+faq", []),
        (None, []),
    ],
)
def test_split_keeps_the_topics_we_can_handle_in_the_riders_order(intent, topics):
    assert split_problems(intent) == topics


async def test_both_problems_are_named_and_the_rider_chooses_which_first(db, domain, run):
    tracker = build_tracker(domain, events=[user("车坏了而且还多扣了我钱", FAULT_AND_ORDER)])

    result = await run(ActionPlanProblems(), tracker)

    assert result.responses == ["utter_several_problems"]
    [text] = result.texts
    assert "车辆故障" in text and "订单扣费" in text
    buttons = result.message("utter_several_problems")["buttons"]
    assert [b["payload"] for b in buttons] == ["/report_bike_fault", "/order_issue"]
    # "好的" takes them in the order the rider told them.
    assert result.slots() == {"pending_problems": ["report_bike_fault", "order_issue"], "offer": "next_fault"}
    assert db.all(Ticket) == []


async def test_a_multi_intent_without_two_topics_is_clarified(db, domain, run):
    tracker = build_tracker(domain, events=[user("投诉一下，顺便问问", "complaint_suggestion+faq")])

    result = await run(ActionPlanProblems(), tracker)

    assert result.responses == []
    assert result.followups == ["action_clarify_topic"]
    assert result.slots() == {}


async def test_closing_the_fault_offers_the_waiting_charge(db, domain, run):
    tracker = load_tracker(
        domain, "fault_report_brake", slots={"pending_problems": ["report_bike_fault", "order_issue"], "offer": "next_fault"}
    )

    result = await run(ActionReportFault(), tracker)

    assert result.responses[-2:] == ["utter_fault_ticket_created", "utter_offer_next_problem"]
    assert result.message("utter_offer_next_problem")["problem"] == "订单扣费"
    assert "订单扣费" in result.texts[-1]
    assert result.slots()["pending_problems"] == ["order_issue"]
    assert result.slots()["offer"] == "next_order"
    assert db.one(Ticket).category == "fault"  # the first problem was really handled


async def test_closing_the_last_waiting_problem_clears_the_list(db, domain, run):
    tracker = load_tracker(
        domain, "fault_report_brake", slots={"pending_problems": ["report_bike_fault"], "offer": "next_fault"}
    )

    result = await run(ActionReportFault(), tracker)

    assert "utter_offer_next_problem" not in result.responses
    assert result.slots()["pending_problems"] is None and result.slots()["offer"] is None


async def test_nothing_waiting_changes_nothing(db, domain, run):
    result = await run(ActionReportFault(), load_tracker(domain, "fault_report_brake"))

    assert "utter_offer_next_problem" not in result.responses
    assert not result.sets("pending_problems") and not result.sets("offer")


async def test_an_angry_rider_goes_to_a_human_before_any_next_offer(db, domain, run):
    tracker = load_tracker(domain, "fault_report_angry", slots={"pending_problems": ["report_bike_fault", "order_issue"]})

    result = await run(ActionReportFault(), tracker)

    assert result.followups == ["action_handoff"]
    assert "utter_offer_next_problem" not in result.responses
    assert not result.sets("pending_problems")  # still listed for the agent's summary


async def test_order_dispute_then_the_waiting_fault(db, domain, run):
    tracker = build_tracker(
        domain,
        slots={"order_number": DEMO_ORDER, "offer": "order_dispute", "pending_problems": ["report_bike_fault", "order_issue"]},
        events=[user("多扣了我钱", "order_issue"), user("是的", "affirm")],
    )

    result = await run(ActionOpenOrderDispute(), tracker)

    assert result.responses[-1] == "utter_offer_next_problem"
    assert result.message("utter_offer_next_problem")["problem"] == "车辆故障"
    assert result.slots() == {"order_number": None, "offer": "next_fault", "pending_problems": ["report_bike_fault"]}
    assert db.one(Ticket).category == "order_dispute"


async def test_a_held_deposit_keeps_its_refund_offer_before_the_next_problem(db, domain, run):
    tracker = waiting_tracker(domain, DEPOSIT_AND_ORDER, "next_deposit", "好", "affirm", RIDER_DEPOSIT_HELD)

    result = await run(ActionDepositStatus(), tracker)

    assert result.responses == ["utter_deposit_held"]
    assert result.slots() == {"offer": "deposit_refund"}


async def test_no_deposit_moves_straight_to_the_waiting_charge(db, domain, run):
    tracker = waiting_tracker(
        domain, DEPOSIT_AND_ORDER, "next_deposit", "押金没退还多扣了我钱", "deposit_refund+order_issue", RIDER_WITHOUT_DEPOSIT
    )

    result = await run(ActionDepositStatus(), tracker)

    assert result.responses == ["utter_deposit_none", "utter_offer_next_problem"]
    assert result.slots() == {"pending_problems": ["order_issue"], "offer": "next_order"}


async def test_refund_started_then_the_waiting_charge(db, domain, run):
    tracker = waiting_tracker(domain, DEPOSIT_AND_ORDER, "deposit_refund", "好的", "affirm", RIDER_DEPOSIT_HELD)

    result = await run(ActionRequestDepositRefund(), tracker)

    assert result.responses == ["utter_deposit_refund_started", "utter_offer_next_problem"]
    assert result.slots() == {"offer": "next_order", "pending_problems": ["order_issue"]}


async def test_declining_a_dispute_moves_on_to_the_waiting_problem(db, domain, run):
    tracker = waiting_tracker(domain, ["report_bike_fault", "order_issue"], "order_dispute", "不用了", "deny")

    result = await run(ActionDeclineOffer(), tracker)

    assert result.responses == ["utter_offer_next_problem"]
    assert result.slots() == {"offer": "next_fault", "pending_problems": ["report_bike_fault"]}


@pytest.mark.parametrize("offer", ["next_fault", "next_order", "next_deposit", "next_parking"])
async def test_declining_the_waiting_problem_drops_it(db, domain, run, offer):
    tracker = waiting_tracker(domain, ["order_issue"], offer, "先不用了", "deny")

    result = await run(ActionDeclineOffer(), tracker)

    assert result.responses == ["utter_anything_else"]
    assert result.slots() == {"offer": None, "pending_problems": None}
    assert db.all(Ticket) == []


def test_every_topic_offer_is_a_value_of_the_offer_slot(domain):
    from actions.problems import NEXT_PROBLEM_OFFERS

    assert set(NEXT_PROBLEM_OFFERS.values()) <= set(domain["slots"]["offer"]["values"])
    [offer] = domain["responses"]["utter_offer_next_problem"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    multi = [i for i in domain["intents"] if "+" in str(i)]
    assert multi and all(len(split_problems(i)) == 2 for i in multi)
