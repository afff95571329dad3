"""The agent's availability page: hours, time off and busy-time calendars."""

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import AgentProfileFactory, UserFactory
from scheduling.models import BusyFeed, DateOverride, TimeOff
from scheduling.services import availability
from scheduling.tests.factories import NOW, berlin, schedule_for, time_off, vip_people
from scheduling.tests.test_feeds import GOOD_FEED, FeedServer

pytestmark = pytest.mark.django_db
PAGE = reverse("scheduling:availability")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people() -> Any:
    return vip_people()


@pytest.fixture
def agent_client(people, client_for) -> Any:
    return client_for(people.agent)


@pytest.fixture
def server(settings: Any) -> Iterator[FeedServer]:
    settings.BUSY_FEEDS_ALLOW_PRIVATE_HOSTS = True
    with FeedServer() as running:
        yield running


def time_off_post(**fields: str) -> dict[str, str]:
    data = {
        "form": "time_off",
        "off-starts_at": "2026-12-07T09:00",
        "off-ends_at": "2026-12-07T13:00",
        "off-reason": "Dentist",
    }
    data.update({f"off-{name}": value for name, value in fields.items()})
    return data


def uploaded_feed(agent: Any, name: str = "Exported") -> BusyFeed:
    return availability.busy_feed_add_upload(agent=agent, ics_text=GOOD_FEED, name=name)


# ---------------------------------------------------------------------------- who sees it


def test_the_page_shows_hours_in_the_schedules_zone(people, agent_client):
    schedule = schedule_for(people.agent, time_zone="Asia/Tokyo")
    DateOverride.objects.create(schedule=schedule, date=berlin(24, 0).date())

    response = agent_client.get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Asia/Tokyo" in page
    assert "09:00–17:00" in page
    assert "ask an administrator to change them" in page
    assert "day off" in page  # the coming date override
    assert "No time off planned." in page
    assert "No calendars added." in page


def test_an_agent_without_a_schedule_sees_the_desk_hours_and_gets_no_schedule(people, client):
    client.force_login(people.backup)  # a senior

    response = client.get(PAGE)

    assert response.status_code == 200
    assert "09:00–17:00" in response.content.decode()
    assert "Europe/Berlin" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_customers_and_managers_without_an_agent_profile_get_403(people, client):
    manager = UserFactory()
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    for user in (people.customer, manager):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, time_off_post()).status_code == 403
    assert not TimeOff.objects.exists()


def test_a_manager_who_is_an_agent_too_has_the_page(client):
    manager = UserFactory()
    AgentProfileFactory(user=manager)
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    client.force_login(manager)

    assert client.get(PAGE).status_code == 200
    assert client.post(PAGE, time_off_post()).status_code == 302
    assert TimeOff.objects.get().schedule.agent == manager


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------------------- time off


def test_adding_time_off_reads_the_times_in_the_schedules_zone(people, agent_client):
    people.agent.time_zone = "America/New_York"  # the page uses the schedule's zone, not this
    people.agent.save()
    schedule_for(people.agent, time_zone="Asia/Tokyo")

    response = agent_client.post(PAGE, time_off_post(), follow=True)

    row = TimeOff.objects.get()
    assert (row.starts_at.isoformat(), row.ends_at.isoformat()) == (
        "2026-12-07T00:00:00+00:00",  # 09:00 in Tokyo
        "2026-12-07T04:00:00+00:00",
    )
    assert row.reason == "Dentist"
    assert row.schedule.agent == people.agent
    assert response.redirect_chain == [(PAGE, 302)]
    assert "Your time off is saved" in response.content.decode()
    assert "Dentist" in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"ends_at": "2026-12-07T08:00"}, "Time off must end after it starts."),
        ({"ends_at": "2026-12-07T09:00"}, "Time off must end after it starts."),
        (
            {"starts_at": "2026-11-20T09:00", "ends_at": "2026-11-27T17:00"},
            "This time is already over",
        ),
        ({"starts_at": ""}, "Say when your time off starts."),
        ({"ends_at": "next Friday"}, "Enter a date and time"),
        # Clocks jump from 02:00 to 03:00 in Berlin on 28 March 2027: 02:30 does not exist.
        ({"starts_at": "2027-03-28T02:30", "ends_at": "2027-03-29T09:00"}, "time zone"),
    ],
    ids=["before-start", "no-length", "in-the-past", "missing", "not-a-time", "dst-gap"],
)
def test_bad_time_off_is_explained_and_the_input_kept(agent_client, fields, error):
    data = time_off_post(**fields)

    response = agent_client.post(PAGE, data)

    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    for name in ("off-starts_at", "off-ends_at"):
        if data[name]:
            assert f'value="{data[name]}"' in page
    assert 'value="Dentist"' in page
    assert not TimeOff.objects.exists()


