"""Money formatting, identifier normalisation, the clock and error types."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ridedesk.clock import FrozenClock, ensure_utc, local_date, to_local
from ridedesk.services import InvalidValue, NotFound, NotYours, ServiceError, format_yuan, to_fen, yuan
from ridedesk.services.ids import (
    normalize_bike_number,
    normalize_order_number,
    normalize_text,
    normalize_ticket_number,
)


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (150, "1.50"), (19900, "199.00"), (-250, "-2.50")])
def test_yuan(fen, text):
    assert yuan(fen) == text
    assert format_yuan(fen) == text + "元"


@pytest.mark.parametrize("amount, fen", [("1.5", 150), (10, 1000), ("¥0.05", 5), ("199元", 19900), (Decimal("2.345"), 235)])
def test_to_fen(amount, fen):
    assert to_fen(amount) == fen


@pytest.mark.parametrize("amount", ["abc", "", "nan", None])
def test_to_fen_invalid(amount):
    with pytest.raises(InvalidValue, match="amount_invalid"):
        to_fen(amount)


def test_normalizers():
    assert normalize_bike_number(" ８６２ １０４ ５７３ ") == "862104573"
    assert normalize_order_number("2026-1118-0031") == "202611180031"
    assert normalize_ticket_number("gd 2026 1122 0001") == "GD202611220001"
    assert normalize_text(" 刹车，失灵！ ABC ") == "刹车失灵abc"
    for bad in ("86210457", "8621045733", "abcdefghi"):
        with pytest.raises(InvalidValue, match="bike_number_invalid"):
            normalize_bike_number(bad)
    with pytest.raises(InvalidValue, match="ticket_number_invalid"):
        normalize_ticket_number("202611220001")


def test_clock_helpers():
    clock = FrozenClock(datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc))
    assert clock() == datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc)
    assert clock.advance(minutes=30) == datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)
    assert local_date(clock()) == datetime(2026, 11, 23).date()  # 01:00 in Shanghai
    assert to_local(clock()).utcoffset() == timedelta(hours=8)
    assert ensure_utc(datetime(2026, 1, 1)).tzinfo == timezone.utc
    assert FrozenClock(datetime(2026, 1, 1))().tzinfo == timezone.utc


def test_error_types_carry_codes():
    err = NotYours("order_not_yours", order_number="1")
    assert isinstance(err, NotFound) and isinstance(err, ServiceError)
    assert err.code == "order_not_yours" and err.details == {"order_number": "1"}
    assert str(err) == "order_not_yours"
    assert NotFound().code == "not_found"
