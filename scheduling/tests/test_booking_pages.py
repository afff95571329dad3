"""The customer's booking pages, through the test client: from the call types to a cancelled call.

"Now" is Monday 2026-11-30 08:00 in Berlin unless a test travels elsewhere; with 4 business hours
of notice the first bookable start is Monday 13:00 Berlin (12:00 UTC), and the horizon ends on
Wednesday 2026-12-30 08:00.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts import services as account_services
from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from scheduling import selectors
from scheduling.forms import instant_param
from scheduling.models import Booking, BookingStatus
from scheduling.services import bookings
from scheduling.tests.factories import (
    NOW,
    People,
    berlin,
    call_type,
    make_booking,
    schedule_for,
    time_off,
    vip_people,
)
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = {"HTTP_ACCEPT": "application/json"}
SLOTS = reverse("scheduling:slots", args=["support"])
CONFIRM = reverse("scheduling:confirm", args=["support"])


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people() -> People:
    return vip_people()


@pytest.fixture
def customer_client(client_for, people):
    return client_for(people.customer)


def utc(moment: datetime.datetime) -> str:
    return instant_param(moment)


def offered(response) -> dict[datetime.date, list[tuple[datetime.datetime, int]]]:
    """The page's free times by local day, each with the agent the button carries."""
    return {
        day: [(slot.start, slot.agent.pk) for slot in day_slots]
        for day, day_slots in response.context["days"]
    }


def starts(response) -> set[datetime.datetime]:
    return {start for day in offered(response).values() for start, _agent in day}


def text(response) -> str:
    return response.content.decode()


def detail_url(booking: Booking) -> str:
    return reverse("scheduling:booking", args=[booking.pk])


def same_company_colleague(people: People):
    return CustomerFactory(company=people.company)


class TestWholeFlow:
    def test_home_slots_confirm_detail_reschedule_cancel(self, customer_client, people):
        ticket = make_ticket(requester=people.customer, subject="Shared inbox is silent")

        home = customer_client.get(reverse("scheduling:book"))
        assert home.status_code == 200
        assert "Support call" in text(home)
        assert "Training" in text(home)
        assert str(people.agent) in text(home)
        assert SLOTS in text(home)

        week = customer_client.get(SLOTS)
        assert week.status_code == 200
        tuesday_ten = berlin(1, 10)
        assert (tuesday_ten, people.agent.pk) in offered(week)[datetime.date(2026, 12, 1)]
        assert f'value="{utc(tuesday_ten)}"' in text(week)

        confirm = customer_client.get(
            CONFIRM, {"start": utc(tuesday_ten), "agent": people.agent.pk}
        )
        assert confirm.status_code == 200
        assert 'Tuesday 1 December 2026, <span class="nowrap">10:00–10:30' in text(confirm)
        assert "Shared inbox is silent" in text(confirm)

        booked = customer_client.post(
            CONFIRM,
            {
                "start": utc(tuesday_ten),
                "agent": people.agent.pk,
                "topic": "Mail flow rules",
                "ticket": ticket.pk,
            },
        )
        booking = Booking.objects.get()
        assert booked.status_code == 302
        assert booked["Location"] == detail_url(booking)
        assert (booking.starts_at, booking.agent, booking.ticket) == (
            tuesday_ten,
            people.agent,
            ticket,
        )

        detail = customer_client.get(detail_url(booking))
        page = text(detail)
        assert "is booked; the invitation is on its way to" in page
        assert "Mail flow rules" in page
        assert reverse("tickets:detail", args=[ticket.pk]) in page
        assert reverse("scheduling:reschedule", args=[booking.pk]) in page
        assert reverse("scheduling:cancel", args=[booking.pk]) in page
        assert booking.topic in text(customer_client.get(reverse("scheduling:book")))

        reschedule_url = reverse("scheduling:reschedule", args=[booking.pk])
        week = customer_client.get(reschedule_url)
        assert week.status_code == 200
        assert "booked now" in text(week)
        moved = customer_client.post(reschedule_url, {"start": utc(berlin(2, 14))})
        assert moved.status_code == 302
        booking.refresh_from_db()
        assert (booking.starts_at, booking.sequence) == (berlin(2, 14), 1)
        assert "Your call has been moved." in text(customer_client.get(moved["Location"]))

        cancel_url = reverse("scheduling:cancel", args=[booking.pk])
        cancelled = customer_client.post(cancel_url, {"message": "Solved it ourselves"})
        assert cancelled.status_code == 302
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancel_message == "Solved it ourselves"
        page = text(customer_client.get(detail_url(booking)))
        assert "Cancelled" in page
        assert reverse("scheduling:reschedule", args=[booking.pk]) not in page

    def test_htmx_booking_redirects_the_browser(self, customer_client, people):
        response = customer_client.post(
            CONFIRM,
            {"start": utc(berlin(1, 10)), "agent": people.agent.pk, "topic": "Exports"},
            **HTMX,
        )

        assert response.status_code == 200
        assert response["HX-Redirect"] == detail_url(Booking.objects.get())

    def test_json_booking_answers_201(self, customer_client, people):
        response = customer_client.post(
            CONFIRM,
            {"start": utc(berlin(1, 10)), "agent": people.agent.pk, "topic": "Exports"},
            **JSON,
        )

        booking = Booking.objects.get()
        assert response.status_code == 201
        assert response.json() == {
            "id": booking.pk,
            "url": detail_url(booking),
            "starts_at": "2026-12-01T09:00:00Z",
        }


