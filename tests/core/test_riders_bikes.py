"""Riders on first contact, phone numbers, bikes."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ridedesk.db.models import Bike, Rider
from ridedesk.db.session import session_scope
from ridedesk.services import Bikes, InvalidValue, NotFound, Riders
from ridedesk.services.riders import normalize_phone

from .conftest import NOW


def test_ensure_creates_once(session, clock):
    riders = Riders(session, clock)
    rider, created = riders.ensure("sender-42")
    assert created and rider.created_at == NOW
    again, created = riders.ensure("sender-42", name="ignored")
    assert not created and again is rider and again.name is None
    assert session.execute(select(func.count(Rider.id))).scalar_one() == 1


@pytest.mark.parametrize("bad", ["", "   ", None, 42, "x" * 129])
def test_ensure_rejects_bad_ids(session, bad):
    with pytest.raises(InvalidValue, match="rider_id_invalid"):
        Riders(session).ensure(bad)


def test_ensure_concurrently_creates_one_row(db_url, clock):
    barrier = threading.Barrier(3)
    created, errors = [], []

    def worker():
        try:
            barrier.wait()
            with session_scope(db_url) as s:
                created.append(Riders(s, clock).ensure("same-sender")[1])
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and sorted(created) == [False, False, True]


def test_ensure_recovers_from_a_concurrent_insert(session, clock, monkeypatch):
    # Another request inserted the rider between our look-up and our insert.
    session.add(Rider(id="raced", created_at=clock()))
    session.flush()
    real_get = session.get
    calls = []

    def stale_get(model, ident, **kw):
        calls.append(ident)
        return None if len(calls) == 1 else real_get(model, ident, **kw)

    monkeypatch.setattr(session, "get", stale_get)
    rider, created = Riders(session, clock).ensure("raced")
    assert not created and rider.id == "raced"


def test_get_rider(session, demo):
    assert Riders(session).get(demo.DEMO_RIDER).name == "张伟"
    with pytest.raises(NotFound, match="rider_not_found"):
        Riders(session).get("nobody")


@pytest.mark.parametrize("phone", ["13800138000", "+86 138-0013-8000", "008613800138000", "138 0013 8000"])
def test_valid_phone_numbers(phone):
    assert normalize_phone(phone) == "13800138000"


@pytest.mark.parametrize("phone", ["12345", "", None, "02161234567", "+1 650 253 0000", "1380013800a"])
def test_invalid_phone_numbers(phone):
    with pytest.raises(InvalidValue, match="phone_invalid"):
        normalize_phone(phone)


def test_set_phone(session, clock):
    rider = Riders(session, clock).set_phone("new-sender", "+86 139 0013 9000")
    assert rider.phone == "13900139000"


def test_bikes_get_exists(session, demo):
    bikes = Bikes(session)
    assert bikes.get(demo.DEMO_BIKE).kind == "bike"
    assert bikes.get("862-104-581").kind == "ebike"
    assert bikes.exists(demo.DEMO_BIKE) is True
    assert bikes.exists(demo.UNKNOWN_BIKE) is False
    assert bikes.exists("abc") is False
    with pytest.raises(NotFound, match="bike_not_found"):
        bikes.get(demo.UNKNOWN_BIKE)
    with pytest.raises(InvalidValue, match="bike_number_invalid"):
        bikes.get("86210457")


def test_mark_reported(session, demo):
    bikes = Bikes(session)
    assert bikes.mark_reported(demo.DEMO_BIKE).status == "reported"
    assert bikes.mark_reported(demo.DEMO_BIKE).status == "reported"
    assert bikes.mark_reported(demo.MAINTENANCE_BIKE).status == "maintenance"
    session.commit()
    assert session.get(Bike, demo.DEMO_BIKE).status == "reported"
    with pytest.raises(NotFound):
        bikes.mark_reported(demo.UNKNOWN_BIKE)
