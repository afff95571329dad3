"""iMIP invitations (RFC 6047): the e-mail that tells one participant about a version of a
booking, in their own language and time zone, with the event as `text/calendar`.

`scheduling.services.bookings` writes one per participant to the outbox (`scheduling.emails`
renders them here) when a booking is created, moved or cancelled, with the iTIP method of that
participant's role (`ical.invitation_method`): REQUEST or CANCEL for the customer, PUBLISH for
the agent, who organizes the call rather than being invited to it.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import dateformat, timezone, translation

from accounts.models import User
from scheduling import ical
from scheduling.ical import Audience, Method
from scheduling.models import Booking, BookingStatus
from vipsupport.mail import AUTOMATIC_HEADERS, render_subject_and_body

# The customer is invited (or told of the cancellation); the agent is given the call for their
# calendar (PUBLISH), and a cancelled call's copy is named for what it is.
ATTACHMENT_NAMES = {
    Method.REQUEST: "invite.ics",
    Method.CANCEL: "cancel.ics",
    Method.PUBLISH: "call.ics",
}


def invitation_message(
    *,
    booking: Booking,
    method: Method,
    recipient: User,
    audience: Audience,
    stamp: datetime.datetime,
) -> EmailMultiAlternatives:
    """One side's e-mail: a plain-text summary, the event as the `text/calendar` alternative
    mail clients act on, and the same event attached as a file; `method` must be
    `ical.invitation_method` of the booking and audience."""
    with translation.override(recipient.preferred_language), timezone.override(recipient.time_zone):
        calendar = ical.invitation_calendar(
            booking=booking, method=method, audience=audience, stamp=stamp
        )
        attachment = _attachment_name(booking, method)
        context = {
            "booking": booking,
            "recipient": recipient,
            "for_agent": audience is Audience.AGENT,
            "change": _change(booking),
            "when": _when(booking),
            "url": ical.booking_url(booking, audience),
            "attachment": attachment,
        }
        subject, body = render_subject_and_body(
            "scheduling/email/invitation_subject.txt",
            "scheduling/email/invitation_body.txt",
            context,
        )
    ics = calendar.to_ical().decode()
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers=AUTOMATIC_HEADERS,
    )
    message.attach_alternative(ics, f"text/calendar; method={method}")
    # As bytes: a str payload of a non-text part would be encoded as Latin-1, not UTF-8.
    message.attach(attachment, ics.encode(), "application/ics")
    return message


def _attachment_name(booking: Booking, method: Method) -> str:
    if method is Method.PUBLISH and booking.status == BookingStatus.CANCELLED:
        return ATTACHMENT_NAMES[Method.CANCEL]
    return ATTACHMENT_NAMES[method]


def _change(booking: Booking) -> str:
    if booking.status == BookingStatus.CANCELLED:
        return "cancelled"
    # Rescheduling is the only announced change of a confirmed call.
    return "moved" if booking.sequence else "booked"


def _when(booking: Booking) -> str:
    """The call's time in the active zone, e.g. "Tue 1 Dec 2026, 10:00-10:30" (with an en dash)."""
    start, end = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
    end_format = "H:i" if end.date() == start.date() else "D j M Y, H:i"
    return f"{dateformat.format(start, 'D j M Y, H:i')}–{dateformat.format(end, end_format)}"
