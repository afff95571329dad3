"""Bookings as iCalendar: every object is parsed back with `icalendar` and read field by field.

The call is Tuesday 2026-12-01 10:00-10:30 in Berlin, i.e. 09:00-09:30 UTC.
"""

import datetime

import pytest
from icalendar import Calendar

from scheduling import ical
from scheduling.ical import Audience, Method
from scheduling.models import BookingStatus
from scheduling.services import bookings
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
STAMP = datetime.datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@pytest.fixture
def people():
    return vip_people()


@pytest.fixture
def booking(people):
    return make_booking(people, berlin(1, 10), topic="Mail flow rules")


def parse(calendar: Calendar) -> Calendar:
    return Calendar.from_ical(calendar.to_ical())


def invitation(booking, method=Method.REQUEST, audience=Audience.CUSTOMER):
    calendar = ical.invitation_calendar(
        booking=booking, method=method, audience=audience, stamp=STAMP
    )
    return parse(calendar)


def only_event(calendar: Calendar):
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


class TestInvitation:
    def test_a_request_carries_the_call_in_utc_with_organizer_and_attendee(self, booking, people):
        calendar = invitation(booking)
        event = only_event(calendar)

        assert str(calendar["method"]) == "REQUEST"
        assert str(calendar["version"]) == "2.0"
        assert str(calendar["prodid"]) == ical.PRODID
        assert str(event["uid"]) == f"{booking.uid}@{ical.UID_DOMAIN}"
        assert event.decoded("sequence") == 0
        assert event.decoded("dtstamp") == STAMP
        assert event.decoded("dtstamp").utcoffset() == datetime.timedelta(0)
        assert event.decoded("dtstart") == datetime.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        assert event.decoded("dtend") == datetime.datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        raw = calendar.to_ical().decode()
        assert "DTSTART:20261201T090000Z" in raw
        assert "DTEND:20261201T093000Z" in raw
        assert "VTIMEZONE" not in raw
        assert str(event["status"]) == "CONFIRMED"

        organizer = event["organizer"]
        assert str(organizer) == f"mailto:{people.agent.email}"
        assert organizer.params["CN"] == people.agent.get_full_name()
        attendee = event["attendee"]
        assert str(attendee) == f"mailto:{people.customer.email}"
        assert attendee.params["CN"] == people.customer.get_full_name()
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"

    def test_each_side_sees_the_other_side_and_its_own_page_of_the_call(
        self, booking, people, settings
    ):
        settings.PORTAL_URL = "https://support.example.com/"
        customer_event = only_event(invitation(booking, audience=Audience.CUSTOMER))
        # The agent organizes the call: their copy is published to them, not an invitation.
        agent_event = only_event(invitation(booking, Method.PUBLISH, audience=Audience.AGENT))

        assert str(customer_event["summary"]) == (
            f"{booking.call_type} with {people.agent.get_full_name()}"
        )
        assert str(agent_event["summary"]) == f"{booking.call_type} · {people.company.name}"
        assert str(customer_event["url"]) == f"https://support.example.com/book/calls/{booking.pk}/"
        assert str(agent_event["url"]) == (
            f"https://support.example.com/calendar/calls/{booking.pk}/"
        )
        assert "Topic: Mail flow rules" in str(customer_event["description"])
        agent_description = str(agent_event["description"])
        assert people.customer.email in agent_description
        assert people.customer.get_full_name() in agent_description

    def test_the_description_names_the_ticket(self, people):
        ticket = make_ticket(requester=people.customer, subject="Bounced invoices", at=NOW)
        booking = make_booking(people, berlin(1, 10), ticket=ticket)

        description = str(only_event(invitation(booking))["description"])

        assert f"Ticket: #{ticket.pk} Bounced invoices" in description

    def test_the_uid_stays_while_the_sequence_counts_the_reschedule_and_the_cancel(
        self, booking, people
    ):
        first = only_event(invitation(booking))
        bookings.booking_reschedule(
            booking=booking, starts_at=berlin(2, 14), by=people.customer, now=NOW
        )
        moved = only_event(invitation(booking))
        bookings.booking_cancel_by_agent(
            booking=booking, by=people.agent, message="I am ill, sorry.", now=NOW
        )
        cancel = invitation(booking, method=Method.CANCEL)
        cancelled = only_event(cancel)

        assert str(first["uid"]) == str(moved["uid"]) == str(cancelled["uid"])
        assert [e.decoded("sequence") for e in (first, moved, cancelled)] == [0, 1, 2]
        assert moved.decoded("dtstart") == datetime.datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
        assert str(cancel["method"]) == "CANCEL"
        assert str(cancelled["status"]) == "CANCELLED"
        assert "I am ill, sorry." in str(cancelled["description"])