def test_time_off_already_begun_can_be_added(agent_client):
    response = agent_client.post(
        PAGE, time_off_post(starts_at="2026-11-30T07:00", ends_at="2026-11-30T12:00")
    )
    assert response.status_code == 302
    assert TimeOff.objects.get().starts_at == berlin(30, 7, month=11)


def test_only_coming_time_off_is_listed_and_only_ones_own(people, agent_client):
    coming = time_off(people.agent, berlin(14, 9), berlin(14, 17))
    past = TimeOff.objects.create(
        schedule=schedule_for(people.agent),
        starts_at=berlin(2, 9, month=11),
        ends_at=berlin(3, 9, month=11),
        reason="Long ago",
    )
    TimeOff.objects.create(
        schedule=schedule_for(people.backup),
        starts_at=berlin(14, 9),
        ends_at=berlin(14, 17),
        reason="The backup's holiday",
    )

    page = agent_client.get(PAGE).content.decode()

    assert reverse("scheduling:time-off-delete", args=[coming.pk]) in page
    assert reverse("scheduling:time-off-delete", args=[past.pk]) not in page
    assert "Long ago" not in page
    assert "holiday" not in page


def test_deleting_own_time_off(people, agent_client):
    row = time_off(people.agent, berlin(14, 9), berlin(14, 17))
    url = reverse("scheduling:time-off-delete", args=[row.pk])

    assert agent_client.get(url).status_code == 405
    response = agent_client.post(url, follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "The time off is deleted." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_another_agents_time_off_is_404(people, agent_client):
    theirs = time_off(people.backup, berlin(14, 9), berlin(14, 17))

    response = agent_client.post(reverse("scheduling:time-off-delete", args=[theirs.pk]))

    assert response.status_code == 404
    assert TimeOff.objects.filter(pk=theirs.pk).exists()
    assert agent_client.post(reverse("scheduling:time-off-delete", args=[99999])).status_code == 404


# ---------------------------------------------------------------------------- feeds by address


def test_adding_a_feed_address_reads_it_at_once(
    people, agent_client, server, eager_tasks, django_capture_on_commit_callbacks
):
    url = server.serve("/basic.ics")

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(PAGE, {"form": "feed_url", "url-url": url, "url-name": "Outlook"})
    response = agent_client.get(PAGE)

    feed = BusyFeed.objects.get()
    assert (feed.schedule.agent, feed.name, feed.url) == (people.agent, "Outlook", url)
    assert feed.last_good_ics == GOOD_FEED
    assert feed.fetched_at == NOW
    page = response.content.decode()
    assert "read successfully" in page
    assert "Outlook" in page
    assert server.requests == ["/basic.ics"]


def test_a_feed_that_cannot_be_read_is_added_with_its_problem_shown(
    agent_client, server, eager_tasks, django_capture_on_commit_callbacks
):
    url = server.serve("/login", body="<html>Sign in</html>", content_type="text/html")

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(PAGE, {"form": "feed_url", "url-url": url})
    response = agent_client.get(PAGE)

    feed = BusyFeed.objects.get()
    assert feed.last_good_ics == ""
    assert "did not return a calendar" in feed.last_error
    page = response.content.decode()
    assert "could not be read" in page
    assert page.count("did not return a calendar") == 2  # the message and the table


def test_the_request_that_adds_a_feed_address_does_not_fetch_it(
    agent_client, server, eager_tasks, django_capture_on_commit_callbacks
):
    url = server.serve("/basic.ics")

    with django_capture_on_commit_callbacks() as callbacks:
        response = agent_client.post(
            PAGE, {"form": "feed_url", "url-url": url, "url-name": "Outlook"}, follow=True
        )

    assert server.requests == []
    feed = BusyFeed.objects.get()
    assert (feed.last_good_ics, feed.fetched_at, feed.last_error) == ("", None, "")
    page = response.content.decode()
    assert "it is read in a moment" in page
    assert "not yet" in page  # the table's "Last read"
    assert "read successfully" not in page

    [read_the_feed] = callbacks  # after commit: a task with the feed's id
    read_the_feed()

    assert server.requests == ["/basic.ics"]
    feed.refresh_from_db()
    assert (feed.last_good_ics, feed.fetched_at) == (GOOD_FEED, NOW)
    page = agent_client.get(PAGE).content.decode()
    assert "The calendar “Outlook” was read successfully." in page
    assert "read successfully" not in agent_client.get(PAGE).content.decode()  # said once


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("", "Give the calendar&#x27;s address."),
        ("not an address", "Enter a valid URL."),
        ("ftp://example.com/cal.ics", "Enter a valid URL."),
    ],
)
def test_a_bad_address_is_explained_and_kept(agent_client, url, error):
    response = agent_client.post(PAGE, {"form": "feed_url", "url-url": url, "url-name": "Mine"})

    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    if url:
        assert f'value="{url}"' in page
    assert 'value="Mine"' in page
    assert not BusyFeed.objects.exists()


