"""Human agents (人工客服): accounts, console sessions, presence, and what riders see of them.

* :class:`Agents` creates accounts, checks passwords and keeps server-side login sessions.
* :class:`AgentPresence` knows who is online (a console heartbeat within the last minute)
  and, with the service hours, whether a rider asking for a person can be served now
  (:meth:`AgentPresence.availability`), which the bot checks before queueing.
* :class:`HandoffRatings` ties a rider's 1–5 rating to the hand-off just resolved and to
  the agent who served it.
* :func:`conversation_status` is the rider widget's view: bot, waiting (place and wait),
  with an agent (their display name) or just closed.

Passwords are hashed with scrypt and a random per-user salt; the stored string names its
parameters (``scrypt$n$r$p$salt$hash``) so they can be raised later without a migration.
Session tokens are random; only their SHA-256 digest is stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ridedesk.clock import Clock, utcnow
from ridedesk.db.models import AGENT_ROLES, Agent, AgentSession, Handoff, SurveyResponse
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidValue, NotFound
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.service_hours import is_open, next_opening
from ridedesk.services.surveys import Surveys

# --- passwords ----------------------------------------------------------------------------
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**14, 8, 1, 32
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MAX_DISPLAY_NAME_LENGTH = 16
DEFAULT_SESSION_HOURS = 12
DEFAULT_PRESENCE_SECONDS = 60
# A resolved hand-off can be rated for this long after the agent handed the rider back.
RATING_WINDOW = timedelta(hours=24)
# The widget shows "closed" (客服已结束会话) this long after a hand-off ended, then "bot".
CLOSED_DISPLAY = timedelta(minutes=10)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """Hashes a password with scrypt and a fresh 16-byte salt.

    Returns:
        ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``.

    Raises:
        InvalidValue: ``password_too_short`` / ``password_too_long``.
    """
    _check_password(password)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_DKLEN
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected_bytes = base64.b64decode(expected)
        digest = hashlib.scrypt(
            (password or "").encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected_bytes),
        )
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(digest, expected_bytes)


# Verified against when the username does not exist, so timing does not reveal accounts.
_DUMMY_HASH: Optional[str] = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue("password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidValue("password_too_long", maximum=MAX_PASSWORD_LENGTH)


def token_digest(token: str) -> str:
    """The stored id of a session token (SHA-256 hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_username(username: object) -> str:
    """Lower-cased, trimmed login name.

    Raises:
        InvalidValue: ``username_invalid`` (2–32 of a-z, 0-9, ``_ . -``).
    """
    if not isinstance(username, str):
        raise InvalidValue("username_invalid")
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidValue("username_invalid", username=username)
    return username


def check_display_name(display_name: object) -> str:
    """The name riders see (e.g. 小王): 1–16 printable characters.

    Raises:
        InvalidValue: ``display_name_invalid``.
    """
    if not isinstance(display_name, str):
        raise InvalidValue("display_name_invalid")
    display_name = display_name.strip()
    if not display_name or len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidValue("display_name_invalid", reason="length")
    if any(unicodedata.category(ch).startswith("C") for ch in display_name):
        raise InvalidValue("display_name_invalid", reason="control characters")
    return display_name


@dataclass(frozen=True)
class LoginSession:
    """A valid console session: the agent, the CSRF token and when it ends."""

    agent: Agent
    csrf_token: str
    expires_at: datetime


class Agents(Service):
    """Agent accounts and their console sessions."""

    # --- accounts -----------------------------------------------------------------------
    def create(self, username: str, password: str, display_name: str, role: str = "agent") -> Agent:
        """Creates an account.

        Raises:
            InvalidValue: ``username_invalid``, ``display_name_invalid``, ``role_invalid``,
                ``password_too_short``, ``password_too_long``, ``username_taken``.
        """
        username = normalize_username(username)
        display_name = check_display_name(display_name)
        if role not in AGENT_ROLES:
            raise InvalidValue("role_invalid", role=role)
        agent = Agent(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=hash_password(password),
            active=True,
            created_at=self.clock(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(agent)
        except IntegrityError:
            raise InvalidValue("username_taken", username=username) from None
        return agent

    def get(self, agent_id: int) -> Agent:
        """Raises ``NotFound("agent_not_found")`` if there is no such agent."""
        agent = self.session.get(Agent, agent_id)
        if agent is None:
            raise NotFound("agent_not_found", agent_id=agent_id)
        return agent

    def by_username(self, username: str) -> Optional[Agent]:
        """The agent with this login name, or ``None``."""
        try:
            username = normalize_username(username)
        except InvalidValue:
            return None
        return self.session.execute(
            select(Agent).where(Agent.username == username)
        ).scalar_one_or_none()

    def display_names(self, usernames: List[str]) -> Dict[str, str]:
        """``{username: display_name}`` for the given agents (unknown ones are left out)."""
        if not usernames:
            return {}
        rows = self.session.execute(
            select(Agent.username, Agent.display_name).where(Agent.username.in_(set(usernames)))
        ).all()
        return {username: name for username, name in rows}

    def list(self) -> List[Agent]:
        """All accounts, by username."""
        return list(self.session.execute(select(Agent).order_by(Agent.username)).scalars())

    def set_password(self, username: str, password: str) -> Agent:
        """Changes a password and ends the agent's sessions everywhere.

        Raises:
            NotFound: ``agent_not_found``. InvalidValue: as :func:`hash_password`.
        """
        agent = self.by_username(username)
        if agent is None:
            raise NotFound("agent_not_found", username=username)
        agent.password_hash = hash_password(password)
        self.end_all_sessions(agent.id)
        self.session.flush()
        return agent

    def set_active(self, username: str, active: bool) -> Agent:
        """Enables or disables a login; disabling ends the agent's sessions."""
        agent = self.by_username(username)
        if agent is None:
            raise NotFound("agent_not_found", username=username)
        agent.active = bool(active)
        if not active:
            agent.last_seen_at = None
            self.end_all_sessions(agent.id)
        self.session.flush()
        return agent

    def authenticate(self, username: str, password: str) -> Optional[Agent]:
        """The active agent with these credentials, or ``None`` (never says which was wrong)."""
        agent = self.by_username(username) if isinstance(username, str) else None
        if agent is None or not agent.active:
            verify_password(password or "", _dummy_hash())  # same cost either way
            return None
        return agent if verify_password(password or "", agent.password_hash) else None

    # --- sessions -----------------------------------------------------------------------
    def start_session(self, agent: Agent, hours: int = DEFAULT_SESSION_HOURS) -> Tuple[str, LoginSession]:
        """Opens a console session.

        Returns:
            ``(token, login)``: the token goes into the browser's cookie and nowhere else.
        """
        token = secrets.token_urlsafe(32)
        now = self.clock()
        row = AgentSession(
            id=token_digest(token),
            agent_id=agent.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        self.session.add(row)
        self.session.flush()
        return token, LoginSession(agent=agent, csrf_token=row.csrf_token, expires_at=row.expires_at)

    def session_for(self, token: Optional[str]) -> Optional[LoginSession]:
        """The live session behind a cookie token, or ``None`` (unknown, expired, disabled)."""
        if not token or not isinstance(token, str) or len(token) > 256:
            return None
        row = self.session.get(AgentSession, token_digest(token))
        if row is None:
            return None
        if row.expires_at <= self.clock() or not row.agent.active:
            self.session.delete(row)
            self.session.flush()
            return None
        return LoginSession(agent=row.agent, csrf_token=row.csrf_token, expires_at=row.expires_at)

    def end_session(self, token: Optional[str]) -> None:
        """Logs a session out (no error if it is already gone)."""
        if token and isinstance(token, str):
            self.session.execute(delete(AgentSession).where(AgentSession.id == token_digest(token)))

    def end_all_sessions(self, agent_id: int) -> None:
        """Logs the agent out everywhere."""
        self.session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))

    def purge_expired_sessions(self) -> int:
        """Deletes expired sessions; returns how many."""
        result = self.session.execute(delete(AgentSession).where(AgentSession.expires_at <= self.clock()))
        return result.rowcount or 0


# A rider who cannot be served now is called back within this time of service opening.
CALLBACK_WITHIN = timedelta(hours=2)


# --- presence -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Availability:
    """Whether a rider asking for a person can be served now.

    Attributes:
        agents_online: Agents with a console heartbeat in the presence window.
        in_service_hours: Now is within ``settings.service_hours``.
        next_opening: When service hours start next (aware UTC); ``None`` while open.
    """

    agents_online: int
    in_service_hours: bool
    next_opening: Optional[datetime]

    @property
    def agents_available(self) -> bool:
        """True if queueing makes sense: within service hours and someone is online."""
        return self.in_service_hours and self.agents_online > 0

    def callback_by(self, now: datetime) -> datetime:
        """When we can promise to call a rider back whom no agent can serve now.

        Within :data:`CALLBACK_WITHIN` of the next opening when closed, else of ``now``.
        """
        start = self.next_opening if not self.in_service_hours and self.next_opening else now
        return start + CALLBACK_WITHIN


class AgentPresence:
    """Who is at the console right now, from heartbeats every ~20 s.

    Args:
        session: The caller's unit of work; this class flushes but never commits.
        clock: Source of "now".
        window_seconds: How recent a heartbeat must be; default
            ``settings.presence_window_seconds`` (60).
    """

    def __init__(self, session: Session, clock: Clock = utcnow, window_seconds: Optional[int] = None) -> None:
        self.session = session
        self.clock = clock
        if window_seconds is None:
            from ridedesk.settings import get_settings

            window_seconds = get_settings().presence_window_seconds
        self.window = timedelta(seconds=window_seconds)

    def heartbeat(self, agent_id: int) -> None:
        """Marks the agent as present now."""
        self.session.execute(
            update(Agent).where(Agent.id == agent_id).values(last_seen_at=self.clock())
        )

    def go_offline(self, agent_id: int) -> None:
        """Marks the agent as gone (logout)."""
        self.session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=None))

    def _online_filter(self):
        return (Agent.active.is_(True), Agent.last_seen_at >= self.clock() - self.window)

    def online(self) -> List[Agent]:
        """Agents online now, by display name."""
        return list(
            self.session.execute(
                select(Agent).where(*self._online_filter()).order_by(Agent.display_name)
            ).scalars()
        )

    def online_count(self) -> int:
        """How many agents are online now."""
        return self.session.execute(select(func.count(Agent.id)).where(*self._online_filter())).scalar_one()

    def availability(self, hours: Optional[str] = None, zone: Optional[str] = None) -> Availability:
        """Agents online and service hours together: what the bot checks before queueing.

        Args:
            hours: Schedule; default ``settings.service_hours``.
            zone: Time zone; default ``settings.timezone``.
        """
        now = self.clock()
        in_hours = is_open(now, hours, zone)
        return Availability(
            agents_online=self.online_count(),
            in_service_hours=in_hours,
            next_opening=None if in_hours else next_opening(now, hours, zone),
        )


