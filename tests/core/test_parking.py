"""Dispatch-fee rules and fee disputes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ridedesk.db.models import Order, Ticket
from ridedesk.services import InvalidTransition, InvalidValue, NotFound, NotYours, Orders, Parking


@pytest.fixture
def parking(session, clock, demo):
    return Parking(session, clock)


def test_rules_are_data_with_distinct_fees():
    fees = {rule.zone: rule.fee_fen for rule in Parking.rules()}
    assert fees == {
        "parking_spot": 0,
        "outside_parking_spot": 500,
        "no_parking_zone": 1000,
        "outside_service_area": 2000,
    }
    assert Parking.fee_for("outside_service_area") == 2000
    assert Parking.rules()[2].fee == "10.00元"
    with pytest.raises(InvalidValue, match="parking_zone_invalid"):
        Parking.fee_for("moon")


def test_rule_for_order(parking, session, demo):
    assert Parking.rule_for(session.get(Order, demo.DEMO_ORDER_NO_PARKING_FEE)).zone == "no_parking_zone"
    assert Parking.rule_for(session.get(Order, demo.DEMO_ORDER_OUTSIDE_AREA_FEE)).zone == "outside_service_area"
    assert Parking.rule_for(session.get(Order, demo.OTHER_RIDER_ORDER)).zone == "outside_parking_spot"
    assert Parking.rule_for(session.get(Order, demo.DEMO_ORDER)) is None


def test_open_fee_dispute(parking, session, demo):
    ticket, created = parking.open_fee_dispute(
        demo.DEMO_ORDER_NO_PARKING_FEE, demo.DEMO_RIDER, "我停在停车点里了", "conv")
    assert created
    assert (ticket.category, ticket.department, ticket.order_number) == (
        "parking_dispute", "operations", demo.DEMO_ORDER_NO_PARKING_FEE)
    assert ticket.place == "地铁9号线徐家汇站出口（禁停区）"
    assert session.get(Order, demo.DEMO_ORDER_NO_PARKING_FEE).status == "disputed"
    again, created = parking.open_fee_dispute(
        demo.DEMO_ORDER_NO_PARKING_FEE, demo.DEMO_RIDER, "再说一次", "conv")
    assert not created and again.id == ticket.id


def test_fee_dispute_and_fare_dispute_are_separate_tickets(parking, session, clock, demo):
    parking.open_fee_dispute(demo.DEMO_ORDER_NO_PARKING_FEE, demo.DEMO_RIDER, "调度费不合理", "c")
    _, created = Orders(session, clock).open_dispute(demo.DEMO_ORDER_NO_PARKING_FEE, demo.DEMO_RIDER, "骑行费也不对", "c")
    assert created
    assert session.execute(select(func.count(Ticket.id))).scalar_one() == 2


@pytest.mark.parametrize(
    "order_attr, error, code",
    [
        ("DEMO_ORDER", InvalidValue, "no_dispatch_fee"),
        ("DEMO_RIDING_ORDER", InvalidValue, "no_dispatch_fee"),
        ("OTHER_RIDER_ORDER", NotYours, "order_not_yours"),
        ("UNKNOWN_ORDER", NotFound, "order_not_found"),
    ],
)
def test_open_fee_dispute_refusals(parking, session, demo, order_attr, error, code):
    with pytest.raises(error) as info:
        parking.open_fee_dispute(getattr(demo, order_attr), demo.DEMO_RIDER, "不合理", "c")
    assert info.value.code == code
    assert session.execute(select(func.count(Ticket.id))).scalar_one() == 0


def test_refunded_order_fee_cannot_be_disputed(parking, demo):
    with pytest.raises(InvalidTransition, match="order_already_refunded"):
        parking.open_fee_dispute(demo.REFUNDED_ORDER, demo.RIDER_DEPOSIT_REFUNDED, "再退一次", "c")
