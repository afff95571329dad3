"""The agent's week calendar: what it shows, in whose time, to whom.

"Now" is Monday 2026-11-30 08:00 Berlin unless a test travels elsewhere; the agent works the
support desk's hours (Mon-Fri 09:00-17:00 Europe/Berlin).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import MANAGERS_GROUP
from accounts.selectors import agent_choices
from accounts.tests.factories import UserFactory
from scheduling.models import BusyFeed, TimeOff
from scheduling.services import bookings
from scheduling.tests.factories import (
    BERLIN,
    NOW,
    berlin,
    call_type,
    make_booking,
    schedule_for,
    vip_people,
)

pytestmark = pytest.mark.django_db

CALENDAR = reverse("scheduling:calendar")
NEW_YORK = "America/New_York"


# Thursday 2026-12-03, 11:00-12:00 in Berlin (10:00-11:00 UTC).
DENTIST_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Tests//Calendar//EN
BEGIN:VEVENT
UID:dentist-1@example.com
DTSTAMP:20261101T000000Z
DTSTART:20261203T100000Z
DTEND:20261203T110000Z
SUMMARY:Dentist (private)
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people():
    return vip_people()


@pytest.fixture
def manager():
    user = UserFactory(first_name="Elena", last_name="Dimitrova")
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def in_zone(user, zone: str):
    user.time_zone = zone
    user.save(update_fields=["time_zone"])
    return user


def day_column(response, day: str) -> str:
    """The HTML of one day's column (`day` as YYYY-MM-DD)."""
    html = response.content.decode()
    start = html.index(f'data-date="{day}"')
    return html[start : html.index("</section>", start)]


