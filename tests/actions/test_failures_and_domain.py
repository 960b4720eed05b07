"""Failure handling (no database) and the contract between the actions and ``domain.yml``."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from rasa_sdk import Action

import actions
from actions.common import ERROR_RESPONSES
from actions.complaints import ActionRecordComplaint, ValidateComplaintForm
from actions.deposits import ActionDepositStatus, ActionRequestDepositRefund
from actions.faults import ActionReportFault, ValidateFaultReportForm
from actions.handoff import ActionHandoff
from actions.orders import ActionExplainOrder, ActionOpenOrderDispute, ValidateOrderForm
from actions.parking import ActionOpenParkingDispute, ActionParkingHelp, ValidateParkingDisputeForm
from actions.safety import ActionSafetyReport
from actions.survey import ActionRecordRating
from actions.tickets import ActionTicketStatus
from ridedesk.db.demo import DEMO_BIKE, DEMO_ORDER_NO_PARKING_FEE
from ridedesk.db.session import dispose_all
from ridedesk.settings import get_settings

from action_helpers import build_tracker, form_tracker, point_actions_at, user, utter_names_in

ACTIONS_DIR = Path(actions.__file__).resolve().parent
SLOTS = {
    "bike_number": DEMO_BIKE,
    "fault_part": "刹车",
    "order_number": DEMO_ORDER_NO_PARKING_FEE,
    "ticket_number": "GD202611230001",
    "phone_number": "13812345678",
}
DB_ACTIONS = [
    ActionReportFault,
    ActionExplainOrder,
    ActionOpenOrderDispute,
    ActionDepositStatus,
    ActionRequestDepositRefund,
    ActionParkingHelp,
    ActionOpenParkingDispute,
    ActionTicketStatus,
    ActionRecordComplaint,
    ActionSafetyReport,
    ActionHandoff,
    ActionRecordRating,
]


@pytest.fixture(params=["unmigrated", "unreachable"])
def broken_db(request, tmp_path, monkeypatch):
    """Actions pointed at an empty, never-migrated SQLite file, or at a path that cannot exist."""
    if request.param == "unmigrated":
        path = tmp_path / "empty.db"
    else:
        (tmp_path / "not-a-dir").write_text("a file where a directory should be")
        path = tmp_path / "not-a-dir" / "ridedesk.db"
    point_actions_at(monkeypatch, f"sqlite:///{path}")
    yield path
    get_settings.cache_clear()
    dispose_all()


@pytest.mark.parametrize("action_class", DB_ACTIONS, ids=lambda c: c().name())
async def test_action_without_database_says_sorry_and_does_not_raise(broken_db, domain, run, action_class):
    tracker = build_tracker(domain, slots=SLOTS, events=[user("5", "rate_service")])

    result = await run(action_class(), tracker)

    assert result.responses[-1] == "utter_service_error"
    assert result.responses.count("utter_service_error") == 1
    assert result.events == []


@pytest.mark.parametrize(
    "validation, form, slot, value",
    [
        (ValidateFaultReportForm, "fault_report_form", "bike_number", DEMO_BIKE),
        (ValidateOrderForm, "order_form", "order_number", DEMO_ORDER_NO_PARKING_FEE),
        (ValidateParkingDisputeForm, "parking_dispute_form", "order_number", DEMO_ORDER_NO_PARKING_FEE),
    ],
)
async def test_form_validation_without_database_says_sorry(broken_db, domain, run, validation, form, slot, value):
    result = await run(validation(), form_tracker(domain, form, slot, value))

    assert result.responses == ["utter_service_error"]
    assert result.events == []


async def test_validation_without_database_access_still_works(broken_db, domain, run):
    # Phone numbers need no database: a broken database must not break this form.
    result = await run(ValidateComplaintForm(), form_tracker(domain, "complaint_form", "phone_number", "13812345678"))

    assert result.responses == []
    assert result.slots() == {"phone_number": "13812345678", "form_failures": 0}


# --- domain contract -------------------------------------------------------------------------
def _action_instances():
    for info in pkgutil.iter_modules([str(ACTIONS_DIR)]):
        module = importlib.import_module(f"actions.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                try:
                    yield cls().name()
                except NotImplementedError:  # shared base classes without a name
                    continue


def test_every_uttered_response_exists_in_the_domain(domain):
    names = utter_names_in(sorted(ACTIONS_DIR.glob("*.py")))

    assert len(names) > 30  # the scan itself works
    missing = sorted(name for name in names if name not in domain["responses"])
    assert missing == []


def test_error_mapping_uses_existing_responses(domain):
    assert sorted(set(ERROR_RESPONSES.values()) - set(domain["responses"])) == []


def test_every_domain_action_is_implemented_and_every_action_is_declared(domain):
    implemented = set(_action_instances())
    declared = set(domain["actions"])

    assert sorted(declared - implemented) == []
    assert sorted(implemented - declared) == []


def test_every_form_has_a_validation_and_asks_for_each_slot(domain):
    for form, spec in domain["forms"].items():
        assert f"validate_{form}" in domain["actions"]
        for slot in spec["required_slots"]:
            assert slot in domain["slots"]
            assert f"utter_ask_{slot}" in domain["responses"], f"{form} cannot ask for {slot}"


def test_slots_the_actions_set_exist_in_the_domain(domain):
    set_slots = set()
    for path in ACTIONS_DIR.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        set_slots.update(re.findall(r'SlotSet\(\s*"([a-z_]+)"', text))
        for call in re.findall(r"slot_reset\(([^)]*)\)", text):
            set_slots.update(re.findall(r'"([a-z_]+)"', call))

    assert {"offer", "handoff_reason", "order_number", "bike_number"} <= set_slots  # the scan works
    assert sorted(set_slots - set(domain["slots"]) - {"requested_slot"}) == []
