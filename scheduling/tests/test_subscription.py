"""Calendar subscriptions: the secret address (made, shown once, replaced, revoked) and the feed."""

import base64
import datetime
import hashlib
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from icalendar import Calendar

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import UserFactory
from scheduling import ical
from scheduling.models import CalendarFeed
from scheduling.services import bookings
from scheduling.subscriptions import calendar_feed_create
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people

pytestmark = pytest.mark.django_db

MANAGE = reverse("scheduling:subscription")
FEED_URL = re.compile(r'value="(http://testserver/feeds/([^"/]+)\.ics)"')


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people():
    return vip_people()


def make_address(client) -> tuple[str, str]:
    """Create an address through the page; the full URL and its token, read off the page."""
    response = client.post(MANAGE, {"action": "create"})
    assert response.status_code == 302
    assert response["Location"] == MANAGE
    page = client.get(MANAGE).content.decode()
    found = FEED_URL.search(page)
    assert found is not None, page
    return found.group(1), found.group(2)


def read_feed(client, url: str) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


class TestAddress:
    def test_the_page_asks_anonymous_visitors_to_log_in(self, client):
        response = client.get(MANAGE)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_the_token_is_long_random_and_stored_only_as_its_hash(self, people, client_for, client):
        url, token = make_address(client_for(people.agent))

        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
        feed = CalendarFeed.objects.get(user=people.agent)
        assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = CalendarFeed.objects.filter(user=people.agent).values_list()
        assert all(token not in str(value) for row in stored for value in row)
        assert read_feed(client, url)

    def test_the_address_is_shown_once_and_then_only_that_one_exists(self, people, client_for):
        client = client_for(people.customer)
        make_address(client)

        page = client.get(MANAGE).content.decode()

        assert FEED_URL.search(page) is None
        assert 'data-testid="feed-exists"' in page
        assert "Anyone who has the address can read these calls" in page

    def test_the_address_is_offered_for_calendar_apps_as_webcal_too(self, people, client_for):
        client = client_for(people.customer)
        client.post(MANAGE, {"action": "create"})

        page = client.get(MANAGE).content.decode()

        token = FEED_URL.search(page).group(2)
        assert f'href="webcal://testserver/feeds/{token}.ics"' in page

    def test_a_new_address_kills_the_old_one(self, people, client_for, client):
        owner = client_for(people.agent)
        old_url, _old = make_address(owner)
        new_url, _new = make_address(owner)
        client.logout()

        assert client.get(old_url).status_code == 404
        assert read_feed(client, new_url)
        assert CalendarFeed.objects.filter(user=people.agent).count() == 1

    def test_revoking_kills_the_address(self, people, client_for, client):
        owner = client_for(people.agent)
        url, _token = make_address(owner)

        response = owner.post(MANAGE, {"action": "revoke"}, follow=True)

        assert "Your calendar address is turned off." in response.content.decode()
        assert 'data-testid="feed-none"' in response.content.decode()
        assert not CalendarFeed.objects.filter(user=people.agent).exists()
        client.logout()
        assert client.get(url).status_code == 404

    def test_an_unknown_action_is_explained_on_the_page(self, people, client_for):
        client = client_for(people.customer)

        response = client.post(MANAGE, {"action": "explode"}, follow=True)

        assert response.status_code == 200
        assert "Choose whether to create a new address or turn it off." in (
            response.content.decode()
        )
        assert not CalendarFeed.objects.exists()

    def test_the_page_needs_few_queries(self, people, client_for, django_assert_max_num_queries):
        client = client_for(people.agent)
        client.post(MANAGE, {"action": "create"})

        with django_assert_max_num_queries(12):
            response = client.get(MANAGE)

        assert response.status_code == 200
        assert response["Cache-Control"].startswith("max-age=0")


