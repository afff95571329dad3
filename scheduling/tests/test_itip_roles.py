"""Each participant's copy of a call speaks to their role in it (RFC 5546, iTIP).

The customer is the ATTENDEE: a new or moved call comes as METHOD:REQUEST, which asks for an
answer (RSVP=TRUE, PARTSTAT=NEEDS-ACTION); a cancellation as METHOD:CANCEL, which still lists
them (§3.2.5) but asks nothing, with STATUS:CANCELLED, the same UID and a higher SEQUENCE.

The agent is the ORGANIZER and is never invited to their own call: their copy is METHOD:PUBLISH,
an event for their calendar, which §3.2.1 requires to name the ORGANIZER and forbids to have any
ATTENDEE; it has the customer's copy's UID and SEQUENCE, so their calendar updates one event,
and STATUS:CANCELLED once the call is cancelled.

The e-mail's `text/calendar; method=…` part and the attached file carry the METHOD of the
VCALENDAR inside them. Every step goes through the real chain: service, outbox, e-mail.
"""

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from icalendar import Calendar

from outbox.services import emails_send_pending
from scheduling import ical
from scheduling.models import Booking
from scheduling.services import bookings
from scheduling.tests.factories import NOW, People, berlin, make_booking, vip_people

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
STEPS = ("book", "move", "cancel")


@dataclass
class Copy:
    """One participant's e-mail about one step, taken apart."""

    part_method: str | None  # the `method` parameter of the text/calendar part's Content-Type
    calendar: Calendar  # the text/calendar part
    attachment_name: str
    attached: Calendar  # the attached .ics
    raw: str  # the text/calendar part as sent
    body: str

    @property
    def event(self) -> Any:
        [event] = self.calendar.walk("VEVENT")
        return event


@dataclass
class Journey:
    people: People
    booking: Booking
    copies: dict[str, dict[str, Copy]]  # step -> "customer" / "agent" -> copy

    def copy(self, step: str, side: str) -> Copy:
        return self.copies[step][side]


def take_apart(message: Any) -> Copy:
    mime = message.message()
    [calendar_part] = [part for part in mime.walk() if part.get_content_type() == "text/calendar"]
    [attachment] = [part for part in mime.walk() if part.get_content_type() == "application/ics"]
    raw = calendar_part.get_payload(decode=True).decode()
    return Copy(
        part_method=calendar_part.get_param("method"),
        calendar=Calendar.from_ical(raw),
        attachment_name=attachment.get_filename(),
        attached=Calendar.from_ical(attachment.get_payload(decode=True)),
        raw=raw,
        body=message.body,
    )


@pytest.fixture(params=["customer", "agent"], ids=["cancelled-by-customer", "cancelled-by-agent"])
def journey(request) -> Journey:
    """Book a call, move it, cancel it (by either side); both sides' e-mails of each step."""
    people = vip_people()
    booking: Booking | None = None

    def book() -> None:
        nonlocal booking
        booking = make_booking(people, berlin(1, 10), topic="Mail flow rules")

    def move() -> None:
        assert booking is not None
        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(2, 14), by=people.customer, now=NOW
        )

    def cancel() -> None:
        assert booking is not None
        if request.param == "customer":
            bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)
        else:
            bookings.booking_cancel_by_agent(
                booking=booking, by=people.agent, message="I am ill, sorry.", now=NOW
            )

    copies = {}
    for step, action in zip(STEPS, (book, move, cancel), strict=True):
        mail.outbox.clear()
        action()
        emails_send_pending()  # what the sender enqueued by the step's commit does
        sent = {message.to[0]: take_apart(message) for message in mail.outbox}
        assert set(sent) == {people.customer.email, people.agent.email}, step
        copies[step] = {"customer": sent[people.customer.email], "agent": sent[people.agent.email]}
    assert booking is not None
    booking.refresh_from_db()
    return Journey(people=people, booking=booking, copies=copies)


def assert_one_method(copy: Copy, method: str) -> None:
    """The MIME part, the VCALENDAR and the attachment agree on the METHOD."""
    assert copy.part_method == method
    assert str(copy.calendar["method"]) == method
    assert str(copy.attached["method"]) == method
    assert copy.attached.to_ical() == copy.calendar.to_ical()


STARTS = {"book": berlin(1, 10), "move": berlin(2, 14), "cancel": berlin(2, 14)}


def assert_the_call(journey: Journey, copy: Copy, step: str) -> None:
    """Organizer, UID, SEQUENCE and times of this version of the call."""
    event = copy.event
    assert str(event["organizer"]) == f"mailto:{journey.people.agent.email}"
    assert str(event["uid"]) == ical.event_uid(journey.booking)
    assert event.decoded("sequence") == STEPS.index(step)
    assert event.decoded("dtstart") == STARTS[step].astimezone(UTC)
    assert event.decoded("dtend") == (STARTS[step] + datetime.timedelta(minutes=30)).astimezone(UTC)


