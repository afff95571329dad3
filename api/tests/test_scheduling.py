"""Calls through the API: call types, bookable times, booking, moving and cancelling.

"Now" is Monday 2026-11-30 08:00 in Berlin (as in the booking page tests): with 4 business hours
of notice the first bookable start is Monday 13:00 Berlin (12:00 UTC); the horizon ends on
Wednesday 2026-12-30 08:00.
"""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import MANAGERS_GROUP, AddOnSubscription
from accounts.tests.factories import CustomerFactory, UserFactory
from scheduling.forms import instant_param
from scheduling.models import Booking, BookingStatus
from scheduling.tests.factories import NOW, People, berlin, make_booking, vip_people
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

CALL_TYPES = "/api/v1/call-types/"
SLOTS = "/api/v1/call-types/support/slots/"
BOOKINGS = "/api/v1/bookings/"


def booking_url(booking: Booking, action: str = "") -> str:
    return f"{BOOKINGS}{booking.pk}/{action + '/' if action else ''}"


def utc(moment: datetime.datetime) -> str:
    return instant_param(moment)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people() -> People:
    return vip_people()


@pytest.fixture
def customer(api_client_for, people) -> APIClient:
    return api_client_for(people.customer)


@pytest.fixture
def globex() -> People:
    return vip_people("Globex")