# --- ratings of hand-offs -------------------------------------------------------------------
class HandoffRatings:
    """Ratings that belong to a hand-off (and so to the agent who served the rider).

    Args:
        session: The caller's unit of work; this class flushes but never commits.
        clock: Source of "now".
        window: How long after the hand-back a rating still counts for the hand-off.
    """

    def __init__(self, session: Session, clock: Clock = utcnow, window: timedelta = RATING_WINDOW) -> None:
        self.session = session
        self.clock = clock
        self.window = window

    def latest_resolved(self, conversation_id: str) -> Optional[Handoff]:
        """The conversation's most recent hand-off if it was resolved within the window."""
        handoff = latest_handoff(self.session, conversation_id)
        if handoff is None or handoff.status != "resolved" or handoff.resolved_at is None:
            return None
        if handoff.resolved_at < self.clock() - self.window:
            return None
        return handoff

    def pending(self, conversation_id: str) -> Optional[Handoff]:
        """The recently resolved hand-off still waiting for the rider's rating, or ``None``."""
        handoff = self.latest_resolved(conversation_id)
        if handoff is None:
            return None
        rated = self.session.execute(
            select(SurveyResponse.id).where(SurveyResponse.survey_key == f"handoff:{handoff.id}")
        ).first()
        return None if rated else handoff

    def record(
        self, conversation_id: str, rider_id: str, rating: object, comment: Optional[str] = None
    ) -> Optional[Tuple[SurveyResponse, bool]]:
        """Records the rating for the latest resolved hand-off, with its agent.

        Returns:
            ``(response, created)`` like :meth:`Surveys.record`, or ``None`` when there is no
            recently resolved hand-off (the caller then records a bot-episode rating).

        Raises:
            InvalidValue: as :meth:`Surveys.record`.
        """
        handoff = self.latest_resolved(conversation_id)
        if handoff is None:
            return None
        return Surveys(self.session, self.clock).record(
            conversation_id,
            rider_id,
            rating,
            handoff_id=handoff.id,
            agent=handoff.claimed_by,
            comment=comment,
        )