@pytest.mark.parametrize("step", ["book", "move"])
def test_the_customer_is_invited_to_a_new_or_moved_call(journey, step):
    copy = journey.copy(step, "customer")

    assert_one_method(copy, "REQUEST")
    assert_the_call(journey, copy, step)
    assert str(copy.event["status"]) == "CONFIRMED"
    attendee = copy.event["attendee"]
    assert str(attendee) == f"mailto:{journey.people.customer.email}"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert copy.attachment_name == "invite.ics"


def test_the_customer_is_told_of_a_cancellation_and_asked_nothing(journey):
    copy = journey.copy("cancel", "customer")

    assert_one_method(copy, "CANCEL")
    assert_the_call(journey, copy, "cancel")
    assert str(copy.event["status"]) == "CANCELLED"
    # Every attendee of a cancelled event is listed (§3.2.5), here without a question.
    attendee = copy.event["attendee"]
    assert str(attendee) == f"mailto:{journey.people.customer.email}"
    assert attendee.params.get("RSVP") != "TRUE"
    assert attendee.params.get("PARTSTAT") != "NEEDS-ACTION"
    assert "RSVP=TRUE" not in copy.raw
    assert "NEEDS-ACTION" not in copy.raw
    # The same event as the invitation, in a later version.
    invited = journey.copy("move", "customer").event
    assert str(copy.event["uid"]) == str(invited["uid"])
    assert copy.event.decoded("sequence") > invited.decoded("sequence")
    assert copy.attachment_name == "cancel.ics"
    assert "The attached cancel.ics removes the call from your calendar." in copy.body


@pytest.mark.parametrize("step", STEPS)
def test_the_agent_is_given_the_call_for_their_calendar_not_invited_to_it(journey, step):
    copy = journey.copy(step, "agent")

    assert_one_method(copy, "PUBLISH")
    assert_the_call(journey, copy, step)
    # PUBLISH: the ORGANIZER is present, attendees "MUST NOT" be (RFC 5546 §3.2.1).
    assert "attendee" not in copy.event
    assert "ATTENDEE" not in copy.raw
    assert "RSVP" not in copy.raw
    assert "NEEDS-ACTION" not in copy.raw
    cancelled = step == "cancel"
    assert str(copy.event["status"]) == ("CANCELLED" if cancelled else "CONFIRMED")
    assert copy.attachment_name == ("cancel.ics" if cancelled else "call.ics")


@pytest.mark.parametrize("step", STEPS)
def test_both_copies_are_one_event_in_one_version(journey, step):
    customer, agent = journey.copy(step, "customer").event, journey.copy(step, "agent").event

    for name in ("uid", "sequence", "dtstart", "dtend", "status", "organizer"):
        assert agent.decoded(name) == customer.decoded(name), name


def test_the_agents_cancellation_says_it_marks_the_call_cancelled(journey):
    body = journey.copy("cancel", "agent").body

    assert "The attached cancel.ics marks the call as cancelled in your calendar." in body
    assert "removes the call" not in body
    assert (
        "The attached call.ics puts the call in your calendar" in journey.copy("book", "agent").body
    )


def test_the_agents_cancellation_is_worded_in_bulgarian_too():
    people = vip_people()
    people.agent.preferred_language = "bg"
    people.agent.save(update_fields=["preferred_language"])
    booking = make_booking(people, berlin(3, 10))
    bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

    emails_send_pending(now=NOW)  # the booking's e-mails were superseded: only these go

    [agent_mail] = [message for message in mail.outbox if message.to == [people.agent.email]]
    assert "Приложеният cancel.ics отбелязва разговора като отменен в календара ви." in (
        agent_mail.body
    )


# RFC 5546 §3.2: what each method's VEVENT must, may and must not carry (the parts we send).
REQUIRED = {
    "PUBLISH": {"DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"},
    "REQUEST": {"ATTENDEE", "DTSTAMP", "DTSTART", "ORGANIZER", "SEQUENCE", "SUMMARY", "UID"},
    "CANCEL": {"ATTENDEE", "DTSTAMP", "ORGANIZER", "SEQUENCE", "UID", "STATUS"},
}
FORBIDDEN = {"PUBLISH": {"ATTENDEE", "REQUEST-STATUS"}, "REQUEST": {"REQUEST-STATUS"}}
STATUSES = {
    "PUBLISH": {"TENTATIVE", "CONFIRMED", "CANCELLED"},
    "REQUEST": {"TENTATIVE", "CONFIRMED"},
    "CANCEL": {"CANCELLED"},
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("side", ["customer", "agent"])
def test_every_copy_keeps_to_its_methods_restriction_table(journey, step, side):
    copy = journey.copy(step, side)
    method = str(copy.calendar["method"])
    properties = set(copy.event.keys())

    assert REQUIRED[method] <= properties
    assert not FORBIDDEN.get(method, set()) & properties
    assert str(copy.event["status"]) in STATUSES[method]
    # SEQUENCE "MUST be present if value is greater than 0" (in every method).
    assert "SEQUENCE" in properties
