"""Parking and dispatch fees (调度费).

A trip that ends where the bike cannot stay costs a dispatch fee, because staff must move
the bike. The rules are data (:data:`DISPATCH_FEE_RULES`), kept in code rather than a YAML
file so they are versioned and type-checked with the logic that uses them; change the
amounts here and nowhere else. Each rule has a distinct amount, so the fee stored on an
order identifies which rule charged it (orders do not store the zone itself).

Zones, from the lock position reported by the bike:
    * ``parking_spot``: inside a marked parking spot — no fee;
    * ``outside_parking_spot``: inside the service area but not in a spot — 5 元;
    * ``no_parking_zone``: a no-parking zone (禁停区: metro entrances, fire lanes) — 10 元;
    * ``outside_service_area``: outside the operating area (运营区外) — 20 元.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


from ridedesk.db.models import Order, Ticket
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidValue
from ridedesk.services.money import format_yuan
from ridedesk.services.orders import Orders, ensure_disputable, mark_disputed
from ridedesk.services.tickets import Tickets


@dataclass(frozen=True)
class DispatchFeeRule:
    """One dispatch-fee rule.

    Attributes:
        zone: Machine name of where the bike was locked.
        fee_fen: Fee in fen (0 for no fee).
        label: Short Chinese name of the zone for replies.
        reason: Chinese explanation of why the fee is charged.
    """

    zone: str
    fee_fen: int
    label: str
    reason: str

    @property
    def fee(self) -> str:
        """The fee formatted for a reply, e.g. ``"10.00元"``."""
        return format_yuan(self.fee_fen)


DISPATCH_FEE_RULES: Tuple[DispatchFeeRule, ...] = (
    DispatchFeeRule("parking_spot", 0, "规范停车点", "停在规范停车点内，不收调度费"),
    DispatchFeeRule(
        "outside_parking_spot", 500, "停车点外", "未停入规范停车点，需要运维人员把车挪回停车点"
    ),
    DispatchFeeRule(
        "no_parking_zone", 1000, "禁停区", "停在禁停区（如地铁口、消防通道），需要紧急清运"
    ),
    DispatchFeeRule(
        "outside_service_area", 2000, "运营区域外", "在运营区域外还车，需要运维人员把车运回运营区"
    ),
)

_BY_ZONE: Dict[str, DispatchFeeRule] = {rule.zone: rule for rule in DISPATCH_FEE_RULES}
_BY_FEE: Dict[int, DispatchFeeRule] = {rule.fee_fen: rule for rule in DISPATCH_FEE_RULES}
assert len(_BY_FEE) == len(DISPATCH_FEE_RULES), "dispatch fees must be distinct per rule"


class Parking(Service):
    """Dispatch-fee rules and fee disputes."""

    @staticmethod
    def rules() -> Tuple[DispatchFeeRule, ...]:
        """All rules, cheapest first."""
        return DISPATCH_FEE_RULES

    @staticmethod
    def fee_for(zone: str) -> int:
        """Dispatch fee in fen for returning a bike in ``zone``.

        Raises:
            InvalidValue: ``parking_zone_invalid``.
        """
        rule = _BY_ZONE.get(zone)
        if rule is None:
            raise InvalidValue("parking_zone_invalid", zone=zone)
        return rule.fee_fen

    @staticmethod
    def rule_for(order: Order) -> Optional[DispatchFeeRule]:
        """The rule that charged this order's dispatch fee; ``None`` if no fee or unknown."""
        if not order.dispatch_fee_fen:
            return None
        return _BY_FEE.get(order.dispatch_fee_fen)

    def open_fee_dispute(
        self, order_number: object, rider_id: str, reason: str, conversation_id: Optional[str]
    ) -> Tuple[Ticket, bool]:
        """Opens (or returns) a ``parking_dispute`` ticket for the order's dispatch fee.

        The order must be the rider's and must carry a dispatch fee; it is marked disputed.
        Idempotent through :meth:`Tickets.open`.

        Raises:
            NotFound / NotYours: ``order_not_found`` / ``order_not_yours``.
            InvalidValue: ``order_number_invalid``, ``no_dispatch_fee``,
                ``description_required``.
            InvalidTransition: ``order_still_riding``, ``order_already_refunded``.
        """
        order = Orders(self.session, self.clock).get_for_rider(order_number, rider_id)
        if not order.dispatch_fee_fen:
            raise InvalidValue("no_dispatch_fee", order_number=order.number)
        ensure_disputable(order)
        ticket, created = Tickets(self.session, self.clock).open(
            rider_id,
            "parking_dispute",
            reason,
            conversation_id=conversation_id,
            order_number=order.number,
            place=order.end_place,
        )
        mark_disputed(order)
        self.session.flush()
        return ticket, created


__all__ = ["Parking", "DispatchFeeRule", "DISPATCH_FEE_RULES"]