def claimed_handoffs(session: Session, agent: Optional[str] = None) -> List[Handoff]:
    """Hand-offs agents are serving now (optionally only ``agent``'s), longest-served first."""
    query = select(Handoff).where(Handoff.status == "claimed")
    if agent is not None:
        query = query.where(Handoff.claimed_by == agent)
    return list(session.execute(query.order_by(Handoff.claimed_at, Handoff.id)).scalars())


def latest_handoff(session: Session, conversation_id: str) -> Optional[Handoff]:
    """The conversation's most recent hand-off in any status, or ``None``."""
    return session.execute(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- the rider's view -----------------------------------------------------------------------
def conversation_status(
    session: Session,
    conversation_id: str,
    *,
    clock: Clock = utcnow,
    hours: Optional[str] = None,
    zone: Optional[str] = None,
    window_seconds: Optional[int] = None,
) -> Dict[str, Any]:
    """What the rider widget shows about a human agent for one conversation.

    Returns:
        ``{"state": "bot"|"waiting"|"with_agent"|"closed", "position": int|None,
        "wait_minutes": int|None, "agent": display name|None, "agents_online": int,
        "in_service_hours": bool}``. ``closed`` means a hand-off ended (resolved or
        abandoned) within the last 10 minutes; ``wait_minutes`` is ``None`` while no agent
        is online.
    """
    presence = AgentPresence(session, clock, window_seconds)
    availability = presence.availability(hours, zone)
    status: Dict[str, Any] = {
        "state": "bot",
        "position": None,
        "wait_minutes": None,
        "agent": None,
        "agents_online": availability.agents_online,
        "in_service_hours": availability.in_service_hours,
    }
    handoff = latest_handoff(session, conversation_id)
    if handoff is None:
        return status
    queue = HandoffQueue(session, clock)
    if handoff.status == "waiting":
        position = queue.position(handoff.id)
        status.update(
            state="waiting",
            position=position,
            wait_minutes=queue.estimated_wait_minutes(position, availability.agents_online),
        )
    elif handoff.status == "claimed":
        names = Agents(session, clock).display_names([handoff.claimed_by])
        status.update(state="with_agent", agent=names.get(handoff.claimed_by, "人工客服"))
    elif handoff.resolved_at is not None and handoff.resolved_at >= clock() - CLOSED_DISPLAY:
        status["state"] = "closed"
    return status


__all__ = [
    "Agents",
    "AgentPresence",
    "Availability",
    "HandoffRatings",
    "LoginSession",
    "conversation_status",
    "latest_handoff",
    "claimed_handoffs",
    "hash_password",
    "verify_password",
    "normalize_username",
    "check_display_name",
    "token_digest",
]
