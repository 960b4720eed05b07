"""Bikes and e-bikes, identified by the 9-digit number on the frame or QR code."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ridedesk.db.models import Bike
from ridedesk.services.errors import InvalidValue, NotFound
from ridedesk.services.ids import normalize_bike_number


class Bikes:
    """Bike look-ups and status changes.

    Args:
        session: The caller's unit of work; this class never commits.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: object) -> Bike:
        """Returns the bike.

        Raises:
            InvalidValue: ``bike_number_invalid`` if not 9 digits.
            NotFound: ``bike_not_found``.
        """
        number = normalize_bike_number(number)
        bike = self.session.get(Bike, number)
        if bike is None:
            raise NotFound("bike_not_found", bike_number=number)
        return bike

    def exists(self, number: object) -> bool:
        """True if a bike with this (well-formed) number exists; malformed numbers → False."""
        try:
            self.get(number)
        except (NotFound, InvalidValue):
            return False
        return True

    def mark_reported(self, number: object) -> Bike:
        """Flags a bike as reported faulty so operations pull it from service.

        A bike already ``reported`` or in ``maintenance`` is left as it is (reporting twice
        must not move a bike out of the workshop).

        Raises:
            InvalidValue: ``bike_number_invalid``.
            NotFound: ``bike_not_found``.
        """
        bike = self.get(number)
        if bike.status == "in_service":
            bike.status = "reported"
            self.session.flush()
        return bike


__all__ = ["Bikes"]
