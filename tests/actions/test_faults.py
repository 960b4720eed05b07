"""Bike faults: the fault report form's validation and ``action_report_fault``."""
from __future__ import annotations

import pytest

from actions.faults import ActionReportFault, ValidateFaultReportForm
from ridedesk.db.demo import DEMO_BIKE, DEMO_EBIKE, DEMO_RIDER, UNKNOWN_BIKE
from ridedesk.db.models import Bike, Ticket

from ridedesk.text import normalize

from action_helpers import build_tracker, form_tracker, load_tracker, user

FORM = "fault_report_form"


# --- validate_fault_report_form: bike_number -------------------------------------------------
@pytest.mark.parametrize("said", [DEMO_BIKE, "车号 862 104 573", "８６２１０４５７３"])
async def test_existing_bike_is_accepted_and_failures_reset(db, domain, run, said):
    tracker = form_tracker(domain, FORM, "bike_number", said, slots={"form_failures": 2})

    result = await run(ValidateFaultReportForm(), tracker)

    assert result.responses == []
    assert result.slots() == {"bike_number": DEMO_BIKE, "form_failures": 0}
    assert result.followups == []


@pytest.mark.parametrize("said", ["12345", "车号是 abc", UNKNOWN_BIKE, "862104573 和 862104581"])
async def test_malformed_or_unknown_bike_is_reasked_and_counted(db, domain, run, said):
    tracker = form_tracker(domain, FORM, "bike_number", said, slots={"form_failures": 1})

    result = await run(ValidateFaultReportForm(), tracker)

    assert result.responses == ["utter_invalid_bike_number"]
    assert result.slots() == {"bike_number": None, "form_failures": 2}
    assert result.followups == [] and not result.deactivates_loop
    assert not result.sets("handoff_reason")


async def test_first_failure_counts_from_zero_when_the_slot_is_unset(db, domain, run):
    tracker = form_tracker(domain, FORM, "bike_number", UNKNOWN_BIKE, slots={"form_failures": None})

    result = await run(ValidateFaultReportForm(), tracker)

    assert result.slots()["form_failures"] == 1


async def test_third_failure_leaves_the_form_for_a_human(db, domain, run):
    tracker = form_tracker(domain, FORM, "bike_number", UNKNOWN_BIKE, slots={"form_failures": 2})

    result = await run(ValidateFaultReportForm(), tracker)

    assert result.responses == ["utter_form_too_many_failures"]
    slots = result.slots()
    assert slots["handoff_reason"] == "form_failure"
    assert slots["bike_number"] is None and slots["requested_slot"] is None
    assert slots["form_failures"] == 0
    assert result.deactivates_loop
    assert result.followups == ["action_handoff"]
    # The hand-off must come after the loop is closed, or Rasa would re-enter the form.
    kinds = [e["event"] for e in result.events]
    assert kinds.index("active_loop") < kinds.index("followup")


# --- validate_fault_report_form: fault_part --------------------------------------------------
@pytest.mark.parametrize(
    "said, stored",
    [("刹车", "刹车"), ("骑着咔咔响", "骑着咔咔响"), ("  后轮 　有点歪  ", "后轮 有点歪")],
)
async def test_fault_part_free_text_is_accepted(db, domain, run, said, stored):
    tracker = form_tracker(domain, FORM, "fault_part", said, slots={"bike_number": DEMO_BIKE, "form_failures": 1})

    result = await run(ValidateFaultReportForm(), tracker)

    assert result.responses == []
    assert result.slots() == {"fault_part": stored, "form_failures": 0}


@pytest.mark.parametrize("said", ["", "   ", None])
async def test_empty_fault_part_is_rejected(db, domain, run, said):
    tracker = form_tracker(domain, FORM, "fault_part", said, text="", slots={"bike_number": DEMO_BIKE})

    result = await run(ValidateFaultReportForm(), tracker)

    assert result.responses == ["utter_ask_fault_part"]
    assert result.slots() == {"fault_part": None, "form_failures": 1}


