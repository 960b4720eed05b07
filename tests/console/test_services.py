"""Core services behind the console: passwords, sessions, presence, hours, notes, ratings."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ridedesk.db.models import AgentSession
from ridedesk.services import agents as agents_module
from ridedesk.services.agents import (
    AgentPresence,
    Agents,
    HandoffRatings,
    conversation_status,
    hash_password,
    token_digest,
    verify_password,
)
from ridedesk.services.errors import InvalidValue, NotYours
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.notes import ConversationNotes
from ridedesk.services.service_hours import describe, is_open, next_opening, parse_hours
from ridedesk.settings import Settings

PASSWORD = "correct-horse-battery"  # same as conftest.PASSWORD

SHANGHAI = "Asia/Shanghai"


def local(hour: int, minute: int = 0, day: int = 23) -> datetime:
    """An aware UTC time for Shanghai wall time on 2026-11-<day>."""
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)


# --- passwords ------------------------------------------------------------------------------
def test_password_hash_is_salted_scrypt_and_verifies(monkeypatch):
    monkeypatch.setattr(agents_module, "SCRYPT_N", 2**14)  # the production cost
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second  # per-hash salt
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "garbage")
    assert not verify_password(PASSWORD, "pbkdf2$1$2$3$4$5")


def test_short_or_missing_passwords_are_refused():
    with pytest.raises(InvalidValue) as error:
        hash_password("short")
    assert error.value.code == "password_too_short"
    with pytest.raises(InvalidValue):
        hash_password(None)  # type: ignore[arg-type]


def test_create_and_authenticate(session, clock):
    agents = Agents(session, clock)
    agent = agents.create(" Wang ", PASSWORD, "小王")
    assert (agent.username, agent.display_name, agent.role, agent.active) == ("wang", "小王", "agent", True)
    assert agent.password_hash != PASSWORD
    assert agents.authenticate("WANG", PASSWORD).id == agent.id
    assert agents.authenticate("wang", "wrong-password!") is None
    assert agents.authenticate("nobody", PASSWORD) is None
    with pytest.raises(InvalidValue) as error:
        agents.create("wang", PASSWORD, "另一个小王")
    assert error.value.code == "username_taken"
    for bad in ("", "a", "有中文", "x" * 40, "bad name"):
        with pytest.raises(InvalidValue):
            agents.create(bad, PASSWORD, "名字")
    for bad_name in ("", "  ", "小" * 17, "bad\x00name"):
        with pytest.raises(InvalidValue):
            agents.create("okname", PASSWORD, bad_name)
    with pytest.raises(InvalidValue):
        agents.create("okname", PASSWORD, "名字", role="root")


def test_disabled_agent_cannot_log_in_and_loses_sessions(session, clock):
    agents = Agents(session, clock)
    agent = agents.create("li", PASSWORD, "小李")
    token, _ = agents.start_session(agent)
    agents.set_active("li", False)
    assert agents.authenticate("li", PASSWORD) is None
    assert agents.session_for(token) is None


def test_sessions_store_only_a_digest_and_expire(session, clock):
    agents = Agents(session, clock)
    agent = agents.create("wang", PASSWORD, "小王")
    token, login = agents.start_session(agent, hours=12)
    row = session.get(AgentSession, token_digest(token))
    assert row is not None and row.id != token
    assert session.get(AgentSession, token) is None
    assert agents.session_for(token).agent.username == "wang"
    assert agents.session_for(token).csrf_token == login.csrf_token
    assert agents.session_for("not-a-token") is None and agents.session_for(None) is None
    clock.advance(hours=11, minutes=59)
    assert agents.session_for(token) is not None
    clock.advance(minutes=1)
    assert agents.session_for(token) is None
    assert session.get(AgentSession, token_digest(token)) is None  # expired row removed


def test_logout_and_password_change_end_sessions(session, clock):
    agents = Agents(session, clock)
    agent = agents.create("wang", PASSWORD, "小王")
    one, _ = agents.start_session(agent)
    two, _ = agents.start_session(agent)
    agents.end_session(one)
    assert agents.session_for(one) is None and agents.session_for(two) is not None
    agents.set_password("wang", "another-long-password")
    assert agents.session_for(two) is None
    assert agents.authenticate("wang", "another-long-password") is not None


# --- presence and availability ----------------------------------------------------------------
def test_presence_counts_recent_heartbeats(session, clock):
    agents = Agents(session, clock)
    wang = agents.create("wang", PASSWORD, "小王")
    li = agents.create("li", PASSWORD, "小李")
    agents.create("zhao", PASSWORD, "小赵")
    presence = AgentPresence(session, clock, window_seconds=60)
    assert presence.online_count() == 0
    presence.heartbeat(wang.id)
    presence.heartbeat(li.id)
    assert presence.online_count() == 2
    assert [a.username for a in presence.online()] == ["li", "wang"] or len(presence.online()) == 2
    clock.advance(seconds=40)
    presence.heartbeat(li.id)
    clock.advance(seconds=21)  # wang's last beat is 61 s old
    assert [a.username for a in presence.online()] == ["li"]
    presence.go_offline(li.id)
    assert presence.online_count() == 0


def test_availability_combines_hours_and_agents(session, clock):
    wang = Agents(session, clock).create("wang", PASSWORD, "小王")
    presence = AgentPresence(session, clock, window_seconds=60)
    clock.set(local(10))
    nobody = presence.availability("08:00-22:00", SHANGHAI)
    assert (nobody.agents_online, nobody.in_service_hours, nobody.agents_available) == (0, True, False)
    assert nobody.next_opening is None
    presence.heartbeat(wang.id)
    assert presence.availability("08:00-22:00", SHANGHAI).agents_available
    clock.set(local(23))
    presence.heartbeat(wang.id)
    late = presence.availability("08:00-22:00", SHANGHAI)
    assert late.agents_online == 1 and not late.in_service_hours and not late.agents_available
    assert late.next_opening == local(8, day=24)


# --- service hours --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hours, wall, expected",
    [
        ("08:00-22:00", (7, 59), False),
        ("08:00-22:00", (8, 0), True),
        ("08:00-22:00", (21, 59), True),
        ("08:00-22:00", (22, 0), False),
        ("08:00-12:00,13:00-22:00", (12, 30), False),
        ("08:00-12:00,13:00-22:00", (13, 0), True),
        ("22:00-06:00", (23, 30), True),
        ("22:00-06:00", (5, 59), True),
        ("22:00-06:00", (6, 0), False),
        ("22:00-06:00", (12, 0), False),
        ("00:00-24:00", (3, 0), True),
        ("08:00-24:00", (23, 59), True),
    ],
)
def test_is_open(hours, wall, expected):
    assert is_open(local(*wall), hours, SHANGHAI) is expected


def test_is_open_uses_the_operator_time_zone():
    # 01:00 UTC is 09:00 in Shanghai (open) but 01:00 in UTC (closed).
    moment = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    assert is_open(moment, "08:00-22:00", SHANGHAI)
    assert not is_open(moment, "08:00-22:00", "UTC")


def test_next_opening_and_describe():
    assert next_opening(local(23), "08:00-22:00", SHANGHAI) == local(8, day=24)
    assert next_opening(local(6), "08:00-22:00", SHANGHAI) == local(8)
    assert next_opening(local(12, 30), "08:00-12:00,13:00-22:00", SHANGHAI) == local(13)
    assert next_opening(local(10), "08:00-22:00", SHANGHAI) == local(10)
    assert describe("08:00-22:00") == "08:00–22:00"
    assert describe("08:00-12:00,13:00-22:00") == "08:00–12:00、13:00–22:00"
    assert describe("22:00-06:00") == "22:00–06:00（次日）"
    assert describe("00:00-24:00") == "全天24小时"


@pytest.mark.parametrize("bad", ["", "8-22", "08:00-08:00", "25:00-26:00", "08:00-24:30", "08:60-09:00", "morning"])
def test_bad_schedules_are_refused(bad):
    with pytest.raises(InvalidValue) as error:
        parse_hours(bad)
    assert error.value.code == "service_hours_invalid"


def test_settings_validate_service_hours():
    assert Settings(service_hours="09:00-18:00").service_hours == "09:00-18:00"
    with pytest.raises(ValueError):
        Settings(service_hours="nine to five")


# --- notes ----------------------------------------------------------------------------------
def test_notes_are_stored_per_conversation(session, clock):
    handoff, _ = HandoffQueue(session, clock).enqueue("conv-1", "rider-1", "requested", {})
    notes = ConversationNotes(session, clock)
    notes.add("conv-1", "wang", " 用户情绪激动，已安抚 ", handoff_id=handoff.id)
    clock.advance(minutes=1)
    notes.add("conv-1", "li", "已联系运维")
    notes.add("conv-2", "li", "别的会话")
    listed = notes.list_for("conv-1")
    assert [(n.author, n.body) for n in listed] == [("wang", "用户情绪激动，已安抚"), ("li", "已联系运维")]
    for bad in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidValue):
            notes.add("conv-1", "wang", bad)
    with pytest.raises(NotYours):
        notes.add("conv-2", "wang", "wrong handoff", handoff_id=handoff.id)


# --- ratings and the widget's status ---------------------------------------------------------
def test_handoff_rating_goes_to_the_agent(session, clock):
    queue = HandoffQueue(session, clock)
    ratings = HandoffRatings(session, clock)
    assert ratings.pending("conv-1") is None and ratings.record("conv-1", "rider-1", 5) is None
    handoff, _ = queue.enqueue("conv-1", "rider-1", "requested", {})
    queue.claim(handoff.id, "wang")
    assert ratings.pending("conv-1") is None  # still with the agent
    queue.resolve(handoff.id, "wang")
    assert ratings.pending("conv-1").id == handoff.id
    response, created = ratings.record("conv-1", "rider-1", "4")
    assert created and (response.handoff_id, response.agent, response.rating) == (handoff.id, "wang", 4)
    assert ratings.pending("conv-1") is None
    again, created = ratings.record("conv-1", "rider-1", 1)
    assert not created and again.rating == 4
    clock.advance(hours=25)
    assert ratings.record("conv-1", "rider-1", 5) is None  # too late: a bot-episode rating


def test_conversation_status_through_the_life_cycle(session, clock):
    clock.set(local(10))
    queue = HandoffQueue(session, clock)
    wang = Agents(session, clock).create("wang", PASSWORD, "小王")

    def status(conversation):
        return conversation_status(session, conversation, clock=clock, hours="08:00-22:00", zone=SHANGHAI, window_seconds=60)

    assert status("c2") == {
        "state": "bot", "position": None, "wait_minutes": None, "agent": None,
        "agents_online": 0, "in_service_hours": True,
    }
    queue.enqueue("c1", "r1", "requested", {})
    clock.advance(seconds=1)
    second, _ = queue.enqueue("c2", "r2", "requested", {})
    waiting = status("c2")
    assert (waiting["state"], waiting["position"], waiting["wait_minutes"]) == ("waiting", 2, None)
    AgentPresence(session, clock, 60).heartbeat(wang.id)
    assert status("c2")["wait_minutes"] == 8 and status("c2")["agents_online"] == 1
    queue.enqueue("c3", "r3", "safety", {}, priority="urgent")
    assert status("c2")["position"] == 3  # an urgent rider goes first
    queue.claim(second.id, "wang")
    assert status("c2")["state"] == "with_agent" and status("c2")["agent"] == "小王"
    queue.resolve(second.id, "wang")
    assert status("c2")["state"] == "closed"
    clock.advance(minutes=11)
    assert status("c2")["state"] == "bot"
    clock.set(local(23))
    assert status("c2")["in_service_hours"] is False
