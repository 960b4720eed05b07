"""Deposits: status, refund requests from every state, the 7-working-day promise."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import threading

from ridedesk.db.models import Deposit, Ticket
from ridedesk.db.session import session_scope
from ridedesk.services import Deposits, InvalidTransition, NotFound
from ridedesk.services.deposits import add_working_days

from .conftest import NOW


@pytest.fixture
def deposits(session, clock, demo):
    return Deposits(session, clock)


def _tickets(session) -> int:
    return session.execute(select(func.count(Ticket.id))).scalar_one()


def test_status_for_each_state(deposits, demo):
    assert deposits.status_for(demo.RIDER_DEPOSIT_HELD).status == "held"
    assert deposits.status_for(demo.RIDER_DEPOSIT_REFUND_REQUESTED).status == "refund_requested"
    assert deposits.status_for(demo.RIDER_DEPOSIT_REFUNDED).status == "refunded"
    assert deposits.status_for(demo.RIDER_WITHOUT_DEPOSIT) is None
    assert deposits.status_for(demo.RIDER_DEPOSIT_HELD).amount_fen == 19900


def test_status_for_prefers_the_latest_deposit(deposits, session, clock, demo):
    session.add(Deposit(rider_id=demo.RIDER_DEPOSIT_REFUNDED, amount_fen=9900, status="held",
                        paid_at=clock() - timedelta(days=1)))
    session.flush()
    latest = deposits.status_for(demo.RIDER_DEPOSIT_REFUNDED)
    assert (latest.status, latest.amount_fen) == ("held", 9900)


def test_request_refund_from_held(deposits, demo):
    result = deposits.request_refund(demo.RIDER_DEPOSIT_HELD, "conv")
    assert result.already_requested is False
    assert result.deposit.status == "refund_requested"
    assert result.deposit.refund_requested_at == NOW
    # Requested Monday 2026-11-23: 7 working days later is Wednesday 2026-12-02.
    assert result.expected_date == date(2026, 12, 2)
    assert result.overdue is False and result.ticket is None


def test_request_refund_twice_is_idempotent(deposits, clock, demo):
    deposits.request_refund(demo.RIDER_DEPOSIT_HELD, "conv")
    clock.advance(days=1)
    again = deposits.request_refund(demo.RIDER_DEPOSIT_HELD, "conv")
    assert again.already_requested is True
    assert again.deposit.refund_requested_at == NOW  # the first request counts
    assert again.expected_date == date(2026, 12, 2)


def test_concurrent_refund_requests_stamp_once(db_url, clock, demo):
    barrier = threading.Barrier(2)
    flags, errors = [], []

    def worker():
        try:
            barrier.wait()
            with session_scope(db_url) as s:
                flags.append(Deposits(s, clock).request_refund(demo.RIDER_DEPOSIT_HELD, "c").already_requested)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and sorted(flags) == [False, True]


def test_request_refund_when_already_requested_not_overdue(deposits, session, demo):
    result = deposits.request_refund(demo.RIDER_DEPOSIT_REFUND_REQUESTED, "conv")
    assert result.already_requested is True and result.overdue is False
    # Requested Friday 2026-11-20 (3 days before NOW) → Tuesday 2026-12-01.
    assert result.expected_date == date(2026, 12, 1)
    assert result.ticket is None and _tickets(session) == 0


def test_request_refund_when_overdue_opens_one_deposit_ticket(deposits, session, demo):
    first = deposits.request_refund(demo.RIDER_DEPOSIT_OVERDUE, "conv")
    assert first.already_requested and first.overdue
    assert first.expected_date == date(2026, 11, 17)
    assert first.ticket_created is True
    ticket = first.ticket
    assert (ticket.category, ticket.department, ticket.rider_id) == (
        "deposit", "billing", demo.RIDER_DEPOSIT_OVERDUE)
    assert "199.00元" in ticket.description
    second = deposits.request_refund(demo.RIDER_DEPOSIT_OVERDUE, "conv")
    assert second.ticket_created is False and second.ticket.id == ticket.id
    assert _tickets(session) == 1


def test_request_refund_when_refunded_is_refused(deposits, demo):
    with pytest.raises(InvalidTransition) as info:
        deposits.request_refund(demo.RIDER_DEPOSIT_REFUNDED, "conv")
    assert info.value.code == "deposit_already_refunded"


def test_request_refund_without_deposit(deposits, demo):
    with pytest.raises(NotFound) as info:
        deposits.request_refund(demo.RIDER_WITHOUT_DEPOSIT, "conv")
    assert info.value.code == "deposit_not_found"


def test_overdue_starts_the_day_after_the_promised_date(deposits, clock, demo):
    deposit = deposits.request_refund(demo.RIDER_DEPOSIT_HELD, "conv").deposit
    # Promised by Wednesday 2026-12-02 (Shanghai); 23:59 that day is still on time.
    clock.set(datetime(2026, 12, 2, 15, 59, tzinfo=timezone.utc))
    assert deposits.is_overdue(deposit) is False
    clock.set(datetime(2026, 12, 2, 16, 0, tzinfo=timezone.utc))  # 00:00 on 12-03 local
    assert deposits.is_overdue(deposit) is True


def test_held_and_refunded_deposits_are_never_overdue(deposits, clock, demo):
    clock.advance(days=365)
    assert deposits.is_overdue(deposits.status_for(demo.RIDER_DEPOSIT_HELD)) is False
    assert deposits.is_overdue(deposits.status_for(demo.RIDER_DEPOSIT_REFUNDED)) is False
    assert deposits.expected_refund_date(deposits.status_for(demo.RIDER_DEPOSIT_HELD)) is None


def test_escalate_overdue(deposits, session, demo):
    assert deposits.escalate_overdue(demo.RIDER_DEPOSIT_REFUND_REQUESTED, "c") == (None, False)
    assert deposits.escalate_overdue(demo.RIDER_WITHOUT_DEPOSIT, "c") == (None, False)
    ticket, created = deposits.escalate_overdue(demo.RIDER_DEPOSIT_OVERDUE, "c")
    assert created and ticket.category == "deposit"
    again, created = deposits.escalate_overdue(demo.RIDER_DEPOSIT_OVERDUE, "c")
    assert not created and again.id == ticket.id


def test_mark_refunded(deposits, clock, demo):
    pending = deposits.status_for(demo.RIDER_DEPOSIT_REFUND_REQUESTED)
    done = deposits.mark_refunded(pending.id)
    assert (done.status, done.refunded_at) == ("refunded", NOW)
    with pytest.raises(InvalidTransition, match="deposit_already_refunded"):
        deposits.mark_refunded(pending.id)
    held = deposits.status_for(demo.RIDER_DEPOSIT_HELD)
    with pytest.raises(InvalidTransition, match="deposit_refund_not_requested"):
        deposits.mark_refunded(held.id)
    with pytest.raises(NotFound, match="deposit_not_found"):
        deposits.mark_refunded(999999)


@pytest.mark.parametrize(
    "start, expected",
    [
        (date(2026, 11, 16), date(2026, 11, 25)),  # Monday → Wednesday next week
        (date(2026, 11, 20), date(2026, 12, 1)),  # Friday → Tuesday
        (date(2026, 11, 21), date(2026, 12, 1)),  # Saturday → Tuesday
        (date(2026, 11, 22), date(2026, 12, 1)),  # Sunday → Tuesday
    ],
)
def test_add_working_days_skips_weekends(start, expected):
    assert add_working_days(start, 7) == expected


def test_add_working_days_skips_given_holidays():
    assert add_working_days(date(2026, 11, 16), 1, holidays=[date(2026, 11, 17)]) == date(2026, 11, 18)
