"""Tickets are made through `ticket_create`, so every factory-made ticket has its SLA rows."""

import datetime
from typing import Any

from accounts.models import User
from accounts.tests.factories import CustomerFactory
from tickets import services
from tickets.models import Channel, Severity, Ticket


def make_ticket(
    *,
    requester: User | None = None,
    severity: int = Severity.STANDARD,
    channel: Channel = Channel.WEB,
    at: datetime.datetime | None = None,
    subject: str = "E-mails are not arriving",
    description: str = "Since this morning no new e-mails reach the shared inbox.",
    **kwargs: Any,
) -> Ticket:
    return services.ticket_create(
        requester=requester or CustomerFactory(),
        subject=subject,
        description=description,
        severity=severity,
        channel=channel,
        at=at,
        **kwargs,
    )
