"""The core services on a live PostgreSQL: migrations, idempotency and races for real.

The rest of ``tests/core`` runs on SQLite, whose ``BEGIN IMMEDIATE`` makes every writer wait
for the whole database; that hides what production (several processes on PostgreSQL) relies
on: row locks, partial unique indexes under READ COMMITTED, savepoint recovery after a
unique violation, and CHECK constraints as PostgreSQL evaluates them. Each test gets its own
database, copied from a template migrated once (fixtures in ``conftest.py``); the cluster is
thrown away at the end of the session. Without PostgreSQL installed these tests skip (or fail
when ``CI`` is set).
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable, List

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, func, inspect, select
from sqlalchemy.exc import IntegrityError

from ridedesk.db.models import Base, Bike, Handoff, Rider, SurveyResponse, Ticket
from ridedesk.db.session import (
    current_revision,
    dispose_engine,
    downgrade,
    get_engine,
    migrate,
    session_factory,
    session_scope,
)
from ridedesk.services import HandoffQueue, InvalidTransition, Tickets
from ridedesk.services.tickets import subject_key

from . import test_handoff, test_tickets
from .conftest import NOW, PG_INSTALL_HINT, find_pg_bindir, require_tool
from .test_migrations import HEAD, TABLES

# How long a thread must stay stuck before we believe it waits on a lock, not on the CPU.
BLOCKED_FOR = 0.4
JOIN_TIMEOUT = 30


@pytest.fixture
def db_url(pg_url):
    """Routes the shared ``session``/``demo`` fixtures to a private PostgreSQL database."""
    return pg_url


def _run_threads(workers: List[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=worker) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock?)"


def _ticket_count(session) -> int:
    return session.execute(select(func.count(Ticket.id))).scalar_one()


# --- the fixture's own rules (no cluster needed) -------------------------------------------
def test_missing_binaries_skip_locally_and_fail_under_ci(monkeypatch):
    message = f"PostgreSQL binaries not found: {PG_INSTALL_HINT}"
    require_tool(True, message)  # found: nothing happens
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        require_tool(False, message)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install postgresql.*CI is set"):
        require_tool(False, message)


def test_newest_complete_postgresql_version_is_used(tmp_path):
    assert find_pg_bindir(tmp_path) is None
    for version, tools in {"9.6": ("initdb", "pg_ctl"), "13": ("initdb", "pg_ctl"), "16": ("initdb",)}.items():
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for tool in tools:
            (bindir / tool).touch()
    # 13 beats 9.6 numerically; 16 lacks pg_ctl (a half-removed install).
    assert find_pg_bindir(tmp_path) == tmp_path / "13" / "bin"


# --- migrations ---------------------------------------------------------------------------
def test_migrations_build_the_models_schema_on_postgresql(postgres_cluster):
    url = postgres_cluster.create_database(f"fresh_{uuid.uuid4().hex[:8]}")
    try:
        assert current_revision(url) is None
        migrate(url)
        engine = get_engine(url)
        assert engine.dialect.name == "postgresql"
        assert current_revision(url) == HEAD
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        dispose_engine(url)


def test_partial_unique_indexes_and_check_constraints_exist(pg_url):
    inspector = inspect(get_engine(pg_url))
    indexes = {
        table: {index["name"]: index for index in inspector.get_indexes(table)}
        for table in ("tickets", "handoffs")
    }
    tickets_index = indexes["tickets"]["ux_tickets_active_subject"]
    handoffs_index = indexes["handoffs"]["ux_handoffs_active_conversation"]
    assert tickets_index["unique"] and tickets_index["column_names"] == ["subject_key"]
    assert handoffs_index["unique"] and handoffs_index["column_names"] == ["conversation_id"]
    # PostgreSQL rewrites the predicate (status IN (...) → status = ANY (ARRAY[...])), so look
    # for the statuses rather than the exact text.
    tickets_where = tickets_index["dialect_options"]["postgresql_where"]
    handoffs_where = handoffs_index["dialect_options"]["postgresql_where"]
    assert "'open'" in tickets_where and "'in_progress'" in tickets_where
    assert "'resolved'" not in tickets_where and "'closed'" not in tickets_where
    assert "'waiting'" in handoffs_where and "'claimed'" in handoffs_where

    for table in Base.metadata.sorted_tables:
        expected = {str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert found == expected, table.name


def test_downgrade_to_base_and_upgrade_again_with_data(pg_url, session, demo):
    Tickets(session).open(demo.DEMO_RIDER, "complaint", "态度差", conversation_id="c")
    session.commit()
    session.close()
    downgrade(pg_url, "base")
    assert set(inspect(get_engine(pg_url)).get_table_names()) <= {"alembic_version"}
    assert current_revision(pg_url) is None
    migrate(pg_url)
    assert current_revision(pg_url) == HEAD


def test_times_and_json_round_trip(pg_url, session, clock):
    handoff, _ = HandoffQueue(session, clock).enqueue(
        "tz", "rider-tz", "requested", {"意图": "转人工", "slots": {"车号": "862104573"}}
    )
    session.commit()
    with session_scope(pg_url) as fresh:
        stored = fresh.get(Handoff, handoff.id)
        assert stored.summary == {"意图": "转人工", "slots": {"车号": "862104573"}}
        assert stored.created_at == NOW and stored.created_at.utcoffset().total_seconds() == 0


# --- (a) ticket idempotency ---------------------------------------------------------------
def test_repeat_request_returns_the_open_ticket(session, demo, clock):
    tickets = Tickets(session, clock)
    first, created = tickets.open(demo.DEMO_RIDER, "fault", "刹车失灵", conversation_id="c",
                                  bike_number=demo.DEMO_BIKE)
    session.commit()
    again, created_again = tickets.open(demo.DEMO_RIDER, "fault", "刹车还是坏的！", conversation_id="c",
                                        bike_number=demo.DEMO_BIKE)
    assert (created, created_again) == (True, False) and again.id == first.id
    tickets.transition(first.number, "resolved", "agent-1", "已修好")
    later, created_later = tickets.open(demo.DEMO_RIDER, "fault", "又坏了", conversation_id="c",
                                        bike_number=demo.DEMO_BIKE)
    assert created_later is True and later.id != first.id
    session.commit()
    assert _ticket_count(session) == 2


def test_open_waits_for_an_uncommitted_twin_and_returns_it(pg_url, session, demo, clock):
    """Second request's pre-check misses the uncommitted ticket; the index makes it wait."""
    first, created = Tickets(session, clock).open(
        demo.DEMO_RIDER, "fault", "车锁打不开", conversation_id="c", bike_number=demo.DEMO_EBIKE)
    assert created is True
    results, errors = [], []

    def second_request():
        try:
            with session_scope(pg_url) as other:
                ticket, was_created = Tickets(other, clock).open(
                    demo.DEMO_RIDER, "fault", "车锁打不开！", conversation_id="c",
                    bike_number=demo.DEMO_EBIKE)
                results.append((ticket.id, was_created))
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    thread = threading.Thread(target=second_request)
    thread.start()
    time.sleep(BLOCKED_FOR)
    assert thread.is_alive(), "the second insert should wait for the first transaction"
    session.commit()
    thread.join(JOIN_TIMEOUT)
    assert errors == [] and results == [(first.id, False)]
    assert _ticket_count(session) == 1


