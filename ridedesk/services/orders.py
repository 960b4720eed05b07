"""Trips (骑行订单): look-ups limited to the rider's own orders, fare explanations, disputes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from sqlalchemy import select

from ridedesk.db.models import Order, Ticket
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidTransition, NotFound, NotYours
from ridedesk.services.ids import normalize_order_number
from ridedesk.services.money import yuan
from ridedesk.services.tickets import Tickets

MAX_RECENT = 20


@dataclass(frozen=True)
class FareBreakdown:
    """What a trip cost and why, ready for a reply.

    Yuan fields are strings with two decimals (``"13.00"``); ``*_fen`` fields are the raw
    integers. ``is_final`` is False while the trip is still running: the fees are then
    what has been charged so far (zero) and ``duration_minutes`` is the time elapsed.
    """

    order_number: str
    status: str
    bike_kind: str
    duration_minutes: int
    ride_fee: str
    dispatch_fee: str
    discount: str
    total: str
    ride_fee_fen: int
    dispatch_fee_fen: int
    discount_fen: int
    total_fen: int
    payment: Optional[str]
    is_final: bool

    @property
    def has_dispatch_fee(self) -> bool:
        """True if the trip was charged a dispatch fee (调度费)."""
        return self.dispatch_fee_fen > 0

    @property
    def adds_up(self) -> bool:
        """True if ride fee + dispatch fee − discount equals the charged total."""
        expected = max(self.ride_fee_fen + self.dispatch_fee_fen - self.discount_fen, 0)
        return expected == self.total_fen


class Orders(Service):
    """Order look-ups and disputes. A rider never gets another rider's order."""

    def get_for_rider(self, order_number: object, rider_id: str) -> Order:
        """Returns the rider's order.

        Raises:
            InvalidValue: ``order_number_invalid`` (not 12 digits).
            NotFound: ``order_not_found``.
            NotYours: ``order_not_yours`` (reply as if not found).
        """
        number = normalize_order_number(order_number)
        order = self.session.get(Order, number)
        if order is None:
            raise NotFound("order_not_found", order_number=number)
        if order.rider_id != rider_id:
            raise NotYours("order_not_yours", order_number=number)
        return order

    def recent_for(self, rider_id: str, limit: int = 5) -> List[Order]:
        """The rider's latest trips, newest first (at most ``limit``, capped at 20)."""
        limit = max(1, min(int(limit), MAX_RECENT))
        return list(
            self.session.execute(
                select(Order)
                .where(Order.rider_id == rider_id)
                .order_by(Order.started_at.desc(), Order.number.desc())
                .limit(limit)
            ).scalars()
        )

    def explain_fare(self, order: Order) -> FareBreakdown:
        """Breaks a trip's charge into ride fee, dispatch fee, discount and total."""
        is_final = order.status != "riding"
        if order.duration_minutes is not None:
            minutes = order.duration_minutes
        else:
            elapsed = (order.ended_at or self.clock()) - order.started_at
            minutes = max(int(elapsed.total_seconds() // 60), 0)
        return FareBreakdown(
            order_number=order.number,
            status=order.status,
            bike_kind=order.bike.kind if order.bike is not None else "bike",
            duration_minutes=minutes,
            ride_fee=yuan(order.ride_fee_fen),
            dispatch_fee=yuan(order.dispatch_fee_fen),
            discount=yuan(order.discount_fen),
            total=yuan(order.total_fen),
            ride_fee_fen=order.ride_fee_fen,
            dispatch_fee_fen=order.dispatch_fee_fen,
            discount_fen=order.discount_fen,
            total_fen=order.total_fen,
            payment=order.payment,
            is_final=is_final,
        )

    def open_dispute(
        self, order_number: object, rider_id: str, reason: str, conversation_id: Optional[str]
    ) -> Tuple[Ticket, bool]:
        """Marks the order disputed and opens (or returns) its ``order_dispute`` ticket.

        Idempotent: disputing the same order again while its ticket is active returns that
        ticket with ``created=False``.

        Raises:
            NotFound / NotYours / InvalidValue: as :meth:`get_for_rider`;
                ``description_required`` for an empty reason.
            InvalidTransition: ``order_still_riding`` (nothing billed yet) or
                ``order_already_refunded``.
        """
        order = self.get_for_rider(order_number, rider_id)
        ensure_disputable(order)
        ticket, created = Tickets(self.session, self.clock).open(
            rider_id,
            "order_dispute",
            reason,
            conversation_id=conversation_id,
            order_number=order.number,
        )
        mark_disputed(order)
        self.session.flush()
        return ticket, created


    def report_trip_not_ended(
        self, order_number: object, rider_id: str, reason: str, conversation_id: Optional[str]
    ) -> Tuple[Ticket, bool]:
        """Opens (or returns) an ``order_dispute`` ticket for a trip that will not end.

        A trip still shown as riding after the bike was locked keeps billing the rider, so
        the fare is settled by the billing team from the lock time rather than disputed later.

        Raises:
            NotFound / NotYours: as :meth:`get_for_rider`.
            InvalidTransition: ``order_not_riding`` when the trip has already ended.
        """
        order = self.get_for_rider(order_number, rider_id)
        if order.status != "riding":
            raise InvalidTransition("order_not_riding", order_number=order.number)
        return Tickets(self.session, self.clock).open(
            rider_id,
            "order_dispute",
            f"行程无法结束：{reason}",
            conversation_id=conversation_id,
            order_number=order.number,
        )


def ensure_disputable(order: Order) -> None:
    """Raises unless the order's charge can be disputed.

    Raises:
        InvalidTransition: ``order_still_riding`` or ``order_already_refunded``.
    """
    if order.status == "riding":
        raise InvalidTransition("order_still_riding", order_number=order.number)
    if order.status == "refunded":
        raise InvalidTransition("order_already_refunded", order_number=order.number)


def mark_disputed(order: Order) -> None:
    """Flags a completed order as disputed (already-disputed orders stay as they are)."""
    if order.status == "completed":
        order.status = "disputed"


__all__ = ["Orders", "FareBreakdown", "ensure_disputable", "mark_disputed"]
