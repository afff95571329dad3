"""How tickets tell other apps about a change: the `ticket_changed` signal (one ticket),
`tickets_created` for new tickets (one from the web form, many from a batch of e-mail) and
`tickets_escalated` for escalations, which the SLA scan writes for many tickets at once.

Services send them inside their transaction, after the rows are saved, so receivers (the SLA
engine, the e-mail channel, webhooks) write in the same transaction and a failure rolls the
whole change back. A receiver ignores the kinds it does not know.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.dispatch import Signal

if TYPE_CHECKING:
    from tickets.models import Escalation, Ticket, TicketMessage


class ChangeKind(enum.StrEnum):
    # (A new ticket is announced through `tickets_created`.)
    STAFF_PUBLIC_REPLY = "staff_public_reply"
    # A customer's public reply (the SLA engine learns of its effect through STATUS_CHANGED).
    CUSTOMER_REPLY = "customer_reply"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    ASSIGNED = "assigned"
    CALLED_BACK = "called_back"


@dataclass(frozen=True)
class TicketChange:
    kind: ChangeKind
    ticket: Ticket
    at: datetime.datetime
    previous_status: str | None = None
    previous_severity: int | None = None
    # The public reply a STAFF_PUBLIC_REPLY or CUSTOMER_REPLY announces.
    message: TicketMessage | None = None


# Sent with sender=Ticket and change=TicketChange.
ticket_changed = Signal()

# Sent with sender=Ticket and tickets=list[Ticket] (saved, each dated at its own created_at);
# once per creating write, however many tickets.
tickets_created = Signal()

# Sent with sender=Ticket, escalations=list[Escalation] (saved, one per ticket, each dated at its
# own moment) and at=the write's moment; once per escalation write, however many tickets.
tickets_escalated = Signal()


def announce(change: TicketChange) -> None:
    from tickets.models import Ticket

    ticket_changed.send(sender=Ticket, change=change)


def announce_escalations(*, escalations: list[Escalation], at: datetime.datetime) -> None:
    from tickets.models import Ticket

    tickets_escalated.send(sender=Ticket, escalations=escalations, at=at)


def announce_created(*, tickets: list[Ticket]) -> None:
    from tickets.models import Ticket

    tickets_created.send(sender=Ticket, tickets=tickets)
