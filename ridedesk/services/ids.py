"""Normalising the identifiers riders type: bike numbers, order numbers, ticket numbers.

Riders paste numbers with spaces, dashes or full-width digits (８６２１０４５７３); these
helpers fold them to the canonical form or raise :class:`InvalidValue`.
"""
from __future__ import annotations

import re
import unicodedata

from ridedesk.services.errors import InvalidValue

BIKE_NUMBER_RE = re.compile(r"^\d{9}$")
ORDER_NUMBER_RE = re.compile(r"^\d{12}$")
TICKET_NUMBER_RE = re.compile(r"^GD\d{12,}$")
_SEPARATORS = re.compile(r"[\s\-_#№:：]+")


def _fold(text: object) -> str:
    if text is None:
        return ""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(text)))


def normalize_bike_number(text: object) -> str:
    """Returns the 9-digit bike number, or raises ``InvalidValue("bike_number_invalid")``."""
    value = _fold(text)
    if not BIKE_NUMBER_RE.match(value):
        raise InvalidValue("bike_number_invalid", value=text)
    return value


def normalize_order_number(text: object) -> str:
    """Returns the 12-digit order number, or raises ``InvalidValue("order_number_invalid")``."""
    value = _fold(text)
    if not ORDER_NUMBER_RE.match(value):
        raise InvalidValue("order_number_invalid", value=text)
    return value


def normalize_ticket_number(text: object) -> str:
    """Returns ``GD`` + date + sequence, or raises ``InvalidValue("ticket_number_invalid")``."""
    value = _fold(text).upper()
    if not TICKET_NUMBER_RE.match(value):
        raise InvalidValue("ticket_number_invalid", value=text)
    return value


def normalize_text(text: object) -> str:
    """Folds free text for comparison: NFKC, lower case, no whitespace or punctuation.

    Used to recognise "the same complaint sent twice" (一模一样 vs 一模一样！).
    """
    value = unicodedata.normalize("NFKC", str(text or "")).lower()
    return "".join(
        ch for ch in value if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S")))
    )


__all__ = [
    "normalize_bike_number",
    "normalize_order_number",
    "normalize_ticket_number",
    "normalize_text",
]
