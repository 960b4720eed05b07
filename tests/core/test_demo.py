"""Demo data and the development starter kit."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ridedesk.clock import local_date
from ridedesk.db import demo
from ridedesk.db.models import Bike, Deposit, Order, Rider
from ridedesk.services import Orders
from ridedesk.settings import get_settings


def _counts(session):
    return {m.__tablename__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Rider, Bike, Order, Deposit)}


def test_seed_is_idempotent(session, clock):
    assert demo.seed(session, clock) == {"riders": 5, "bikes": 20, "orders": 15, "deposits": 4}
    clock.advance(days=3)
    assert demo.seed(session, clock) == {"riders": 0, "bikes": 0, "orders": 0, "deposits": 0}
    assert _counts(session) == {"riders": 5, "bikes": 20, "orders": 15, "deposits": 4}


def test_constants_match_the_data(session, demo):
    order = session.get(Order, demo.DEMO_ORDER)
    assert order.rider_id == demo.DEMO_RIDER and order.dispatch_fee_fen == 0
    assert session.get(Order, demo.OTHER_RIDER_ORDER).rider_id == demo.OTHER_RIDER
    assert session.get(Order, demo.DEMO_RIDING_ORDER).status == "riding"
    assert session.get(Order, demo.DEMO_LONG_ORDER).duration_minutes >= 120
    assert session.get(Order, demo.UNKNOWN_ORDER) is None
    assert session.get(Bike, demo.DEMO_BIKE) is not None and session.get(Bike, demo.UNKNOWN_BIKE) is None
    assert session.get(Bike, demo.REPORTED_BIKE).status == "reported"
    fees = set(session.execute(select(Order.dispatch_fee_fen).where(Order.dispatch_fee_fen > 0)).scalars())
    assert fees == {500, 1000, 2000}
    assert set(session.execute(select(Deposit.status)).scalars()) == {"held", "refund_requested", "refunded"}
    assert {"rider-001", "demo-rider-1"} <= set(session.execute(select(Rider.id)).scalars())
    for order in session.execute(select(Order)).scalars():
        assert len(order.number) == 12 and order.total_fen == max(
            order.ride_fee_fen + order.dispatch_fee_fen - order.discount_fen, 0)


def test_starter_kit_gives_trips_and_deposit_once(session, clock, demo):
    assert demo.give_new_rider_demo_account("browser-abc", session=session, clock=clock) is True
    orders = Orders(session, clock).recent_for("browser-abc")
    assert len(orders) == 3
    assert {o.dispatch_fee_fen for o in orders} == {0, 1000}
    assert max(o.duration_minutes for o in orders) == 185
    # Numbers are the trip's local date plus a free sequence, never a demo rider's number.
    assert all(len(o.number) == 12 and o.number[:8] == f"{local_date(o.started_at):%Y%m%d}" for o in orders)
    assert not {o.number for o in orders} & {spec.number for spec in demo.ORDERS}
    deposit = session.execute(select(Deposit).where(Deposit.rider_id == "browser-abc")).scalar_one()
    assert (deposit.status, deposit.amount_fen) == ("held", 19900)
    assert demo.give_new_rider_demo_account("browser-abc", session=session, clock=clock) is False
    assert len(Orders(session, clock).recent_for("browser-abc")) == 3


def test_two_starter_kits_get_distinct_numbers(session, clock, demo):
    demo.give_new_rider_demo_account("browser-1", session=session, clock=clock)
    demo.give_new_rider_demo_account("browser-2", session=session, clock=clock)
    numbers = list(session.execute(select(Order.number).where(Order.rider_id.like("browser-%"))).scalars())
    assert len(numbers) == len(set(numbers)) == 6


def test_starter_kit_skips_riders_with_data(session, clock, demo):
    assert demo.give_new_rider_demo_account(demo.RIDER_WITHOUT_DEPOSIT, session=session, clock=clock) is False
    assert demo.give_new_rider_demo_account(demo.DEMO_RIDER, session=session, clock=clock) is False
    assert _counts(session)["orders"] == 15


def test_starter_kit_works_on_an_empty_database_with_own_session(db_url, clock, monkeypatch):
    monkeypatch.setenv("RIDEDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        assert demo.give_new_rider_demo_account("fresh", clock=clock) is True
    finally:
        get_settings.cache_clear()
    from ridedesk.db.session import session_scope

    with session_scope(db_url) as s:
        assert len(Orders(s, clock).recent_for("fresh")) == 3


def test_starter_kit_refused_in_production(session, monkeypatch):
    monkeypatch.setenv("RIDEDESK_ENV", "production")
    monkeypatch.setenv("RIDEDESK_SECRET_KEY", "prod-secret")
    monkeypatch.setenv("RIDEDESK_RASA_TOKEN", "prod-token")
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError):
            demo.give_new_rider_demo_account("x", session=session)
    finally:
        get_settings.cache_clear()
    assert session.get(Rider, "x") is None
