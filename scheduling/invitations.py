"""iMIP invitations (RFC 6047): the e-mail that tells one participant about a version of a
booking, in their own language and time zone, with the event as `text/calendar`.

`scheduling.services` writes one per participant to the outbox (`scheduling.emails`) when a
booking is created, moved or cancelled; the outbox builds them here when it sends them.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import dateformat, timezone, translation

from accounts.models import User
from scheduling import ical
from scheduling.ical import Audience, Method
from scheduling.models import Booking, BookingStatus

# Completed and no-show calls are over: nothing left to put in anyone's calendar.
METHODS = {BookingStatus.CONFIRMED: Method.REQUEST, BookingStatus.CANCELLED: Method.CANCEL}
ATTACHMENT_NAMES = {Method.REQUEST: "invite.ics", Method.CANCEL: "cancel.ics"}


def invitation_message(
    *,
    booking: Booking,
    method: Method,
    recipient: User,
    audience: Audience,
    stamp: datetime.datetime,
) -> EmailMultiAlternatives:
    """One side's e-mail: a plain-text summary, the event as the `text/calendar` alternative
    mail clients act on, and the same event attached as a file."""
    with translation.override(recipient.preferred_language), timezone.override(recipient.time_zone):
        calendar = ical.invitation_calendar(
            booking=booking, method=method, audience=audience, stamp=stamp
        )
        context = {
            "booking": booking,
            "recipient": recipient,
            "for_agent": audience is Audience.AGENT,
            "change": _change(booking, method),
            "when": _when(booking),
            "url": ical.booking_url(booking, audience),
            "attachment": ATTACHMENT_NAMES[method],
        }
        subject = render_to_string("scheduling/email/invitation_subject.txt", context)
        body = render_to_string("scheduling/email/invitation_body.txt", context)
    ics = calendar.to_ical().decode()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
    )
    message.attach_alternative(ics, f"text/calendar; method={method}")
    # As bytes: a str payload of a non-text part would be encoded as Latin-1, not UTF-8.
    message.attach(ATTACHMENT_NAMES[method], ics.encode(), "application/ics")
    return message


def _change(booking: Booking, method: Method) -> str:
    if method is Method.CANCEL:
        return "cancelled"
    # Rescheduling is the only announced change of a confirmed call.
    return "moved" if booking.sequence else "booked"


def _when(booking: Booking) -> str:
    """The call's time in the active zone, e.g. "Tue 1 Dec 2026, 10:00-10:30" (with an en dash)."""
    start, end = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
    end_format = "H:i" if end.date() == start.date() else "D j M Y, H:i"
    return f"{dateformat.format(start, 'D j M Y, H:i')}–{dateformat.format(end, end_format)}"
