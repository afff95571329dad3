"""The agent's page of one call: what it shows, and notes, cancelling and marking from it.

"Now" is Monday 2026-11-30 08:00 Berlin unless a test travels elsewhere; the call is on Tuesday
2026-12-01 10:00-10:30 Berlin.
"""

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import UserFactory
from outbox.services import emails_send_pending
from scheduling.models import Booking, BookingStatus
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

ACTIONS = ["call-notes", "call-cancel", "call-mark"]
VALID_POSTS = {
    "call-notes": {"agent_notes": "Forged"},
    "call-cancel": {"cancel_message": "Forged"},
    "call-mark": {"status": BookingStatus.NO_SHOW},
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people():
    return vip_people()


@pytest.fixture
def booking(people):
    ticket = make_ticket(requester=people.customer, subject="Mails bounce")
    return make_booking(people, berlin(1, 10), topic="Mail flow rules", ticket=ticket)


@pytest.fixture
def manager():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def url(booking: Booking, name: str = "call") -> str:
    return reverse(f"scheduling:{name}", args=[booking.pk])


def saved(booking: Booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


class TestThePage:
    def test_shows_who_what_when_and_the_ticket(self, people, booking, client_for):
        people.customer.time_zone = "Europe/Sofia"
        people.customer.save(update_fields=["time_zone"])

        response = client_for(people.agent).get(url(booking))

        assert response.status_code == 200
        content = response.content.decode()
        assert "Tuesday 1 December 2026, 10:00–10:30" in content
        assert "Tuesday 1 December 2026, 11:00–11:30" in content  # the customer's own time
        assert "Europe/Sofia" in content
        for shown in (people.company.name, str(people.customer), "Mail flow rules", "Confirmed"):
            assert shown in content
        assert reverse("tickets:work", args=[booking.ticket_id]) in content
        assert "Mails bounce" in content
        assert "?week=2026-11-30" in content  # back to the call's week

    def test_before_the_call_it_can_be_cancelled_not_marked(self, people, booking, client_for):
        content = client_for(people.agent).get(url(booking)).content.decode()

        assert url(booking, "call-cancel") in content
        assert url(booking, "call-mark") not in content
        assert url(booking, "call-notes") in content

    def test_during_the_call_both(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 10, 5))

        content = client_for(people.agent).get(url(booking)).content.decode()

        assert url(booking, "call-cancel") in content
        assert url(booking, "call-mark") in content

    def test_after_the_call_only_marking(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 11))

        content = client_for(people.agent).get(url(booking)).content.decode()

        assert url(booking, "call-cancel") not in content
        assert url(booking, "call-mark") in content

    def test_query_count_is_small(self, people, booking, client_for, django_assert_max_num_queries):
        client = client_for(people.agent)
        with django_assert_max_num_queries(20):
            assert client.get(url(booking)).status_code == 200


class TestNotes:
    def test_saved_without_a_new_invitation(self, people, booking, client_for):
        response = client_for(people.agent).post(
            url(booking, "call-notes"), {"agent_notes": "  Ask for the mail logs.  "}
        )

        assert response.status_code == 302
        assert response["Location"] == url(booking)
        booking = saved(booking)
        assert booking.agent_notes == "Ask for the mail logs."
        assert booking.sequence == 0
        page = client_for(people.agent).get(url(booking)).content.decode()
        assert "Notes saved." in page
        assert "Ask for the mail logs." in page


