"""How scheduling tells other apps that a call was booked, moved or cancelled: `booking_changed`.

The booking services send it inside their transaction, after the booking is saved, so receivers
write in the same transaction and a rolled-back booking tells nobody.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.dispatch import Signal

if TYPE_CHECKING:
    from scheduling.models import Booking


class BookingChangeKind(enum.StrEnum):
    CREATED = "created"
    MOVED = "moved"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BookingChange:
    kind: BookingChangeKind
    booking: Booking
    at: datetime.datetime


# Sent with sender=Booking and change=BookingChange.
booking_changed = Signal()


def announce_booking(change: BookingChange) -> None:
    from scheduling.models import Booking

    booking_changed.send(sender=Booking, change=change)
