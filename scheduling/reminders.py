"""Call reminders 24 hours and 1 hour before each call, each sent exactly once.

Like the SLA scan, the database decides: a reminder is due when its call starts within its lead
time and its sent time is empty. `reminder_send_one` claims one due booking with `SELECT … FOR
UPDATE SKIP LOCKED`, e-mails it and stores the sent time in the same transaction, so parallel or
repeated scans never send twice, and a failed e-mail leaves the row due for the next scan.
"""

from __future__ import annotations

import datetime
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from scheduling.models import Booking, BookingStatus

logger = logging.getLogger(__name__)

BATCH_LIMIT = 500  # per scan; the next scan a minute later carries on


@dataclass(frozen=True)
class _Lead:
    field: str
    before: datetime.timedelta
    # A reminder is not sent once less than this remains (the next, closer one takes over).
    not_after: datetime.timedelta


class Reminder(enum.Enum):
    DAY_BEFORE = _Lead(
        "day_reminder_sent_at",
        before=datetime.timedelta(hours=24),
        not_after=datetime.timedelta(hours=1),
    )
    HOUR_BEFORE = _Lead(
        "hour_reminder_sent_at",
        before=datetime.timedelta(hours=1),
        not_after=datetime.timedelta(0),
    )


class ReminderFailed(Exception):
    def __init__(self, booking_id: int) -> None:
        super().__init__(f"The reminder for booking {booking_id} could not be sent")
        self.booking_id = booking_id


def reminders_send_due(*, now: datetime.datetime | None = None) -> int:
    """Send every due reminder (up to `BATCH_LIMIT`); returns how many calls were reminded.

    A call whose e-mail fails stays due for the next scan and does not hold up the others.
    """
    sent = 0
    for reminder in Reminder:
        failed: list[int] = []
        while sent < BATCH_LIMIT:
            try:
                booking_id = reminder_send_one(reminder=reminder, now=now, skip=failed)
            except ReminderFailed as failure:
                logger.warning("%s; retrying at the next scan", failure, exc_info=True)
                failed.append(failure.booking_id)
                continue
            if booking_id is None:
                break
            sent += 1
    return sent


@transaction.atomic
def reminder_send_one(
    *, reminder: Reminder, now: datetime.datetime | None = None, skip: Sequence[int] = ()
) -> int | None:
    """Claim one booking whose `reminder` is due, e-mail it and mark it sent; its id, or None
    when nothing is due. `ReminderFailed` (rolled back, still due) when the e-mail fails."""
    now = now or timezone.now()
    lead = reminder.value
    booking = (
        Booking.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("agent", "customer", "company", "call_type")
        .filter(
            status=BookingStatus.CONFIRMED,
            **{f"{lead.field}__isnull": True},
            starts_at__gt=now + lead.not_after,
            starts_at__lte=now + lead.before,
            # A call whose time was chosen less than `before` ahead needs no such reminder:
            # its invitation has only just said when it is.
            placed_at__lte=F("starts_at") - lead.before,
        )
        .exclude(pk__in=skip)
        .order_by("starts_at")
        .first()
    )
    if booking is None:
        return None
    messages = [
        reminder_message(booking=booking, recipient=booking.customer, now=now),
        reminder_message(booking=booking, recipient=booking.agent, now=now),
    ]
    try:
        with get_connection() as connection:
            connection.send_messages(messages)
    except Exception as error:  # SMTP down, a refused address: the scan goes on with the rest
        raise ReminderFailed(booking.pk) from error
    Booking.objects.filter(pk=booking.pk).update(**{lead.field: now})
    return booking.pk


def reminder_message(*, booking: Booking, recipient: User, now: datetime.datetime) -> EmailMessage:
    """The reminder for one participant, in their language and time zone."""
    is_agent = recipient.pk == booking.agent_id
    page = reverse("scheduling:call" if is_agent else "scheduling:booking", args=[booking.pk])
    with translation.override(recipient.preferred_language), timezone.override(recipient.time_zone):
        context = {
            "booking": booking,
            "recipient": recipient,
            "other": booking.customer if is_agent else booking.agent,
            "is_agent": is_agent,
            "now": now,
            "url": settings.PORTAL_URL.rstrip("/") + page,
        }
        subject = render_to_string("scheduling/email/reminder_subject.txt", context)
        body = render_to_string("scheduling/email/reminder_body.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
    )