async def test_long_free_text_part_fits_the_ticket_column(db, domain, run):
    said = "骑起来后轮一直咔咔响，蹬两下就掉链子，车座也松了往下滑，刹车还有点软，总之这车没法骑了，麻烦尽快修一下"
    validated = await run(ValidateFaultReportForm(), form_tracker(domain, FORM, "fault_part", said))
    part = validated.slots()["fault_part"]
    assert part and normalize(said).startswith(part)

    tracker = build_tracker(
        domain,
        slots={"bike_number": DEMO_BIKE, "fault_part": part},
        events=[user("车坏了", "report_bike_fault"), user(said, "inform")],
    )
    result = await run(ActionReportFault(), tracker)

    # The rider mentions soft brakes, so the service level makes it urgent and we say so.
    assert result.responses == ["utter_fault_urgent_note", "utter_fault_ticket_created"]
    ticket = db.one(Ticket)
    # VARCHAR(32): PostgreSQL would refuse a longer value and the report would be lost.
    assert len(ticket.fault_part) <= Ticket.__table__.c.fault_part.type.length
    assert said in ticket.description  # the rider's full words still reach the crew


# --- action_report_fault ---------------------------------------------------------------------
async def test_report_opens_one_fault_ticket_and_tells_its_number(db, domain, run):
    tracker = load_tracker(domain, "fault_report_brake")

    result = await run(ActionReportFault(), tracker)

    ticket = db.one(Ticket)
    assert ticket.category == "fault"
    assert (ticket.bike_number, ticket.fault_part) == (DEMO_BIKE, "刹车")
    assert ticket.rider_id == DEMO_RIDER and ticket.conversation_id == tracker.sender_id
    assert ticket.status == "open"
    assert "车刹车坏了，刹不住" in ticket.description
    assert result.message("utter_fault_ticket_created")["ticket_number"] == ticket.number
    assert db.get(Bike, DEMO_BIKE).status == "reported"
    assert result.slots() == {"bike_number": None, "fault_part": None, "place": None}
    assert result.followups == []


async def test_brake_report_gets_the_urgent_note_and_priority(db, domain, run):
    result = await run(ActionReportFault(), load_tracker(domain, "fault_report_brake"))

    assert result.responses == ["utter_fault_urgent_note", "utter_fault_ticket_created"]
    assert db.one(Ticket).priority == "high"


async def test_other_parts_get_no_urgent_note(db, domain, run):
    tracker = build_tracker(
        domain,
        slots={"bike_number": DEMO_BIKE, "fault_part": "车铃"},
        events=[user("车铃不响了", "report_bike_fault"), user(DEMO_BIKE, "inform")],
    )

    result = await run(ActionReportFault(), tracker)

    assert result.responses == ["utter_fault_ticket_created"]
    assert db.one(Ticket).priority == "normal"


async def test_report_twice_keeps_one_ticket(db, domain, run):
    tracker = load_tracker(domain, "fault_report_brake")
    first = await run(ActionReportFault(), tracker)
    number = first.message("utter_fault_ticket_created")["ticket_number"]

    again = await run(ActionReportFault(), load_tracker(domain, "fault_report_brake"))

    assert again.responses == ["utter_fault_ticket_exists"]
    assert again.message("utter_fault_ticket_exists")["ticket_number"] == number
    assert len(db.all(Ticket)) == 1


async def test_the_same_bike_from_another_rider_is_their_own_ticket(db, domain, run):
    await run(ActionReportFault(), load_tracker(domain, "fault_report_brake"))
    other = load_tracker(domain, "fault_report_brake", sender_id="demo-rider-2")

    result = await run(ActionReportFault(), other)

    assert result.responses[-1] == "utter_fault_ticket_created"
    assert sorted(t.rider_id for t in db.all(Ticket)) == ["demo-rider-1", "demo-rider-2"]


async def test_strongly_angry_report_is_handed_to_a_human(db, domain, run):
    result = await run(ActionReportFault(), load_tracker(domain, "fault_report_angry"))

    assert result.responses == ["utter_fault_ticket_created"]
    assert db.one(Ticket).bike_number == DEMO_EBIKE
    assert result.slots()["handoff_reason"] == "anger"
    assert result.followups == ["action_handoff"]


async def test_calm_report_is_not_handed_over(db, domain, run):
    result = await run(ActionReportFault(), load_tracker(domain, "fault_report_brake"))

    assert not result.sets("handoff_reason")
    assert result.followups == []
