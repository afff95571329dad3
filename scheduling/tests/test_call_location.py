"""How a booked call happens: the number the agent calls, or the call type's video link, from the
booking form to the invitations, feeds, reminders and the agent's pages.

"Now" is Monday 2026-11-30 08:00 Berlin; the calls are on Tuesday 2026-12-01 in Berlin.
"""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from icalendar import Calendar

from accounts.models import User
from scheduling import ical
from scheduling.emails import reminder_message
from scheduling.ical import Audience, Method
from scheduling.invitations import invitation_message
from scheduling.models import Booking, BookingStatus, CallType
from scheduling.services import bookings
from scheduling.tests.factories import (
    NOW,
    People,
    berlin,
    call_type,
    make_booking,
    vip_people,
)

pytestmark = pytest.mark.django_db

CONFIRM = reverse("scheduling:confirm", args=["support"])
NUMBER = "+359 88 123 4567"
E164 = "+359881234567"
VIDEO = "https://meet.example.com/acme-support"
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people() -> People:
    return vip_people()


@pytest.fixture
def video_support() -> CallType:
    support = call_type("support")
    support.video_url = VIDEO
    support.full_clean()
    support.save()
    return support


def without_number(user: User) -> User:
    user.phone_number = ""
    user.save(update_fields=["phone_number"])
    return user


def post_booking(client, people: People, headers=None, **fields):
    data = {"start": "2026-12-01T09:00:00Z", "agent": people.agent.pk, "topic": "Exports"}
    return client.post(CONFIRM, {**data, **fields}, **(headers or {}))


def number_input(html: str) -> str:
    """The booking form's number field, as the page renders it."""
    name = html.index('name="phone_number"')
    start = html.rindex("<input", 0, name)
    return html[start : html.index(">", name) + 1]


def line(people: People) -> str:
    return f"{people.agent} calls {NUMBER}"


def event_of(calendar: Calendar):
    [event] = Calendar.from_ical(calendar.to_ical()).walk("VEVENT")
    return event


# ---------------------------------------------------------------------------- the booking form


class TestBookingForm:
    def test_the_number_to_call_is_asked_prefilled_with_the_customers_own(self, client_for, people):
        page = client_for(people.customer).get(
            CONFIRM, {"start": "2026-12-01T09:00:00Z", "agent": people.agent.pk}
        )

        html = page.content.decode()
        assert page.status_code == 200
        assert "Number we should call" in html
        assert f'value="{NUMBER}"' in number_input(html)
        assert "video-meeting link" not in html

    def test_the_number_given_is_stored_in_e164(self, client_for, people):
        response = post_booking(
            client_for(people.customer), people, phone_number="+44 20 7946 0958"
        )

        assert response.status_code == 302
        assert str(Booking.objects.get().phone_number) == "+442079460958"

    @pytest.mark.parametrize(
        "typed",
        ["12", "call me", "+359", "+1 000 000 0000", "9" * 39, "x" * 5000, "+359 88 123 4567 ext"],
    )
    def test_a_number_that_cannot_be_called_is_refused_and_kept(self, client_for, people, typed):
        response = post_booking(client_for(people.customer), people, phone_number=typed)

        html = response.content.decode()
        assert response.status_code == 400
        assert not Booking.objects.exists()
        assert "is not a phone number we can call" in html or "at most 40 characters" in html
        if len(typed) <= 40:
            assert f'value="{typed}"' in html
        assert 'value="Exports"' in html

    def test_an_empty_number_is_refused(self, client_for, people):
        response = post_booking(client_for(people.customer), people, phone_number="  ")

        assert response.status_code == 400
        assert "Give the number your agent should call." in response.content.decode()
        assert not Booking.objects.exists()

    def test_json_clients_get_the_refusal_by_field(self, client_for, people):
        response = post_booking(
            client_for(people.customer), people, headers=JSON, phone_number="12"
        )

        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["phone_number"]

    def test_a_post_without_the_field_means_the_customers_own_number(self, client_for, people):
        response = post_booking(client_for(people.customer), people)

        assert response.status_code == 302
        assert str(Booking.objects.get().phone_number) == E164

    def test_without_an_own_number_the_field_starts_empty_and_must_be_filled(
        self, client_for, people
    ):
        client = client_for(without_number(people.customer))
        page = client.get(CONFIRM, {"start": "2026-12-01T09:00:00Z", "agent": people.agent.pk})
        field = number_input(page.content.decode())
        assert "required" in field
        assert "value=" not in field

        response = post_booking(client, people)

        assert response.status_code == 400
        assert "Give the number your agent should call." in response.content.decode()

    def test_the_refusal_is_in_the_customers_language(self, client_for, people):
        people.customer.preferred_language = "bg"
        people.customer.save(update_fields=["preferred_language"])

        response = post_booking(client_for(people.customer), people, phone_number="12")

        assert response.status_code == 400
        with translation.override("bg"):
            expected = str(bookings.NOT_A_NUMBER)
        assert expected in response.content.decode()

    def test_a_video_call_asks_for_no_number(self, client_for, people, video_support):
        client = client_for(without_number(people.customer))
        page = client.get(CONFIRM, {"start": "2026-12-01T09:00:00Z", "agent": people.agent.pk})

        html = page.content.decode()
        assert "You will get a video-meeting link" in html
        assert 'name="phone_number"' not in html

        response = post_booking(client, people, phone_number="not asked")

        assert response.status_code == 302
        assert Booking.objects.get().phone_number == ""

    def test_moving_the_call_keeps_the_number(self, client_for, people):
        booking = make_booking(people, berlin(1, 10), phone_number="+44 20 7946 0958")

        moved = client_for(people.customer).post(
            reverse("scheduling:reschedule", args=[booking.pk]), {"start": "2026-12-02T13:00:00Z"}
        )

        assert moved.status_code == 302
        booking.refresh_from_db()
        assert (booking.sequence, str(booking.phone_number)) == (1, "+442079460958")

    def test_the_customers_page_of_the_call_shows_the_number(self, client_for, people):
        booking = make_booking(people, berlin(1, 10))

        page = client_for(people.customer).get(reverse("scheduling:booking", args=[booking.pk]))

        assert "Number we call" in page.content.decode()
        assert NUMBER in page.content.decode()


