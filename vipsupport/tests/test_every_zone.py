"""Every page renders in every zone the profile offers: fixed-offset zones (whose abbreviation,
"+14" or "-00", is no zone name), Factory, and half-hour and 45-minute offsets among them."""

import datetime
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts.models import MANAGERS_GROUP
from accounts.tests.factories import UserFactory
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people
from tickets import services as ticket_services
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

ZONES = [
    "Etc/GMT-14",
    "Etc/GMT-1",
    "Etc/GMT+12",
    "Etc/UTC",
    "Factory",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Eucla",  # +08:45
    "America/St_Johns",  # -03:30 / -02:30
    "Pacific/Chatham",  # +12:45 / +13:45
]


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        people = vip_people()
        ticket = make_ticket(requester=people.customer, severity=2)
        ticket_services.ticket_reply(ticket=ticket, author=people.agent, body="On it.")
        booking = make_booking(people, berlin(2, 10))
        manager = UserFactory(email="elena@support.example")
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return people, ticket, booking, manager


def pages(people, ticket, booking, manager):
    yield people.customer, "/"
    yield people.customer, "/tickets/"
    yield people.customer, "/tickets/new/"
    yield people.customer, f"/tickets/{ticket.pk}/"
    yield people.customer, "/book/"
    yield people.customer, "/book/support/"
    yield people.customer, "/book/support/?week=2026-12-07"
    yield people.customer, f"/book/support/confirm/?start={quote(berlin(3, 11).isoformat())}"
    yield people.customer, f"/book/calls/{booking.pk}/"
    yield people.customer, f"/book/calls/{booking.pk}/reschedule/"
    yield people.customer, "/sla/statement/"
    yield people.customer, "/profile/"
    yield people.customer, "/profile/calendar/"
    yield people.agent, "/queue/"
    yield people.agent, f"/queue/tickets/{ticket.pk}/"
    yield people.agent, "/calendar/"
    yield people.agent, "/calendar/?week=2026-12-07"
    yield people.agent, f"/calendar/calls/{booking.pk}/"
    yield people.agent, "/calendar/availability/"
    yield people.agent, "/notifications/"
    yield manager, "/reports/"
    yield manager, "/reports/sla/"
    yield manager, "/reports/sla/?period=last_month"
    yield manager, "/reports/sla/breaches.csv"
    yield manager, f"/sla/statement/?company={people.company.pk}"


@pytest.mark.parametrize("zone", ZONES)
def test_every_page_renders_in_the_zone(client, world, zone):
    people, ticket, booking, manager = world
    failures = []
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        for user, url in pages(people, ticket, booking, manager):
            user.time_zone = zone
            user.save(update_fields=["time_zone"])
            client.force_login(user)
            response = client.get(url)
            if response.status_code != 200:
                failures.append((url, response.status_code))
    assert failures == []


def test_the_zone_is_named_by_its_offset_where_it_has_no_other_name(client, world):
    people, *_ = world
    people.customer.time_zone = "Etc/GMT-14"
    people.customer.save(update_fields=["time_zone"])
    client.force_login(people.customer)

    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        page = client.get("/book/support/").text

    assert "Times are in your time zone, +14." in page
