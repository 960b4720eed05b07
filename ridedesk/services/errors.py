"""Typed service errors.

Every error carries a machine ``code`` (e.g. ``"order_not_yours"``) plus ``details``;
callers (Rasa actions, the console) map codes to Chinese replies and never parse messages.

Hierarchy::

    ServiceError
    ├── NotFound            thing does not exist            (*_not_found)
    │   └── NotYours        exists but belongs to someone else (*_not_yours)
    ├── InvalidTransition   state machine refuses the move  (e.g. ticket_transition_invalid)
    └── InvalidValue        malformed or out-of-range input (e.g. rating_out_of_range)

``NotYours`` subclasses ``NotFound`` on purpose: a caller that answers both the same way
("查不到这个订单") leaks nothing about other riders' data.
"""
from __future__ import annotations

from typing import Any, Optional


class ServiceError(Exception):
    """Base class of all RideDesk service errors.

    Attributes:
        code: Stable machine-readable code, e.g. ``"ticket_not_found"``.
        details: Extra facts for the caller (ids, current status, ...).
    """

    code: str = "service_error"

    def __init__(self, code: Optional[str] = None, message: Optional[str] = None, **details: Any):
        self.code = code or type(self).code
        self.details = details
        super().__init__(message or self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.details!r})"


class NotFound(ServiceError):
    """The requested rider, bike, order, ticket, deposit or hand-off does not exist."""

    code = "not_found"


class NotYours(NotFound):
    """The object exists but belongs to another rider (or another agent)."""

    code = "not_yours"


class InvalidTransition(ServiceError):
    """The object's current status does not allow the requested change."""

    code = "invalid_transition"


class InvalidValue(ServiceError):
    """An argument is malformed or out of range."""

    code = "invalid_value"


__all__ = ["ServiceError", "NotFound", "NotYours", "InvalidTransition", "InvalidValue"]
