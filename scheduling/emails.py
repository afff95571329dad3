"""The e-mails about calls (iMIP invitations and reminders), written to the project's outbox.

Whoever decides an e-mail (a booking service, the reminder scan) renders it here, for each
participant in their language and zone, and writes it with `outbox.services.email_queue` in its
own transaction; the outbox sends it, retries it alone and never sends it twice. Whether it is
still true is decided when it is written, not when it goes out:

- each booking has one topic per kind (`call_email_topic`); a new version of the booking (moved,
  cancelled), a finished call and a deleted booking drop what is pending (`call_emails_drop`);
- a reminder carries the moment it stops being true: the 24-hour one an hour before the call
  (`DAY_REMINDER_CUTOFF`, the 1-hour one takes over), the 1-hour one at its start.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from outbox.models import Email
from outbox.services import email_queue, emails_drop
from scheduling.ical import Audience, invitation_method
from scheduling.invitations import invitation_message
from scheduling.models import Booking
from vipsupport.mail import AUTOMATIC_HEADERS, render_subject_and_body

# The 24-hour reminder is not sent once less than this remains: the 1-hour one takes over.
DAY_REMINDER_CUTOFF = datetime.timedelta(hours=1)


class CallEmailKind(enum.StrEnum):
    INVITATION = "invitation"
    DAY_REMINDER = "day_reminder"
    HOUR_REMINDER = "hour_reminder"


def call_email_topic_prefix(*, booking_id: int) -> str:
    """What every outbox topic of one booking starts with, e.g. `booking:7:`."""
    return f"booking:{booking_id}:"


def call_email_topic(*, booking_id: int, kind: CallEmailKind) -> str:
    """The outbox topic of one booking's e-mails of one kind, e.g. `booking:7:invitation`."""
    return f"{call_email_topic_prefix(booking_id=booking_id)}{kind}"


def call_email_topics(*, booking_id: int) -> list[str]:
    """Every outbox topic of one booking."""
    return [call_email_topic(booking_id=booking_id, kind=kind) for kind in CallEmailKind]


def call_emails_queue(
    *,
    booking: Booking,
    kind: CallEmailKind,
    now: datetime.datetime,
    recipients: Sequence[User] | None = None,
) -> list[Email]:
    """Write this version of the booking's e-mail of `kind` to the outbox for the customer and
    the agent (or `recipients`), rendered at `now`; call inside the deciding transaction."""
    expires_at = _expiry(booking, kind)
    rows: list[Email] = []
    for recipient in (booking.customer, booking.agent) if recipients is None else recipients:
        message = call_email_message(booking=booking, kind=kind, recipient=recipient, now=now)
        if message is not None:
            rows += email_queue(
                message=message,
                now=now,
                topic=call_email_topic(booking_id=booking.pk, kind=kind),
                expires_at=expires_at,
            )
    return rows


def call_emails_drop(*, booking_id: int, now: datetime.datetime) -> int:
    """Drop the booking's pending invitation and reminders (a newer version, the end of the call
    or its deletion made them untrue); returns how many."""
    return emails_drop(topics=call_email_topics(booking_id=booking_id), now=now)


def call_email_message(
    *, booking: Booking, kind: CallEmailKind, recipient: User, now: datetime.datetime
) -> EmailMessage | None:
    """One participant's e-mail of `kind` about the booking as it stands at `now`, or None when
    there is nothing to send them (an invitation of a call that is over)."""
    audience = Audience.AGENT if recipient.pk == booking.agent_id else Audience.CUSTOMER
    if kind == CallEmailKind.INVITATION:
        method = invitation_method(booking=booking, audience=audience)
        if method is None:
            return None
        return invitation_message(
            booking=booking, method=method, recipient=recipient, audience=audience, stamp=now
        )
    return reminder_message(booking=booking, recipient=recipient, now=now)


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
        headers=AUTOMATIC_HEADERS,
    )


def _expiry(booking: Booking, kind: CallEmailKind) -> datetime.datetime | None:
    """When an e-mail of `kind` stops being true: a late reminder is worse than none."""
    if kind == CallEmailKind.DAY_REMINDER:
        return booking.starts_at - DAY_REMINDER_CUTOFF
    if kind == CallEmailKind.HOUR_REMINDER:
        return booking.starts_at
    return None  # an invitation (or cancellation) is true until a newer version drops it
