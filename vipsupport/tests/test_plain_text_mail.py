"""Every e-mail the portal sends has a plain-text subject and body: what people typed (R&D's
"VPN" <down>) arrives as typed, never as HTML entities."""

import datetime

import pytest
import time_machine
from django.core import mail

from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from outbox.services import emails_send_pending
from scheduling.models import CallType
from scheduling.services.reminders import reminders_queue_due
from scheduling.tests.factories import NOW, berlin, make_booking, vip_people
from tickets import services
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

TYPED = """R&D's "VPN" <down> & out"""
ENTITIES = ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;")


def assert_plain(text: str) -> None:
    assert TYPED in text
    assert not [entity for entity in ENTITIES if entity in text]


def test_a_notification_e_mail_keeps_the_ticket_subject_as_typed():
    agent = AgentFactory()
    ticket = make_ticket(requester=CustomerFactory(company=vip_company()), subject=TYPED)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=None)

    services.notifications_queue_emails()
    emails_send_pending()

    [message] = mail.outbox
    assert_plain(message.subject)
    assert_plain(message.body)


@pytest.fixture
def booking():
    """A call whose type an admin named, and whose topic the customer typed, with & ' " <."""
    with time_machine.travel(NOW, tick=False):
        people = vip_people()
        CallType.objects.filter(code="support").update(name=TYPED)
        return make_booking(people, berlin(1, 10), topic=TYPED)


def test_the_invitations_keep_the_call_type_and_topic_as_typed(booking):
    emails_send_pending(now=NOW)

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert_plain(message.subject)
        assert_plain(message.body)


def test_a_reminder_keeps_the_call_type_and_topic_as_typed(booking):
    emails_send_pending(now=NOW)
    mail.outbox.clear()

    day_before = booking.starts_at - datetime.timedelta(hours=24)
    reminders_queue_due(now=day_before)
    emails_send_pending(now=day_before)

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert_plain(message.subject)
        assert_plain(message.body)
