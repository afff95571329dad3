"""The support desk's hours live in one place: when an admin changes them, the agent card, the
free call times and a new ticket's SLA deadline all follow."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import UserFactory
from desk.models import OpeningHours, SupportCalendar
from scheduling.tests.factories import NOW, vip_people
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def monday_opens_at_ten(client) -> None:
    """An admin moves Monday's opening to 10:00-18:00 on the desk's calendar page."""
    desk = SupportCalendar.objects.get(is_desk=True)
    intervals = list(OpeningHours.objects.filter(calendar=desk).order_by("weekday"))
    form = {
        "name": desk.name,
        "time_zone": desk.time_zone,
        "is_desk": "on",
        "intervals-TOTAL_FORMS": str(len(intervals)),
        "intervals-INITIAL_FORMS": str(len(intervals)),
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
    }
    for index, interval in enumerate(intervals):
        monday = interval.weekday == 0
        form |= {
            f"intervals-{index}-id": str(interval.pk),
            f"intervals-{index}-calendar": str(desk.pk),
            f"intervals-{index}-weekday": str(interval.weekday),
            f"intervals-{index}-opens": "10:00" if monday else "09:00",
            f"intervals-{index}-closes": "18:00" if monday else "17:00",
        }
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:desk_supportcalendar_change", args=[desk.pk]), form)
    assert response.status_code == 302


def card_hours(page: str) -> tuple[str, str]:
    found = [
        re.search(rf'data-testid="{name}">([^<]*)<', page) for name in ("desk-hours", "local-hours")
    ]
    return found[0].group(1), found[1].group(1)  # type: ignore[union-attr]


@pytest.fixture
def people():
    with time_machine.travel(NOW, tick=False):
        return vip_people()


def test_the_card_the_call_times_and_the_sla_deadline_follow_the_desks_hours(client, people):
    with time_machine.travel(NOW, tick=False):
        client.force_login(people.customer)
        before = card_hours(client.get("/").text)
        monday_opens_at_ten(client)
        client.force_login(people.customer)
        after = card_hours(client.get("/").text)
        week = client.get("/book/support/", {"week": "2026-12-07"})

    assert before == ("Mon–Fri 09:00–17:00 CET", "Mon–Fri 09:00–17:00")
    assert after == (
        "Mon 10:00–18:00, Tue–Fri 09:00–17:00 CET",
        "Mon 10:00–18:00, Tue–Fri 09:00–17:00",
    )
    # The agent has no schedule of their own, so they work the desk's hours.
    monday = [slot.start for day, slots in week.context["days"] for slot in slots if day.day == 7]
    assert min(monday).astimezone(BERLIN).time() == datetime.time(10)
    assert max(monday).astimezone(BERLIN).time() == datetime.time(17, 30)
    # A Sev 3 ticket (2 business hours) sent at 09:00 on Monday is due at 12:00, not 11:00.
    ticket = make_ticket(
        requester=people.customer,
        severity=3,
        at=datetime.datetime(2026, 12, 7, 9, tzinfo=BERLIN),
    )
    assert ticket.sla_targets.get().due_at == datetime.datetime(2026, 12, 7, 12, tzinfo=BERLIN)
