from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone, translation

from accounts.tests.factories import CustomerFactory, vip_company
from sla.explain import duration_words, target_explanation
from sla.models import Clock, SlaTarget, TargetKind
from tickets import services as ticket_services
from tickets.models import Channel
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("duration", "clock", "words"),
    [
        (2 * HOUR, Clock.BUSINESS, "2 business hours"),
        (8 * HOUR, Clock.BUSINESS, "1 business day"),
        (16 * HOUR, Clock.BUSINESS, "2 business days"),
        (timedelta(minutes=90), Clock.BUSINESS, "90 business minutes"),
        (HOUR, Clock.CALENDAR, "1 hour"),
        (4 * HOUR, Clock.CALENDAR, "4 hours"),
        (timedelta(minutes=30), Clock.CALENDAR, "30 minutes"),
    ],
)
def test_durations_in_words(duration, clock, words):
    assert duration_words(duration, clock) == words


def explanation(target, zone="Europe/Berlin", language="en"):
    with translation.override(language), timezone.override(zone):
        return target_explanation(target)


def test_an_email_received_after_hours_explains_the_delayed_start():
    # Friday 2026-11-27 18:30 CET.
    ticket = make_ticket(
        requester=CustomerFactory(company=vip_company()),
        severity=3,
        channel=Channel.EMAIL,
        at=datetime(2026, 11, 27, 17, 30, tzinfo=UTC),
    )
    target = SlaTarget.objects.get(ticket=ticket)

    assert explanation(target) == (
        "Received Fri 18:30 outside business hours; the clock started Mon 09:00; "
        "2 business hours → due Mon 11:00"
    )
    assert explanation(target, zone="America/New_York") == (
        "Received Fri 12:30 outside business hours; the clock started Mon 03:00; "
        "2 business hours → due Mon 05:00"
    )


def test_a_portal_ticket_starts_at_once():
    ticket = make_ticket(
        requester=CustomerFactory(company=vip_company()),
        severity=1,
        at=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
    )

    assert explanation(SlaTarget.objects.get(ticket=ticket)) == (
        "Received Sat 03:00; 1 hour → due Sat 04:00"
    )


def test_a_follow_up_explains_its_start():
    customer = CustomerFactory(company=vip_company())
    ticket = make_ticket(requester=customer, severity=3, at=datetime(2026, 11, 26, 13, tzinfo=UTC))
    from accounts.tests.factories import AgentFactory

    ticket_services.ticket_reply(
        ticket=ticket,
        author=AgentFactory(),
        body="Looking.",
        at=datetime(2026, 11, 26, 14, tzinfo=UTC),
    )
    follow_up = SlaTarget.objects.get(ticket=ticket, kind=TargetKind.FOLLOW_UP)

    assert explanation(follow_up) == (
        "Answered or reopened Thu 15:00; 2 business days → next update due Mon 15:00"
    )


def test_explanations_speak_bulgarian():
    ticket = make_ticket(
        requester=CustomerFactory(company=vip_company()),
        severity=3,
        channel=Channel.EMAIL,
        at=datetime(2026, 11, 27, 17, 30, tzinfo=UTC),
    )

    text = explanation(SlaTarget.objects.get(ticket=ticket), language="bg")

    assert text == (
        "Получено Пет 18:30 извън работно време; отчитането започна Пон 09:00; "
        "2 работни часа → срок Пон 11:00"
    )
