"""Work orders (工单): opening them idempotently, routing, due times and follow-up.

Service levels (who handles a ticket, how urgent, and by when) are data in
:data:`SERVICE_LEVELS`; due times are computed here from the injectable clock.

Status machine (:data:`TRANSITIONS`)::

    open ──► in_progress ──► resolved ──► closed
      └──────────────────────►┘

``open → resolved`` is allowed on purpose: many tickets (a mis-charged dispatch fee, a
callback) are settled at first look and forcing a fake "in progress" step would only
distort handling-time reports. Resolving requires a note, stored as the ticket's
``resolution``, because the rider will be told what was done. Closed is final; a problem
that comes back is a new ticket (the old one stays as history).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ridedesk.clock import ensure_utc, local_date
from ridedesk.db.models import (
    ACTIVE_TICKET_STATUSES,
    TICKET_CATEGORIES,
    TICKET_STATUSES,
    Order,
    Ticket,
    TicketEvent,
)
from ridedesk.services.bikes import Bikes
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidTransition, InvalidValue, NotFound, NotYours
from ridedesk.services.ids import (
    normalize_order_number,
    normalize_text,
    normalize_ticket_number,
)
from ridedesk.services.riders import Riders

MAX_DESCRIPTION_LENGTH = 2000
MAX_NOTE_LENGTH = 2000
# How often to retry when a concurrently created ticket took our number.
MAX_NUMBER_ATTEMPTS = 8
SYSTEM_AUTHOR = "ridedesk-bot"


@dataclass(frozen=True)
class ServiceLevel:
    """Routing and urgency of a ticket category."""

    priority: str
    department: str
    due_in: timedelta


SERVICE_LEVELS: Dict[str, ServiceLevel] = {
    "safety": ServiceLevel("urgent", "safety", timedelta(hours=1)),
    "complaint": ServiceLevel("high", "customer_care", timedelta(hours=24)),
    "fault": ServiceLevel("normal", "maintenance", timedelta(hours=24)),
    "order_dispute": ServiceLevel("normal", "billing", timedelta(hours=48)),
    "parking_dispute": ServiceLevel("normal", "operations", timedelta(hours=48)),
    "deposit": ServiceLevel("normal", "billing", timedelta(hours=72)),
    "callback": ServiceLevel("normal", "customer_care", timedelta(hours=24)),
    # Not in the operator's SLA sheet: lowest priority, triaged by customer care.
    "other": ServiceLevel("low", "customer_care", timedelta(hours=72)),
}

# A fault in a part that can hurt the next rider jumps the maintenance queue.
URGENT_FAULT_LEVEL = ServiceLevel("high", "maintenance", timedelta(hours=4))
URGENT_FAULT_KEYWORDS = ("brake", "刹车", "车闸", "刹不住", "handlebar", "车把", "龙头")

TRANSITIONS: Dict[str, Tuple[str, ...]] = {
    "open": ("in_progress", "resolved"),
    "in_progress": ("resolved",),
    "resolved": ("closed",),
    "closed": (),
}

TICKET_PREFIX = "GD"


def service_level(category: str, fault_part: Optional[str] = None, description: str = "") -> ServiceLevel:
    """Returns the service level of a new ticket.

    Faults mentioning an urgent part (brake/刹车, handlebar/车把) in ``fault_part`` or the
    description are escalated to :data:`URGENT_FAULT_LEVEL`.
    """
    if category == "fault":
        text = normalize_text(f"{fault_part or ''} {description}")
        if any(normalize_text(word) in text for word in URGENT_FAULT_KEYWORDS):
            return URGENT_FAULT_LEVEL
    return SERVICE_LEVELS[category]


def subject_key(
    rider_id: str,
    category: str,
    *,
    bike_number: Optional[str] = None,
    order_number: Optional[str] = None,
    description: str = "",
) -> str:
    """Identifies "the same request": rider + category + bike, else order, else text.

    The description is folded (:func:`normalize_text`) and hashed so the key stays short
    and a resend with different punctuation still matches.
    """
    if bike_number:
        subject = f"bike:{bike_number}"
    elif order_number:
        subject = f"order:{order_number}"
    else:
        digest = hashlib.sha1(normalize_text(description).encode("utf-8")).hexdigest()[:20]
        subject = f"text:{digest}"
    # Rider ids are at most 128 characters, so the key fits its 255-character column.
    return f"{rider_id}|{category}|{subject}"


class Tickets(Service):
    """Opens, finds and moves tickets."""

    # --- opening ------------------------------------------------------------------------
    def open(
        self,
        rider_id: str,
        category: str,
        description: str,
        *,
        conversation_id: Optional[str],
        bike_number: Optional[str] = None,
        order_number: Optional[str] = None,
        place: Optional[str] = None,
        fault_part: Optional[str] = None,
        due_at: Optional[datetime] = None,
    ) -> Tuple[Ticket, bool]:
        """Opens a ticket, or returns the rider's still-active ticket for the same subject.

        A repeat (same rider, category and bike number / order number / folded description)
        while the earlier ticket is ``open`` or ``in_progress`` returns that ticket with
        ``created=False``. The database enforces this as well (partial unique index), so
        two simultaneous requests still yield one ticket. Fault and safety reports about a
        bike also flag the bike as ``reported``.

        Args:
            rider_id: Chat sender id (the rider row is created if new).
            category: One of :data:`~ridedesk.db.models.TICKET_CATEGORIES`.
            description: What the rider said (required, at most 2000 characters).
            conversation_id: Conversation to report back to (may be ``None`` for tickets
                opened from the console).
            bike_number: 9-digit bike number, must exist.
            order_number: 12-digit order number, must be this rider's.
            place: Where it happened, free text.
            fault_part: Faulty part (e.g. ``brake``/``刹车``) for ``fault`` tickets.
            due_at: A time already promised to the rider (e.g. a callback once service
                opens); it replaces the service level's due time.

        Returns:
            ``(ticket, created)``.

        Raises:
            InvalidValue: ``ticket_category_invalid``, ``description_required``,
                ``description_too_long``, ``bike_number_invalid``, ``order_number_invalid``.
            NotFound: ``bike_not_found``, ``order_not_found``.
            NotYours: ``order_not_yours``.
        """
        if category not in TICKET_CATEGORIES:
            raise InvalidValue("ticket_category_invalid", category=category)
        description = (description or "").strip()
        if not description:
            raise InvalidValue("description_required")
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidValue("description_too_long", limit=MAX_DESCRIPTION_LENGTH)

        rider_id = Riders.check_id(rider_id)
        bikes = Bikes(self.session)
        if bike_number is not None:
            bike_number = bikes.get(bike_number).number
        if order_number is not None:
            order_number = self._rider_order(order_number, rider_id).number
        # Only after validation, so a refused request leaves no rider row behind.
        rider, _ = Riders(self.session, self.clock).ensure(rider_id)

        key = subject_key(
            rider.id,
            category,
            bike_number=bike_number,
            order_number=order_number,
            description=description,
        )
        existing = self._find_active(key)
        if existing is not None:
            return existing, False

        level = service_level(category, fault_part, description)
        now = self.clock()
        for _attempt in range(MAX_NUMBER_ATTEMPTS):
            ticket = Ticket(
                number=self._next_number(now),
                category=category,
                priority=level.priority,
                department=level.department,
                status="open",
                created_at=now,
                updated_at=now,
                due_at=ensure_utc(due_at) if due_at is not None else now + level.due_in,
                description=description,
                place=(place or "").strip() or None,
                fault_part=(fault_part or "").strip() or None,
                bike_number=bike_number,
                order_number=order_number,
                rider_id=rider.id,
                conversation_id=conversation_id,
                subject_key=key,
            )
            ticket.events.append(
                TicketEvent(at=now, kind="created", to_status="open", author=SYSTEM_AUTHOR)
            )
            try:
                # A savepoint keeps the caller's transaction usable if the insert collides.
                with self.session.begin_nested():
                    self.session.add(ticket)
            except IntegrityError:
                # Either a concurrent request opened the same subject (return it) or it
                # took our ticket number (try the next one).
                existing = self._find_active(key)
                if existing is not None:
                    return existing, False
                continue
            if bike_number is not None and category in ("fault", "safety"):
                bikes.mark_reported(bike_number)
            return ticket, True
        raise RuntimeError("could not allocate a ticket number")  # pragma: no cover

    # --- reading ------------------------------------------------------------------------
    def get(self, number: object, rider_id: Optional[str] = None) -> Ticket:
        """Returns a ticket by number; with ``rider_id``, only that rider's own ticket.

        Raises:
            InvalidValue: ``ticket_number_invalid``.
            NotFound: ``ticket_not_found``.
            NotYours: ``ticket_not_yours`` (answer it like not-found to riders).
        """
        number = normalize_ticket_number(number)
        ticket = self.session.execute(
            select(Ticket).where(Ticket.number == number)
        ).scalar_one_or_none()
        if ticket is None:
            raise NotFound("ticket_not_found", ticket_number=number)
        if rider_id is not None and ticket.rider_id != rider_id:
            raise NotYours("ticket_not_yours", ticket_number=number)
        return ticket

    def latest_for(self, rider_id: str) -> Optional[Ticket]:
        """The rider's most recently opened ticket, or ``None``."""
        found = self.list_for(rider_id, limit=1)
        return found[0] if found else None

    def list_for(
        self, rider_id: str, *, active_only: bool = False, limit: Optional[int] = 20
    ) -> List[Ticket]:
        """The rider's tickets, newest first.

        Args:
            rider_id: Chat sender id.
            active_only: Only ``open``/``in_progress`` ones.
            limit: Maximum number returned (``None`` for all).
        """
        query = select(Ticket).where(Ticket.rider_id == rider_id)
        if active_only:
            query = query.where(Ticket.status.in_(ACTIVE_TICKET_STATUSES))
        query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.execute(query).scalars())

    def is_overdue(self, ticket: Ticket) -> bool:
        """True if an active ticket is past its due time."""
        return ticket.status in ACTIVE_TICKET_STATUSES and self.clock() > ticket.due_at

    # --- follow-up ----------------------------------------------------------------------
    def transition(
        self, number: object, to_status: str, author: str, note: Optional[str] = None
    ) -> Ticket:
        """Moves a ticket along :data:`TRANSITIONS` and records the event.

        Args:
            number: Ticket number.
            to_status: Target status.
            author: Agent or system making the change.
            note: Free text; required when resolving (becomes ``resolution``).

        Raises:
            NotFound: ``ticket_not_found``.
            InvalidValue: ``ticket_status_invalid``, ``author_required``,
                ``resolution_required``.
            InvalidTransition: ``ticket_transition_invalid`` (details: from/to status).
        """
        if to_status not in TICKET_STATUSES:
            raise InvalidValue("ticket_status_invalid", status=to_status)
        author = self._check_author(author)
        note = (note or "").strip() or None
        # Row lock on PostgreSQL so two agents cannot both move the same ticket.
        ticket = self._lock(number)
        if to_status not in TRANSITIONS[ticket.status]:
            raise InvalidTransition(
                "ticket_transition_invalid",
                ticket_number=ticket.number,
                from_status=ticket.status,
                to_status=to_status,
            )
        if to_status == "resolved":
            if note is None:
                raise InvalidValue("resolution_required", ticket_number=ticket.number)
            ticket.resolution = note
        now = self.clock()
        ticket.events.append(
            TicketEvent(
                at=now,
                kind="status",
                from_status=ticket.status,
                to_status=to_status,
                note=note,
                author=author,
            )
        )
        ticket.status = to_status
        ticket.updated_at = now
        self.session.flush()
        return ticket

    def add_note(
        self, number: object, author: str, note: str, *, rider_id: Optional[str] = None
    ) -> TicketEvent:
        """Adds a follow-up note (补充说明 from the rider or an agent's remark).

        Args:
            number: Ticket number.
            author: Who wrote it.
            note: The text.
            rider_id: When a rider adds to their own ticket; enforces ownership.

        Raises:
            NotFound / NotYours: as :meth:`get`.
            InvalidValue: ``note_required``, ``note_too_long``, ``author_required``.
            InvalidTransition: ``ticket_closed``.
        """
        author = self._check_author(author)
        note = (note or "").strip()
        if not note:
            raise InvalidValue("note_required")
        if len(note) > MAX_NOTE_LENGTH:
            raise InvalidValue("note_too_long", limit=MAX_NOTE_LENGTH)
        ticket = self.get(number, rider_id=rider_id)
        if ticket.status == "closed":
            raise InvalidTransition("ticket_closed", ticket_number=ticket.number)
        now = self.clock()
        event = TicketEvent(at=now, kind="note", note=note, author=author)
        ticket.events.append(event)
        ticket.updated_at = now
        self.session.flush()
        return event

    # --- internals ----------------------------------------------------------------------
    def _find_active(self, key: str) -> Optional[Ticket]:
        return self.session.execute(
            select(Ticket).where(
                Ticket.subject_key == key, Ticket.status.in_(ACTIVE_TICKET_STATUSES)
            )
        ).scalar_one_or_none()

    def _next_number(self, now: datetime) -> str:
        """Next free ``GD<yyyymmdd><seq>`` of the operator-local day (seq ≥ 4 digits)."""
        prefix = f"{TICKET_PREFIX}{local_date(now):%Y%m%d}"
        last = self.session.execute(
            select(Ticket.number)
            .where(Ticket.number.like(prefix + "%"))
            # Length first so GD…10000 sorts after GD…9999.
            .order_by(func.length(Ticket.number).desc(), Ticket.number.desc())
            .limit(1)
        ).scalar_one_or_none()
        sequence = int(last[len(prefix):]) + 1 if last else 1
        return f"{prefix}{sequence:04d}"

    def _lock(self, number: object) -> Ticket:
        number = normalize_ticket_number(number)
        ticket = self.session.execute(
            select(Ticket).where(Ticket.number == number).with_for_update()
        ).scalar_one_or_none()
        if ticket is None:
            raise NotFound("ticket_not_found", ticket_number=number)
        return ticket

    def _rider_order(self, order_number: object, rider_id: str) -> Order:
        number = normalize_order_number(order_number)
        order = self.session.get(Order, number)
        if order is None:
            raise NotFound("order_not_found", order_number=number)
        if order.rider_id != rider_id:
            raise NotYours("order_not_yours", order_number=number)
        return order

    @staticmethod
    def _check_author(author: str) -> str:
        if not isinstance(author, str) or not author.strip():
            raise InvalidValue("author_required")
        return author.strip()[:64]


__all__ = [
    "Tickets",
    "ServiceLevel",
    "SERVICE_LEVELS",
    "URGENT_FAULT_LEVEL",
    "TRANSITIONS",
    "service_level",
    "subject_key",
]
