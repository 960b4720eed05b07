"""Satisfaction surveys (满意度评价) after a hand-off or a bot-only conversation."""
from __future__ import annotations

from typing import Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ridedesk.db.models import Handoff, SurveyResponse
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidValue, NotFound, NotYours
from ridedesk.services.riders import Riders

MAX_COMMENT_LENGTH = 1000


def parse_rating(rating: object) -> int:
    """Returns a rating 1..5 from an int or a digit string (slot values arrive as text).

    Raises:
        InvalidValue: ``rating_invalid`` (not a whole number) or ``rating_out_of_range``.
    """
    if isinstance(rating, bool):
        raise InvalidValue("rating_invalid", rating=rating)
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)
    if isinstance(rating, str) and rating.strip().isdigit():
        rating = int(rating.strip())
    if not isinstance(rating, int):
        raise InvalidValue("rating_invalid", rating=rating)
    if not 1 <= rating <= 5:
        raise InvalidValue("rating_out_of_range", rating=rating)
    return rating


class Surveys(Service):
    """Records ratings, at most one per hand-off or conversation episode."""

    def record(
        self,
        conversation_id: str,
        rider_id: str,
        rating: object,
        handoff_id: Optional[int] = None,
        agent: Optional[str] = None,
        comment: Optional[str] = None,
        *,
        episode: Optional[str] = None,
    ) -> Tuple[SurveyResponse, bool]:
        """Stores a rating; a repeat for the same hand-off / episode returns the first one.

        What is rated: the hand-off when ``handoff_id`` is given (its agent is filled in from
        the claim if not passed), else the conversation episode — ``episode`` lets the caller
        distinguish several bot sessions of one long-lived conversation (e.g. the Rasa
        session start time); without it, one rating per conversation.

        Returns:
            ``(response, created)``.

        Raises:
            InvalidValue: ``rating_invalid``, ``rating_out_of_range``,
                ``conversation_id_invalid``, ``comment_too_long``.
            NotFound: ``handoff_not_found``.
            NotYours: ``handoff_not_yours`` (hand-off of another conversation).
        """
        rating = parse_rating(rating)
        if not isinstance(conversation_id, str) or not conversation_id.strip():
            raise InvalidValue("conversation_id_invalid")
        comment = (comment or "").strip() or None
        if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
            raise InvalidValue("comment_too_long", limit=MAX_COMMENT_LENGTH)

        if handoff_id is not None:
            handoff = self.session.get(Handoff, handoff_id)
            if handoff is None:
                raise NotFound("handoff_not_found", handoff_id=handoff_id)
            if handoff.conversation_id != conversation_id:
                raise NotYours("handoff_not_yours", handoff_id=handoff_id)
            agent = agent or handoff.claimed_by
            key = f"handoff:{handoff_id}"
        else:
            key = f"conversation:{conversation_id}:{episode or ''}"

        existing = self._by_key(key)
        if existing is not None:
            return existing, False
        rider, _ = Riders(self.session, self.clock).ensure(rider_id)
        response = SurveyResponse(
            conversation_id=conversation_id,
            rider_id=rider.id,
            handoff_id=handoff_id,
            agent=agent,
            rating=rating,
            comment=comment,
            created_at=self.clock(),
            survey_key=key[:255],
        )
        try:
            with self.session.begin_nested():
                self.session.add(response)
        except IntegrityError:
            existing = self._by_key(key)
            if existing is None:  # pragma: no cover - some other constraint failed
                raise
            return existing, False
        return response, True

    def _by_key(self, key: str) -> Optional[SurveyResponse]:
        return self.session.execute(
            select(SurveyResponse).where(SurveyResponse.survey_key == key[:255])
        ).scalar_one_or_none()


__all__ = ["Surveys", "parse_rating"]