class TestFeed:
    def test_unknown_and_oversized_tokens_are_404(self, client):
        calendar_feed_create(user=UserFactory())

        assert client.get(reverse("scheduling:feed", args=["nope"])).status_code == 404
        assert client.get(reverse("scheduling:feed", args=["a" * 500])).status_code == 404

    def test_an_inactive_users_feed_is_404(self, people, client):
        token = calendar_feed_create(user=people.agent)
        people.agent.is_active = False
        people.agent.save()

        assert client.get(reverse("scheduling:feed", args=[token])).status_code == 404

    def test_the_agents_feed_has_their_calls_with_the_customer(self, people, client):
        booking = make_booking(people, berlin(1, 10), topic="Mail flow rules")
        others = vip_people("Globex")
        elsewhere = make_booking(others, berlin(1, 10))
        token = calendar_feed_create(user=people.agent)

        response = client.get(reverse("scheduling:feed", args=[token]))

        assert response["Cache-Control"].startswith("private, max-age=")
        calendar = Calendar.from_ical(response.content)
        assert "method" not in calendar
        assert str(calendar["x-wr-calname"]) == f"VIP Support calls · {people.agent}"
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M" in response.content.decode()
        [event] = calendar.walk("VEVENT")
        assert str(event["uid"]) == ical.event_uid(booking)
        assert event["attendee"].params["CN"] == people.customer.get_full_name()
        assert people.customer.get_full_name() in str(event["description"])
        assert str(event["summary"]) == f"{booking.call_type} · Acme Ltd"
        assert event.decoded("dtstart") == datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC)
        assert ical.event_uid(elsewhere) not in response.content.decode()

    def test_a_customers_feed_has_their_companys_calls_and_nothing_of_others(self, people, client):
        colleague = UserFactory(company=people.company)
        own = make_booking(people, berlin(1, 10))
        colleagues = make_booking(people, berlin(2, 10), customer=colleague)
        others = vip_people("Globex")
        foreign = make_booking(others, berlin(1, 10), topic="Secret merger")
        token = calendar_feed_create(user=people.customer)

        body = client.get(reverse("scheduling:feed", args=[token])).content.decode()

        calendar = Calendar.from_ical(body)
        uids = {str(event["uid"]) for event in calendar.walk("VEVENT")}
        assert uids == {ical.event_uid(own), ical.event_uid(colleagues)}
        assert str(calendar["x-wr-calname"]) == "VIP Support calls · Acme Ltd"
        for secret in (ical.event_uid(foreign), "Globex", "Secret merger", others.customer.email):
            assert secret not in body
        summaries = {str(event["summary"]) for event in calendar.walk("VEVENT")}
        assert summaries == {f"{own.call_type} with {people.agent.get_full_name()}"}

    def test_cancelled_calls_stay_marked_and_old_calls_drop_out(self, people, client):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_customer(booking=booking, by=people.customer, now=NOW)
        token = calendar_feed_create(user=people.agent)
        url = reverse("scheduling:feed", args=[token])

        [event] = Calendar.from_ical(client.get(url).content).walk("VEVENT")
        assert str(event["status"]) == "CANCELLED"
        assert event.decoded("sequence") == 1
        with time_machine.travel(berlin(1, 10) + datetime.timedelta(days=91), tick=False):
            assert Calendar.from_ical(client.get(url).content).walk("VEVENT") == []

    def test_a_manager_who_takes_no_calls_gets_an_empty_calendar(self, client):
        manager = UserFactory()
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        token = calendar_feed_create(user=manager)

        calendar = read_feed(client, reverse("scheduling:feed", args=[token]))

        assert calendar.walk("VEVENT") == []
        assert str(calendar["x-wr-calname"]) == "VIP Support calls"

    def test_the_feed_reads_the_same_few_rows_however_many_calls(
        self, people, client, django_assert_num_queries
    ):
        token = calendar_feed_create(user=people.agent)
        url = reverse("scheduling:feed", args=[token])
        make_booking(people, berlin(1, 10))
        with django_assert_num_queries(2):
            assert len(read_feed(client, url).walk("VEVENT")) == 1

        for day in (2, 3, 4):
            make_booking(people, berlin(day, 10))
        with django_assert_num_queries(2):
            assert len(read_feed(client, url).walk("VEVENT")) == 4
