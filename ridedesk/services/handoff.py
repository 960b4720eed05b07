"""The queue of riders waiting for a human agent (转人工), shared with the agent console.

Life cycle of a :class:`~ridedesk.db.models.Handoff`::

    waiting ──claim──► claimed ──resolve──► resolved   (agent hands the rider back to the bot)
       ▲                  │
       └─────release──────┘                            (agent puts the rider back in line)
    waiting / claimed ──abandon──► abandoned           (rider left or cancelled)

Queue order: priority (urgent, high, normal, low), then first come first served. A released
hand-off keeps its original ``created_at`` and so its place in line.

Concurrency: claiming is a single conditional ``UPDATE ... WHERE status = 'waiting'``; the
row count tells whether this agent won, so two agents clicking at once never both get the
rider. One active hand-off per conversation is enforced by a partial unique index.
"""
from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ridedesk.db.models import (
    ACTIVE_HANDOFF_STATUSES,
    HANDOFF_REASONS,
    PRIORITIES,
    Handoff,
)
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidTransition, InvalidValue, NotFound, NotYours
from ridedesk.services.riders import Riders

PRIORITY_RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}
MAX_SUMMARY_BYTES = 16_000


def _rank_expression():
    return case(
        *[(Handoff.priority == priority, rank) for priority, rank in PRIORITY_RANK.items()],
        else_=len(PRIORITY_RANK),
    )


