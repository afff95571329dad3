"""The ticket carries the SLA engine's next deadline, which the queue sorts on."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import AgentFactory, CustomerFactory, vip_company
from sla.services import sla_scan
from tickets import services
from tickets.models import Status
from tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def customer():
    return CustomerFactory(company=vip_company())


def test_a_new_ticket_carries_its_first_response_deadline(customer):
    ticket = make_ticket(requester=customer, severity=3, at=MONDAY_0900)

    ticket.refresh_from_db()
    assert ticket.sla_due_at == MONDAY_0900 + timedelta(hours=2)
    assert ticket.sla_warn_at == MONDAY_0900 + timedelta(minutes=96)


def test_a_staff_reply_moves_it_to_the_follow_up(customer):
    ticket = make_ticket(requester=customer, severity=1, at=MONDAY_0900)

    services.ticket_reply(
        ticket=ticket, author=AgentFactory(), body="On it.", at=MONDAY_0900 + timedelta(minutes=20)
    )

    ticket.refresh_from_db()
    assert ticket.sla_due_at == MONDAY_0900 + timedelta(hours=4, minutes=20)


def test_waiting_on_the_customer_clears_it_and_their_reply_restores_it(customer):
    ticket = make_ticket(requester=customer, severity=1, at=MONDAY_0900)
    services.ticket_reply(
        ticket=ticket,
        author=AgentFactory(),
        body="Which account?",
        new_status=Status.WAITING,
        at=MONDAY_0900 + timedelta(minutes=10),
    )
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None

    services.ticket_reply(
        ticket=ticket, author=customer, body="The main one.", at=MONDAY_0900 + timedelta(hours=1)
    )

    ticket.refresh_from_db()
    assert ticket.sla_due_at == MONDAY_0900 + timedelta(hours=5)


def test_a_breached_unanswered_target_keeps_its_deadline_until_answered(customer):
    ticket = make_ticket(requester=customer, severity=3, at=MONDAY_0900)
    sla_scan(now=MONDAY_0900 + timedelta(days=1))

    ticket.refresh_from_db()
    assert ticket.sla_due_at == MONDAY_0900 + timedelta(hours=2)

    services.ticket_reply(
        ticket=ticket, author=AgentFactory(), body="Sorry.", at=MONDAY_0900 + timedelta(days=1)
    )
    ticket.refresh_from_db()
    assert ticket.sla_due_at > MONDAY_0900 + timedelta(days=1)


def test_solving_clears_it(customer):
    ticket = make_ticket(requester=customer, severity=4, at=MONDAY_0900)

    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=customer)

    ticket.refresh_from_db()
    assert (ticket.sla_due_at, ticket.sla_warn_at) == (None, None)
