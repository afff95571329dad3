"""Reads about tickets and what happens to them, shared by pages and context processors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Company, User
from accounts.permissions import STAFF_ROLES
from accounts.selectors import DedicatedContact, company_active_addon, company_dedicated_contact
from tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Notification,
    Ticket,
    TicketEvent,
    TicketMessage,
    Visibility,
)


def tickets_of_company(
    *, company_id: int, statuses: Iterable[str], severity: int | None = None, query: str = ""
) -> QuerySet[Ticket]:
    """A customer company's tickets in some statuses, newest first; `query` searches subjects,
    descriptions and public replies (never internal notes)."""
    tickets = Ticket.objects.filter(company_id=company_id, status__in=list(statuses))
    if severity is not None:
        tickets = tickets.filter(severity=severity)
    if query:
        in_messages = TicketMessage.objects.filter(
            ticket=OuterRef("pk"), visibility=Visibility.PUBLIC, body__icontains=query
        )
        tickets = tickets.filter(
            Q(subject__icontains=query) | Q(description__icontains=query) | Exists(in_messages)
        )
    return tickets.select_related("requester").order_by("-created_at", "-pk")


def tickets_open_for_company(*, company: Company) -> QuerySet[Ticket]:
    """The company's open tickets (new, open, waiting), newest first: what a call may be about."""
    return tickets_of_company(company_id=company.pk, statuses=OPEN_STATUSES)


def attachments_visible_to(*, user: User) -> QuerySet[Attachment]:
    """The files `user` may download: staff any; a customer their company's, never a note's file
    (another company's file and a note's file do not exist for them); anyone else none."""
    attachments = Attachment.objects.all()
    if user.company_id is not None:
        return attachments.filter(
            Q(message__isnull=True) | Q(message__visibility=Visibility.PUBLIC),
            ticket__company_id=user.company_id,
        )
    return attachments if user.role in STAFF_ROLES else attachments.none()


def ticket_timeline(*, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's audit trail, oldest first, with who acted."""
    return list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def notifications_unread_count(*, user: User) -> int:
    """How many of the user's notifications are unread; one count on the unread index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first, with the ticket and its company joined."""
    notifications = Notification.objects.filter(recipient=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    # The primary key breaks ties, so a page boundary never repeats or skips a row.
    return notifications.select_related("ticket__company").order_by("-created_at", "-pk")


@dataclass(frozen=True)
class TicketThread:
    """What a ticket page shows around the conversation, read the same way for both sides."""

    conversation: list[TicketMessage]
    description_files: list[Attachment]
    is_vip: bool
    contact: DedicatedContact | None


def ticket_thread(*, ticket: Ticket, with_notes: bool) -> TicketThread:
    """The messages (internal notes only for staff) with their files, and the VIP contact."""
    messages = TicketMessage.objects.filter(ticket=ticket)
    if not with_notes:
        messages = messages.filter(visibility=Visibility.PUBLIC)
    messages = messages.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    is_vip = company_active_addon(company=ticket.company) is not None
    return TicketThread(
        conversation=list(messages),
        description_files=list(ticket.attachments.filter(message__isnull=True)),
        is_vip=is_vip,
        contact=company_dedicated_contact(company=ticket.company, at=timezone.now())
        if is_vip
        else None,
    )


def tickets_visible_to(*, user: User) -> QuerySet[Ticket]:
    """The tickets `user` may see: a customer their company's, staff all, anyone else none."""
    tickets = Ticket.objects.select_related("company", "requester", "assignee")
    if user.company_id is not None:
        return tickets.filter(company_id=user.company_id)
    return tickets if user.role in STAFF_ROLES else tickets.none()
