"""The fault scripts' ledger finds every way a run falls short of exactly once."""

import datetime
from collections import Counter

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from faults.ledger import ledger_read
from outbox.services import emails_send_pending
from sla.services import sla_scan
from tickets.models import EventKind, TicketEvent
from tickets.services import notifications_queue_emails, ticket_create

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 1, 10, tzinfo=datetime.UTC)  # a Tuesday, 11:00 in Berlin


@pytest.fixture
def run():
    """A fault run's world after the portal caught up: one VIP severity-1 ticket an hour past
    its deadline, scanned, notified, e-mailed; what the SMTP server received, by Message-ID."""
    with time_machine.travel(NOW - datetime.timedelta(days=2), tick=False):
        call_command("seed_demo", verbosity=0)  # Acme's add-on from that day on
    with time_machine.travel(NOW, tick=False):
        ticket = ticket_create(
            requester=User.objects.get(email="customer@acme.example"),
            subject="Production is down",
            description="Nothing loads.",
            severity=1,
            at=NOW - datetime.timedelta(hours=2),
        )
        sla_scan(now=NOW)
        notifications_queue_emails(now=NOW)
        emails_send_pending(now=NOW)
    received = Counter(
        (str(message.extra_headers["Message-ID"]), recipient)
        for message in mail.outbox
        for recipient in message.to
    )
    return ticket, received


def test_a_run_where_everything_happened_once_holds(run):
    ticket, received = run

    ledger = ledger_read(ticket_ids=[ticket.pk], received=received, now=NOW)

    assert ledger.problems == []
    assert (ledger.breaches, ledger.escalations) == (1, 1)
    assert ledger.notifications == ledger.emails == ledger.delivered >= 2


def test_an_e_mail_received_twice_or_never_is_named(run):
    ticket, received = run
    first, second = list(received)[:2]
    received[first] += 1
    del received[second]

    problems = ledger_read(ticket_ids=[ticket.pk], received=received, now=NOW).problems

    assert problems == [
        "1 e-mails marked sent that the SMTP server never received",
        "1 e-mails received more than once (or unknown)",
    ]


def test_a_breach_recorded_twice_or_a_deadline_never_recorded_is_named(run):
    ticket, received = run
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.SLA_BREACH)
    TicketEvent.objects.create(ticket=ticket, kind=event.kind, data=event.data, created_at=NOW)
    with time_machine.travel(NOW, tick=False):
        unscanned = ticket_create(
            requester=ticket.requester,
            subject="Also down",
            description="Still nothing.",
            severity=1,
            at=NOW - datetime.timedelta(hours=1, minutes=5),
        )

    problems = ledger_read(
        ticket_ids=[ticket.pk, unscanned.pk], received=received, now=NOW
    ).problems

    assert "1 due deadlines never recorded as breached" in problems
    assert "1 targets with their breach recorded more than once" in problems
