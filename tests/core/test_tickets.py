"""Tickets: idempotent opening, service levels, numbers, ownership and follow-up."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ridedesk.db.models import Bike, Ticket
from ridedesk.db.session import session_scope
from ridedesk.services import InvalidTransition, InvalidValue, NotFound, NotYours, Tickets
from ridedesk.services.tickets import subject_key

from .conftest import NOW


def _count(session, **filters) -> int:
    query = select(func.count(Ticket.id))
    for name, value in filters.items():
        query = query.where(getattr(Ticket, name) == value)
    return session.execute(query).scalar_one()


@pytest.fixture
def tickets(session, clock, demo):
    return Tickets(session, clock)


def test_open_creates_ticket_with_number_routing_and_history(tickets, session, demo):
    ticket, created = tickets.open(
        demo.DEMO_RIDER, "fault", "车铃坏了", conversation_id="conv-1",
        bike_number=demo.DEMO_BIKE, place="人民广场", fault_part="bell",
    )
    assert created is True
    # 10:00 on 2026-11-23 in Shanghai: first ticket of the local day.
    assert ticket.number == "GD202611230001"
    assert (ticket.status, ticket.priority, ticket.department) == ("open", "normal", "maintenance")
    assert ticket.due_at == NOW + timedelta(hours=24)
    assert ticket.place == "人民广场" and ticket.fault_part == "bell"
    assert [(e.kind, e.to_status) for e in ticket.events] == [("created", "open")]
    assert session.get(Bike, demo.DEMO_BIKE).status == "reported"


def test_open_twice_returns_the_same_ticket(tickets, session, demo):
    first, created1 = tickets.open(demo.DEMO_RIDER, "fault", "刹车失灵", conversation_id="c",
                                   bike_number=demo.DEMO_BIKE)
    second, created2 = tickets.open(demo.DEMO_RIDER, "fault", "刹车还是坏的！", conversation_id="c",
                                    bike_number=demo.DEMO_BIKE)
    assert (created1, created2) == (True, False)
    assert second.id == first.id
    assert _count(session) == 1


def test_same_text_with_different_punctuation_is_the_same_subject(tickets, session, demo):
    a, _ = tickets.open(demo.DEMO_RIDER, "complaint", "客服态度 很差", conversation_id="c")
    b, created = tickets.open(demo.DEMO_RIDER, "complaint", "客服态度很差！！", conversation_id="c")
    assert created is False and a.id == b.id
    c, created = tickets.open(demo.DEMO_RIDER, "complaint", "运维人员乱停车", conversation_id="c")
    assert created is True and c.id != a.id


def test_repeat_is_new_ticket_for_other_rider_other_category_or_after_resolution(tickets, demo):
    first, _ = tickets.open(demo.DEMO_RIDER, "fault", "链条掉了", conversation_id="c",
                            bike_number=demo.DEMO_BIKE)
    _, created = tickets.open(demo.OTHER_RIDER, "fault", "链条掉了", conversation_id="d",
                              bike_number=demo.DEMO_BIKE)
    assert created is True
    _, created = tickets.open(demo.DEMO_RIDER, "safety", "链条掉了摔了", conversation_id="c",
                              bike_number=demo.DEMO_BIKE)
    assert created is True
    tickets.transition(first.number, "resolved", "agent-1", "已更换链条")
    again, created = tickets.open(demo.DEMO_RIDER, "fault", "链条又掉了", conversation_id="c",
                                  bike_number=demo.DEMO_BIKE)
    assert created is True and again.id != first.id


def test_in_progress_ticket_still_deduplicates(tickets, demo):
    first, _ = tickets.open(demo.DEMO_RIDER, "order_dispute", "多扣钱", conversation_id="c",
                            order_number=demo.DEMO_ORDER)
    tickets.transition(first.number, "in_progress", "agent-1")
    second, created = tickets.open(demo.DEMO_RIDER, "order_dispute", "怎么还没处理", conversation_id="c",
                                   order_number=demo.DEMO_ORDER)
    assert created is False and second.id == first.id


@pytest.mark.parametrize(
    "category, kwargs, priority, department, hours",
    [
        ("safety", {"bike_number": "862104573"}, "urgent", "safety", 1),
        ("complaint", {}, "high", "customer_care", 24),
        ("fault", {"bike_number": "862104573", "fault_part": "bell"}, "normal", "maintenance", 24),
        ("fault", {"bike_number": "862104573", "fault_part": "brake"}, "high", "maintenance", 4),
        ("fault", {"bike_number": "862104573", "fault_part": "刹车"}, "high", "maintenance", 4),
        ("order_dispute", {"order_number": "202611180031"}, "normal", "billing", 48),
        ("parking_dispute", {"order_number": "202611190007"}, "normal", "operations", 48),
        ("deposit", {}, "normal", "billing", 72),
        ("callback", {}, "normal", "customer_care", 24),
        ("other", {}, "low", "customer_care", 72),
    ],
)
def test_service_levels(tickets, demo, category, kwargs, priority, department, hours):
    ticket, _ = tickets.open(demo.DEMO_RIDER, category, "描述", conversation_id="c", **kwargs)
    assert (ticket.priority, ticket.department) == (priority, department)
    assert ticket.due_at - ticket.created_at == timedelta(hours=hours)


def test_brake_in_description_escalates_fault(tickets, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "fault", "这辆车刹不住", conversation_id="c",
                             bike_number=demo.DEMO_BIKE)
    assert ticket.priority == "high"


def test_numbers_follow_the_operator_local_day(session, demo):
    # 23:59 Shanghai on the 23rd, then 00:01 Shanghai on the 24th (16:01 UTC).
    late = Tickets(session, lambda: datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc))
    next_day = Tickets(session, lambda: datetime(2026, 11, 23, 16, 1, tzinfo=timezone.utc))
    a, _ = late.open(demo.DEMO_RIDER, "other", "一", conversation_id="c")
    b, _ = late.open(demo.DEMO_RIDER, "other", "二", conversation_id="c")
    c, _ = next_day.open(demo.DEMO_RIDER, "other", "三", conversation_id="c")
    assert [a.number, b.number, c.number] == ["GD202611230001", "GD202611230002", "GD202611240001"]


def test_number_sequence_beyond_9999(tickets, session, demo):
    first, _ = tickets.open(demo.DEMO_RIDER, "other", "一", conversation_id="c")
    first.number = "GD202611239999"
    session.flush()
    second, _ = tickets.open(demo.DEMO_RIDER, "other", "二", conversation_id="c")
    third, _ = tickets.open(demo.DEMO_RIDER, "other", "三", conversation_id="c")
    assert (second.number, third.number) == ("GD2026112310000", "GD2026112310001")


def test_number_collision_is_retried(tickets, session, demo, monkeypatch):
    taken, _ = tickets.open(demo.DEMO_RIDER, "other", "一", conversation_id="c")
    real = Tickets._next_number
    calls = []

    def stale_then_real(self, now):
        calls.append(now)
        # First attempt returns a number a concurrent request already used.
        return taken.number if len(calls) == 1 else real(self, now)

    monkeypatch.setattr(Tickets, "_next_number", stale_then_real)
    ticket, created = tickets.open(demo.DEMO_RIDER, "other", "二", conversation_id="c")
    assert created is True
    assert ticket.number == "GD202611230002"
    assert len(calls) == 2
    assert _count(session) == 2
    session.commit()  # the outer transaction survived the failed insert


def test_database_enforces_one_active_ticket_per_subject(tickets, session, demo, monkeypatch):
    existing, _ = tickets.open(demo.DEMO_RIDER, "fault", "坏了", conversation_id="c",
                               bike_number=demo.DEMO_BIKE)
    real = Tickets._find_active
    calls = []

    def miss_first(self, key):
        # Simulates the race: the pre-check ran before the other request committed.
        calls.append(key)
        return None if len(calls) == 1 else real(self, key)

    monkeypatch.setattr(Tickets, "_find_active", miss_first)
    again, created = tickets.open(demo.DEMO_RIDER, "fault", "坏了", conversation_id="c",
                                  bike_number=demo.DEMO_BIKE)
    assert created is False and again.id == existing.id
    assert _count(session) == 1
    session.commit()


def test_concurrent_open_from_two_threads_creates_one_ticket(db_url, demo, clock):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            with session_scope(db_url) as s:
                ticket, created = Tickets(s, clock).open(
                    demo.DEMO_RIDER, "fault", "车锁打不开", conversation_id="c",
                    bike_number=demo.DEMO_EBIKE,
                )
                results.append((ticket.number, created))
        except Exception as exc:  # pragma: no cover - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({number for number, _ in results}) == 1
    with session_scope(db_url) as s:
        assert _count(s) == 1


def test_concurrent_different_tickets_get_distinct_numbers(db_url, demo, clock):
    barrier = threading.Barrier(4)
    numbers, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            with session_scope(db_url) as s:
                ticket, _ = Tickets(s, clock).open(demo.DEMO_RIDER, "other", f"问题{i}", conversation_id="c")
                numbers.append(ticket.number)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(numbers) == [f"GD20261123000{i}" for i in range(1, 5)]


@pytest.mark.parametrize(
    "category, description, kwargs, error, code",
    [
        ("lost_item", "丢了东西", {}, InvalidValue, "ticket_category_invalid"),
        ("fault", "   ", {}, InvalidValue, "description_required"),
        ("fault", "长" * 2001, {}, InvalidValue, "description_too_long"),
        ("fault", "坏了", {"bike_number": "12345"}, InvalidValue, "bike_number_invalid"),
        ("fault", "坏了", {"bike_number": "999999999"}, NotFound, "bike_not_found"),
        ("order_dispute", "多扣", {"order_number": "20261118"}, InvalidValue, "order_number_invalid"),
        ("order_dispute", "多扣", {"order_number": "209901010001"}, NotFound, "order_not_found"),
        ("order_dispute", "多扣", {"order_number": "202611170088"}, NotYours, "order_not_yours"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_open_rejects_bad_input(tickets, session, demo, category, description, kwargs, error, code):
    with pytest.raises(error) as info:
        tickets.open(demo.DEMO_RIDER, category, description, conversation_id="c", **kwargs)
    assert type(info.value) is error and info.value.code == code
    assert _count(session) == 0


def test_open_creates_unknown_rider_only_when_valid(tickets, session):
    from ridedesk.db.models import Rider

    with pytest.raises(NotFound):
        tickets.open("brand-new-sender", "fault", "坏了", conversation_id="x", bike_number="999999999")
    assert session.get(Rider, "brand-new-sender") is None
    ticket, created = tickets.open("brand-new-sender", "callback", "请给我回电话", conversation_id="x")
    assert created and ticket.rider_id == "brand-new-sender"
    assert session.get(Rider, "brand-new-sender").created_at == NOW


def test_get_enforces_ownership(tickets, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "complaint", "太慢了", conversation_id="c")
    assert tickets.get(ticket.number, rider_id=demo.DEMO_RIDER).id == ticket.id
    assert tickets.get(" gd" + ticket.number[2:]).id == ticket.id  # agents: no rider filter
    with pytest.raises(NotYours) as info:
        tickets.get(ticket.number, rider_id=demo.OTHER_RIDER)
    assert info.value.code == "ticket_not_yours"
    with pytest.raises(NotFound) as info:
        tickets.get("GD202601010001", rider_id=demo.DEMO_RIDER)
    assert type(info.value) is NotFound and info.value.code == "ticket_not_found"
    with pytest.raises(InvalidValue):
        tickets.get("12345")


def test_latest_and_list_for(tickets, clock, demo):
    assert tickets.latest_for(demo.DEMO_RIDER) is None
    a, _ = tickets.open(demo.DEMO_RIDER, "other", "一", conversation_id="c")
    clock.advance(minutes=5)
    b, _ = tickets.open(demo.DEMO_RIDER, "other", "二", conversation_id="c")
    tickets.open(demo.OTHER_RIDER, "other", "三", conversation_id="d")
    assert tickets.latest_for(demo.DEMO_RIDER).id == b.id
    assert [t.id for t in tickets.list_for(demo.DEMO_RIDER)] == [b.id, a.id]
    tickets.transition(b.number, "resolved", "agent", "好了")
    assert [t.id for t in tickets.list_for(demo.DEMO_RIDER, active_only=True)] == [a.id]
    assert len(tickets.list_for(demo.DEMO_RIDER, limit=1)) == 1


def test_transitions_record_history(tickets, clock, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "complaint", "慢", conversation_id="c")
    clock.advance(hours=1)
    tickets.transition(ticket.number, "in_progress", "agent-7", "正在联系运维")
    clock.advance(hours=1)
    tickets.transition(ticket.number, "resolved", "agent-7", "已道歉并补偿优惠券")
    tickets.transition(ticket.number, "closed", "agent-7")
    assert ticket.status == "closed"
    assert ticket.resolution == "已道歉并补偿优惠券"
    assert ticket.updated_at == NOW + timedelta(hours=2)
    assert [(e.kind, e.from_status, e.to_status, e.author) for e in ticket.events] == [
        ("created", None, "open", "ridedesk-bot"),
        ("status", "open", "in_progress", "agent-7"),
        ("status", "in_progress", "resolved", "agent-7"),
        ("status", "resolved", "closed", "agent-7"),
    ]


def test_open_can_be_resolved_directly(tickets, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "callback", "回电", conversation_id="c")
    assert tickets.transition(ticket.number, "resolved", "agent", "已回电").status == "resolved"


@pytest.mark.parametrize(
    "path, target",
    [
        ([], "closed"),
        ([], "open"),
        (["in_progress"], "open"),
        (["in_progress"], "closed"),
        (["in_progress"], "in_progress"),
        (["resolved"], "in_progress"),
        (["resolved"], "open"),
        (["resolved", "closed"], "open"),
        (["resolved", "closed"], "resolved"),
    ],
)
def test_invalid_transitions(tickets, demo, path, target):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "complaint", "慢", conversation_id="c")
    for status in path:
        tickets.transition(ticket.number, status, "agent", "说明")
    before = ticket.status
    with pytest.raises(InvalidTransition) as info:
        tickets.transition(ticket.number, target, "agent", "说明")
    assert info.value.code == "ticket_transition_invalid"
    assert info.value.details["from_status"] == before
    assert ticket.status == before


def test_transition_validation(tickets, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "complaint", "慢", conversation_id="c")
    with pytest.raises(InvalidValue, match="ticket_status_invalid"):
        tickets.transition(ticket.number, "done", "agent")
    with pytest.raises(InvalidValue, match="resolution_required"):
        tickets.transition(ticket.number, "resolved", "agent")
    with pytest.raises(InvalidValue, match="author_required"):
        tickets.transition(ticket.number, "in_progress", "  ")
    with pytest.raises(NotFound, match="ticket_not_found"):
        tickets.transition("GD202601010001", "in_progress", "agent")
    assert ticket.status == "open"


def test_add_note(tickets, clock, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "complaint", "慢", conversation_id="c")
    clock.advance(minutes=3)
    event = tickets.add_note(ticket.number, demo.DEMO_RIDER, "补充：在地铁口", rider_id=demo.DEMO_RIDER)
    assert (event.kind, event.note, event.at) == ("note", "补充：在地铁口", NOW + timedelta(minutes=3))
    assert ticket.events[-1] is event and ticket.updated_at == event.at
    with pytest.raises(NotYours):
        tickets.add_note(ticket.number, demo.OTHER_RIDER, "我也是", rider_id=demo.OTHER_RIDER)
    with pytest.raises(InvalidValue, match="note_required"):
        tickets.add_note(ticket.number, "agent", " ")
    with pytest.raises(InvalidValue, match="note_too_long"):
        tickets.add_note(ticket.number, "agent", "长" * 2001)
    tickets.transition(ticket.number, "resolved", "agent", "好了")
    tickets.add_note(ticket.number, "agent", "已回访")  # resolved: still allowed
    tickets.transition(ticket.number, "closed", "agent")
    with pytest.raises(InvalidTransition, match="ticket_closed"):
        tickets.add_note(ticket.number, "agent", "再补充")


def test_is_overdue(tickets, clock, demo):
    ticket, _ = tickets.open(demo.DEMO_RIDER, "safety", "电池冒烟", conversation_id="c")
    assert not tickets.is_overdue(ticket)
    clock.advance(hours=1, seconds=1)
    assert tickets.is_overdue(ticket)
    tickets.transition(ticket.number, "resolved", "agent", "已回收")
    assert not tickets.is_overdue(ticket)


def test_subject_key_prefers_bike_then_order_then_text():
    assert subject_key("r", "fault", bike_number="1", order_number="2", description="x") == "r|fault|bike:1"
    assert subject_key("r", "order_dispute", order_number="2", description="x") == "r|order_dispute|order:2"
    assert subject_key("r", "other", description="你好！") == subject_key("r", "other", description="你 好")
    assert subject_key("r", "other", description="a") != subject_key("r", "other", description="b")


def test_fault_report_leaves_maintenance_bike_alone(tickets, session, demo):
    tickets.open(demo.DEMO_RIDER, "fault", "坏了", conversation_id="c", bike_number=demo.MAINTENANCE_BIKE)
    assert session.get(Bike, demo.MAINTENANCE_BIKE).status == "maintenance"
    tickets.open(demo.DEMO_RIDER, "complaint", "车太脏", conversation_id="c", bike_number=demo.DEMO_EBIKE)
    assert session.get(Bike, demo.DEMO_EBIKE).status == "in_service"  # complaints don't pull bikes
