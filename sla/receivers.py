"""The SLA engine's side of `tickets.signals.ticket_changed` and `tickets_created`."""

from typing import Any

from sla import services
from tickets.models import Ticket
from tickets.signals import ChangeKind, TicketChange


def on_tickets_created(sender: Any, *, tickets: list[Ticket], **kwargs: Any) -> None:
    services.sla_tickets_created(tickets=tickets)


def on_ticket_changed(sender: Any, *, change: TicketChange, **kwargs: Any) -> None:
    ticket = change.ticket
    if change.kind == ChangeKind.STAFF_PUBLIC_REPLY:
        services.sla_staff_replied(ticket=ticket, at=change.at)
    elif change.kind == ChangeKind.STATUS_CHANGED:
        assert change.previous_status is not None
        services.sla_status_changed(
            ticket=ticket, previous_status=change.previous_status, at=change.at
        )
    elif change.kind == ChangeKind.SEVERITY_CHANGED:
        services.sla_severity_changed(ticket=ticket, at=change.at)
    elif change.kind == ChangeKind.CALLED_BACK:
        services.sla_called_back(ticket=ticket, at=change.at)
    elif change.kind == ChangeKind.ASSIGNED:
        services.sla_ticket_assigned(ticket=ticket)
    else:  # a change that moves no deadline (a customer's reply; its status change comes apart)
        return
    services.sla_sync_ticket_deadline(ticket=ticket)
