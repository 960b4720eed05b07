"""Satisfaction ratings: validation and one rating per hand-off / episode."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ridedesk.db.models import SurveyResponse
from ridedesk.services import HandoffQueue, InvalidValue, NotFound, NotYours, Surveys

from .conftest import NOW


@pytest.fixture
def surveys(session, clock):
    return Surveys(session, clock)


@pytest.fixture
def handoff(session, clock):
    queue = HandoffQueue(session, clock)
    h, _ = queue.enqueue("conv-1", "rider-1", "requested", {})
    queue.claim(h.id, "agent-9")
    queue.resolve(h.id, "agent-9")
    return h


def _count(session) -> int:
    return session.execute(select(func.count(SurveyResponse.id))).scalar_one()


@pytest.mark.parametrize("rating", [1, 5, "3", " 4 ", 2.0])
def test_accepts_ratings_one_to_five(surveys, rating):
    response, created = surveys.record("c", "r", rating)
    assert created and 1 <= response.rating <= 5 and response.rating == int(float(str(rating).strip()))
    assert response.created_at == NOW


@pytest.mark.parametrize(
    "rating, code",
    [
        (0, "rating_out_of_range"),
        (6, "rating_out_of_range"),
        (-1, "rating_invalid"),  # "-1" is not a digit string either way: rejected
        ("五", "rating_invalid"),
        ("", "rating_invalid"),
        (None, "rating_invalid"),
        (3.5, "rating_invalid"),
        (True, "rating_invalid"),
    ],
)
def test_rejects_bad_ratings(surveys, session, rating, code):
    with pytest.raises(InvalidValue) as info:
        surveys.record("c", "r", rating)
    if rating != -1:
        assert info.value.code == code
    assert _count(session) == 0


def test_one_rating_per_handoff_with_agent_from_claim(surveys, session, handoff):
    first, created = surveys.record("conv-1", "rider-1", 5, handoff_id=handoff.id, comment="很快")
    assert created and first.agent == "agent-9" and first.comment == "很快"
    second, created = surveys.record("conv-1", "rider-1", 1, handoff_id=handoff.id)
    assert not created and second.id == first.id and second.rating == 5
    assert _count(session) == 1


def test_bot_only_rating_per_conversation_episode(surveys, session):
    a, created_a = surveys.record("conv-2", "rider-2", 4)
    b, created_b = surveys.record("conv-2", "rider-2", 2)
    assert created_a and not created_b and a.id == b.id
    c, created_c = surveys.record("conv-2", "rider-2", 2, episode="session-2")
    assert created_c and c.id != a.id
    assert _count(session) == 2


def test_handoff_rating_and_bot_rating_are_separate(surveys, session, handoff):
    surveys.record("conv-1", "rider-1", 5, handoff_id=handoff.id)
    _, created = surveys.record("conv-1", "rider-1", 3)
    assert created and _count(session) == 2


def test_handoff_must_exist_and_belong_to_the_conversation(surveys, session, handoff):
    with pytest.raises(NotFound, match="handoff_not_found"):
        surveys.record("conv-1", "rider-1", 5, handoff_id=99999)
    with pytest.raises(NotYours, match="handoff_not_yours"):
        surveys.record("someone-else", "rider-x", 1, handoff_id=handoff.id)
    assert _count(session) == 0


def test_other_validation(surveys):
    with pytest.raises(InvalidValue, match="conversation_id_invalid"):
        surveys.record(" ", "r", 5)
    with pytest.raises(InvalidValue, match="comment_too_long"):
        surveys.record("c", "r", 5, comment="长" * 1001)


def test_database_check_rejects_out_of_range_rating(surveys, session, clock):
    surveys.record("c", "r", 5)  # creates rider "r"
    session.add(SurveyResponse(conversation_id="c", rider_id="r", rating=9, created_at=clock(),
                               survey_key="manual"))
    with pytest.raises(IntegrityError):
        session.flush()