class TestRoles:
    """RFC 5546: the customer (ATTENDEE) is invited and told of a cancellation; the agent
    (ORGANIZER) is given the event for their calendar (PUBLISH), never invited to it."""

    @pytest.mark.parametrize(
        ("status", "customer", "agent"),
        [
            (BookingStatus.CONFIRMED, Method.REQUEST, Method.PUBLISH),
            (BookingStatus.CANCELLED, Method.CANCEL, Method.PUBLISH),
            (BookingStatus.COMPLETED, None, None),
            (BookingStatus.NO_SHOW, None, None),
        ],
    )
    def test_each_side_gets_the_method_of_its_role(self, booking, status, customer, agent):
        booking.status = status

        assert ical.invitation_method(booking=booking, audience=Audience.CUSTOMER) is customer
        assert ical.invitation_method(booking=booking, audience=Audience.AGENT) is agent

    def test_a_copy_in_another_method_than_its_roles_is_refused(self, booking, people):
        with pytest.raises(ValueError, match="agent's copy of a confirmed call is sent as PUBLISH"):
            invitation(booking, Method.REQUEST, audience=Audience.AGENT)
        with pytest.raises(ValueError, match="customer's copy of a confirmed call"):
            invitation(booking, Method.CANCEL)
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)
        with pytest.raises(
            ValueError, match="customer's copy of a cancelled call is sent as CANCEL"
        ):
            invitation(booking, Method.REQUEST)
        booking.status = BookingStatus.COMPLETED
        with pytest.raises(ValueError, match="A completed call is not sent to anyone"):
            invitation(booking, Method.PUBLISH, audience=Audience.AGENT)

    def test_a_cancel_lists_the_customer_but_asks_for_nothing(self, booking, people):
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)

        calendar = invitation(booking, Method.CANCEL)
        event = only_event(calendar)

        attendee = event["attendee"]
        assert str(attendee) == f"mailto:{people.customer.email}"
        assert attendee.params["CN"] == people.customer.get_full_name()
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["RSVP"] == "FALSE"
        assert "PARTSTAT" not in attendee.params
        assert str(event["status"]) == "CANCELLED"
        assert event.decoded("sequence") == 1

    @pytest.mark.parametrize("cancelled", [False, True], ids=["confirmed", "cancelled"])
    def test_the_agents_copy_is_published_without_attendees(self, booking, people, cancelled):
        if cancelled:
            bookings.booking_cancel_by_agent(
                booking=booking, by=people.agent, message="I am ill, sorry.", now=NOW
            )
        customer = only_event(invitation(booking, Method.CANCEL if cancelled else Method.REQUEST))

        calendar = invitation(booking, Method.PUBLISH, audience=Audience.AGENT)
        event = only_event(calendar)

        assert str(calendar["method"]) == "PUBLISH"
        assert str(event["organizer"]) == f"mailto:{people.agent.email}"
        assert "attendee" not in event
        assert "ATTENDEE" not in calendar.to_ical().decode()
        assert str(event["uid"]) == str(customer["uid"])
        assert event.decoded("sequence") == customer.decoded("sequence") == int(cancelled)
        assert str(event["status"]) == ("CANCELLED" if cancelled else "CONFIRMED")


class TestFeed:
    def test_a_feed_is_published_without_method_and_asks_for_refresh(self, booking):
        calendar = parse(
            ical.feed_calendar(name="Calls · Acme", bookings=[booking], audience=Audience.AGENT)
        )

        assert "method" not in calendar
        assert str(calendar["x-wr-calname"]) == "Calls · Acme"
        refresh = calendar["refresh-interval"]
        assert refresh.params["VALUE"] == "DURATION"
        raw = calendar.to_ical().decode()
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M" in raw
        assert "X-PUBLISHED-TTL:PT15M" in raw
        event = only_event(calendar)
        assert str(event["uid"]) == f"{booking.uid}@{ical.UID_DOMAIN}"
        assert event.decoded("dtstamp") == booking.updated_at.replace(microsecond=0)

    def test_past_calls_show_as_confirmed_and_cancelled_ones_as_cancelled(self, people):
        done = make_booking(people, berlin(1, 10))
        missed = make_booking(people, berlin(1, 14))
        cancelled = make_booking(people, berlin(2, 10))
        bookings.booking_mark(
            booking=done, status=BookingStatus.COMPLETED, by=people.agent, now=berlin(1, 11)
        )
        bookings.booking_mark(
            booking=missed, status=BookingStatus.NO_SHOW, by=people.agent, now=berlin(1, 15)
        )
        bookings.booking_cancel_by_customer(booking=cancelled, by=people.customer, now=NOW)

        calendar = parse(
            ical.feed_calendar(
                name="Calls", bookings=[done, missed, cancelled], audience=Audience.CUSTOMER
            )
        )

        statuses = {str(e["uid"]): str(e["status"]) for e in calendar.walk("VEVENT")}
        assert statuses == {
            ical.event_uid(done): "CONFIRMED",
            ical.event_uid(missed): "CONFIRMED",
            ical.event_uid(cancelled): "CANCELLED",
        }
