"""Riders: the people behind chat sender ids."""
from __future__ import annotations

from typing import Optional, Tuple

from sqlalchemy.exc import IntegrityError

from ridedesk.db.models import Rider
from ridedesk.services.base import Service
from ridedesk.services.errors import InvalidValue, NotFound

MAX_RIDER_ID_LENGTH = 128


def normalize_phone(phone: object) -> str:
    """Returns a Chinese mainland mobile number as 11 digits (``13800138000``).

    Raises:
        InvalidValue: ``phone_invalid`` if it is not a valid CN mobile number.
    """
    import phonenumbers

    text = str(phone or "").strip()
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidValue("phone_invalid", value=phone) from None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise InvalidValue("phone_invalid", value=phone)
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidValue("phone_invalid", value=phone)
    return str(parsed.national_number)


class Riders(Service):
    """Creates and looks up riders."""

    def ensure(self, rider_id: str, *, name: Optional[str] = None) -> Tuple[Rider, bool]:
        """Returns the rider, creating the row on first contact.

        Safe under concurrency: if another request inserts the same id first, the existing
        row is returned.

        Args:
            rider_id: The chat sender id.
            name: Optional display name for a new rider (an existing name is kept).

        Returns:
            ``(rider, created)``.

        Raises:
            InvalidValue: ``rider_id_invalid`` for an empty or over-long id.
        """
        rider_id = self.check_id(rider_id)
        rider = self.session.get(Rider, rider_id)
        if rider is not None:
            return rider, False
        rider = Rider(id=rider_id, name=name, created_at=self.clock())
        try:
            with self.session.begin_nested():
                self.session.add(rider)
        except IntegrityError:
            existing = self.session.get(Rider, rider_id, populate_existing=True)
            if existing is None:  # pragma: no cover - the conflict was something else
                raise
            return existing, False
        return rider, True

    def get(self, rider_id: str) -> Rider:
        """Returns the rider or raises ``NotFound("rider_not_found")``."""
        rider = self.session.get(Rider, self.check_id(rider_id))
        if rider is None:
            raise NotFound("rider_not_found", rider_id=rider_id)
        return rider

    def set_phone(self, rider_id: str, phone: object) -> Rider:
        """Stores a validated callback phone number (creating the rider if needed).

        Raises:
            InvalidValue: ``phone_invalid``.
        """
        normalized = normalize_phone(phone)
        rider, _ = self.ensure(rider_id)
        rider.phone = normalized
        self.session.flush()
        return rider

    @staticmethod
    def check_id(rider_id: str) -> str:
        """Returns the stripped sender id or raises ``InvalidValue("rider_id_invalid")``."""
        if not isinstance(rider_id, str) or not rider_id.strip():
            raise InvalidValue("rider_id_invalid", rider_id=rider_id)
        rider_id = rider_id.strip()
        if len(rider_id) > MAX_RIDER_ID_LENGTH:
            raise InvalidValue("rider_id_invalid", rider_id=rider_id)
        return rider_id


__all__ = ["Riders", "normalize_phone"]
