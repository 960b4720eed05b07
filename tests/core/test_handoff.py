"""The human-agent queue: idempotent enqueue, order, waits, and the claim race."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ridedesk.db.models import Handoff
from ridedesk.db.session import session_scope
from ridedesk.services import HandoffQueue, InvalidTransition, InvalidValue, NotFound, NotYours

from .conftest import NOW


@pytest.fixture
def queue(session, clock):
    return HandoffQueue(session, clock)


def _enqueue(queue, clock, conversation, priority="normal", reason="requested"):
    clock.advance(seconds=10)
    return queue.enqueue(conversation, f"rider-of-{conversation}", reason, {"intent": "human"}, priority)


def test_enqueue_returns_position_and_stores_summary(queue, clock):
    handoff, position = queue.enqueue(
        "conv-1", "rider-1", "fallback", {"last_intent": "nlu_fallback", "slots": {"order": "1"}},
        category="order_dispute")
    assert position == 1
    assert (handoff.status, handoff.priority, handoff.reason, handoff.category) == (
        "waiting", "normal", "fallback", "order_dispute")
    assert handoff.summary == {"last_intent": "nlu_fallback", "slots": {"order": "1"}}
    assert handoff.created_at == NOW


def test_enqueue_is_idempotent_per_conversation(queue, session, clock):
    first, _ = _enqueue(queue, clock, "a")
    _enqueue(queue, clock, "b")
    again, position = _enqueue(queue, clock, "a")
    assert again.id == first.id and position == 1
    assert session.execute(select(func.count(Handoff.id))).scalar_one() == 2


def test_repeat_with_higher_priority_escalates_but_never_lowers(queue, clock):
    _enqueue(queue, clock, "a")
    b, position = _enqueue(queue, clock, "b")
    assert position == 2
    b, position = _enqueue(queue, clock, "b", priority="urgent", reason="safety")
    assert (b.priority, position) == ("urgent", 1)
    b, _ = _enqueue(queue, clock, "b", priority="low")
    assert b.priority == "urgent"


def test_positions_urgent_first_then_fifo(queue, clock):
    a, _ = _enqueue(queue, clock, "a", "normal")
    b, _ = _enqueue(queue, clock, "b", "low")
    c, _ = _enqueue(queue, clock, "c", "normal")
    d, _ = _enqueue(queue, clock, "d", "urgent")
    e, _ = _enqueue(queue, clock, "e", "high")
    expected = [d, e, a, c, b]
    assert [h.id for h in queue.waiting()] == [h.id for h in expected]
    assert [queue.position(h.id) for h in expected] == [1, 2, 3, 4, 5]


def test_same_timestamp_is_ordered_by_id(queue):
    a, _ = queue.enqueue("a", "r", "requested", {})
    b, _ = queue.enqueue("b", "r", "requested", {})
    assert a.created_at == b.created_at
    assert (queue.position(a.id), queue.position(b.id)) == (1, 2)


def test_position_moves_up_when_someone_is_claimed(queue, clock):
    a, _ = _enqueue(queue, clock, "a")
    b, _ = _enqueue(queue, clock, "b")
    assert queue.position(b.id) == 2
    queue.claim(a.id, "agent-1")
    assert queue.position(a.id) is None
    assert queue.position(b.id) == 1
    again, position = _enqueue(queue, clock, "a")
    assert again.id == a.id and position is None  # an agent is already with them


def test_position_of_unknown_handoff(queue):
    with pytest.raises(NotFound, match="handoff_not_found"):
        queue.position(12345)


@pytest.mark.parametrize(
    "position, agents, minutes, expected",
    [(1, 1, 4, 4), (3, 1, 4, 12), (3, 2, 4, 8), (4, 2, 5, 10), (1, 5, 4, 4), (2, 0, 4, None)],
)
def test_estimated_wait(position, agents, minutes, expected):
    assert HandoffQueue.estimated_wait_minutes(position, agents, minutes) == expected


def test_estimated_wait_rejects_nonsense():
    with pytest.raises(InvalidValue, match="position_invalid"):
        HandoffQueue.estimated_wait_minutes(0)
    with pytest.raises(InvalidValue, match="minutes_per_rider_invalid"):
        HandoffQueue.estimated_wait_minutes(1, 1, 0)


def test_claim_and_resolve(queue, clock):
    h, _ = _enqueue(queue, clock, "a")
    clock.advance(minutes=2)
    claimed = queue.claim(h.id, "agent-1")
    assert (claimed.status, claimed.claimed_by, claimed.claimed_at) == ("claimed", "agent-1", clock())
    assert queue.active_for("a").id == h.id
    with pytest.raises(NotYours) as info:
        queue.resolve(h.id, "agent-2")
    assert info.value.code == "handoff_not_yours" and info.value.details["claimed_by"] == "agent-1"
    clock.advance(minutes=5)
    resolved = queue.resolve(h.id, "agent-1")
    assert (resolved.status, resolved.resolved_at) == ("resolved", clock())
    assert queue.active_for("a") is None
    with pytest.raises(InvalidTransition, match="handoff_not_claimed"):
        queue.resolve(h.id, "agent-1")


def test_new_handoff_after_resolution(queue, clock):
    h, _ = _enqueue(queue, clock, "a")
    queue.claim(h.id, "agent-1")
    queue.resolve(h.id, "agent-1")
    again, position = _enqueue(queue, clock, "a")
    assert again.id != h.id and position == 1


def test_claim_refusals(queue, clock):
    h, _ = _enqueue(queue, clock, "a")
    queue.claim(h.id, "agent-1")
    with pytest.raises(InvalidTransition) as info:
        queue.claim(h.id, "agent-2")
    assert info.value.code == "handoff_not_waiting"
    assert info.value.details == {"handoff_id": h.id, "status": "claimed", "claimed_by": "agent-1"}
    assert queue.get(h.id).claimed_by == "agent-1"
    with pytest.raises(NotFound, match="handoff_not_found"):
        queue.claim(99999, "agent-1")
    with pytest.raises(InvalidValue, match="agent_required"):
        queue.claim(h.id, " ")


def test_claim_race_exactly_one_agent_wins(db_url, clock):
    with session_scope(db_url) as s:
        handoff_id = HandoffQueue(s, clock).enqueue("race", "rider", "requested", {})[0].id
    agents = [f"agent-{i}" for i in range(4)]
    barrier = threading.Barrier(len(agents))
    winners, losers, errors = [], [], []

    def worker(agent):
        try:
            barrier.wait()
            with session_scope(db_url) as s:
                HandoffQueue(s, clock).claim(handoff_id, agent)
            winners.append(agent)
        except InvalidTransition as exc:
            losers.append(exc.details["claimed_by"])
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(winners) == 1 and len(losers) == 3
    assert set(losers) == set(winners)  # every loser is told who won
    with session_scope(db_url) as s:
        assert s.get(Handoff, handoff_id).claimed_by == winners[0]


def test_release_puts_rider_back_in_their_place(queue, clock):
    a, _ = _enqueue(queue, clock, "a")
    b, _ = _enqueue(queue, clock, "b")
    queue.claim(a.id, "agent-1")
    assert queue.position(b.id) == 1
    with pytest.raises(NotYours):
        queue.release(a.id, "agent-2")
    released = queue.release(a.id, "agent-1")
    assert (released.status, released.claimed_by, released.claimed_at) == ("waiting", None, None)
    assert queue.position(a.id) == 1 and queue.position(b.id) == 2
    queue.claim(a.id, "agent-2")  # claimable again


def test_abandon(queue, clock):
    waiting, _ = _enqueue(queue, clock, "a")
    claimed, _ = _enqueue(queue, clock, "b")
    queue.claim(claimed.id, "agent-1")
    assert queue.abandon(waiting.id).status == "abandoned"
    assert queue.abandon(claimed.id).status == "abandoned"
    assert queue.waiting() == []
    with pytest.raises(InvalidTransition, match="handoff_not_active"):
        queue.abandon(waiting.id)
    with pytest.raises(InvalidTransition, match="handoff_not_waiting"):
        queue.claim(waiting.id, "agent-1")
    with pytest.raises(NotFound):
        queue.abandon(99999)


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"conversation_id": ""}, "conversation_id_invalid"),
        ({"reason": "bored"}, "handoff_reason_invalid"),
        ({"priority": "asap"}, "priority_invalid"),
        ({"summary": ["not", "a", "dict"]}, "summary_invalid"),
        ({"summary": {"when": object()}}, "summary_invalid"),
        ({"summary": {"text": "长" * 10000}}, "summary_invalid"),
    ],
)
def test_enqueue_validation(queue, session, kwargs, code):
    args = {"conversation_id": "c", "rider_id": "r", "reason": "requested", "summary": {}, **kwargs}
    with pytest.raises(InvalidValue) as info:
        queue.enqueue(**args)
    assert info.value.code == code
    assert session.execute(select(func.count(Handoff.id))).scalar_one() == 0


def test_enqueue_recovers_when_a_concurrent_request_won(queue, session, clock, monkeypatch):
    first, _ = _enqueue(queue, clock, "a")
    real = HandoffQueue.active_for
    calls = []

    def stale(self, conversation_id):
        calls.append(conversation_id)
        return None if len(calls) == 1 else real(self, conversation_id)

    monkeypatch.setattr(HandoffQueue, "active_for", stale)
    again, position = _enqueue(queue, clock, "a")
    assert again.id == first.id and position == 1
    assert session.execute(select(func.count(Handoff.id))).scalar_one() == 1


def test_database_allows_one_active_handoff_per_conversation(session, clock):
    HandoffQueue(session).enqueue("other", "r", "requested", {})  # creates rider "r"
    for status in ("resolved", "abandoned", "waiting"):  # inactive rows don't count
        session.add(Handoff(conversation_id="c", rider_id="r", reason="other", priority="normal",
                            summary={}, status=status, created_at=clock()))
    session.flush()
    session.add(Handoff(conversation_id="c", rider_id="r", reason="other", priority="normal",
                        summary={}, status="claimed", created_at=clock()))
    with pytest.raises(IntegrityError):
        session.flush()
