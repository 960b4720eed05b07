"""ORM models of the rider's world: riders, bikes, trips (orders), deposits, tickets,
hand-offs to human agents and satisfaction surveys.

Conventions:
    * Money is integer fen (分); format with :func:`ridedesk.services.money.format_yuan`.
    * Times are :class:`~ridedesk.db.types.UTCDateTime` (aware UTC in Python). Defaults are
      *not* set here: services stamp times from their injectable clock so tests control them.
    * Enumerations are plain strings guarded by CHECK constraints (no native PostgreSQL
      enums, so adding a value is a one-line migration on every backend).

Changing a model means writing an Alembic revision in ``ridedesk/db/migrations/versions``;
``tests/core/test_migrations.py`` fails when the models and migrations drift apart.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import declarative_base, relationship

from ridedesk.db.types import UTCDateTime

# Deterministic constraint names: Alembic needs them to alter or drop constraints later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

# --- allowed values -------------------------------------------------------------------------
BIKE_KINDS = ("bike", "ebike")
BIKE_STATUSES = ("in_service", "reported", "maintenance")
ORDER_STATUSES = ("riding", "completed", "disputed", "refunded")
PAYMENT_METHODS = ("ride_card", "balance", "wechat", "alipay")
DEPOSIT_STATUSES = ("held", "refund_requested", "refunded")
TICKET_CATEGORIES = (
    "fault",
    "order_dispute",
    "parking_dispute",
    "deposit",
    "complaint",
    "safety",
    "callback",
    "other",
)
PRIORITIES = ("urgent", "high", "normal", "low")
DEPARTMENTS = ("maintenance", "billing", "operations", "customer_care", "safety")
TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
ACTIVE_TICKET_STATUSES = ("open", "in_progress")
TICKET_EVENT_KINDS = ("created", "status", "note")
HANDOFF_REASONS = ("requested", "fallback", "form_failure", "safety", "anger", "other")
HANDOFF_STATUSES = ("waiting", "claimed", "resolved", "abandoned")
ACTIVE_HANDOFF_STATUSES = ("waiting", "claimed")


def _one_of(column: str, values: Iterable[str]) -> str:
    """SQL for ``column IN (...)``; values are our own constants, never user input."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _active_tickets_sql() -> str:
    return _one_of("status", ACTIVE_TICKET_STATUSES)


def _active_handoffs_sql() -> str:
    return _one_of("status", ACTIVE_HANDOFF_STATUSES)


class Rider(Base):
    """A person chatting with the bot; the id is the chat channel's sender id."""

    __tablename__ = "riders"

    id = Column(String(128), primary_key=True)
    name = Column(String(64))
    phone = Column(String(32))
    created_at = Column(UTCDateTime(), nullable=False)

    def __repr__(self) -> str:
        return f"<Rider {self.id}>"


class Bike(Base):
    """A shared bike or e-bike, identified by the 9-digit number printed on it."""

    __tablename__ = "bikes"
    __table_args__ = (
        CheckConstraint("length(number) = 9", name="number_9_digits"),
        CheckConstraint(_one_of("kind", BIKE_KINDS), name="kind"),
        CheckConstraint(_one_of("status", BIKE_STATUSES), name="status"),
    )

    number = Column(String(9), primary_key=True)
    kind = Column(String(16), nullable=False)
    brand = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)
    last_place = Column(String(128))

    def __repr__(self) -> str:
        return f"<Bike {self.number} {self.kind} {self.status}>"