# ---------------------------------------------------------------------------- the service


class TestService:
    def test_a_phone_call_needs_a_number(self, people):
        with pytest.raises(ValidationError) as refused:
            make_booking(people, berlin(1, 10), phone_number="")

        assert refused.value.message_dict == {
            "phone_number": ["Give the number your agent should call."]
        }
        assert not Booking.objects.exists()

    def test_a_number_that_is_not_one_is_refused(self, people):
        with pytest.raises(ValidationError) as refused:
            make_booking(people, berlin(1, 10), phone_number="+359 1")

        assert list(refused.value.message_dict) == ["phone_number"]

    def test_a_video_call_keeps_no_number(self, people, video_support):
        booking = make_booking(people, berlin(1, 10), phone_number=NUMBER)

        assert booking.phone_number == ""
        assert booking.location is not None
        assert booking.location.video_url == VIDEO

    def test_a_call_booked_before_numbers_were_asked_can_still_be_cancelled(self, people):
        booking = make_booking(people, berlin(1, 10))
        Booking.objects.filter(pk=booking.pk).update(phone_number="")
        booking.refresh_from_db()

        bookings.booking_cancel_by_agent(booking=booking, by=people.agent, message="Ill", now=NOW)

        assert booking.status == BookingStatus.CANCELLED
        event = event_of(
            ical.invitation_calendar(
                booking=booking, method=Method.CANCEL, audience=Audience.CUSTOMER, stamp=NOW
            )
        )
        assert "location" not in event

    @pytest.mark.parametrize(
        ("url", "valid"),
        [
            (VIDEO, True),
            ("http://meet.example.com/acme", False),
            ("ftp://meet.example.com/acme", False),
            ("https://", False),
            ("javascript:alert(1)", False),
        ],
    )
    def test_a_video_link_must_be_https(self, url, valid):
        support = call_type("support")
        support.video_url = url

        if valid:
            support.full_clean()
        else:
            with pytest.raises(ValidationError) as refused:
                support.full_clean()
            assert list(refused.value.message_dict) == ["video_url"]


# ---------------------------------------------------------------------------- calendars and e-mails


