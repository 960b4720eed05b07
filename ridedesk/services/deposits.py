"""Deposits (押金) and their refunds.

Refund promise: the money arrives within :data:`REFUND_WORKING_DAYS` (7) working days of
the request. Working days skip Saturdays and Sundays, counted on the operator's local
calendar (``settings.timezone``); the request day itself is day 0. Statutory holidays and
their make-up working days are *not* modelled (pass ``holidays`` to
:func:`add_working_days` once the operator publishes a calendar), so the promise can be a
day or two optimistic around 国庆/春节. A refund still pending after the promised date is
overdue, and asking about it opens a ``deposit`` ticket for billing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Optional, Tuple

from sqlalchemy import select, update

from ridedesk.clock import local_date
from ridedesk.db.models import Deposit, Ticket
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidTransition, NotFound
from ridedesk.services.money import format_yuan
from ridedesk.services.tickets import Tickets

REFUND_WORKING_DAYS = 7


def add_working_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """Returns the date ``days`` working days after ``start`` (Mon–Fri, minus holidays).

    Example:
        Requested on Monday 2026-11-16 → 7 working days later is Wednesday 2026-11-25.
    """
    skip = set(holidays)
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in skip:
            remaining -= 1
    return current


@dataclass
class RefundRequest:
    """Outcome of :meth:`Deposits.request_refund`.

    Attributes:
        deposit: The deposit, now ``refund_requested``.
        already_requested: True if the rider had asked before (nothing changed).
        expected_date: Local date by which the refund is promised.
        overdue: True if that date has passed.
        ticket: The ``deposit`` ticket opened (or found) because the refund is overdue.
        ticket_created: True if that ticket was opened just now.
    """

    deposit: Deposit
    already_requested: bool
    expected_date: date
    overdue: bool
    ticket: Optional[Ticket] = None
    ticket_created: bool = False


class Deposits(Service):
    """Deposit status and refunds."""

    def status_for(self, rider_id: str) -> Optional[Deposit]:
        """The rider's current (most recently paid) deposit, or ``None`` if they have none."""
        return self.session.execute(
            select(Deposit)
            .where(Deposit.rider_id == rider_id)
            .order_by(Deposit.paid_at.desc(), Deposit.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def request_refund(self, rider_id: str, conversation_id: Optional[str]) -> RefundRequest:
        """Asks for the deposit back: ``held`` → ``refund_requested``.

        Idempotent: asking again returns the pending request with ``already_requested``;
        if that request is overdue, a ``deposit`` ticket is opened (or the existing one
        returned) so billing follows up.

        Raises:
            NotFound: ``deposit_not_found`` (the rider has no deposit).
            InvalidTransition: ``deposit_already_refunded``.
        """
        deposit = self.status_for(rider_id)
        if deposit is None:
            raise NotFound("deposit_not_found", rider_id=rider_id)
        if deposit.status == "refunded":
            raise InvalidTransition(
                "deposit_already_refunded", deposit_id=deposit.id, refunded_at=deposit.refunded_at
            )
        already = True
        if deposit.status == "held":
            # Conditional update: of two simultaneous requests only the first stamps the time.
            result = self.session.execute(
                update(Deposit)
                .where(Deposit.id == deposit.id, Deposit.status == "held")
                .values(status="refund_requested", refund_requested_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            self.session.refresh(deposit)
            already = result.rowcount == 0
        result = RefundRequest(
            deposit=deposit,
            already_requested=already,
            expected_date=self.expected_refund_date(deposit),
            overdue=self.is_overdue(deposit),
        )
        if result.overdue:
            result.ticket, result.ticket_created = self._open_overdue_ticket(
                deposit, conversation_id
            )
        return result

    def expected_refund_date(self, deposit: Deposit) -> Optional[date]:
        """Local date by which the refund is promised; ``None`` if never requested."""
        if deposit.refund_requested_at is None:
            return None
        return add_working_days(local_date(deposit.refund_requested_at), REFUND_WORKING_DAYS)

    def is_overdue(self, deposit: Deposit) -> bool:
        """True if a requested refund has not arrived after the promised date has passed."""
        if deposit.status != "refund_requested":
            return False
        expected = self.expected_refund_date(deposit)
        return expected is not None and local_date(self.clock()) > expected

    def escalate_overdue(
        self, rider_id: str, conversation_id: Optional[str]
    ) -> Tuple[Optional[Ticket], bool]:
        """Opens a ``deposit`` ticket if the rider's refund is overdue.

        Returns:
            ``(ticket, created)``; ``(None, False)`` when nothing is overdue.
        """
        deposit = self.status_for(rider_id)
        if deposit is None or not self.is_overdue(deposit):
            return None, False
        return self._open_overdue_ticket(deposit, conversation_id)

    def mark_refunded(self, deposit_id: int) -> Deposit:
        """Records that the money was paid back (console / payment callback).

        Raises:
            NotFound: ``deposit_not_found``.
            InvalidTransition: ``deposit_refund_not_requested``, ``deposit_already_refunded``.
        """
        deposit = self.session.get(Deposit, deposit_id)
        if deposit is None:
            raise NotFound("deposit_not_found", deposit_id=deposit_id)
        if deposit.status == "refunded":
            raise InvalidTransition("deposit_already_refunded", deposit_id=deposit_id)
        if deposit.status != "refund_requested":
            raise InvalidTransition("deposit_refund_not_requested", deposit_id=deposit_id)
        deposit.status = "refunded"
        deposit.refunded_at = self.clock()
        self.session.flush()
        return deposit

    def _open_overdue_ticket(
        self, deposit: Deposit, conversation_id: Optional[str]
    ) -> Tuple[Ticket, bool]:
        requested = local_date(deposit.refund_requested_at)
        # Deterministic text per deposit, so repeats map to the same ticket subject.
        description = (
            f"押金退款超时：押金{format_yuan(deposit.amount_fen)}（编号{deposit.id}），"
            f"{requested:%Y-%m-%d}申请退款，承诺{self.expected_refund_date(deposit):%Y-%m-%d}前到账，"
            "至今未到账。"
        )
        return Tickets(self.session, self.clock).open(
            deposit.rider_id, "deposit", description, conversation_id=conversation_id
        )


__all__ = ["Deposits", "RefundRequest", "add_working_days", "REFUND_WORKING_DAYS"]