class TestSlots:
    def test_only_free_times_are_offered_and_other_bookings_stay_private(
        self, customer_client, people
    ):
        # Globex shares Acme's agent and books Tuesday 10:00-10:30 (blocked 09:50-10:40).
        globex = vip_company(name="Globex Secretive")
        account_services.company_assign_agents(
            company=globex, dedicated=people.agent, backup=people.backup
        )
        rival = People(globex, CustomerFactory(company=globex), people.agent, people.backup)
        make_booking(rival, berlin(1, 10), topic="Merger of the century")

        response = customer_client.get(SLOTS)

        tuesday = [start for start, _agent in offered(response)[datetime.date(2026, 12, 1)]]
        assert berlin(1, 9) in tuesday
        for gone in (berlin(1, 9, 30), berlin(1, 10), berlin(1, 10, 30)):
            assert gone not in tuesday
            assert utc(gone) not in text(response)
        assert berlin(1, 11) in tuesday
        assert "Merger of the century" not in text(response)
        assert "Globex" not in text(response)

    def test_the_notice_and_the_weekend_leave_no_times(self, customer_client):
        response = customer_client.get(SLOTS)

        days = offered(response)
        assert min(start for start, _agent in days[datetime.date(2026, 11, 30)]) == berlin(
            30, 13, month=11
        )
        assert days[datetime.date(2026, 12, 5)] == []
        assert days[datetime.date(2026, 12, 6)] == []
        assert text(response).count("No free times") == 2

    def test_the_page_names_the_customers_zone(self, customer_client, people):
        people.customer.time_zone = "America/New_York"
        people.customer.save()

        response = customer_client.get(SLOTS)

        assert "Times are in your time zone, America/New_York." in text(response)
        # Tuesday 09:00 Berlin (CET) is 03:00 in New York (EST).
        assert (berlin(1, 9), people.agent.pk) in offered(response)[datetime.date(2026, 12, 1)]
        assert '">03:00</button>' in text(response)

    def test_a_berlin_afternoon_is_the_next_day_in_tokyo(self, customer_client, people):
        people.customer.time_zone = "Asia/Tokyo"
        people.customer.save()

        response = customer_client.get(SLOTS)

        # Tuesday 16:00 and 16:30 Berlin (CET) are Wednesday 00:00 and 00:30 in Tokyo.
        days = offered(response)
        assert days[datetime.date(2026, 12, 1)][-1][0] == berlin(1, 15, 30)
        assert days[datetime.date(2026, 12, 2)][:2] == [
            (berlin(1, 16), people.agent.pk),
            (berlin(1, 16, 30), people.agent.pk),
        ]

    @pytest.mark.parametrize(
        ("today", "week", "monday_first_slot", "local_time"),
        [
            # Berlin is on CEST until Sunday 2026-10-25; New York on EDT until 2026-11-01.
            ("2026-10-15", "2026-10-19", datetime.datetime(2026, 10, 19, 7, tzinfo=UTC), "03:00"),
            ("2026-10-15", "2026-10-26", datetime.datetime(2026, 10, 26, 8, tzinfo=UTC), "04:00"),
            # New York is on EDT from 2027-03-14; Berlin moves to CEST on Sunday 2027-03-28.
            ("2027-03-18", "2027-03-22", datetime.datetime(2027, 3, 22, 8, tzinfo=UTC), "04:00"),
            ("2027-03-18", "2027-03-29", datetime.datetime(2027, 3, 29, 7, tzinfo=UTC), "03:00"),
        ],
        ids=["berlin-cest", "berlin-back-to-cet", "new-york-edt-first", "berlin-cest-again"],
    )
    def test_weeks_around_clock_changes_in_new_york(
        self, customer_client, people, today, week, monday_first_slot, local_time
    ):
        people.customer.time_zone = "America/New_York"
        people.customer.save()
        morning = datetime.datetime.fromisoformat(f"{today}T08:00").replace(
            tzinfo=ZoneInfo("Europe/Berlin")
        )

        with time_machine.travel(morning, tick=False):
            customer_client.force_login(people.customer)  # a session from "now" has expired
            response = customer_client.get(SLOTS, {"week": week})

        monday = datetime.date.fromisoformat(week)
        days = offered(response)
        assert list(days) == [monday + datetime.timedelta(days=n) for n in range(7)]
        assert days[monday][0] == (monday_first_slot, people.agent.pk)
        # Berlin's 09:00 on the Monday, shown as the customer's wall-clock time.
        first_button = f'data-start="{utc(monday_first_slot)}">{local_time}</button>'
        assert first_button in text(response)
        new_york = ZoneInfo("America/New_York")
        week_start = response.context["week"].start
        assert week_start == datetime.datetime.combine(monday, datetime.time(0), new_york)

    def test_the_week_of_the_berlin_clock_change_has_23_hours_on_sunday(self, customer_client):
        with time_machine.travel(datetime.datetime(2026, 10, 15, 8, tzinfo=UTC), tick=False):
            response = customer_client.get(SLOTS, {"week": "2026-10-19"})

        week = response.context["week"]
        assert week.end - week.start == datetime.timedelta(hours=169)
        # Friday 16:30 Berlin (CEST) is the last slot of the week.
        friday = offered(response)[datetime.date(2026, 10, 23)]
        assert friday[-1][0] == datetime.datetime(2026, 10, 23, 14, 30, tzinfo=UTC)

    def test_the_backup_stands_in_during_the_dedicated_agents_time_off(
        self, customer_client, people
    ):
        time_off(people.agent, berlin(2, 0), berlin(3, 0))

        response = customer_client.get(SLOTS)

        days = offered(response)
        assert {agent for _start, agent in days[datetime.date(2026, 12, 1)]} == {people.agent.pk}
        assert {agent for _start, agent in days[datetime.date(2026, 12, 2)]} == {people.backup.pk}
        assert {agent for _start, agent in days[datetime.date(2026, 12, 3)]} == {people.agent.pk}
        assert f"Times marked “with {people.backup}”" in text(response)
        # Each button names the agent the booking service expects at that time.
        for day in days.values():
            for start, agent in day:
                expected = selectors.company_call_agent(
                    company=people.company,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(minutes=30),
                )
                assert expected is not None
                assert expected.pk == agent

    def test_the_backup_is_booked_through_the_stand_in_slot(self, customer_client, people):
        time_off(people.agent, berlin(2, 0), berlin(3, 0))

        confirm = customer_client.get(
            CONFIRM, {"start": utc(berlin(2, 10)), "agent": people.backup.pk}
        )
        assert f"standing in while {people.agent} is away" in text(confirm)
        customer_client.post(
            CONFIRM,
            {"start": utc(berlin(2, 10)), "agent": people.backup.pk, "topic": "Backup call"},
        )

        assert Booking.objects.get().agent == people.backup

    def test_while_the_dedicated_agent_is_away_the_backup_takes_every_call(
        self, customer_client, people
    ):
        people.agent.agent_profile.away_until = berlin(2, 12)
        people.agent.agent_profile.save()

        days = offered(customer_client.get(SLOTS))

        assert {agent for _start, agent in days[datetime.date(2026, 12, 1)]} == {people.backup.pk}
        wednesday = days[datetime.date(2026, 12, 2)]
        assert (berlin(2, 11, 30), people.backup.pk) in wednesday
        assert (berlin(2, 12), people.agent.pk) in wednesday

    def test_late_in_the_week_the_page_opens_on_the_first_week_with_a_free_time(
        self, customer_client
    ):
        with time_machine.travel(berlin(6, 12), tick=False):  # Sunday noon
            response = customer_client.get(SLOTS)
            chosen = customer_client.get(SLOTS, {"week": "2026-11-30"})

        assert response.context["week"].param == "2026-12-07"
        assert min(starts(response)).date() == datetime.date(2026, 12, 7)
        # Back to the week that is over, where nothing is free, stays possible.
        assert response.context["previous_url"] == f"{SLOTS}?week=2026-11-30"
        assert chosen.context["week"].param == "2026-11-30"
        assert not starts(chosen)

    def test_week_links_stay_within_now_and_the_horizon(self, customer_client):
        this_week = customer_client.get(SLOTS)
        assert this_week.context["previous_url"] == ""
        assert this_week.context["next_url"] == f"{SLOTS}?week=2026-12-07"

        last_week = customer_client.get(SLOTS, {"week": "2026-12-30"})
        assert last_week.context["week"].param == "2026-12-28"
        assert last_week.context["previous_url"] == f"{SLOTS}?week=2026-12-21"
        assert last_week.context["next_url"] == ""
        # The horizon ends on Wednesday 08:00: the 08:00 start is not offered, nothing later is.
        assert max(starts(last_week)) == berlin(29, 16, 30)

    @pytest.mark.parametrize(
        ("week", "message"),
        [
            ("next-tuesday", "That week is not a date we understand; here is this week."),
            ("2026-13-01", "That week is not a date we understand; here is this week."),
            ("2027-02-01", "Calls can be booked from now up to 30 days ahead; here is this week."),
            ("2026-11-23", "Calls can be booked from now up to 30 days ahead; here is this week."),
            ("9999-12-31", "Calls can be booked from now up to 30 days ahead; here is this week."),
            ("0001-01-01", "Calls can be booked from now up to 30 days ahead; here is this week."),
        ],
    )
    def test_a_bad_week_shows_this_week_with_a_message(self, customer_client, week, message):
        response = customer_client.get(SLOTS, {"week": week})

        assert response.status_code == 200
        assert response.context["week"].param == "2026-11-30"
        assert message in text(response)

    def test_an_unknown_or_retired_call_type_is_404(self, customer_client):
        training = call_type("training")
        training.active = False
        training.save()

        for code in ("karaoke", "training"):
            assert customer_client.get(reverse("scheduling:slots", args=[code])).status_code == 404
            confirm = reverse("scheduling:confirm", args=[code])
            assert customer_client.get(confirm, {"start": utc(berlin(1, 10))}).status_code == 404

    def test_a_longer_call_type_has_its_own_grid(self, customer_client):
        response = customer_client.get(reverse("scheduling:slots", args=["training"]))

        tuesday = [start for start, _agent in offered(response)[datetime.date(2026, 12, 1)]]
        assert tuesday[-1] == berlin(1, 16)  # a 60-minute call ends by 17:00


