"""The webhooks app's side of the other apps' signals: each change becomes an event written to
the outbox in the changing transaction. When nobody listens, each costs one query."""

from __future__ import annotations

from typing import Any

from scheduling.signals import BookingChange, BookingChangeKind
from sla.signals import DueKind, DueTarget
from tickets.models import Escalation, Ticket, Visibility
from tickets.signals import ChangeKind, TicketChange
from webhooks import payloads, services
from webhooks.models import EventType
from webhooks.selectors import webhook_subscribers

_TICKET_EVENTS = {
    ChangeKind.STAFF_PUBLIC_REPLY: EventType.TICKET_REPLIED,
    ChangeKind.CUSTOMER_REPLY: EventType.TICKET_REPLIED,
    ChangeKind.STATUS_CHANGED: EventType.TICKET_STATUS_CHANGED,
}
_BOOKING_EVENTS = {
    BookingChangeKind.CREATED: EventType.BOOKING_CREATED,
    BookingChangeKind.MOVED: EventType.BOOKING_MOVED,
    BookingChangeKind.CANCELLED: EventType.BOOKING_CANCELLED,
}


def on_ticket_changed(sender: Any, *, change: TicketChange, **kwargs: Any) -> None:
    event_type = _TICKET_EVENTS.get(change.kind)
    if event_type is None:
        return
    message = change.message
    if event_type == EventType.TICKET_REPLIED and (
        message is None or message.visibility != Visibility.PUBLIC or message.is_automatic
    ):
        return  # only people's public replies: an internal note never leaves the desk
    ticket = change.ticket
    subscribers = webhook_subscribers(event_type=event_type, company_ids={ticket.company_id})
    if not subscribers:
        return
    if message is not None:
        data = payloads.reply_data(
            ticket, message, by_staff=change.kind == ChangeKind.STAFF_PUBLIC_REPLY
        )
    else:
        data = {"ticket": payloads.ticket_data(ticket)}
        if change.kind == ChangeKind.STATUS_CHANGED:
            data["previous_status"] = change.previous_status
    services.webhook_events_emit(
        event_type=event_type,
        events=[services.WebhookEvent(company_id=ticket.company_id, data=data, at=change.at)],
        now=change.at,
        subscribers=subscribers,
    )


def on_tickets_created(sender: Any, *, tickets: list[Ticket], **kwargs: Any) -> None:
    subscribers = webhook_subscribers(
        event_type=EventType.TICKET_CREATED, company_ids={ticket.company_id for ticket in tickets}
    )
    if not subscribers or not tickets:
        return
    services.webhook_events_emit(
        event_type=EventType.TICKET_CREATED,
        events=[
            services.WebhookEvent(
                company_id=ticket.company_id,
                data={"ticket": payloads.ticket_data(ticket)},
                at=ticket.created_at,
            )
            for ticket in tickets
        ],
        now=max(ticket.created_at for ticket in tickets),
        subscribers=subscribers,
    )


def on_tickets_escalated(
    sender: Any, *, escalations: list[Escalation], at: Any, **kwargs: Any
) -> None:
    subscribers = webhook_subscribers(event_type=EventType.TICKET_ESCALATED)
    if not subscribers or not escalations:
        return
    tickets = _tickets({row.ticket_id for row in escalations})
    services.webhook_events_emit(
        event_type=EventType.TICKET_ESCALATED,
        events=[
            services.WebhookEvent(
                company_id=tickets[row.ticket_id].company_id,
                data=payloads.escalation_data(tickets[row.ticket_id], row),
                at=row.created_at,
            )
            for row in escalations
        ],
        now=at,
        subscribers=subscribers,
    )


def on_sla_targets_due(
    sender: Any, *, kind: DueKind, targets: list[DueTarget], now: Any, **kwargs: Any
) -> None:
    event_type = (
        EventType.TICKET_SLA_BREACHED if kind == DueKind.BREACH else EventType.TICKET_SLA_WARNING
    )
    subscribers = webhook_subscribers(event_type=event_type)
    if not subscribers or not targets:
        return
    tickets = _tickets({target.ticket_id for target in targets})
    services.webhook_events_emit(
        event_type=event_type,
        events=[
            services.WebhookEvent(
                company_id=tickets[target.ticket_id].company_id,
                data=payloads.sla_data(
                    tickets[target.ticket_id],
                    target_id=target.target_id,
                    target_kind=target.target_kind,
                    due_at=target.due_at,
                ),
                at=target.at,
            )
            for target in targets
        ],
        now=now,
        subscribers=subscribers,
    )


def on_booking_changed(sender: Any, *, change: BookingChange, **kwargs: Any) -> None:
    booking = change.booking
    event_type = _BOOKING_EVENTS[change.kind]
    subscribers = webhook_subscribers(event_type=event_type, company_ids={booking.company_id})
    if not subscribers:
        return
    services.webhook_events_emit(
        event_type=event_type,
        events=[
            services.WebhookEvent(
                company_id=booking.company_id, data=payloads.booking_data(booking), at=change.at
            )
        ],
        now=change.at,
        subscribers=subscribers,
    )


def _tickets(ids: set[int]) -> dict[int, Ticket]:
    """The tickets of a batch with their requesters, in one query."""
    return {
        ticket.pk: ticket
        for ticket in Ticket.objects.filter(pk__in=ids).select_related("requester")
    }
