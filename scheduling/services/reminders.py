"""Call reminders 24 hours and 1 hour before each call, each written exactly once.

Like the SLA scan, the database decides: a reminder is due when its call starts within its lead
time and the booking's reminder time is empty. `reminder_queue_one` claims one due booking with
`SELECT … FOR UPDATE SKIP LOCKED`, writes the two e-mails to the outbox (`scheduling.emails`) and
stores the time in the same transaction, so parallel or repeated scans never remind twice; the
outbox sends each e-mail once, retrying a failed one without repeating the other, and not at all
once it would be late.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scheduling import emails
from scheduling.emails import CallEmailKind
from scheduling.models import Booking, BookingStatus
from vipsupport.write_lock import sqlite_write_lock

BATCH_LIMIT = 500  # per scan; the next scan a minute later carries on


@dataclass(frozen=True)
class _Lead:
    field: str
    kind: CallEmailKind
    before: datetime.timedelta
    # A reminder is not sent once less than this remains (the next, closer one takes over).
    not_after: datetime.timedelta


class Reminder(enum.Enum):
    DAY_BEFORE = _Lead(
        "day_reminder_sent_at",
        CallEmailKind.DAY_REMINDER,
        before=datetime.timedelta(hours=24),
        not_after=emails.DAY_REMINDER_CUTOFF,
    )
    HOUR_BEFORE = _Lead(
        "hour_reminder_sent_at",
        CallEmailKind.HOUR_REMINDER,
        before=datetime.timedelta(hours=1),
        not_after=datetime.timedelta(0),
    )


def reminders_queue_due(*, now: datetime.datetime | None = None) -> int:
    """Write every due reminder to the outbox (up to `BATCH_LIMIT` calls), which sends them;
    returns how many calls were reminded."""
    now = now or timezone.now()
    reminded = 0
    for reminder in Reminder:
        while reminded < BATCH_LIMIT and reminder_queue_one(reminder=reminder, now=now):
            reminded += 1
    return reminded


@transaction.atomic
def reminder_queue_one(*, reminder: Reminder, now: datetime.datetime | None = None) -> int | None:
    """Claim one booking whose `reminder` is due, write its e-mails to the outbox and mark it
    reminded; its id, or None when nothing is due."""
    now = now or timezone.now()
    sqlite_write_lock()  # SQLite has no SKIP LOCKED: two scans must not claim one call
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
        .order_by("starts_at")
        .first()
    )
    if booking is None:
        return None
    emails.call_emails_queue(booking=booking, kind=reminder.value.kind, now=now)
    Booking.objects.filter(pk=booking.pk).update(**{lead.field: now})
    return booking.pk
