"""Complaints: the callback-number validation and ``action_record_complaint``."""
from __future__ import annotations

import pytest

from actions.complaints import ActionRecordComplaint, ValidateComplaintForm
from ridedesk.db.demo import DEMO_RIDER, RIDERS
from ridedesk.db.models import Rider, Ticket

from action_helpers import form_tracker, load_tracker

FORM = "complaint_form"


@pytest.mark.parametrize(
    "said", ["138 1234 5678", "13812345678", "+86 138-1234-5678", "+8613812345678", "我的手机是幺三八一二三四五六七八"]
)
async def test_valid_mobile_number_is_accepted(db, domain, run, said):
    tracker = form_tracker(domain, FORM, "phone_number", said, slots={"form_failures": 2})

    result = await run(ValidateComplaintForm(), tracker)

    assert result.responses == []
    assert result.slots() == {"phone_number": "13812345678", "form_failures": 0}


@pytest.mark.parametrize("said", ["12345", "021-6234 5678", "12812345678", "13812345678 13900139001", "没有"])
async def test_invalid_number_is_reasked(db, domain, run, said):
    result = await run(ValidateComplaintForm(), form_tracker(domain, FORM, "phone_number", said))

    assert result.responses == ["utter_invalid_phone_number"]
    assert result.slots() == {"phone_number": None, "form_failures": 1}


async def test_declining_is_accepted_as_no_number(db, domain, run):
    tracker = form_tracker(domain, FORM, "phone_number", "不用了", intent="deny", slots={"form_failures": 1})

    result = await run(ValidateComplaintForm(), tracker)

    assert result.responses == []
    assert result.slots() == {"phone_number": "未留", "form_failures": 0}


async def test_third_invalid_number_escalates(db, domain, run):
    tracker = form_tracker(domain, FORM, "phone_number", "123", slots={"form_failures": 2})

    result = await run(ValidateComplaintForm(), tracker)

    assert result.responses == ["utter_form_too_many_failures"]
    assert result.slots()["handoff_reason"] == "form_failure"
    assert result.deactivates_loop and result.followups == ["action_handoff"]


async def test_complaint_is_a_ticket_due_in_24_hours_and_the_phone_is_kept(db, domain, run):
    assert db.get(Rider, DEMO_RIDER).phone == RIDERS[DEMO_RIDER][1]

    result = await run(ActionRecordComplaint(), load_tracker(domain, "complaint"))

    ticket = db.one(Ticket)
    assert (ticket.category, ticket.priority, ticket.rider_id) == ("complaint", "high", DEMO_RIDER)
    assert ticket.conversation_id == DEMO_RIDER
    assert (ticket.due_at - ticket.created_at).total_seconds() == 24 * 3600
    assert ticket.description == "你们客服电话一直打不通，我要投诉（回电：13812345678）"
    assert db.get(Rider, DEMO_RIDER).phone == "13812345678"
    assert result.responses == ["utter_complaint_recorded"]
    assert result.message("utter_complaint_recorded")["ticket_number"] == ticket.number
    assert result.slots() == {"phone_number": None}
    assert result.followups == []


async def test_complaint_without_a_number_keeps_the_old_phone(db, domain, run):
    result = await run(ActionRecordComplaint(), load_tracker(domain, "complaint", slots={"phone_number": "未留"}))

    ticket = db.one(Ticket)
    assert ticket.description.endswith("（回电：未留）")
    assert db.get(Rider, DEMO_RIDER).phone == RIDERS[DEMO_RIDER][1]
    assert result.responses == ["utter_complaint_recorded"]


async def test_same_complaint_twice_is_one_ticket(db, domain, run):
    first = await run(ActionRecordComplaint(), load_tracker(domain, "complaint"))
    again = await run(ActionRecordComplaint(), load_tracker(domain, "complaint"))

    assert len(db.all(Ticket)) == 1
    assert again.message("utter_complaint_recorded")["ticket_number"] == first.message("utter_complaint_recorded")["ticket_number"]