class TestConfirm:
    def test_the_time_is_shown_in_both_zones(self, customer_client, people):
        people.customer.time_zone = "America/New_York"
        people.customer.save()

        response = customer_client.get(
            CONFIRM, {"start": "2026-12-01T09:00:00Z", "agent": people.agent.pk}
        )

        nowrap = '<span class="nowrap">'
        assert f'customer-time">Tuesday 1 December 2026, {nowrap}04:00–04:30</span>' in text(
            response
        )
        assert f'agent-time">Tuesday 1 December 2026, {nowrap}10:00–10:30</span>' in text(response)
        assert "Your agent's time (Europe/Berlin)" in text(response)

    def test_without_an_agent_the_page_names_the_one_who_takes_the_call(
        self, customer_client, people
    ):
        response = customer_client.get(CONFIRM, {"start": "2026-12-01T09:00:00Z"})

        assert response.context["agent"] == people.agent

    def test_without_a_time_the_page_goes_back_to_the_week(self, customer_client):
        assert customer_client.get(CONFIRM)["Location"] == SLOTS

    @pytest.mark.parametrize(
        ("start", "message"),
        [
            ("tuesday at ten", "That is not a time we understand"),
            ("2026-12-01T10:00:00", "The time must say which time zone it is in"),
            ("9999-12-31T23:30:00Z", "That is not a time we understand"),
            ("0001-01-01T00:00:00+05:00", "That is not a time we understand"),
        ],
    )
    def test_an_unreadable_time_is_explained_on_get(self, customer_client, start, message):
        response = customer_client.get(CONFIRM, {"start": start})

        assert response.status_code == 400
        assert message in text(response)

    def test_another_agent_is_refused_on_get(self, customer_client, people):
        stranger = AgentFactory()

        response = customer_client.get(
            CONFIRM, {"start": "2026-12-01T09:00:00Z", "agent": stranger.pk}
        )

        assert response.status_code == 400
        assert "Pick one of the offered times" in text(response)
        assert str(stranger) not in text(response)

    @pytest.mark.parametrize(
        ("start", "message"),
        [
            ("tuesday at ten", "That is not a time we understand"),
            ("2026-12-01T10:00:00", "The time must say which time zone it is in"),
            ("2026-11-27T09:00:00Z", "That time is too soon"),  # last Friday
            ("2026-11-30T10:00:00Z", "That time is too soon"),  # within the notice
            ("2027-01-05T09:00:00Z", "Calls can be booked at most 30 days ahead."),
            ("2026-12-01T05:00:00Z", "does not take calls at that time"),  # 06:00 Berlin
            ("2026-12-05T09:00:00Z", "does not take calls at that time"),  # Saturday
            ("2026-12-01T09:10:00Z", "does not take calls at that time"),  # off the grid
            ("9999-12-31T23:30:00Z", "That is not a time we understand"),
        ],
        ids=[
            "words",
            "naive",
            "past",
            "too-soon",
            "too-far",
            "early",
            "saturday",
            "off-grid",
            "year-9999",
        ],
    )
    def test_a_bad_time_is_explained_and_the_topic_kept(
        self, customer_client, people, start, message
    ):
        response = customer_client.post(
            CONFIRM, {"start": start, "agent": people.agent.pk, "topic": "Quarterly review"}
        )

        assert response.status_code == 400
        assert message in text(response)
        assert 'value="Quarterly review"' in text(response)
        assert not Booking.objects.exists()

    def test_the_backup_at_a_time_of_the_dedicated_agent_is_refused(self, customer_client, people):
        response = customer_client.post(
            CONFIRM,
            {"start": utc(berlin(1, 10)), "agent": people.backup.pk, "topic": "Forged agent"},
        )

        assert response.status_code == 400
        assert f"At that time your calls are with {people.agent}." in text(response)
        assert not Booking.objects.exists()

    def test_an_agent_of_another_company_is_refused(self, customer_client):
        other = vip_people("Globex")

        response = customer_client.post(
            CONFIRM,
            {"start": utc(berlin(1, 10)), "agent": other.agent.pk, "topic": "Forged agent"},
        )

        assert response.status_code == 400
        assert "Pick one of the offered times; they show who the call is with." in text(response)
        assert str(other.agent) not in text(response)
        assert not Booking.objects.exists()

    def test_another_companys_ticket_is_refused_without_showing_it(self, customer_client, people):
        secret = make_ticket(requester=vip_people("Globex").customer, subject="Globex payroll leak")

        response = customer_client.post(
            CONFIRM,
            {
                "start": utc(berlin(1, 10)),
                "agent": people.agent.pk,
                "topic": "Forged ticket",
                "ticket": secret.pk,
            },
        )

        assert response.status_code == 400
        assert "Pick one of your company&#x27;s open tickets." in text(response)
        assert "Globex payroll leak" not in text(response)
        assert not Booking.objects.exists()

    def test_only_open_tickets_of_the_company_are_offered(self, customer_client, people):
        mine = make_ticket(requester=people.customer, subject="Printer queue stuck")
        make_ticket(requester=vip_people("Globex").customer, subject="Globex payroll leak")

        response = customer_client.get(CONFIRM, {"start": utc(berlin(1, 10))})

        assert list(response.context["form"].fields["ticket"].queryset) == [mine]
        assert "Globex payroll leak" not in text(response)

    @pytest.mark.parametrize(
        ("topic", "message"),
        [("   ", "Tell your agent what the call is about."), ("x" * 201, "at most 200")],
        ids=["blank", "too-long"],
    )
    def test_the_topic_is_required_and_short(self, customer_client, people, topic, message):
        response = customer_client.post(
            CONFIRM, {"start": utc(berlin(1, 10)), "agent": people.agent.pk, "topic": topic}
        )

        assert response.status_code == 400
        assert message in text(response)