def test_the_same_address_twice_is_refused(people, agent_client):
    url = "https://calendar.example.com/secret/basic.ics"
    availability.busy_feed_add_url(agent=people.agent, url=url)

    response = agent_client.post(PAGE, {"form": "feed_url", "url-url": url})

    assert response.status_code == 400
    assert "You have already added this address." in response.content.decode()
    assert BusyFeed.objects.count() == 1


def test_the_number_of_feeds_is_limited(people, agent_client, monkeypatch):
    monkeypatch.setattr(availability, "MAX_BUSY_FEEDS", 2)
    uploaded_feed(people.agent, "One")
    uploaded_feed(people.agent, "Two")

    page = agent_client.get(PAGE).content.decode()
    assert "the most allowed" in page
    assert 'name="url-url"' not in page
    with pytest.raises(Exception, match="at most 2"):
        availability.busy_feed_add_url(agent=people.agent, url="https://example.com/a.ics")


# ---------------------------------------------------------------------------- uploads


def upload_post(content: bytes, file_name: str = "calendar.ics", **fields: str) -> dict[str, Any]:
    return {
        "form": "feed_upload",
        "upload-uploaded_ics": SimpleUploadedFile(file_name, content, "text/calendar"),
        **{f"upload-{key}": value for key, value in fields.items()},
    }


def test_uploading_a_calendar_file(people, agent_client):
    response = agent_client.post(PAGE, upload_post(GOOD_FEED.encode()), follow=True)

    feed = BusyFeed.objects.get()
    assert (feed.schedule.agent, feed.name, feed.url) == (people.agent, "calendar.ics", "")
    assert feed.uploaded_ics == GOOD_FEED
    assert feed.busy_ics == GOOD_FEED
    page = response.content.decode()
    assert "The calendar file is added" in page
    assert "uploaded file" in page


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
        ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".encode("utf-16-le"), "not an iCalendar"),
        (b"<html><body>Not a calendar</body></html>", "This is not an iCalendar (.ics) file."),
        (b"BEGIN:VEVENT\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\n", "it has no VCALENDAR"),
        (b"", "The file is empty."),
    ],
    ids=["image", "utf-16", "html", "lone-event", "empty"],
)
def test_a_file_that_is_not_a_calendar_is_refused_clearly(agent_client, content, error):
    response = agent_client.post(PAGE, upload_post(content, "notes.ics", name="Mine"))

    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    assert 'value="Mine"' in page
    assert not BusyFeed.objects.exists()