def section(response, element_id: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def hours_of(response) -> dict[str, list[str]]:
    """Each shown day's working hours as labels such as "09:00–17:00"."""  # noqa: RUF002
    return {
        column.date.isoformat(): [f"{span.opens}–{span.closes}" for span in column.hours]
        for column in response.context["days"]
    }


class TestWhatTheWeekShows:
    def test_hours_calls_time_off_and_busy_time_on_their_days(self, people, client_for):
        booking = make_booking(people, berlin(1, 10), topic="Mail flow rules")
        schedule = schedule_for(people.agent)
        TimeOff.objects.create(
            schedule=schedule, starts_at=berlin(2, 13), ends_at=berlin(2, 15), reason="Doctor"
        )
        BusyFeed.objects.create(schedule=schedule, name="Private", uploaded_ics=DENTIST_ICS)

        response = client_for(people.agent).get(CALENDAR)

        assert response.status_code == 200
        content = response.content.decode()
        assert "Europe/Berlin" in content
        assert "Week of 30 Nov 2026 – 6 Dec 2026" in content
        tuesday = day_column(response, "2026-12-01")
        assert "10:00–10:30" in tuesday
        assert reverse("scheduling:call", args=[booking.pk]) in tuesday
        for shown in (
            call_type("support").name,
            people.company.name,
            str(people.customer),
            "Mail flow rules",
            "Confirmed",
        ):
            assert shown in tuesday
        wednesday = day_column(response, "2026-12-02")
        assert "13:00–15:00" in wednesday
        assert "Time off: Doctor" in wednesday
        thursday = day_column(response, "2026-12-03")
        assert "11:00–12:00" in thursday
        assert "Busy" in thursday
        assert "Dentist" not in content  # an external event's details stay private
        assert hours_of(response) == {
            **{f"2026-{day}": ["09:00–17:00"] for day in ("11-30", "12-01", "12-02", "12-03")},
            "2026-12-04": ["09:00–17:00"],
            "2026-12-05": [],
            "2026-12-06": [],
        }
        assert "Not working" in day_column(response, "2026-12-05")
        assert '<section class="day today" data-date="2026-11-30"' in content

    def test_a_cancelled_call_is_struck_through(self, people, client_for):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_agent(booking=booking, by=people.agent, message="Ill")

        tuesday = day_column(client_for(people.agent).get(CALENDAR), "2026-12-01")

        assert "<s>" in tuesday
        assert "status-cancelled" in tuesday
        assert "Cancelled" in tuesday

    def test_week_navigation(self, people, client_for):
        response = client_for(people.agent).get(CALENDAR, {"week": "2026-12-09"})

        content = response.content.decode()
        assert response.context["week"].monday == datetime.date(2026, 12, 7)
        assert "?week=2026-11-30" in content  # previous, and this week
        assert "?week=2026-12-14" in content
        assert "This week" in content

    def test_upcoming_and_recent_calls(self, people, client_for, frozen):
        past = make_booking(people, berlin(1, 10), topic="Past call")
        make_booking(people, berlin(4, 10), topic="Next call")
        cancelled = make_booking(people, berlin(8, 10), topic="Called off")
        bookings.booking_cancel_by_agent(booking=cancelled, by=people.agent, message="Ill")
        frozen.move_to(berlin(3, 12))
        bookings.booking_mark(booking=past, status="completed", by=people.agent)

        response = client_for(people.agent).get(CALENDAR)

        upcoming = section(response, "upcoming-calls")
        recent = section(response, "recent-calls")
        assert "Next call" in upcoming
        assert "Past call" not in upcoming
        assert "Called off" not in upcoming
        assert "Past call" in recent
        assert "Completed" in recent
        assert "Next call" not in recent


class TestTimeZones:
    def test_a_berlin_call_in_new_york_time_after_both_clock_changes(self, people, client_for):
        # New York moved to summer time on 2027-03-14, Berlin on Sunday 2027-03-28.
        booking = make_booking(
            people,
            datetime.datetime(2027, 3, 29, 9, tzinfo=BERLIN),
            now=datetime.datetime(2027, 3, 25, 8, tzinfo=BERLIN),
        )
        week = {"week": "2027-03-29"}

        in_berlin = client_for(people.agent).get(CALENDAR, week)
        assert "09:00–09:30" in day_column(in_berlin, "2027-03-29")
        assert hours_of(in_berlin)["2027-03-29"] == ["09:00–17:00"]

        in_zone(people.agent, NEW_YORK)
        in_new_york = client_for(people.agent).get(CALENDAR, week)
        monday = day_column(in_new_york, "2027-03-29")
        assert "03:00–03:30" in monday
        assert reverse("scheduling:call", args=[booking.pk]) in monday
        assert hours_of(in_new_york)["2027-03-29"] == ["03:00–11:00"]
        assert NEW_YORK in in_new_york.content.decode()

    def test_the_week_berlin_changes_to_summer_time(self, people, client_for):
        booking = make_booking(
            people,
            datetime.datetime(2027, 3, 26, 9, tzinfo=BERLIN),
            now=datetime.datetime(2027, 3, 22, 8, tzinfo=BERLIN),
        )
        in_zone(people.agent, NEW_YORK)

        response = client_for(people.agent).get(CALENDAR, {"week": "2027-03-24"})

        friday = day_column(response, "2027-03-26")
        assert "04:00–04:30" in friday  # 09:00 CET is 08:00 UTC, 04:00 EDT
        assert reverse("scheduling:call", args=[booking.pk]) in friday
        hours = hours_of(response)
        assert hours["2027-03-22"] == ["04:00–12:00"]
        assert hours["2027-03-26"] == ["04:00–12:00"]
        assert hours["2027-03-28"] == []

    @pytest.mark.parametrize(
        ("monday", "new_york_hours"),
        [
            ("2026-10-19", "03:00–11:00"),  # both on summer time
            ("2026-10-26", "04:00–12:00"),  # Berlin back on CET on 25 Oct, New York not until 1 Nov
        ],
    )
    def test_the_autumn_weeks(self, people, client_for, monday, new_york_hours):
        in_zone(people.agent, NEW_YORK)

        hours = hours_of(client_for(people.agent).get(CALENDAR, {"week": monday}))

        first = datetime.date.fromisoformat(monday)
        weekdays = [(first + datetime.timedelta(days=n)).isoformat() for n in range(5)]
        assert [hours[day] for day in weekdays] == [[new_york_hours]] * 5
        assert hours[(first + datetime.timedelta(days=6)).isoformat()] == []

    def test_a_berlin_day_split_over_two_auckland_days(self, people, client_for):
        # Berlin 09:00-17:00 CET is 21:00-05:00 the next day in Auckland (NZDT, UTC+13).
        in_zone(people.agent, "Pacific/Auckland")

        response = client_for(people.agent).get(CALENDAR, {"week": "2026-12-07"})

        night = ["00:00–05:00", "21:00–24:00"]
        assert hours_of(response) == {
            "2026-12-07": ["21:00–24:00"],
            "2026-12-08": night,
            "2026-12-09": night,
            "2026-12-10": night,
            "2026-12-11": night,
            "2026-12-12": ["00:00–05:00"],
            "2026-12-13": [],
        }
        assert "Pacific/Auckland" in response.content.decode()

    def test_time_off_over_several_days_is_shown_on_each(self, people, client_for):
        TimeOff.objects.create(
            schedule=schedule_for(people.agent),
            starts_at=berlin(2, 12),
            ends_at=berlin(4, 10),
            reason="Conference",
        )

        response = client_for(people.agent).get(CALENDAR)

        assert "12:00–24:00" in day_column(response, "2026-12-02")
        assert "00:00–24:00" in day_column(response, "2026-12-03")
        assert "00:00–10:00" in day_column(response, "2026-12-04")
        assert "Conference" in day_column(response, "2026-12-03")


class TestWhoSeesWhat:
    def test_a_manager_sees_any_agents_calendar(self, people, manager, client_for):
        make_booking(people, berlin(1, 10), topic="Mail flow rules")

        response = client_for(manager).get(CALENDAR, {"agent": people.agent.pk})

        assert response.status_code == 200
        assert response.context["agent"] == people.agent
        assert "Mail flow rules" in day_column(response, "2026-12-01")
        content = response.content.decode()
        assert f'<option value="{people.backup.pk}"' in content
        assert f"agent={people.agent.pk}" in content  # the week links keep the agent

    def test_a_manager_without_an_agent_profile_starts_with_the_first_agent(
        self, people, manager, client_for
    ):
        response = client_for(manager).get(CALENDAR)

        assert response.status_code == 200
        assert response.context["agent"].pk == agent_choices()[0][0]

    def test_a_manager_who_is_an_agent_starts_with_their_own(self, people, client_for):
        people.backup.groups.add(Group.objects.get(name=MANAGERS_GROUP))

        response = client_for(people.backup).get(CALENDAR)

        assert response.context["agent"] == people.backup

    @pytest.mark.parametrize("value", ["customer", "999999", "abc", "99999999999999999999"])
    def test_a_manager_asking_for_no_agent_gets_404(self, people, manager, client_for, value):
        agent = str(people.customer.pk) if value == "customer" else value

        assert client_for(manager).get(CALENDAR, {"agent": agent}).status_code == 404

    def test_an_agent_cannot_see_another_agents_calendar(self, people, client_for):
        client = client_for(people.agent)

        assert client.get(CALENDAR, {"agent": people.backup.pk}).status_code == 404
        assert client.get(CALENDAR, {"agent": people.agent.pk}).status_code == 200

    def test_an_agent_sees_no_agent_picker(self, people, client_for):
        response = client_for(people.agent).get(CALENDAR)

        assert 'name="agent"' not in response.content.decode()

    def test_a_customer_is_refused(self, people, client_for):
        assert client_for(people.customer).get(CALENDAR).status_code == 403

    def test_anonymous_visitors_log_in_first(self, client):
        response = client.get(CALENDAR)

        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


class TestBadWeek:
    @pytest.mark.parametrize("value", ["next tuesday", "2026-13-01", "9999-12-31", "0001-01-01"])
    def test_shows_a_message_and_this_week(self, people, client_for, value):
        response = client_for(people.agent).get(CALENDAR, {"week": value})

        assert response.status_code == 200
        assert (
            "is not a week that can be shown; give a date as YYYY-MM-DD"
            in response.content.decode()
        )
        assert response.context["week"].monday == datetime.date(2026, 11, 30)


def test_query_count_does_not_grow_with_the_calls(
    people, client_for, django_assert_max_num_queries
):
    schedule = schedule_for(people.agent)
    TimeOff.objects.create(schedule=schedule, starts_at=berlin(12, 9), ends_at=berlin(12, 12))
    BusyFeed.objects.create(schedule=schedule, uploaded_ics=DENTIST_ICS)
    client = client_for(people.agent)
    week = {"week": "2026-12-07"}
    make_booking(people, berlin(7, 9))
    with django_assert_max_num_queries(40) as one_call:
        assert client.get(CALENDAR, week).status_code == 200
    for day in range(7, 12):
        for hour in (9, 10, 11, 12):
            if (day, hour) != (7, 9):
                make_booking(people, berlin(day, hour))

    with django_assert_max_num_queries(len(one_call.captured_queries)):
        response = client.get(CALENDAR, week)

    entries = [entry for column in response.context["days"] for entry in column.entries]
    assert [entry.kind for entry in entries].count("call") == 20
    assert len(response.context["upcoming"]) == 20
    saturday = day_column(response, "2026-12-12")
    assert "Time off</span>" in saturday  # no reason given, so none shown


def test_the_zone_is_the_viewers_not_the_agents(people, manager, client_for):
    make_booking(people, berlin(1, 10))
    in_zone(manager, "Europe/Sofia")

    response = client_for(manager).get(CALENDAR, {"agent": people.agent.pk})

    assert "11:00–11:30" in day_column(response, "2026-12-01")
    assert "Europe/Sofia" in response.content.decode()
    assert ZoneInfo(response.context["zone_name"]) == ZoneInfo("Europe/Sofia")
