"""`tickets_create_bulk`: many tickets, of several companies, channels and moments, get the same
SLA targets and deadlines as one `ticket_create` each, in a number of queries that does not grow
with the batch."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import AgentFactory, CompanyFactory, CustomerFactory, vip_company
from sla.models import SlaTarget
from tickets import services
from tickets.models import Channel, Notification, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _specs(vip_customer, customer, agent) -> list[services.NewTicket]:
    return [
        services.NewTicket(
            requester=vip_customer, subject="Web", description="d", severity=1, at=MONDAY_0900
        ),
        services.NewTicket(
            requester=customer,
            subject="Held mail",
            description="d",
            severity=3,
            channel=Channel.EMAIL,
            at=SATURDAY,
        ),
        services.NewTicket(
            requester=vip_customer,
            subject="Voicemail",
            description="d",
            severity=2,
            channel=Channel.VOICEMAIL,
            assignee=agent,
            at=SATURDAY + timedelta(hours=1),
        ),
    ]


def _made(ticket: Ticket) -> tuple[object, ...]:
    ticket.refresh_from_db()
    return (
        ticket.subject,
        ticket.assignee_id,
        ticket.sla_clock_started_at,
        ticket.sla_due_at,
        ticket.sla_warn_at,
        sorted(
            (row.kind, row.policy_id, row.started_at, row.due_at, row.warn_at, row.assignee_id)
            for row in SlaTarget.objects.filter(ticket=ticket)
        ),
        sorted(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)),
        sorted(Notification.objects.filter(ticket=ticket).values_list("kind", "recipient_id")),
    )


def test_a_bulk_makes_what_one_ticket_at_a_time_makes(django_assert_max_num_queries):
    vip_customer = CustomerFactory(company=vip_company())
    customer = CustomerFactory(company=CompanyFactory())
    agent = AgentFactory()
    one_by_one = [
        services.ticket_create(
            requester=spec.requester,
            subject=spec.subject,
            description=spec.description,
            severity=spec.severity,
            channel=spec.channel,
            assignee=spec.assignee,
            at=spec.at,
        )
        for spec in _specs(vip_customer, customer, agent)
    ]

    with django_assert_max_num_queries(16):
        together = services.tickets_create_bulk(tickets=_specs(vip_customer, customer, agent))

    assert [_made(ticket) for ticket in together] == [_made(ticket) for ticket in one_by_one]
    # The held e-mail's clock starts at Monday's opening; the voicemail also owes a callback.
    assert together[1].sla_clock_started_at > SATURDAY
    assert len(_made(together[2])[5]) == 2