@pytest.fixture
def taken_tuesday_ten(people) -> Booking:
    """A colleague booked Tuesday 10:00 (blocked 09:50-10:40) a moment ago."""
    return make_booking(people, berlin(1, 10), customer=same_company_colleague(people))


# Around Tuesday 10:00 with 10:00-10:30 taken: 09:00 and 11:00 (1 h away), then 11:30.
NEAREST = ["2026-12-01T08:00:00Z", "2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z"]


class TestSlotTaken:
    def post(self, client, people, **headers):
        data = {"start": utc(berlin(1, 10)), "agent": people.agent.pk, "topic": "Exports"}
        return client.post(CONFIRM, data, **headers)

    @pytest.mark.usefixtures("taken_tuesday_ten")
    def test_a_plain_post_gets_the_form_with_the_nearest_times(self, customer_client, people):
        response = self.post(customer_client, people)

        assert response.status_code == 200
        page = text(response)
        assert "That time was just taken. Please pick another time." in page
        for start in NEAREST:
            assert f'name="start" value="{start}"' in page
        assert 'value="Exports"' in page  # the topic is kept
        assert 'name="start" value="2026-12-01T09:00:00Z"' not in page
        assert Booking.objects.count() == 1

    @pytest.mark.usefixtures("taken_tuesday_ten")
    def test_picking_a_nearest_time_books_it(self, customer_client, people):
        data = {"start": NEAREST[1], "agent": people.agent.pk, "topic": "Exports"}

        response = customer_client.post(CONFIRM, data)

        assert response.status_code == 302
        assert Booking.objects.get(customer=people.customer).starts_at == berlin(1, 11)

    @pytest.mark.usefixtures("taken_tuesday_ten")
    def test_htmx_gets_409_and_the_fragment(self, customer_client, people):
        response = self.post(customer_client, people, **HTMX)

        assert response.status_code == 409
        page = text(response)
        assert "<html" not in page
        assert page.lstrip().startswith('<form id="booking-form"')
        assert "That time was just taken." in page
        for start in NEAREST:
            assert f'value="{start}"' in page

    @pytest.mark.usefixtures("taken_tuesday_ten")
    def test_json_gets_409_and_the_nearest_times(self, customer_client, people):
        response = self.post(customer_client, people, **JSON)

        assert response.status_code == 409
        assert response.json() == {
            "error": "That time was just taken. Please pick another time.",
            "nearest": NEAREST,
        }

    @pytest.mark.usefixtures("taken_tuesday_ten")
    def test_json_validation_errors_answer_400(self, customer_client, people):
        data = {"start": utc(berlin(1, 10)), "agent": people.agent.pk, "topic": ""}

        response = customer_client.post(CONFIRM, data, **JSON)

        assert response.status_code == 400
        assert response.json()["errors"] == {"topic": ["Tell your agent what the call is about."]}

    def test_a_move_to_a_taken_time_gets_the_same_answers(self, client_for, people):
        booking = make_booking(people, berlin(2, 10))
        make_booking(people, berlin(1, 10), customer=same_company_colleague(people))
        client = client_for(people.customer)
        url = reverse("scheduling:reschedule", args=[booking.pk])
        data = {"start": utc(berlin(1, 10))}

        plain = client.post(url, data)
        htmx = client.post(url, data, **HTMX)
        as_json = client.post(url, data, **JSON)

        assert plain.status_code == 200
        assert "That time was just taken." in text(plain)
        assert htmx.status_code == 409
        assert "<html" not in text(htmx)
        for start in NEAREST:
            assert f'name="start" value="{start}"' in text(plain)
            assert f'name="start" value="{start}"' in text(htmx)
        assert as_json.status_code == 409
        assert as_json.json()["nearest"] == NEAREST
        booking.refresh_from_db()
        assert booking.starts_at == berlin(2, 10)