def test_concurrent_open_from_threads_creates_one_ticket(pg_url, demo, clock):
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            with session_scope(pg_url) as s:
                ticket, created = Tickets(s, clock).open(
                    demo.DEMO_RIDER, "complaint", "客服态度很差", conversation_id="c")
                results.append((ticket.number, created))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    _run_threads([worker] * 4)
    assert errors == []
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({number for number, _ in results}) == 1
    with session_scope(pg_url) as s:
        assert _ticket_count(s) == 1


# The SQLite test, collected again: ``db_url`` points it at PostgreSQL, where all four
# really compute the same next number and the losers retry after the unique violation.
test_concurrent_different_tickets_get_distinct_numbers = (
    test_tickets.test_concurrent_different_tickets_get_distinct_numbers)


def test_partial_unique_index_allows_one_active_ticket_per_subject(session, demo, clock):
    key = subject_key(demo.DEMO_RIDER, "other", description="重复")

    def row(number, status):
        return Ticket(number=number, category="other", priority="low", department="customer_care",
                      status=status, created_at=clock(), updated_at=clock(), due_at=clock(),
                      description="重复", rider_id=demo.DEMO_RIDER, subject_key=key)

    # Finished tickets do not count: history may hold many for the same subject.
    session.add_all([row("GD202611230001", "resolved"), row("GD202611230002", "closed"),
                     row("GD202611230003", "open")])
    session.commit()
    session.add(row("GD202611230004", "in_progress"))
    with pytest.raises(IntegrityError) as info:
        session.flush()
    assert info.value.orig.diag.constraint_name == "ux_tickets_active_subject"
    session.rollback()
    assert _ticket_count(session) == 3


