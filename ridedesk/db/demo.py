"""Demo data for development, manual testing and the test-suite.

``seed()`` is idempotent: rows are inserted only when missing (by primary key; deposits
when the rider has none), so it can run at every start. Times are relative to the clock at
first seeding, which keeps "requested 3 days ago" true on a fresh database; order numbers
are fixed so tests and docs can name them (their date part is illustrative).

What is in it (constants below name the interesting rows):
    * riders ``demo-rider-1..3``, ``rider-001``, ``rider-002``;
    * 20 bikes (``862104573`` ...), two reported, one in maintenance;
    * 15 orders: dispatch fees of 5/10/20 元, one still riding, one 185-minute trip,
      one disputed, one refunded;
    * deposits of 199 元 in every state: held (demo-rider-1), refund requested 3 days ago
      (demo-rider-2), refunded (demo-rider-3), refund requested 15 days ago and overdue
      (rider-001); rider-002 has none.

Starter kit: :func:`give_new_rider_demo_account` copies three demo trips and a held
deposit to an unknown sender id, so someone chatting from a fresh browser (a random Rasa
sender id) can try order, fare, dispatch-fee and deposit look-ups on "their own" data. The
actions layer calls it only when ``settings.env == "development"``; it refuses to run in
production.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ridedesk.clock import Clock, local_date, utcnow
from ridedesk.db.models import Bike, Deposit, Order, Rider

# --- constants the tests and docs rely on ---------------------------------------------------
DEMO_RIDER = "demo-rider-1"
OTHER_RIDER = "demo-rider-2"
DEMO_RIDERS = ("demo-rider-1", "demo-rider-2", "demo-rider-3", "rider-001", "rider-002")
DEMO_BIKE = "862104573"
DEMO_EBIKE = "862104581"
REPORTED_BIKE = "862104729"
MAINTENANCE_BIKE = "862104737"
UNKNOWN_BIKE = "999999999"

DEMO_ORDER = "202611180031"  # DEMO_RIDER, completed, 1.50 元, no dispatch fee
DEMO_ORDER_NO_PARKING_FEE = "202611190007"  # DEMO_RIDER, 10 元 dispatch fee (no-parking zone)
DEMO_ORDER_OUTSIDE_AREA_FEE = "202611200112"  # DEMO_RIDER, 20 元 (outside service area)
DEMO_LONG_ORDER = "202611210045"  # DEMO_RIDER, 185 minutes, with a coupon
DEMO_RIDING_ORDER = "202611220003"  # DEMO_RIDER, still riding
OTHER_RIDER_ORDER = "202611170088"  # OTHER_RIDER, 5 元 dispatch fee
DISPUTED_ORDER = "202611210077"  # OTHER_RIDER, already disputed
REFUNDED_ORDER = "202611190230"  # demo-rider-3, refunded
UNKNOWN_ORDER = "209901010001"

DEPOSIT_AMOUNT_FEN = 19900
RIDER_DEPOSIT_HELD = DEMO_RIDER
RIDER_DEPOSIT_REFUND_REQUESTED = OTHER_RIDER
RIDER_DEPOSIT_REFUNDED = "demo-rider-3"
RIDER_DEPOSIT_OVERDUE = "rider-001"
RIDER_WITHOUT_DEPOSIT = "rider-002"

RIDERS = {
    "demo-rider-1": ("张伟", "13800138001"),
    "demo-rider-2": ("李娜", "13800138002"),
    "demo-rider-3": ("王芳", "13800138003"),
    "rider-001": ("刘洋", "13900139001"),
    "rider-002": ("陈静", "13900139002"),
}

# number, kind, brand, status, last place
BIKES = (
    ("862104573", "bike", "骑畅", "in_service", "人民广场地铁站2号口"),
    ("862104581", "ebike", "电驰", "in_service", "徐家汇美罗城"),
    ("862104590", "ebike", "电驰", "in_service", "张江高科"),
    ("862104602", "ebike", "电驰S", "in_service", "陆家嘴环路"),
    ("862104615", "bike", "骑畅", "in_service", "静安寺"),
    ("862104623", "bike", "骑畅", "in_service", "中山公园"),
    ("862104631", "bike", "骑畅Lite", "in_service", "五角场"),
    ("862104640", "ebike", "电驰", "in_service", "虹桥天地"),
    ("862104658", "bike", "骑畅", "in_service", "新天地"),
    ("862104666", "ebike", "电驰S", "in_service", "世纪大道"),
    ("862104674", "bike", "骑畅", "in_service", "打浦桥"),
    ("862104682", "ebike", "电驰", "in_service", "龙阳路"),
    ("862104690", "bike", "骑畅Lite", "in_service", "曹杨路"),
    ("862104703", "ebike", "电驰", "in_service", "七宝老街"),
    ("862104711", "bike", "骑畅", "in_service", "莘庄"),
    ("862104729", "bike", "骑畅", "reported", "漕河泾"),
    ("862104737", "ebike", "电驰", "maintenance", "运维仓库（闵行）"),
    ("862104745", "bike", "骑畅Lite", "in_service", "南京西路"),
    ("862104753", "ebike", "电驰S", "in_service", "外滩"),
    ("862104761", "bike", "骑畅", "in_service", "田子坊"),
)


@dataclass(frozen=True)
class _DemoOrder:
    number: str
    rider_id: str
    bike_number: str
    ago: timedelta  # start time before "now"
    minutes: Optional[int]  # None while riding
    ride_fee_fen: int
    dispatch_fee_fen: int
    discount_fen: int
    status: str
    payment: Optional[str]
    start_place: str
    end_place: Optional[str]
    note: Optional[str] = None

    @property
    def total_fen(self) -> int:
        return max(self.ride_fee_fen + self.dispatch_fee_fen - self.discount_fen, 0)


def _ago(days: int, hours: int = 0, minutes: int = 0) -> timedelta:
    return timedelta(days=days, hours=hours, minutes=minutes)


ORDERS = (
    _DemoOrder(DEMO_ORDER, DEMO_RIDER, "862104573", _ago(4, 2), 18, 150, 0, 0,
               "completed", "wechat", "人民广场地铁站2号口", "南京东路步行街停车点"),
    _DemoOrder(DEMO_ORDER_NO_PARKING_FEE, DEMO_RIDER, "862104581", _ago(3, 5), 25, 300, 1000, 0,
               "completed", "alipay", "徐家汇美罗城", "地铁9号线徐家汇站出口（禁停区）",
               "还车点位于禁停区，产生调度费"),
    _DemoOrder(DEMO_ORDER_OUTSIDE_AREA_FEE, DEMO_RIDER, "862104590", _ago(2, 3), 32, 400, 2000, 0,
               "completed", "balance", "世纪公园", "张江镇（运营区域外）",
               "运营区域外还车，产生调度费"),
    _DemoOrder(DEMO_LONG_ORDER, DEMO_RIDER, "862104602", _ago(1, 6), 185, 2400, 0, 300,
               "completed", "wechat", "陆家嘴环路", "滨江大道停车点", "使用3元骑行优惠券"),
    _DemoOrder(DEMO_RIDING_ORDER, DEMO_RIDER, "862104615", _ago(0, 0, 40), None, 0, 0, 0,
               "riding", None, "静安寺", None),
    _DemoOrder(OTHER_RIDER_ORDER, OTHER_RIDER, "862104623", _ago(5, 1), 12, 150, 500, 0,
               "completed", "wechat", "中山公园", "长宁路路边（未入停车点）",
               "未停入规范停车点，产生调度费"),
    _DemoOrder("202611200019", OTHER_RIDER, "862104631", _ago(2, 8), 9, 150, 0, 150,
               "completed", "ride_card", "五角场", "复旦大学停车点", "骑行卡抵扣"),
    _DemoOrder(DISPUTED_ORDER, OTHER_RIDER, "862104640", _ago(1, 4), 22, 300, 0, 0,
               "disputed", "alipay", "虹桥天地", "虹桥火车站停车点"),
    _DemoOrder("202611160052", "demo-rider-3", "862104658", _ago(6, 2), 35, 300, 0, 0,
               "completed", "balance", "新天地", "淮海中路停车点"),
    _DemoOrder(REFUNDED_ORDER, "demo-rider-3", "862104666", _ago(3, 7), 15, 200, 1000, 0,
               "refunded", "wechat", "世纪大道", "地铁2号线出口（禁停区）", "调度费申诉成功，已退款"),
    _DemoOrder("202611180105", "rider-001", "862104674", _ago(4, 9), 20, 150, 0, 0,
               "completed", "wechat", "打浦桥", "日月光停车点"),
    _DemoOrder("202611200056", "rider-001", "862104682", _ago(2, 1), 28, 300, 1000, 0,
               "completed", "alipay", "龙阳路", "磁悬浮站入口（禁停区）", "还车点位于禁停区，产生调度费"),
    _DemoOrder("202611210009", "rider-001", "862104690", _ago(1, 10), 16, 150, 0, 0,
               "completed", "wechat", "曹杨路", "长风公园停车点"),
    _DemoOrder("202611190141", "rider-002", "862104703", _ago(3, 2), 45, 500, 500, 100,
               "completed", "alipay", "七宝老街", "七宝镇路边（未入停车点）", "未停入规范停车点"),
    _DemoOrder("202611220018", "rider-002", "862104711", _ago(0, 3), 10, 150, 0, 0,
               "completed", "wechat", "莘庄", "莘庄地铁站北广场停车点"),
)

# rider, status, paid (ago), refund requested (ago), refunded (ago)
DEPOSITS = (
    (RIDER_DEPOSIT_HELD, "held", _ago(60), None, None),
    (RIDER_DEPOSIT_REFUND_REQUESTED, "refund_requested", _ago(90), _ago(3), None),
    (RIDER_DEPOSIT_REFUNDED, "refunded", _ago(120), _ago(20), _ago(14)),
    (RIDER_DEPOSIT_OVERDUE, "refund_requested", _ago(200), _ago(15), None),
)

# Trips copied into a starter kit: a plain one, one with a dispatch fee, a long one.
STARTER_KIT_ORDERS = (DEMO_ORDER, DEMO_ORDER_NO_PARKING_FEE, DEMO_LONG_ORDER)


def _order_row(spec: _DemoOrder, number: str, rider_id: str, now: datetime) -> Order:
    started = now - spec.ago
    return Order(
        number=number,
        rider_id=rider_id,
        bike_number=spec.bike_number,
        started_at=started,
        ended_at=started + timedelta(minutes=spec.minutes) if spec.minutes is not None else None,
        start_place=spec.start_place,
        end_place=spec.end_place,
        duration_minutes=spec.minutes,
        ride_fee_fen=spec.ride_fee_fen,
        dispatch_fee_fen=spec.dispatch_fee_fen,
        discount_fen=spec.discount_fen,
        total_fen=spec.total_fen,
        status=spec.status,
        payment=spec.payment,
        note=spec.note,
    )


def _existing(session: Session, column, keys) -> set:
    """The subset of ``keys`` already present (one query, not one per row)."""
    return set(session.execute(select(column).where(column.in_(list(keys)))).scalars())


def seed_bikes(session: Session) -> int:
    """Inserts missing demo bikes; returns how many were added."""
    present = _existing(session, Bike.number, [row[0] for row in BIKES])
    missing = [
        Bike(number=number, kind=kind, brand=brand, status=status, last_place=place)
        for number, kind, brand, status, place in BIKES
        if number not in present
    ]
    session.add_all(missing)
    session.flush()
    return len(missing)


def seed(session: Session, clock: Clock = utcnow) -> Dict[str, int]:
    """Inserts the demo data that is missing. Idempotent; never updates existing rows.

    Args:
        session: Unit of work (caller commits).
        clock: "Now" that relative demo times are computed from.

    Returns:
        Number of rows added per table.
    """
    now = clock()
    present = _existing(session, Rider.id, RIDERS)
    riders = [
        Rider(id=rider_id, name=name, phone=phone, created_at=now - _ago(365))
        for rider_id, (name, phone) in RIDERS.items()
        if rider_id not in present
    ]
    session.add_all(riders)
    session.flush()  # riders and bikes before the orders that reference them
    added_bikes = seed_bikes(session)

    present = _existing(session, Order.number, [spec.number for spec in ORDERS])
    orders = [_order_row(spec, spec.number, spec.rider_id, now) for spec in ORDERS if spec.number not in present]
    session.add_all(orders)

    with_deposit = _existing(session, Deposit.rider_id, [row[0] for row in DEPOSITS])
    deposits = [
        Deposit(
            rider_id=rider_id,
            amount_fen=DEPOSIT_AMOUNT_FEN,
            status=status,
            paid_at=now - paid,
            refund_requested_at=now - requested if requested else None,
            refunded_at=now - refunded if refunded else None,
        )
        for rider_id, status, paid, requested, refunded in DEPOSITS
        if rider_id not in with_deposit
    ]
    session.add_all(deposits)
    session.flush()
    return {
        "riders": len(riders),
        "bikes": added_bikes,
        "orders": len(orders),
        "deposits": len(deposits),
    }


def _next_order_number(session: Session, started_at: datetime) -> str:
    prefix = f"{local_date(started_at):%Y%m%d}"
    last = session.execute(
        select(func.max(Order.number)).where(Order.number.like(prefix + "%"))
    ).scalar_one_or_none()
    sequence = int(last[len(prefix):]) + 1 if last else 1
    if sequence > 9999:  # pragma: no cover - 10,000 trips a day in a demo database
        raise RuntimeError(f"order numbers for {prefix} exhausted")
    return f"{prefix}{sequence:04d}"


def give_new_rider_demo_account(
    rider_id: str, *, session: Optional[Session] = None, clock: Clock = utcnow
) -> bool:
    """Development starter kit: gives an unknown sender id some trips and a deposit.

    Creates the rider if needed, then — only if they have no orders and no deposit yet —
    copies :data:`STARTER_KIT_ORDERS` under fresh order numbers (date of the trip + next
    free sequence) and a held 199 元 deposit. Bikes are seeded if missing.

    Args:
        rider_id: The chat sender id.
        session: Unit of work to use; default opens (and commits) its own.
        clock: Source of "now".

    Returns:
        True if the kit was given now, False if the rider already had data.

    Raises:
        RuntimeError: in production (``settings.env == "production"``).
    """
    from ridedesk.settings import get_settings

    if get_settings().env == "production":
        raise RuntimeError("the demo starter kit is not available in production")
    if session is None:
        from ridedesk.db.session import session_scope

        with session_scope() as own_session:
            return give_new_rider_demo_account(rider_id, session=own_session, clock=clock)

    from ridedesk.services.riders import Riders

    rider, _ = Riders(session, clock).ensure(rider_id)
    has_order = session.execute(select(Order.number).where(Order.rider_id == rider.id).limit(1)).first()
    has_deposit = session.execute(select(Deposit.id).where(Deposit.rider_id == rider.id).limit(1)).first()
    if has_order is not None or has_deposit is not None:
        return False
    seed_bikes(session)
    now = clock()
    templates = {spec.number: spec for spec in ORDERS}
    for template_number in STARTER_KIT_ORDERS:
        spec = templates[template_number]
        for _attempt in range(5):
            number = _next_order_number(session, now - spec.ago)
            try:
                with session.begin_nested():
                    session.add(_order_row(spec, number, rider.id, now))
                break
            except IntegrityError:  # a concurrent kit took the number
                continue
    session.add(
        Deposit(rider_id=rider.id, amount_fen=DEPOSIT_AMOUNT_FEN, status="held", paid_at=now - _ago(30))
    )
    session.flush()
    return True