def assert_error(response, status: int, field: str | None = None) -> dict:
    """The API's one error shape, with `field` among the wrong fields when given."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"]
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


def book(client: APIClient, start: datetime.datetime, **extra) -> object:
    return client.post(
        BOOKINGS,
        {"call_type": "support", "starts_at": utc(start), "topic": "Mail flow rules", **extra},
        format="json",
    )


def without_addon(people: People) -> None:
    AddOnSubscription.objects.filter(company=people.company).delete()


def manager():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


class TestCallTypes:
    def test_a_vip_customer_sees_the_active_call_types(self, customer):
        response = customer.get(CALL_TYPES)

        assert response.status_code == 200
        by_code = {row["code"]: row for row in response.json()}
        assert set(by_code) == {"support", "training", "analysis"}
        assert by_code["support"]["duration_seconds"] == 30 * 60
        assert by_code["support"]["minimum_notice_seconds"] == 4 * 3600
        assert by_code["support"]["video_meeting"] is False

    def test_without_the_addon_the_answer_is_the_pages_refusal(self, api_client_for, people):
        without_addon(people)

        for url in (CALL_TYPES, SLOTS):
            error = assert_error(api_client_for(people.customer).get(url), 403)
            assert error["code"] == "addon_required"
            assert "dedicated-agent add-on" in error["message"]
        refused = book(api_client_for(people.customer), berlin(1, 10))
        assert assert_error(refused, 403)["code"] == "addon_required"
        assert not Booking.objects.exists()

    def test_the_refusal_speaks_bulgarian(self, api_client_for, people):
        without_addon(people)
        people.customer.preferred_language = "bg"
        people.customer.save()

        response = api_client_for(people.customer).get(CALL_TYPES)

        assert "Специализиран агент" in assert_error(response, 403)["message"]

    def test_staff_and_strangers_are_refused(self, api_client_for, people):
        assert_error(api_client_for(people.agent).get(CALL_TYPES), 403)
        assert_error(APIClient().get(CALL_TYPES), 401)


class TestSlots:
    def test_the_times_of_a_day_are_those_the_booking_page_offers(
        self, customer, client_for, people
    ):
        response = customer.get(SLOTS, {"from": "2026-12-01", "days": 1})
        page = client_for(people.customer).get(
            reverse("scheduling:slots", args=["support"]), {"week": "2026-11-30"}
        )

        assert response.status_code == 200
        body = response.json()
        assert (body["first_day"], body["last_day"], body["zone"]) == (
            "2026-12-01",
            "2026-12-01",
            "Europe/Berlin",
        )
        offered = {
            (utc(slot.start), slot.agent.pk)
            for day, slots in page.context["days"]
            if day == datetime.date(2026, 12, 1)
            for slot in slots
        }
        assert {(slot["starts_at"], slot["agent"]["id"]) for slot in body["slots"]} == offered
        assert (utc(berlin(1, 10)), people.agent.pk) in offered
        first = body["slots"][0]
        assert first["ends_at"] == utc(berlin(1, 9, 30))
        assert first["standing_in"] is False

    def test_by_default_from_today_with_the_notice_kept(self, customer):
        response = customer.get(SLOTS)

        starts = [slot["starts_at"] for slot in response.json()["slots"]]
        assert starts[0] == "2026-11-30T12:00:00Z"  # Monday 13:00 Berlin
        assert starts == sorted(starts)
        assert starts[-1] < "2026-12-07T00:00:00Z"  # seven days

    def test_a_booked_time_is_not_offered_again(self, customer, people):
        make_booking(people, berlin(1, 10))

        starts = {
            slot["starts_at"]
            for slot in customer.get(SLOTS, {"from": "2026-12-01"}).json()["slots"]
        }
        assert utc(berlin(1, 10)) not in starts
        assert utc(berlin(1, 11)) in starts

    def test_times_to_move_a_call_to_include_its_own(self, customer, people, globex):
        booking = make_booking(people, berlin(1, 10))

        response = customer.get(SLOTS, {"from": "2026-12-01", "days": 1, "booking": booking.pk})
        assert utc(berlin(1, 10)) in {slot["starts_at"] for slot in response.json()["slots"]}
        foreign = make_booking(globex, berlin(1, 10))
        assert_error(customer.get(SLOTS, {"booking": foreign.pk}), 404)
        training = customer.get("/api/v1/call-types/training/slots/", {"booking": booking.pk})
        assert_error(training, 400, "booking")

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"from": "yesterday"}, "from"),
            ({"from": "2026-11-29"}, "from"),  # the past
            ({"from": "2026-02-30"}, "from"),
            ({"from": "9999-12-31"}, "from"),
            ({"days": "0"}, "days"),
            ({"days": "32"}, "days"),
            ({"days": "a week"}, "days"),
            ({"booking": "x"}, "booking"),
            ({"booking": str(2**70)}, "booking"),
        ],
    )
    def test_bad_queries_are_a_400_with_fields(self, customer, query, field):
        assert_error(customer.get(SLOTS, query), 400, field)

    def test_an_unknown_call_type_is_a_404(self, customer):
        assert_error(customer.get("/api/v1/call-types/karaoke/slots/"), 404)


class TestBook:
    def test_booking_an_offered_time(self, customer, people):
        ticket = make_ticket(requester=people.customer, subject="Shared inbox is silent")

        response = book(customer, berlin(1, 10), ticket=ticket.pk)

        assert response.status_code == 201, response.content
        body = response.json()
        booking = Booking.objects.get()
        assert body["id"] == booking.pk
        assert response["Location"] == f"/api/v1/bookings/{booking.pk}/"
        assert body["starts_at"] == "2026-12-01T09:00:00Z"
        assert body["ends_at"] == "2026-12-01T09:30:00Z"
        assert body["status"] == BookingStatus.CONFIRMED
        assert body["agent"]["id"] == people.agent.pk
        assert body["company"]["id"] == people.company.pk
        assert body["ticket"] == ticket.pk
        assert body["phone_number"] == "+359881234567"  # the profile's number, as the form
        assert body["change_refusal"] is None
        assert body["url"] == reverse("scheduling:booking", args=[booking.pk])

    def test_a_time_just_taken_is_a_409_with_the_nearest_free_times(self, customer, people):
        colleague = CustomerFactory(company=people.company)
        make_booking(people, berlin(1, 10), customer=colleague)

        response = book(customer, berlin(1, 10))

        error = assert_error(response, 409)
        assert error["code"] == "conflict"
        assert "just taken" in error["message"]
        alternatives = error["alternatives"]
        assert alternatives
        assert utc(berlin(1, 10)) not in alternatives
        assert all(moment.endswith("Z") for moment in alternatives)
        # Each alternative is one the API then accepts.
        assert book(customer, datetime.datetime.fromisoformat(alternatives[0])).status_code == 201

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"starts_at": "2026-11-30T06:00:00Z"}, "starts_at"),  # the past
            ({"starts_at": "2026-11-30T12:30:00+01:00"}, "starts_at"),  # within the notice
            ({"starts_at": "2027-03-01T09:00:00Z"}, "starts_at"),  # past the horizon
            ({"starts_at": "2026-12-01T09:07:00Z"}, "starts_at"),  # not on the grid
            ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),  # no zone
            ({"starts_at": "tuesday at ten"}, "starts_at"),
            ({"starts_at": 12}, "starts_at"),
            ({"call_type": "karaoke"}, "call_type"),
            ({"call_type": "not a code!"}, "call_type"),
            ({"topic": ""}, "topic"),
            ({"ticket": "seven"}, "ticket"),
            ({"agent": 999_999}, "agent"),
            ({"phone_number": "call me maybe"}, "phone_number"),
        ],
    )
    def test_refusals_are_a_400_with_fields(self, customer, change, field):
        data = {
            "call_type": "support",
            "starts_at": utc(berlin(1, 10)),
            "topic": "Mail flow rules",
            **change,
        }

        assert_error(customer.post(BOOKINGS, data, format="json"), 400, field)
        assert not Booking.objects.exists()

    def test_another_companys_ticket_is_refused(self, customer, globex):
        foreign = make_ticket(requester=globex.customer)

        assert_error(book(customer, berlin(1, 10), ticket=foreign.pk), 400, "ticket")

    def test_only_customers_book(self, api_client_for, people):
        assert_error(book(api_client_for(people.agent), berlin(1, 10)), 403)
        assert_error(book(APIClient(), berlin(1, 10)), 401)


class TestReadCalls:
    def test_customers_see_their_companys_calls_only(self, customer, people, globex):
        colleague = CustomerFactory(company=people.company)
        own = make_booking(people, berlin(1, 10), customer=colleague)
        make_booking(globex, berlin(1, 10))

        response = customer.get(BOOKINGS)

        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [own.pk]

    def test_upcoming_soonest_first_and_filters(self, customer, people):
        later = make_booking(people, berlin(2, 10))
        sooner = make_booking(people, berlin(1, 10))
        rows = customer.get(BOOKINGS, {"when": "upcoming"}).json()["results"]
        assert [row["id"] for row in rows] == [sooner.pk, later.pk]
        assert customer.get(BOOKINGS, {"when": "past"}).json()["results"] == []
        assert customer.get(BOOKINGS, {"status": "cancelled"}).json()["results"] == []
        assert_error(customer.get(BOOKINGS, {"when": "someday"}), 400, "when")
        assert_error(customer.get(BOOKINGS, {"cursor": "not-a-cursor"}), 404)

    def test_staff_see_the_calls_they_may_open(self, api_client_for, people, globex):
        ours = make_booking(people, berlin(1, 10))
        theirs = make_booking(globex, berlin(1, 10))

        agent_rows = api_client_for(people.agent).get(BOOKINGS).json()["results"]
        managed = api_client_for(manager()).get(BOOKINGS, {"company": globex.company.pk})

        assert [row["id"] for row in agent_rows] == [ours.pk]
        assert agent_rows[0]["url"] == reverse("scheduling:call", args=[ours.pk])
        assert [row["id"] for row in managed.json()["results"]] == [theirs.pk]
        assert_error(api_client_for(people.agent).get(booking_url(theirs)), 404)

    def test_the_query_count_does_not_grow_with_the_calls(
        self, customer, api_client_for, people, django_assert_max_num_queries
    ):
        make_booking(people, berlin(1, 10))
        agent = api_client_for(people.agent)
        with django_assert_max_num_queries(20) as few:
            assert len(customer.get(BOOKINGS).json()["results"]) == 1
        with django_assert_max_num_queries(20) as few_staff:
            assert len(agent.get(BOOKINGS).json()["results"]) == 1
        for day in (2, 3, 4, 7):
            make_booking(people, berlin(day, 10), customer=CustomerFactory(company=people.company))

        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(customer.get(BOOKINGS).json()["results"]) == 5
        with django_assert_max_num_queries(len(few_staff.captured_queries)):
            assert len(agent.get(BOOKINGS).json()["results"]) == 5

    def test_one_call(self, customer, people):
        booking = make_booking(people, berlin(1, 10))

        body = customer.get(booking_url(booking)).json()

        assert body["id"] == booking.pk
        assert body["call_type"] == "support"
        assert body["topic"] == "Mail flow rules"
        assert body["change_refusal"] is None

    def test_another_companys_call_is_a_404_on_every_route(self, customer, globex):
        foreign = make_booking(globex, berlin(1, 10))

        assert_error(customer.get(booking_url(foreign)), 404)
        moved = customer.post(
            booking_url(foreign, "move"), {"starts_at": utc(berlin(1, 11))}, format="json"
        )
        assert_error(moved, 404)
        assert_error(customer.post(booking_url(foreign, "cancel"), {}, format="json"), 404)
        assert_error(customer.get(f"{BOOKINGS}{2**70}/"), 404)
        foreign.refresh_from_db()
        assert (foreign.starts_at, foreign.status) == (berlin(1, 10), BookingStatus.CONFIRMED)

    def test_strangers_are_a_401(self, people):
        booking = make_booking(people, berlin(1, 10))

        assert_error(APIClient().get(BOOKINGS), 401)
        assert_error(APIClient().get(booking_url(booking)), 401)


class TestMove:
    def test_moving_to_a_free_time(self, customer, people):
        booking = make_booking(people, berlin(1, 10))

        response = customer.post(
            booking_url(booking, "move"), {"starts_at": utc(berlin(2, 14))}, format="json"
        )

        assert response.status_code == 200, response.content
        assert response.json()["starts_at"] == utc(berlin(2, 14))
        booking.refresh_from_db()
        assert (booking.starts_at, booking.sequence) == (berlin(2, 14), 1)

    def test_a_taken_time_is_a_409_with_alternatives(self, customer, people):
        booking = make_booking(people, berlin(1, 10))
        make_booking(people, berlin(2, 14), customer=CustomerFactory(company=people.company))

        response = customer.post(
            booking_url(booking, "move"), {"starts_at": utc(berlin(2, 14))}, format="json"
        )

        error = assert_error(response, 409)
        assert error["alternatives"]
        assert utc(berlin(2, 14)) not in error["alternatives"]
        booking.refresh_from_db()
        assert booking.starts_at == berlin(1, 10)

    @pytest.mark.parametrize(
        "starts_at", ["2026-11-30T05:00:00Z", "soon", "", "2026-12-01T10:00:00", None]
    )
    def test_bad_times_are_a_400(self, customer, people, starts_at):
        booking = make_booking(people, berlin(1, 10))

        response = customer.post(
            booking_url(booking, "move"), {"starts_at": starts_at}, format="json"
        )

        assert_error(response, 400, "starts_at")

    def test_within_the_notice_the_service_refuses(self, customer, people):
        booking = make_booking(people, berlin(1, 10))

        with time_machine.travel(berlin(1, 8), tick=False):
            response = customer.post(
                booking_url(booking, "move"), {"starts_at": utc(berlin(3, 10))}, format="json"
            )

        error = assert_error(response, 400, "non_field_errors")
        assert "only up to" in error["message"]

    def test_only_the_booker_moves_and_staff_never(self, api_client_for, people):
        booking = make_booking(people, berlin(1, 10))
        colleague = api_client_for(CustomerFactory(company=people.company))

        move = {"starts_at": utc(berlin(2, 14))}
        assert_error(colleague.post(booking_url(booking, "move"), move, format="json"), 400)
        agent = api_client_for(people.agent)
        assert_error(agent.post(booking_url(booking, "move"), move, format="json"), 403)
        booking.refresh_from_db()
        assert booking.starts_at == berlin(1, 10)


class TestCancel:
    def test_the_customer_cancels_with_an_optional_word(self, customer, people):
        booking = make_booking(people, berlin(1, 10))

        response = customer.post(booking_url(booking, "cancel"), {}, format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == BookingStatus.CANCELLED
        assert body["cancelled_by"]["id"] == people.customer.pk
        assert body["change_refusal"] == "This call has been cancelled."
        again = customer.post(booking_url(booking, "cancel"), {}, format="json")
        assert_error(again, 400, "non_field_errors")

    def test_the_agent_cancels_saying_why(self, api_client_for, people):
        booking = make_booking(people, berlin(1, 10))
        agent = api_client_for(people.agent)

        silent = agent.post(booking_url(booking, "cancel"), {"reason": " "}, format="json")
        assert_error(silent, 400, "reason")
        response = agent.post(
            booking_url(booking, "cancel"), {"reason": "I am ill, sorry."}, format="json"
        )

        assert response.status_code == 200
        booking.refresh_from_db()
        assert (booking.status, booking.cancel_message) == (
            BookingStatus.CANCELLED,
            "I am ill, sorry.",
        )

    def test_within_the_notice_a_customer_can_no_longer_cancel(self, customer, people):
        booking = make_booking(people, berlin(1, 10))

        with time_machine.travel(berlin(1, 8), tick=False):
            assert customer.get(booking_url(booking)).json()["change_refusal"]
            response = customer.post(booking_url(booking, "cancel"), {}, format="json")

        assert_error(response, 400, "non_field_errors")
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED

    def test_a_reason_too_long_is_a_400(self, customer, people):
        booking = make_booking(people, berlin(1, 10))

        response = customer.post(
            booking_url(booking, "cancel"), {"reason": "x" * 2001}, format="json"
        )

        assert_error(response, 400, "reason")