class TestInvitationsAndFeeds:
    @pytest.mark.parametrize(
        ("method", "audience"),
        [(Method.REQUEST, Audience.CUSTOMER), (Method.PUBLISH, Audience.AGENT)],
    )
    def test_both_sides_learn_who_calls_which_number(self, people, method, audience):
        booking = make_booking(people, berlin(1, 10))

        calendar = ical.invitation_calendar(
            booking=booking, method=method, audience=audience, stamp=NOW
        )

        event = event_of(calendar)
        assert str(event["location"]) == line(people)
        assert line(people) in str(event["description"])
        raw = calendar.to_ical().decode().replace("\r\n ", "")
        assert f"LOCATION:{line(people)}" in raw

    def test_uid_and_sequence_are_unchanged(self, people):
        booking = make_booking(people, berlin(1, 10))
        event = event_of(
            ical.invitation_calendar(
                booking=booking, method=Method.REQUEST, audience=Audience.CUSTOMER, stamp=NOW
            )
        )

        assert str(event["uid"]) == f"{booking.uid}@{ical.UID_DOMAIN}"
        assert event.decoded("sequence") == 0

    def test_a_video_call_is_located_at_its_link(self, people, video_support):
        booking = make_booking(people, berlin(1, 10))

        event = event_of(
            ical.invitation_calendar(
                booking=booking, method=Method.REQUEST, audience=Audience.CUSTOMER, stamp=NOW
            )
        )

        assert str(event["location"]) == VIDEO
        assert f"Video meeting: {VIDEO}" in str(event["description"])

    def test_the_location_is_in_the_readers_language(self, people):
        booking = make_booking(people, berlin(1, 10))

        with translation.override("bg"):
            expected = gettext("%(agent)s calls %(number)s") % {
                "agent": people.agent,
                "number": NUMBER,
            }
            event = event_of(
                ical.invitation_calendar(
                    booking=booking, method=Method.REQUEST, audience=Audience.CUSTOMER, stamp=NOW
                )
            )

        assert str(event["location"]) == expected

    def test_the_invitation_e_mail_says_it_too(self, people):
        booking = make_booking(people, berlin(1, 10))

        message = invitation_message(
            booking=booking,
            method=Method.PUBLISH,
            recipient=people.agent,
            audience=Audience.AGENT,
            stamp=NOW,
        )

        assert line(people) in message.body

    @pytest.mark.parametrize("who", ["agent", "customer"])
    def test_the_feeds_carry_the_location(self, people, client_for, client, who):
        make_booking(people, berlin(1, 10))
        subscriber = getattr(people, who)
        client_for(subscriber).post(reverse("scheduling:subscription"), {"action": "create"})
        page = client_for(subscriber).get(reverse("scheduling:subscription")).content.decode()
        path = page.split('value="http://testserver', 1)[1].split('"', 1)[0]
        client.logout()

        response = client.get(path)

        assert response.status_code == 200
        [event] = Calendar.from_ical(response.content).walk("VEVENT")
        assert str(event["location"]) == line(people)
        assert line(people) in str(event["description"])


class TestReminders:
    @pytest.mark.parametrize("who", ["agent", "customer"])
    def test_the_reminder_says_how_the_call_happens(self, people, who):
        booking = make_booking(people, berlin(1, 10))

        message = reminder_message(
            booking=booking,
            recipient=getattr(people, who),
            now=booking.starts_at - datetime.timedelta(hours=1),
        )

        assert line(people) in message.body

    def test_a_video_calls_reminder_gives_the_link(self, people, video_support):
        booking = make_booking(people, berlin(1, 10))

        message = reminder_message(
            booking=booking, recipient=people.customer, now=booking.starts_at
        )

        assert f"Video meeting: {VIDEO}" in message.body


# ---------------------------------------------------------------------------- the agent's pages


class TestAgentPages:
    def test_the_call_page_links_the_number_to_call(self, people, client_for):
        booking = make_booking(people, berlin(1, 10))

        page = client_for(people.agent).get(reverse("scheduling:call", args=[booking.pk]))

        html = page.content.decode()
        assert f'href="tel:{E164}"' in html
        assert NUMBER in html
        assert 'data-testid="call-now"' not in html  # a day ahead: not yet

    def test_at_call_time_the_number_comes_first(self, people, client_for, frozen):
        booking = make_booking(people, berlin(1, 10))
        frozen.move_to(berlin(1, 9, 50))

        page = client_for(people.agent).get(reverse("scheduling:call", args=[booking.pk]))

        html = page.content.decode()
        banner = html[html.index('data-testid="call-now"') :]
        banner = banner[: banner.index("</section>")]
        assert "The call starts in 10" in banner
        assert f'href="tel:{E164}"' in banner
        assert f"Call {NUMBER}" in banner

    def test_a_video_calls_page_links_the_meeting(self, people, client_for, video_support, frozen):
        booking = make_booking(people, berlin(1, 10))
        frozen.move_to(berlin(1, 10, 5))

        page = client_for(people.agent).get(reverse("scheduling:call", args=[booking.pk]))

        html = page.content.decode()
        assert "The call is on now" in html
        assert f'href="{VIDEO}"' in html
        assert "tel:" not in html

    def test_the_week_shows_the_number_in_the_calls_block(self, people, client_for):
        make_booking(people, berlin(1, 10))

        page = client_for(people.agent).get(reverse("scheduling:calendar"))

        html = page.content.decode()
        tuesday = html[html.index('data-date="2026-12-01"') :]
        tuesday = tuesday[: tuesday.index("</section>")]
        assert f'href="tel:{E164}">{NUMBER}</a>' in tuesday


def test_the_demo_call_has_the_demo_customers_number():
    call_command("seed_demo")

    call_command("seed_demo_calls")
    call_command("seed_demo_calls")

    booking = Booking.objects.get()
    assert str(booking.phone_number) == E164
