"""Orders: a rider's own trips only, fare explanations, disputes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ridedesk.db.models import Order, Ticket
from ridedesk.services import InvalidTransition, InvalidValue, NotFound, NotYours, Orders


@pytest.fixture
def orders(session, clock, demo):
    return Orders(session, clock)


def test_get_for_rider_returns_own_order(orders, demo):
    order = orders.get_for_rider(demo.DEMO_ORDER, demo.DEMO_RIDER)
    assert order.number == demo.DEMO_ORDER and order.rider_id == demo.DEMO_RIDER
    # Riders type numbers with spaces and full-width digits.
    assert orders.get_for_rider("２０２６ 1118 0031", demo.DEMO_RIDER).number == demo.DEMO_ORDER


def test_get_for_rider_never_returns_another_riders_order(orders, demo):
    with pytest.raises(NotYours) as info:
        orders.get_for_rider(demo.OTHER_RIDER_ORDER, demo.DEMO_RIDER)
    assert info.value.code == "order_not_yours"
    assert isinstance(info.value, NotFound)  # callers answering "not found" leak nothing


def test_get_for_rider_not_found_and_invalid(orders, demo):
    with pytest.raises(NotFound) as info:
        orders.get_for_rider(demo.UNKNOWN_ORDER, demo.DEMO_RIDER)
    assert type(info.value) is NotFound and info.value.code == "order_not_found"
    for bad in ("12345", "20261118003a", "", None):
        with pytest.raises(InvalidValue, match="order_number_invalid"):
            orders.get_for_rider(bad, demo.DEMO_RIDER)


def test_recent_for_is_newest_first_and_own_only(orders, demo):
    recent = orders.recent_for(demo.DEMO_RIDER)
    assert [o.number for o in recent] == [
        demo.DEMO_RIDING_ORDER,
        demo.DEMO_LONG_ORDER,
        demo.DEMO_ORDER_OUTSIDE_AREA_FEE,
        demo.DEMO_ORDER_NO_PARKING_FEE,
        demo.DEMO_ORDER,
    ]
    assert [o.number for o in orders.recent_for(demo.DEMO_RIDER, limit=2)] == [
        demo.DEMO_RIDING_ORDER,
        demo.DEMO_LONG_ORDER,
    ]
    assert all(o.rider_id == demo.OTHER_RIDER for o in orders.recent_for(demo.OTHER_RIDER))
    assert orders.recent_for("nobody") == []


def test_explain_fare_with_dispatch_fee(orders, demo):
    fare = orders.explain_fare(orders.get_for_rider(demo.DEMO_ORDER_NO_PARKING_FEE, demo.DEMO_RIDER))
    assert (fare.ride_fee, fare.dispatch_fee, fare.discount, fare.total) == ("3.00", "10.00", "0.00", "13.00")
    assert fare.total_fen == 1300 and fare.duration_minutes == 25
    assert fare.has_dispatch_fee and fare.adds_up and fare.is_final
    assert (fare.bike_kind, fare.payment) == ("ebike", "alipay")


def test_explain_fare_long_trip_with_coupon(orders, demo):
    fare = orders.explain_fare(orders.get_for_rider(demo.DEMO_LONG_ORDER, demo.DEMO_RIDER))
    assert fare.duration_minutes == 185
    assert (fare.ride_fee, fare.discount, fare.total) == ("24.00", "3.00", "21.00")
    assert not fare.has_dispatch_fee and fare.adds_up


def test_explain_fare_while_riding_uses_elapsed_time(orders, clock, demo):
    order = orders.get_for_rider(demo.DEMO_RIDING_ORDER, demo.DEMO_RIDER)
    assert orders.explain_fare(order).duration_minutes == 40
    clock.advance(minutes=15)
    fare = orders.explain_fare(order)
    assert fare.duration_minutes == 55 and not fare.is_final and fare.total == "0.00"


def test_explain_fare_flags_totals_that_do_not_add_up(orders, session, demo):
    order = orders.get_for_rider(demo.DEMO_ORDER, demo.DEMO_RIDER)
    order.total_fen = 999
    assert not orders.explain_fare(order).adds_up


def test_open_dispute_marks_order_and_opens_ticket(orders, session, demo):
    ticket, created = orders.open_dispute(demo.DEMO_ORDER, demo.DEMO_RIDER, "我没骑这么久", "conv-1")
    assert created
    assert (ticket.category, ticket.order_number, ticket.department) == (
        "order_dispute", demo.DEMO_ORDER, "billing")
    assert ticket.conversation_id == "conv-1"
    assert session.get(Order, demo.DEMO_ORDER).status == "disputed"


def test_open_dispute_is_idempotent(orders, session, demo):
    first, _ = orders.open_dispute(demo.DEMO_ORDER, demo.DEMO_RIDER, "多扣了钱", "c")
    second, created = orders.open_dispute(demo.DEMO_ORDER, demo.DEMO_RIDER, "怎么还没退", "c")
    assert created is False and second.id == first.id
    assert session.execute(select(func.count(Ticket.id))).scalar_one() == 1


def test_open_dispute_on_already_disputed_order_opens_ticket(orders, session, demo):
    ticket, created = orders.open_dispute(demo.DISPUTED_ORDER, demo.OTHER_RIDER, "还在等", "c")
    assert created and session.get(Order, demo.DISPUTED_ORDER).status == "disputed"


@pytest.mark.parametrize(
    "order_attr, rider_attr, error, code",
    [
        ("DEMO_RIDING_ORDER", "DEMO_RIDER", InvalidTransition, "order_still_riding"),
        ("REFUNDED_ORDER", "RIDER_DEPOSIT_REFUNDED", InvalidTransition, "order_already_refunded"),
        ("OTHER_RIDER_ORDER", "DEMO_RIDER", NotYours, "order_not_yours"),
        ("UNKNOWN_ORDER", "DEMO_RIDER", NotFound, "order_not_found"),
    ],
)
def test_open_dispute_refusals(orders, session, demo, order_attr, rider_attr, error, code):
    number = getattr(demo, order_attr)
    before = session.get(Order, number)
    before_status = before.status if before is not None else None
    with pytest.raises(error) as info:
        orders.open_dispute(number, getattr(demo, rider_attr), "不对", "c")
    assert info.value.code == code
    assert session.execute(select(func.count(Ticket.id))).scalar_one() == 0
    if before is not None:
        assert session.get(Order, number).status == before_status


def test_open_dispute_requires_a_reason(orders, session, demo):
    with pytest.raises(InvalidValue, match="description_required"):
        orders.open_dispute(demo.DEMO_ORDER, demo.DEMO_RIDER, "  ", "c")
    assert session.get(Order, demo.DEMO_ORDER).status == "completed"


def test_demo_times_are_relative_to_the_clock(orders, clock, demo):
    order = orders.get_for_rider(demo.DEMO_ORDER, demo.DEMO_RIDER)
    assert order.started_at == clock() - timedelta(days=4, hours=2)
    assert order.ended_at - order.started_at == timedelta(minutes=18)