def test_a_file_over_the_limit_is_refused(agent_client, monkeypatch):
    monkeypatch.setattr(availability, "MAX_BUSY_FEED_UPLOAD_BYTES", 1024)

    response = agent_client.post(PAGE, upload_post(GOOD_FEED.encode()))

    assert response.status_code == 400
    assert "The file is larger than 1.0\xa0KB." in response.content.decode()
    assert not BusyFeed.objects.exists()


def test_deleting_own_feed_and_not_another_agents(people, agent_client):
    mine = uploaded_feed(people.agent)
    theirs = uploaded_feed(people.backup)

    other = agent_client.post(reverse("scheduling:busy-feed-delete", args=[theirs.pk]))
    assert other.status_code == 404
    response = agent_client.post(
        reverse("scheduling:busy-feed-delete", args=[mine.pk]), follow=True
    )

    assert response.redirect_chain == [(PAGE, 302)]
    assert "The calendar is removed" in response.content.decode()
    assert list(BusyFeed.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_the_page_lists_only_ones_own_feeds(people, agent_client):
    uploaded_feed(people.agent, "My export")
    uploaded_feed(people.backup, "Backup's export")

    page = agent_client.get(PAGE).content.decode()

    assert "My export" in page
    assert "export" in page
    assert "Backup" not in page


# ---------------------------------------------------------------------------- queries


def test_the_page_reads_a_fixed_number_of_queries(
    people, agent_client, django_assert_max_num_queries
):
    schedule_for(people.agent)
    # Thirteen with the nav's waiting counts (chats, e-mails, voicemails).
    with django_assert_max_num_queries(13) as few:
        agent_client.get(PAGE)
    for day in range(7, 12):
        time_off(people.agent, berlin(day, 9), berlin(day, 12))
        uploaded_feed(people.agent, f"Export {day}")
        DateOverride.objects.create(schedule=schedule_for(people.agent), date=berlin(day, 0).date())

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = agent_client.get(PAGE)
    assert response.content.decode().count("Export ") == 5


@pytest.mark.parametrize(
    ("zone", "fields", "error_field"),
    [
        ("Europe/Berlin", {"starts_at": "0001-01-01T00:00"}, "starts_at"),
        # 23:00 in New York on the last day of 9999 is in the year 10000 in UTC.
        ("America/New_York", {"ends_at": "9999-12-31T23:00"}, "ends_at"),
    ],
    ids=["year-1", "year-10000-in-utc"],
)
def test_time_off_in_an_extreme_year_is_refused_on_the_form(
    people, agent_client, zone, fields, error_field
):
    schedule_for(people.agent, time_zone=zone)

    response = agent_client.post(PAGE, time_off_post(**fields))

    assert response.status_code == 400
    assert response.context["time_off_form"].errors == {
        error_field: ["Time off must lie between the years 2000 and 2099."]
    }
    assert f'value="{fields[error_field]}"' in response.content.decode()
    assert not TimeOff.objects.exists()
    assert agent_client.get(PAGE).status_code == 200


def test_a_calendar_with_events_repeating_every_minute_is_refused(agent_client):
    every_minute = GOOD_FEED.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=MINUTELY")
    assert every_minute != GOOD_FEED

    response = agent_client.post(PAGE, upload_post(every_minute.encode(), name="Mine"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "Events that repeat every minute or second are not supported." in page
    assert 'value="Mine"' in page
    assert not BusyFeed.objects.exists()
