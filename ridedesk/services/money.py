"""Money helpers. Amounts are integer fen (分) everywhere; yuan only at the edges."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Union

from ridedesk.services.errors import InvalidValue


def yuan(fen: int) -> str:
    """Formats fen as a yuan amount with two decimals: ``150 -> "1.50"``, ``-5 -> "-0.05"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def format_yuan(fen: int) -> str:
    """Formats fen for a Chinese reply: ``1000 -> "10.00元"``."""
    return f"{yuan(fen)}元"


def to_fen(amount: Union[str, int, float, Decimal]) -> int:
    """Parses a yuan amount (``"1.5"``, ``10``, ``Decimal("0.05")``) into fen.

    Raises:
        InvalidValue: ``amount_invalid`` if it is not a number.
    """
    try:
        value = Decimal(str(amount).strip().replace("元", "").replace("¥", ""))
    except (InvalidOperation, ValueError):
        raise InvalidValue("amount_invalid", amount=amount) from None
    if not value.is_finite():
        raise InvalidValue("amount_invalid", amount=amount)
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


__all__ = ["yuan", "format_yuan", "to_fen"]
