"""What each event says: the JSON `data` of tickets, replies, SLA targets and calls."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from scheduling.models import Booking
from tickets.models import Escalation, Ticket, TicketMessage, escalation_reason

# The REST API's address of a ticket (the `api` app's route, versioned).
TICKET_API_PATH = "/api/v1/tickets/{id}/"


def iso(moment: datetime.datetime | None) -> str | None:
    """An instant in UTC, ISO 8601 with a Z."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    portal = settings.PORTAL_URL.rstrip("/")
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "severity": ticket.severity,
        "status": ticket.status,
        "channel": ticket.channel,
        "tier": ticket.tier,
        "requester_email": ticket.requester.email,
        "created_at": iso(ticket.created_at),
        "url": portal + reverse("tickets:detail", args=[ticket.pk]),
        "api_url": portal + TICKET_API_PATH.format(id=ticket.pk),
    }


def reply_data(ticket: Ticket, message: TicketMessage, *, by_staff: bool) -> dict[str, Any]:
    return {
        "ticket": ticket_data(ticket),
        "message": {
            "id": message.pk,
            "author": "staff" if by_staff else "customer",
            "body": message.body,
            "created_at": iso(message.created_at),
        },
    }


def sla_data(
    ticket: Ticket, *, target_id: int, target_kind: str, due_at: datetime.datetime
) -> dict[str, Any]:
    return {
        "ticket": ticket_data(ticket),
        "target": {"id": target_id, "kind": target_kind, "due_at": iso(due_at)},
    }


def escalation_data(ticket: Ticket, escalation: Escalation) -> dict[str, Any]:
    with translation.override("en"):  # machines read it: one language, whoever escalated
        reason = escalation_reason(escalation.source, escalation.reason)
    return {
        "ticket": ticket_data(ticket),
        "escalation": {
            "reason": reason,
            "source": escalation.source,
        },
    }


def booking_data(booking: Booking) -> dict[str, Any]:
    return {
        "booking": {
            "id": booking.pk,
            "status": booking.status,
            "starts_at": iso(booking.starts_at),
            "ends_at": iso(booking.ends_at),
            "call_type": booking.call_type.code,
            "agent": str(booking.agent),
            "ticket_id": booking.ticket_id,
        }
    }