class TestCallDetail:
    def test_the_page_shows_the_call_but_not_the_agents_notes(self, customer_client, people):
        booking = make_booking(people, berlin(1, 10), topic="Mailbox sizes")
        bookings.booking_set_notes(booking=booking, notes="Customer is grumpy", by=people.agent)

        response = customer_client.get(detail_url(booking))

        page = text(response)
        assert "Tuesday 1 December 2026, 10:00–10:30" in page
        assert "Mailbox sizes" in page
        assert str(people.agent) in page
        assert "Customer is grumpy" not in page

    def test_the_agents_cancel_message_is_shown(self, customer_client, people):
        booking = make_booking(people, berlin(1, 10))
        bookings.booking_cancel_by_agent(
            booking=booking, by=people.agent, message="I am ill; please book another day."
        )

        page = text(customer_client.get(detail_url(booking)))

        assert f"{people.agent} wrote:" in page
        assert "I am ill; please book another day." in page
        assert reverse("scheduling:cancel", args=[booking.pk]) not in page

    def test_a_colleague_sees_the_call_but_only_the_booker_changes_it(self, client_for, people):
        booking = make_booking(people, berlin(1, 10))
        client = client_for(same_company_colleague(people))

        page = text(client.get(detail_url(booking)))
        assert "Only the customer who booked this call can change it." in page
        assert reverse("scheduling:cancel", args=[booking.pk]) not in page

        cancel = client.post(reverse("scheduling:cancel", args=[booking.pk]), follow=True)
        assert "Only the customer who booked this call can change it." in text(cancel)
        move = client.post(
            reverse("scheduling:reschedule", args=[booking.pk]),
            {"start": utc(berlin(2, 10))},
            follow=True,
        )
        assert "Only the customer who booked this call can change it." in text(move)
        booking.refresh_from_db()
        assert (booking.status, booking.starts_at) == (BookingStatus.CONFIRMED, berlin(1, 10))

    def test_after_the_notice_cut_off_the_call_can_no_longer_change(self, customer_client, people):
        booking = make_booking(people, berlin(30, 13, month=11))  # the first bookable start

        assert reverse("scheduling:cancel", args=[booking.pk]) in text(
            customer_client.get(detail_url(booking))
        )
        with time_machine.travel(berlin(30, 9, 30, month=11), tick=False):
            page = text(customer_client.get(detail_url(booking)))
            reschedule = customer_client.get(reverse("scheduling:reschedule", args=[booking.pk]))
            cancel = customer_client.post(
                reverse("scheduling:cancel", args=[booking.pk]), follow=True
            )

        refusal = "Calls can be changed or cancelled only up to 4 h of working time before"
        assert refusal in page
        assert reverse("scheduling:cancel", args=[booking.pk]) not in page
        assert reschedule["Location"] == detail_url(booking)
        assert refusal in text(cancel)
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED


