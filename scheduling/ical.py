"""The one place bookings become iCalendar (RFC 5545): iMIP invitations and subscription feeds.

Every time is written in UTC (`…Z`), so no VTIMEZONE is needed. A booking's UID is
`<booking.uid>@UID_DOMAIN` in every invitation and feed; calendar apps match updates and
cancellations by it, so `UID_DOMAIN` must never change. Links inside events are absolute, built
on `settings.PORTAL_URL` (read at call time; the development address when unset).

Each participant's e-mailed copy follows their iTIP role (RFC 5546, `invitation_method`): the
customer, the ATTENDEE, is invited with REQUEST (asked to reply) and told of a cancellation with
CANCEL (nothing asked); the agent, the ORGANIZER, is never invited to their own call but given
it for their calendar with PUBLISH, which carries no ATTENDEE (§3.2.1), with the same UID and
SEQUENCE, and STATUS:CANCELLED once it is cancelled. Feeds carry no METHOD at all: a snapshot,
not a scheduling message (RFC 5545 §3.7.2).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vDuration

from accounts.models import User
from scheduling.models import Booking, BookingStatus

UID_DOMAIN = "vipsupport"
PRODID = "-//VIP Support//Calls//EN"
FEED_REFRESH = datetime.timedelta(minutes=15)
DEFAULT_PORTAL_URL = "http://127.0.0.1:8000"


class Method(enum.StrEnum):
    """iTIP methods (RFC 5546) the portal sends."""

    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


class Audience(enum.Enum):
    """Whose copy of an event: the agent's names the company and customer, the customer's the
    agent; each links to that side's page of the call."""

    AGENT = "agent"
    CUSTOMER = "customer"


def portal_url(path: str) -> str:
    """`path` on the portal's public address (`settings.PORTAL_URL`)."""
    base = getattr(settings, "PORTAL_URL", DEFAULT_PORTAL_URL)
    return base.rstrip("/") + path


def booking_url(booking: Booking, audience: Audience) -> str:
    name = "scheduling:call" if audience is Audience.AGENT else "scheduling:booking"
    return portal_url(reverse(name, args=[booking.pk]))


def event_uid(booking: Booking) -> str:
    return f"{booking.uid}@{UID_DOMAIN}"


# The customer's copy (the ATTENDEE's); completed and no-show calls are over: nothing to send.
_ATTENDEE_METHODS = {
    BookingStatus.CONFIRMED: Method.REQUEST,
    BookingStatus.CANCELLED: Method.CANCEL,
}


def invitation_method(*, booking: Booking, audience: Audience) -> Method | None:
    """The iTIP method of one side's e-mailed copy of the booking as it stands, or None when
    nothing is to be sent (the call is over).

    The customer is the ATTENDEE: REQUEST for a new or moved call, CANCEL once it is cancelled.
    The agent is the ORGANIZER, whom an invitation would ask to answer their own call: PUBLISH,
    the event for their calendar, whether confirmed or cancelled (STATUS says which).
    """
    method = _ATTENDEE_METHODS.get(BookingStatus(booking.status))
    if method is None or audience is Audience.CUSTOMER:
        return method
    return Method.PUBLISH


def booking_event(
    booking: Booking,
    *,
    audience: Audience,
    stamp: datetime.datetime,
    method: Method | None = None,
) -> Event:
    """The booking as a VEVENT, texts in the active language; load agent, customer, company,
    call type and ticket with the booking. LOCATION says how the call happens (the video link, or
    who calls which number: `scheduling.locations`), and so does a line of the description.
    `method` is the iTIP method of the message it goes in (None in a feed); it decides what the
    ATTENDEE is asked."""
    event = Event()
    event.add("uid", event_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(booking.starts_at))
    event.add("dtend", _utc(booking.ends_at))
    event.add("summary", _summary(booking, audience))
    location = booking.location
    if location is not None:
        event.add("location", location.place)
    event.add("description", _description(booking, audience))
    event.add("organizer", _address(booking.agent))
    # RFC 5546 §3.2.1: a PUBLISHed event "MUST NOT" have attendees.
    if method is not Method.PUBLISH:
        event.add("attendee", _attendee(booking, method))
    cancelled = booking.status == BookingStatus.CANCELLED
    # Completed and no-show calls did happen as planned, as far as a calendar is concerned.
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("url", booking_url(booking, audience))
    return event


def invitation_calendar(
    *,
    booking: Booking,
    method: Method,
    audience: Audience,
    stamp: datetime.datetime,
) -> Calendar:
    """An iMIP object: one booking's event as `audience` is to receive it now; `method` must
    be `invitation_method` of the booking and audience (ValueError otherwise)."""
    expected = invitation_method(booking=booking, audience=audience)
    if expected is None:
        raise ValueError(f"A {booking.status} call is not sent to anyone.")
    if method is not expected:
        raise ValueError(
            f"The {audience.value}'s copy of a {booking.status} call is sent as {expected}, "
            f"not {method}."
        )
    calendar = _calendar()
    calendar.add("method", method.value)
    calendar.add_component(booking_event(booking, audience=audience, stamp=stamp, method=method))
    return calendar


def feed_calendar(*, name: str, bookings: Iterable[Booking], audience: Audience) -> Calendar:
    """A published calendar (no METHOD) that subscribing apps re-read every 15 minutes."""
    calendar = _calendar()
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    for booking in bookings:
        # In a published calendar DTSTAMP is when the event last changed.
        calendar.add_component(booking_event(booking, audience=audience, stamp=booking.updated_at))
    return calendar


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _address(user: User) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = str(user)
    return address


def _attendee(booking: Booking, method: Method | None) -> vCalAddress:
    """The customer as ATTENDEE: asked to reply in a REQUEST (and shown the same way in feeds);
    listed in a CANCEL (RFC 5546 §3.2.5 names every attendee of a cancelled event) but asked
    nothing there: RSVP=FALSE and no participation status to act on."""
    attendee = _address(booking.customer)
    attendee.params.update({"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT"})
    if method is Method.CANCEL:
        attendee.params["RSVP"] = "FALSE"
    else:
        attendee.params.update({"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    return attendee


def _summary(booking: Booking, audience: Audience) -> str:
    if audience is Audience.AGENT:
        return _("%(call_type)s · %(company)s") % {
            "call_type": booking.call_type,
            "company": booking.company,
        }
    return _("%(call_type)s with %(agent)s") % {
        "call_type": booking.call_type,
        "agent": booking.agent,
    }


def _description(booking: Booking, audience: Audience) -> str:
    lines = []
    if booking.status == BookingStatus.CANCELLED:
        lines.append(_("This call was cancelled."))
        if booking.cancel_message:
            lines.append(_("Message: %(message)s") % {"message": booking.cancel_message})
        lines.append("")
    lines.append(_("Topic: %(topic)s") % {"topic": booking.topic})
    location = booking.location
    if location is not None:
        lines.append(location.line)
    if booking.ticket is not None:
        lines.append(_("Ticket: %(ticket)s") % {"ticket": booking.ticket})
    if audience is Audience.AGENT:
        lines.append(
            _("Customer: %(name)s <%(email)s>, %(company)s")
            % {
                "name": booking.customer,
                "email": booking.customer.email,
                "company": booking.company,
            }
        )
    else:
        lines.append(_("Agent: %(agent)s") % {"agent": booking.agent})
    lines.append(booking_url(booking, audience))
    return "\n".join(lines)