class Order(Base):
    """One trip (骑行订单). Number: 12 digits, start date + daily sequence (202611180031)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("length(number) = 12", name="number_12_digits"),
        CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
        CheckConstraint(
            "payment IS NULL OR " + _one_of("payment", PAYMENT_METHODS), name="payment"
        ),
        CheckConstraint(
            "ride_fee_fen >= 0 AND dispatch_fee_fen >= 0 AND discount_fen >= 0 AND total_fen >= 0",
            name="money_not_negative",
        ),
        Index("ix_orders_rider_started", "rider_id", "started_at"),
    )

    number = Column(String(12), primary_key=True)
    rider_id = Column(String(128), ForeignKey("riders.id"), nullable=False)
    bike_number = Column(String(9), ForeignKey("bikes.number"), nullable=False)
    started_at = Column(UTCDateTime(), nullable=False)
    ended_at = Column(UTCDateTime())
    start_place = Column(String(128))
    end_place = Column(String(128))
    duration_minutes = Column(Integer)  # NULL while riding
    ride_fee_fen = Column(Integer, nullable=False, default=0)
    dispatch_fee_fen = Column(Integer, nullable=False, default=0)  # 调度费
    discount_fen = Column(Integer, nullable=False, default=0)
    total_fen = Column(Integer, nullable=False, default=0)
    status = Column(String(16), nullable=False)
    payment = Column(String(16))  # NULL until the trip is paid
    note = Column(Text)

    bike = relationship("Bike", lazy="joined")

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class Deposit(Base):
    """A rider's deposit (押金) and its refund progress."""

    __tablename__ = "deposits"
    __table_args__ = (
        CheckConstraint(_one_of("status", DEPOSIT_STATUSES), name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id = Column(Integer, primary_key=True)
    rider_id = Column(String(128), ForeignKey("riders.id"), nullable=False, index=True)
    amount_fen = Column(Integer, nullable=False)
    status = Column(String(20), nullable=False)
    paid_at = Column(UTCDateTime(), nullable=False)
    refund_requested_at = Column(UTCDateTime())
    refunded_at = Column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Deposit {self.id} {self.rider_id} {self.status}>"


class Ticket(Base):
    """A work order (工单) routed to a department with a due time.

    ``subject_key`` identifies "the same request" (rider + category + bike/order/description);
    a partial unique index allows only one *active* ticket per subject, which makes opening a
    ticket idempotent even when two requests race.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_one_of("category", TICKET_CATEGORIES), name="category"),
        CheckConstraint(_one_of("priority", PRIORITIES), name="priority"),
        CheckConstraint(_one_of("department", DEPARTMENTS), name="department"),
        CheckConstraint(_one_of("status", TICKET_STATUSES), name="status"),
        Index(
            "ux_tickets_active_subject",
            "subject_key",
            unique=True,
            sqlite_where=text(_active_tickets_sql()),
            postgresql_where=text(_active_tickets_sql()),
        ),
        Index("ix_tickets_status_due", "status", "due_at"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    category = Column(String(20), nullable=False)
    priority = Column(String(8), nullable=False)
    department = Column(String(16), nullable=False)
    status = Column(String(12), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    updated_at = Column(UTCDateTime(), nullable=False)
    due_at = Column(UTCDateTime(), nullable=False)
    description = Column(Text, nullable=False)
    place = Column(String(128))
    fault_part = Column(String(32))
    bike_number = Column(String(9), ForeignKey("bikes.number"))
    order_number = Column(String(12), ForeignKey("orders.number"))
    rider_id = Column(String(128), ForeignKey("riders.id"), nullable=False, index=True)
    conversation_id = Column(String(128))
    subject_key = Column(String(255), nullable=False)
    resolution = Column(Text)

    events = relationship(
        "TicketEvent",
        back_populates="ticket",
        order_by=lambda: (TicketEvent.at, TicketEvent.id),
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.category} {self.status}>"


class TicketEvent(Base):
    """One entry of a ticket's follow-up history (持续跟进)."""

    __tablename__ = "ticket_events"
    __table_args__ = (CheckConstraint(_one_of("kind", TICKET_EVENT_KINDS), name="kind"),)

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = Column(UTCDateTime(), nullable=False)
    kind = Column(String(8), nullable=False)
    from_status = Column(String(12))
    to_status = Column(String(12))
    note = Column(Text)
    author = Column(String(64), nullable=False)

    ticket = relationship("Ticket", back_populates="events")

    def __repr__(self) -> str:
        return f"<TicketEvent {self.kind} {self.from_status}->{self.to_status}>"


class Handoff(Base):
    """A request to be served by a human agent (转人工), queued for the agent console.

    Life cycle: waiting → claimed (exactly one agent) → resolved, or back to waiting when the
    agent hands the rider back to the queue; waiting/claimed → abandoned when the rider
    leaves. Only one active (waiting/claimed) hand-off per conversation, enforced by a
    partial unique index.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(_one_of("reason", HANDOFF_REASONS), name="reason"),
        CheckConstraint(_one_of("priority", PRIORITIES), name="priority"),
        CheckConstraint(_one_of("status", HANDOFF_STATUSES), name="status"),
        Index(
            "ux_handoffs_active_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text(_active_handoffs_sql()),
            postgresql_where=text(_active_handoffs_sql()),
        ),
        Index("ix_handoffs_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    rider_id = Column(String(128), ForeignKey("riders.id"), nullable=False, index=True)
    reason = Column(String(16), nullable=False)
    priority = Column(String(8), nullable=False)
    category = Column(String(20))
    summary = Column(JSON, nullable=False)
    status = Column(String(12), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    claimed_at = Column(UTCDateTime())
    claimed_by = Column(String(64))
    resolved_at = Column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Handoff {self.id} {self.conversation_id} {self.status}>"


class SurveyResponse(Base):
    """A satisfaction rating (1..5) after a hand-off or a bot-only conversation episode.

    ``survey_key`` (unique) names what was rated: ``handoff:<id>`` or
    ``conversation:<conversation_id>:<episode>``, so each is rated at most once.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    rider_id = Column(String(128), ForeignKey("riders.id"), nullable=False)
    handoff_id = Column(Integer, ForeignKey("handoffs.id"))
    agent = Column(String(64))
    rating = Column(Integer, nullable=False)
    comment = Column(Text)
    created_at = Column(UTCDateTime(), nullable=False)
    survey_key = Column(String(255), nullable=False, unique=True)

    def __repr__(self) -> str:
        return f"<SurveyResponse {self.survey_key} {self.rating}>"


# --- agent console (人工客服工作台) ------------------------------------------------------------
AGENT_ROLES = ("agent", "admin")


class Agent(Base):
    """A human agent (人工客服) or admin who logs into the console.

    ``username`` is the login and the identity stored in ``handoffs.claimed_by`` and
    ``survey_responses.agent``; ``display_name`` (e.g. 小王) is what riders see.
    ``password_hash`` is a self-describing scrypt hash with a per-user salt, never the
    password. ``last_seen_at`` is the console's heartbeat (agent presence).
    """

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(_one_of("role", AGENT_ROLES), name="role"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(32), nullable=False)
    role = Column(String(8), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime(), nullable=False)
    last_seen_at = Column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Agent {self.username} {self.role}>"


class AgentSession(Base):
    """A server-side console login session.

    The browser holds a random token in an HttpOnly cookie; only its SHA-256 digest is stored
    here (``id``), so a leaked database does not hand out live sessions. ``csrf_token`` is
    the per-session token every state-changing request must echo.
    """

    __tablename__ = "agent_sessions"

    id = Column(String(64), primary_key=True)
    agent_id = Column(
        Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    expires_at = Column(UTCDateTime(), nullable=False)

    agent = relationship("Agent", lazy="joined")

    def __repr__(self) -> str:
        return f"<AgentSession agent={self.agent_id} until {self.expires_at}>"


class ConversationNote(Base):
    """An agent's internal note on a conversation; never shown to the rider."""

    __tablename__ = "conversation_notes"
    __table_args__ = (Index("ix_conversation_notes_conversation", "conversation_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    handoff_id = Column(Integer, ForeignKey("handoffs.id"))
    author = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)

    def __repr__(self) -> str:
        return f"<ConversationNote {self.id} {self.conversation_id}>"


__all__ = [
    "Base",
    "Rider",
    "Bike",
    "Order",
    "Deposit",
    "Ticket",
    "TicketEvent",
    "Handoff",
    "SurveyResponse",
    "BIKE_KINDS",
    "BIKE_STATUSES",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "DEPOSIT_STATUSES",
    "TICKET_CATEGORIES",
    "PRIORITIES",
    "DEPARTMENTS",
    "TICKET_STATUSES",
    "ACTIVE_TICKET_STATUSES",
    "TICKET_EVENT_KINDS",
    "HANDOFF_REASONS",
    "HANDOFF_STATUSES",
    "ACTIVE_HANDOFF_STATUSES",
    "Agent",
    "AgentSession",
    "ConversationNote",
    "AGENT_ROLES",
]