class TestReschedule:
    def test_the_week_frees_the_calls_own_time(self, customer_client, people):
        booking = make_booking(people, berlin(1, 10))

        response = customer_client.get(reverse("scheduling:reschedule", args=[booking.pk]))

        tuesday = [start for start, _agent in offered(response)[datetime.date(2026, 12, 1)]]
        # Its own time and the neighbours its buffers would block are free for it.
        assert {berlin(1, 9, 30), berlin(1, 10), berlin(1, 10, 30)} <= set(tuesday)
        assert response.context["week"].param == "2026-11-30"
        assert "booked now" in text(response)

    def test_the_week_of_a_later_call_opens_at_that_call(self, customer_client, people):
        booking = make_booking(people, berlin(15, 10))

        response = customer_client.get(reverse("scheduling:reschedule", args=[booking.pk]))

        assert response.context["week"].param == "2026-12-14"

    def test_a_call_with_the_backup_is_moved_only_within_the_backups_time(
        self, customer_client, people
    ):
        time_off(people.agent, berlin(2, 0), berlin(3, 0))
        booking = make_booking(people, berlin(2, 10), agent=people.backup)

        response = customer_client.get(reverse("scheduling:reschedule", args=[booking.pk]))

        days = offered(response)
        assert days[datetime.date(2026, 12, 1)] == []
        assert {agent for _start, agent in days[datetime.date(2026, 12, 2)]} == {people.backup.pk}

    def test_a_bad_time_is_explained(self, customer_client, people):
        booking = make_booking(people, berlin(1, 10))
        url = reverse("scheduling:reschedule", args=[booking.pk])

        outside = customer_client.post(url, {"start": "2026-12-01T05:00:00Z"})
        unreadable = customer_client.post(url, {"start": "soon"})
        htmx = customer_client.post(url, {"start": "2027-01-05T09:00:00Z"}, **HTMX)

        assert outside.status_code == 400
        assert "does not take calls at that time" in text(outside)
        assert unreadable.status_code == 400
        assert "That is not a time we understand" in text(unreadable)
        assert htmx.status_code == 400
        assert "<html" not in text(htmx)
        assert "Calls can be booked at most 30 days ahead." in text(htmx)
        booking.refresh_from_db()
        assert booking.starts_at == berlin(1, 10)


