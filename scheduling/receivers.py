"""What scheduling does when its rows change outside its services."""

from typing import Any

from django.utils import timezone

from scheduling import emails
from scheduling.models import Booking


def on_booking_deleted(sender: type[Booking], *, instance: Booking, **kwargs: Any) -> None:
    """A deleted booking's pending invitation and reminders go with it, in the deleting
    transaction; no service deletes bookings, so this catches every way one is (ORM, shell)."""
    emails.call_emails_drop(booking_id=instance.pk, now=timezone.now())