class TestCancel:
    def test_needs_a_message(self, people, booking, client_for):
        response = client_for(people.agent).post(
            url(booking, "call-cancel"), {"cancel_message": "  "}
        )

        assert response.status_code == 400
        assert "Tell the customer why the call is cancelled." in response.content.decode()
        assert saved(booking).status == BookingStatus.CONFIRMED

    def test_cancels_and_tells_the_customer_why(self, people, booking, client_for):
        emails_send_pending()  # the booking's invitations
        mail.outbox.clear()

        response = client_for(people.agent).post(
            url(booking, "call-cancel"), {"cancel_message": "I am ill, sorry."}
        )

        assert response.status_code == 302
        booking = saved(booking)
        assert booking.status == BookingStatus.CANCELLED
        assert booking.sequence == 1
        assert booking.cancelled_by == people.agent
        assert booking.cancel_message == "I am ill, sorry."
        # The CANCEL invitations wait in the outbox for the sender that runs after the commit.
        assert emails_send_pending() == 2
        to_customer = next(m for m in mail.outbox if m.to == [people.customer.email])
        assert "I am ill, sorry." in to_customer.body
        page = client_for(people.agent).get(url(booking)).content.decode()
        assert "I am ill, sorry." in page
        assert url(booking, "call-cancel") not in page

    def test_not_once_the_call_is_over(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 10, 30))

        response = client_for(people.agent).post(
            url(booking, "call-cancel"), {"cancel_message": "Too late"}
        )

        assert response.status_code == 400
        assert "This call is over; mark it completed or no-show instead." in (
            response.content.decode()
        )
        assert saved(booking).status == BookingStatus.CONFIRMED

    def test_a_manager_may_cancel_for_the_agent(self, booking, manager, client_for):
        response = client_for(manager).post(
            url(booking, "call-cancel"), {"cancel_message": "Agent is ill."}
        )

        assert response.status_code == 302
        assert saved(booking).cancelled_by == manager


class TestMark:
    def test_a_no_show_once_the_call_started(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 10, 10))

        response = client_for(people.agent).post(
            url(booking, "call-mark"), {"status": BookingStatus.NO_SHOW}
        )

        assert response.status_code == 302
        booking = saved(booking)
        assert booking.status == BookingStatus.NO_SHOW
        assert booking.sequence == 1
        page = client_for(people.agent).get(url(booking)).content.decode()
        assert "No-show" in page

    def test_before_the_start_the_page_says_why_not(self, people, booking, client_for):
        response = client_for(people.agent).post(
            url(booking, "call-mark"), {"status": BookingStatus.COMPLETED}
        )

        assert response.status_code == 400
        assert "only once it has started" in response.content.decode()
        assert saved(booking).status == BookingStatus.CONFIRMED

    def test_an_unknown_outcome_is_refused(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 11))

        response = client_for(people.agent).post(url(booking, "call-mark"), {"status": "late"})

        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert saved(booking).status == BookingStatus.CONFIRMED

    def test_a_cancelled_call_cannot_be_marked(self, people, booking, client_for, frozen):
        client = client_for(people.agent)
        client.post(url(booking, "call-cancel"), {"cancel_message": "Ill"})
        frozen.move_to(berlin(1, 11))

        response = client.post(url(booking, "call-mark"), {"status": BookingStatus.COMPLETED})

        assert response.status_code == 400
        assert "This call has been cancelled." in response.content.decode()
        assert saved(booking).status == BookingStatus.CANCELLED


class TestOthers:
    def test_another_agent_gets_404_everywhere(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 10, 10))  # every action would be allowed to the call's agent
        client = client_for(people.backup)

        assert client.get(url(booking)).status_code == 404
        for action in ACTIONS:
            assert client.post(url(booking, action), VALID_POSTS[action]).status_code == 404
        booking_now = saved(booking)
        assert (booking_now.status, booking_now.agent_notes) == (BookingStatus.CONFIRMED, "")

    def test_a_customer_is_refused_everywhere(self, people, booking, client_for, frozen):
        frozen.move_to(berlin(1, 10, 10))
        client = client_for(people.customer)

        assert client.get(url(booking)).status_code == 403
        for action in ACTIONS:
            assert client.post(url(booking, action), VALID_POSTS[action]).status_code == 403
        assert saved(booking).status == BookingStatus.CONFIRMED

    def test_a_manager_sees_the_call(self, people, booking, manager, client_for):
        response = client_for(manager).get(url(booking))

        assert response.status_code == 200
        assert f"agent={people.agent.pk}" in response.content.decode()

    def test_an_unknown_call_is_404(self, people, client_for):
        assert client_for(people.agent).get("/calendar/calls/999999/").status_code == 404

    def test_actions_are_post_only(self, people, booking, client_for):
        for action in ACTIONS:
            assert client_for(people.agent).get(url(booking, action)).status_code == 405