class HandoffQueue(Service):
    """Enqueue riders for agents, report their place in line, claim and resolve."""

    def enqueue(
        self,
        conversation_id: str,
        rider_id: str,
        reason: str,
        summary: Dict[str, Any],
        priority: str = "normal",
        category: Optional[str] = None,
    ) -> Tuple[Handoff, Optional[int]]:
        """Puts the conversation in the agent queue, or returns its existing place.

        Idempotent per conversation while a hand-off is waiting or claimed. A repeat with a
        more urgent priority (e.g. the rider now reports an injury) raises the priority of
        the existing hand-off; it never lowers it.

        Args:
            conversation_id: Chat conversation (Rasa sender id).
            rider_id: The rider (created if new).
            reason: One of :data:`~ridedesk.db.models.HANDOFF_REASONS`.
            summary: JSON-serialisable dict the agent sees first (intent, slots, ...).
            priority: ``urgent``, ``high``, ``normal`` or ``low``.
            category: Optional topic (e.g. a ticket category) for routing in the console.

        Returns:
            ``(handoff, position)``; position is 1-based among waiting riders, ``None`` if
            an agent has already claimed it.

        Raises:
            InvalidValue: ``conversation_id_invalid``, ``handoff_reason_invalid``,
                ``priority_invalid``, ``summary_invalid``.
        """
        if not isinstance(conversation_id, str) or not conversation_id.strip():
            raise InvalidValue("conversation_id_invalid")
        conversation_id = conversation_id.strip()
        if reason not in HANDOFF_REASONS:
            raise InvalidValue("handoff_reason_invalid", reason=reason)
        if priority not in PRIORITY_RANK:
            raise InvalidValue("priority_invalid", priority=priority)
        summary = self._check_summary(summary)
        rider, _ = Riders(self.session, self.clock).ensure(rider_id)

        existing = self.active_for(conversation_id)
        if existing is None:
            handoff = Handoff(
                conversation_id=conversation_id,
                rider_id=rider.id,
                reason=reason,
                priority=priority,
                category=category,
                summary=summary,
                status="waiting",
                created_at=self.clock(),
            )
            try:
                with self.session.begin_nested():
                    self.session.add(handoff)
                return handoff, self.position(handoff.id)
            except IntegrityError:
                # A concurrent request queued this conversation first: join it.
                existing = self.active_for(conversation_id)
                if existing is None:  # pragma: no cover - some other constraint failed
                    raise
        if PRIORITY_RANK[priority] < PRIORITY_RANK[existing.priority]:
            existing.priority = priority
            self.session.flush()
        return existing, self.position(existing.id)

    def position(self, handoff_id: int) -> Optional[int]:
        """1-based place among waiting riders (urgent first, then FIFO); ``None`` if not waiting.

        Raises:
            NotFound: ``handoff_not_found``.
        """
        handoff = self._get(handoff_id)
        if handoff.status != "waiting":
            return None
        rank = _rank_expression()
        mine = PRIORITY_RANK.get(handoff.priority, len(PRIORITY_RANK))
        ahead = self.session.execute(
            select(func.count(Handoff.id)).where(
                Handoff.status == "waiting",
                Handoff.id != handoff.id,
                or_(
                    rank < mine,
                    and_(
                        rank == mine,
                        or_(
                            Handoff.created_at < handoff.created_at,
                            and_(
                                Handoff.created_at == handoff.created_at,
                                Handoff.id < handoff.id,
                            ),
                        ),
                    ),
                ),
            )
        ).scalar_one()
        return ahead + 1

    @staticmethod
    def estimated_wait_minutes(
        position: int, agents_online: int = 1, minutes_per_rider: int = 4
    ) -> Optional[int]:
        """Rough wait for the rider at ``position``.

        Each online agent serves one rider per ``minutes_per_rider``; the rider at position
        ``p`` waits for ``ceil(p / agents)`` such rounds (position 1 waits for the agent's
        current conversation to end).

        Returns:
            Minutes, or ``None`` when no agent is online (no honest estimate exists).

        Raises:
            InvalidValue: ``position_invalid`` (< 1) or ``minutes_per_rider_invalid``.
        """
        if not isinstance(position, int) or position < 1:
            raise InvalidValue("position_invalid", position=position)
        if minutes_per_rider <= 0:
            raise InvalidValue("minutes_per_rider_invalid", minutes_per_rider=minutes_per_rider)
        if agents_online < 1:
            return None
        return math.ceil(position / agents_online) * minutes_per_rider

    def claim(self, handoff_id: int, agent: str) -> Handoff:
        """Gives the waiting rider to ``agent``; exactly one of several racing agents wins.

        Raises:
            InvalidValue: ``agent_required``.
            NotFound: ``handoff_not_found``.
            InvalidTransition: ``handoff_not_waiting`` (someone else was faster, or the rider
                left); ``details["status"]`` and ``details["claimed_by"]`` say why.
        """
        agent = self._check_agent(agent)
        result = self.session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == "waiting")
            .values(status="claimed", claimed_by=agent, claimed_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        handoff = self.session.get(Handoff, handoff_id, populate_existing=True)
        if handoff is None:
            raise NotFound("handoff_not_found", handoff_id=handoff_id)
        if result.rowcount != 1:
            raise InvalidTransition(
                "handoff_not_waiting",
                handoff_id=handoff_id,
                status=handoff.status,
                claimed_by=handoff.claimed_by,
            )
        return handoff

    def resolve(self, handoff_id: int, agent: str) -> Handoff:
        """The claiming agent is done and hands the conversation back to the bot.

        Raises:
            NotFound: ``handoff_not_found``.
            NotYours: ``handoff_not_yours`` (claimed by another agent).
            InvalidTransition: ``handoff_not_claimed``.
        """
        return self._finish_claim(
            handoff_id, agent, status="resolved", resolved_at=self.clock()
        )

    def release(self, handoff_id: int, agent: str) -> Handoff:
        """The claiming agent puts the rider back in line (keeping their original place).

        Raises:
            NotFound / NotYours / InvalidTransition: as :meth:`resolve`.
        """
        return self._finish_claim(
            handoff_id, agent, status="waiting", claimed_by=None, claimed_at=None
        )

    def abandon(self, handoff_id: int) -> Handoff:
        """The rider left or no longer needs an agent (waiting/claimed → abandoned).

        Raises:
            NotFound: ``handoff_not_found``.
            InvalidTransition: ``handoff_not_active``.
        """
        result = self.session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status.in_(ACTIVE_HANDOFF_STATUSES))
            .values(status="abandoned", resolved_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        handoff = self.session.get(Handoff, handoff_id, populate_existing=True)
        if handoff is None:
            raise NotFound("handoff_not_found", handoff_id=handoff_id)
        if result.rowcount != 1:
            raise InvalidTransition("handoff_not_active", handoff_id=handoff_id, status=handoff.status)
        return handoff

    def waiting(self) -> List[Handoff]:
        """All waiting hand-offs in queue order (what the console shows)."""
        return list(
            self.session.execute(
                select(Handoff)
                .where(Handoff.status == "waiting")
                .order_by(_rank_expression(), Handoff.created_at, Handoff.id)
            ).scalars()
        )

    def active_for(self, conversation_id: str) -> Optional[Handoff]:
        """The conversation's waiting or claimed hand-off, or ``None``."""
        return self.session.execute(
            select(Handoff).where(
                Handoff.conversation_id == conversation_id,
                Handoff.status.in_(ACTIVE_HANDOFF_STATUSES),
            )
        ).scalar_one_or_none()

    def get(self, handoff_id: int) -> Handoff:
        """Returns a hand-off or raises ``NotFound("handoff_not_found")``."""
        return self._get(handoff_id)

    # --- internals ----------------------------------------------------------------------
    def _get(self, handoff_id: int) -> Handoff:
        handoff = self.session.get(Handoff, handoff_id)
        if handoff is None:
            raise NotFound("handoff_not_found", handoff_id=handoff_id)
        return handoff

    def _finish_claim(self, handoff_id: int, agent: str, **values: Any) -> Handoff:
        agent = self._check_agent(agent)
        result = self.session.execute(
            update(Handoff)
            .where(
                Handoff.id == handoff_id,
                Handoff.status == "claimed",
                Handoff.claimed_by == agent,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        handoff = self.session.get(Handoff, handoff_id, populate_existing=True)
        if handoff is None:
            raise NotFound("handoff_not_found", handoff_id=handoff_id)
        if result.rowcount != 1:
            if handoff.status == "claimed":
                raise NotYours(
                    "handoff_not_yours", handoff_id=handoff_id, claimed_by=handoff.claimed_by
                )
            raise InvalidTransition(
                "handoff_not_claimed", handoff_id=handoff_id, status=handoff.status
            )
        return handoff

    @staticmethod
    def _check_agent(agent: str) -> str:
        if not isinstance(agent, str) or not agent.strip():
            raise InvalidValue("agent_required")
        return agent.strip()[:64]

    @staticmethod
    def _check_summary(summary: Dict[str, Any]) -> Dict[str, Any]:
        if summary is None:
            return {}
        if not isinstance(summary, dict):
            raise InvalidValue("summary_invalid", reason="not a dict")
        try:
            encoded = json.dumps(summary, ensure_ascii=False)
        except (TypeError, ValueError):
            raise InvalidValue("summary_invalid", reason="not JSON-serialisable") from None
        if len(encoded.encode("utf-8")) > MAX_SUMMARY_BYTES:
            raise InvalidValue("summary_invalid", reason="too large")
        # Store the JSON round-trip so what the console reads is exactly what was checked.
        return json.loads(encoded)


__all__ = ["HandoffQueue", "PRIORITY_RANK"]
