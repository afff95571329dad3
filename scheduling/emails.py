"""The e-mails about calls (iMIP invitations and reminders), through an outbox in the database.

Whoever decides an e-mail (a booking service, the reminder scan) writes one `CallEmail` row per
recipient in its own transaction; `call_emails_send_pending` sends them afterwards, one row at a
time claimed with `SELECT … FOR UPDATE SKIP LOCKED` (the Healthchecks "process one" step). So:

- a broker outage loses nothing: the row waits for the next run (on commit, and the minute scan);
- each recipient's e-mail succeeds or is retried on its own (with back-off, `MAX_ATTEMPTS`), so a
  refused address never makes the other participant's e-mail go out twice;
- an e-mail that is no longer true when its turn comes is dropped, not sent: an invitation a
  newer version of the booking superseded, a reminder of a call that moved, was cancelled,
  started, or (the 24-hour one) is less than an hour away.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from scheduling.ical import Audience, invitation_method
from scheduling.invitations import invitation_message
from scheduling.models import Booking, BookingStatus, CallEmail, CallEmailKind, CallEmailState
from scheduling.write_lock import sqlite_write_lock
from vipsupport.mail import render_subject_and_body

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH_LIMIT = 500  # per run; the next run carries on
# The 24-hour reminder is not sent once less than this remains: the 1-hour one takes over.
DAY_REMINDER_CUTOFF = datetime.timedelta(hours=1)


def call_emails_queue(
    *, booking: Booking, kind: CallEmailKind, now: datetime.datetime
) -> list[CallEmail]:
    """Write this version of the booking's e-mail of `kind` for the customer and the agent, due
    at `now` (call inside the deciding transaction). A new invitation drops unsent older ones."""
    if kind == CallEmailKind.INVITATION:
        CallEmail.objects.filter(
            booking=booking, kind=kind, state=CallEmailState.PENDING, sequence__lt=booking.sequence
        ).update(state=CallEmailState.SKIPPED, done_at=now)
    rows = [
        CallEmail(
            booking=booking,
            recipient_id=recipient_id,
            kind=kind,
            sequence=booking.sequence,
            next_attempt_at=now,
            created_at=now,
        )
        for recipient_id in (booking.customer_id, booking.agent_id)
    ]
    return CallEmail.objects.bulk_create(rows, ignore_conflicts=True)


def call_emails_send_pending(*, now: datetime.datetime | None = None) -> int:
    """Send the e-mails that are due (up to `BATCH_LIMIT`); returns how many went out."""
    sent = 0
    for _ in range(BATCH_LIMIT):
        email = call_email_send_one(now=now)
        if email is None:
            break
        sent += email.state == CallEmailState.SENT
    return sent


@transaction.atomic
def call_email_send_one(*, now: datetime.datetime | None = None) -> CallEmail | None:
    """Claim the oldest due e-mail and send it, drop it, or schedule its retry; None if none."""
    now = now or timezone.now()
    sqlite_write_lock()  # SQLite has no SKIP LOCKED: two workers must not claim one e-mail
    email = (
        CallEmail.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(
            "recipient",
            "booking__agent",
            "booking__customer",
            "booking__company",
            "booking__call_type",
            "booking__ticket",
            "booking__cancelled_by",
        )
        .filter(state=CallEmailState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .first()
    )
    if email is None:
        return None
    message = _message(email, now)
    if message is None:
        email.state = CallEmailState.SKIPPED
        email.done_at = now
    else:
        try:
            with get_connection() as connection:
                connection.send_messages([message])
        except Exception as error:  # SMTP down, an address refused: retried, the rest go on
            logger.warning("Call e-mail %s failed", email.pk, exc_info=True)
            email.attempts += 1
            email.last_error = str(error)[:1000]
            if email.attempts >= MAX_ATTEMPTS:
                email.state = CallEmailState.FAILED
                email.done_at = now
            else:
                email.next_attempt_at = now + datetime.timedelta(minutes=2**email.attempts)
        else:
            email.state = CallEmailState.SENT
            email.done_at = now
    email.save(update_fields=["state", "attempts", "last_error", "next_attempt_at", "done_at"])
    return email


def _message(email: CallEmail, now: datetime.datetime) -> EmailMessage | None:
    """The e-mail as it should go out now, or None when it is no longer true."""
    booking = email.booking
    if booking.sequence != email.sequence:  # moved or cancelled since: a newer e-mail says so
        return None
    audience = Audience.AGENT if email.recipient_id == booking.agent_id else Audience.CUSTOMER
    if email.kind == CallEmailKind.INVITATION:
        method = invitation_method(booking=booking, audience=audience)
        if method is None:
            return None
        return invitation_message(
            booking=booking, method=method, recipient=email.recipient, audience=audience, stamp=now
        )
    if booking.status != BookingStatus.CONFIRMED or booking.starts_at <= now:
        return None
    if email.kind == CallEmailKind.DAY_REMINDER and booking.starts_at - now < DAY_REMINDER_CUTOFF:
        return None
    return reminder_message(booking=booking, recipient=email.recipient, now=now)


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
        subject, body = render_subject_and_body(
            "scheduling/email/reminder_subject.txt", "scheduling/email/reminder_body.txt", context
        )
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
    )