class TestWhoMayBook:
    def test_another_companys_customer_gets_404_on_every_booking_route(self, client_for, people):
        booking = make_booking(people, berlin(1, 10))
        client = client_for(vip_people("Globex").customer)

        assert client.get(detail_url(booking)).status_code == 404
        reschedule = reverse("scheduling:reschedule", args=[booking.pk])
        assert client.get(reschedule).status_code == 404
        assert client.post(reschedule, {"start": utc(berlin(2, 10))}).status_code == 404
        cancel = reverse("scheduling:cancel", args=[booking.pk])
        assert client.post(cancel, {"message": "ha"}).status_code == 404
        booking.refresh_from_db()
        assert (booking.status, booking.starts_at) == (BookingStatus.CONFIRMED, berlin(1, 10))

    def test_the_home_page_lists_only_the_companys_calls(self, customer_client, people):
        other = vip_people("Globex")
        mine = make_booking(people, berlin(30, 13, month=11), topic="Our own call")
        make_booking(other, berlin(1, 10), topic="Their secret call")

        with time_machine.travel(berlin(1, 8), tick=False):
            make_booking(people, berlin(3, 10), topic="Next one", now=berlin(1, 8))
            response = customer_client.get(reverse("scheduling:book"))

        page = text(response)
        assert "Their secret call" not in page
        assert [call.topic for call in response.context["calls"].upcoming] == ["Next one"]
        assert list(response.context["calls"].past) == [mine]

    def test_a_customer_without_the_add_on_learns_what_it_offers(self, client_for):
        client = client_for(CustomerFactory())

        for response in (
            client.get(reverse("scheduling:book")),
            client.get(SLOTS),
            client.post(CONFIRM, {"start": utc(berlin(1, 10)), "topic": "Hi"}),
        ):
            assert response.status_code == 200
            assert "Calls come with the dedicated-agent add-on" in text(response)
            assert "per month" in text(response)
        assert not Booking.objects.exists()

    def test_staff_are_not_customers(self, client_for, people):
        assert client_for(people.agent).get(reverse("scheduling:book")).status_code == 403

    def test_the_stand_in_is_named_while_the_dedicated_agent_is_away(self, customer_client, people):
        people.agent.agent_profile.away_until = berlin(4, 18)
        people.agent.agent_profile.save()

        page = text(customer_client.get(reverse("scheduling:book")))

        assert f"While {people.agent} is away, calls are with {people.backup}, standing in." in page

    def test_time_off_ahead_is_announced(self, customer_client, people):
        time_off(people.agent, berlin(2, 0), berlin(3, 0))

        page = text(customer_client.get(reverse("scheduling:book")))

        assert "From Wed 2 Dec 00:00 to Thu 3 Dec 00:00, while" in page