# --- (b) the hand-off claim race ------------------------------------------------------------
# The SQLite race test, collected here again: ``db_url`` above points it at PostgreSQL, where
# the claim's conditional UPDATE really runs concurrently under row locks.
test_claim_race_exactly_one_agent_wins = test_handoff.test_claim_race_exactly_one_agent_wins


@pytest.mark.parametrize("first_agent_commits", [True, False], ids=["commit", "rollback"])
def test_second_claim_waits_on_the_row_lock(pg_url, clock, first_agent_commits):
    """Interleaved by hand: agent A's claim is in flight when agent B clicks.

    B's conditional UPDATE waits for A's row lock, then re-checks ``status = 'waiting'``:
    B loses if A committed, and gets the rider if A's request failed (rolled back).
    """
    with session_scope(pg_url) as s:
        handoff_id = HandoffQueue(s, clock).enqueue("slow", "rider", "requested", {})[0].id
    outcome, errors = [], []

    def agent_b():
        try:
            with session_scope(pg_url) as s:
                outcome.append(HandoffQueue(s, clock).claim(handoff_id, "agent-b").claimed_by)
        except InvalidTransition as exc:
            outcome.append(exc)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    session_a = session_factory(pg_url)()
    try:
        HandoffQueue(session_a, clock).claim(handoff_id, "agent-a")
        thread = threading.Thread(target=agent_b)
        thread.start()
        time.sleep(BLOCKED_FOR)
        assert thread.is_alive(), "agent B should wait for agent A's transaction"
        if first_agent_commits:
            session_a.commit()
        else:
            session_a.rollback()
    finally:
        session_a.close()
    thread.join(JOIN_TIMEOUT)
    assert errors == [] and len(outcome) == 1
    if first_agent_commits:
        assert isinstance(outcome[0], InvalidTransition)
        assert outcome[0].code == "handoff_not_waiting"
        assert outcome[0].details == {"handoff_id": handoff_id, "status": "claimed", "claimed_by": "agent-a"}
    else:
        assert outcome == ["agent-b"]


def test_concurrent_enqueue_of_one_conversation_makes_one_handoff(pg_url, clock):
    with session_scope(pg_url) as s:
        # Creates rider "r" first, so the race below is about the hand-off alone.
        HandoffQueue(s, clock).enqueue("warm-up", "r", "requested", {})
    barrier = threading.Barrier(3)
    ids, errors = [], []

    def worker():
        try:
            barrier.wait()
            with session_scope(pg_url) as s:
                ids.append(HandoffQueue(s, clock).enqueue("same", "r", "requested", {})[0].id)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    _run_threads([worker] * 3)
    assert errors == [] and len(set(ids)) == 1


# --- (c) CHECK constraints ------------------------------------------------------------------
@pytest.mark.parametrize(
    "make_row, constraint",
    [
        (lambda now: SurveyResponse(conversation_id="c", rider_id="r", rating=9, created_at=now,
                                    survey_key="manual"), "ck_survey_responses_rating_1_to_5"),
        (lambda now: Bike(number="12345678", kind="bike", brand="x", status="in_service"),
         "ck_bikes_number_9_digits"),
        (lambda now: Handoff(conversation_id="c", rider_id="r", reason="requested", priority="normal",
                             summary={}, status="lost", created_at=now), "ck_handoffs_status"),
    ],
    ids=["rating", "bike-number-length", "handoff-status"],
)
def test_check_constraints_reject_bad_values(session, clock, make_row, constraint):
    HandoffQueue(session, clock).enqueue("other", "r", "requested", {})  # creates rider "r"
    session.commit()
    session.add(make_row(clock()))
    with pytest.raises(IntegrityError) as info:
        session.flush()
    assert info.value.orig.pgcode == "23514"  # check_violation
    assert info.value.orig.diag.constraint_name == constraint
    session.rollback()
    # The session is usable again after the refused row.
    assert session.get(Rider, "r") is not None