class TestQueryCounts:
    """Both agents have schedules and the dedicated agent has time off in the week, so the page
    loads both calendars: the most it ever reads. More calls must not add a query."""

    @pytest.fixture(autouse=True)
    def _calendars(self, people):
        schedule_for(people.agent)
        schedule_for(people.backup)
        time_off(people.agent, berlin(2, 0), berlin(3, 0))

    def busy_week(self, people):
        for day, hour in ((30, 14), (1, 10), (1, 14), (3, 10), (4, 11)):
            month = 11 if day == 30 else 12
            make_booking(people, berlin(day, hour, month=month), topic=f"Call {day} {hour}")
        make_booking(people, berlin(2, 10), agent=people.backup)
        make_booking(vip_people("Globex"), berlin(1, 10))

    def test_the_home_page(self, customer_client, people, django_assert_max_num_queries):
        url = reverse("scheduling:book")
        customer_client.get(url)  # the first request of a session writes it
        with django_assert_max_num_queries(12) as quiet:
            customer_client.get(url)
        self.busy_week(people)
        over = time_machine.travel(berlin(1, 12), tick=False)  # some calls are over by then
        with over, django_assert_max_num_queries(len(quiet)):
            response = customer_client.get(url)
        calls = response.context["calls"]
        assert (len(calls.upcoming), len(calls.past)) == (4, 2)

    def test_the_slots_page(self, customer_client, people, django_assert_max_num_queries):
        customer_client.get(SLOTS)
        with django_assert_max_num_queries(24) as quiet:
            customer_client.get(SLOTS)
        self.busy_week(people)
        with django_assert_max_num_queries(len(quiet)):
            response = customer_client.get(SLOTS)
        assert {agent for _start, agent in offered(response)[datetime.date(2026, 12, 2)]} == {
            people.backup.pk
        }
