"""Every write to tickets; one transaction each, announced through `tickets.signals`."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tier, User
from accounts.selectors import company_active_addon
from outbox.services import email_queue
from tickets.attachments import attachments_add
from tickets.markdown import render_markdown
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    Escalation,
    EscalationSource,
    EventKind,
    Notification,
    NotificationKind,
    Severity,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    Visibility,
)
from tickets.signals import (
    ChangeKind,
    TicketChange,
    announce,
    announce_created,
    announce_escalations,
)
from vipsupport.bulk import rows_update
from vipsupport.logs import logs_ticket
from vipsupport.write_lock import sqlite_write_lock


def is_staff_member(user: User) -> bool:
    """Staff are the users who belong to no customer company."""
    return user.company_id is None


def _event(
    *,
    ticket: Ticket,
    kind: EventKind,
    actor: User | None,
    at: datetime.datetime,
    **data: Any,
) -> TicketEvent:
    event = TicketEvent(ticket=ticket, kind=kind, actor=actor, data=data, created_at=at)
    event.save()
    return event


def _require_member(user: User | None, ticket: Ticket) -> None:
    """A customer may act only on their own company's tickets (views 404 before this)."""
    if user is not None and not is_staff_member(user) and user.company_id != ticket.company_id:
        raise PermissionDenied


def _require_text(value: str, field: str, message: str) -> str:
    if not value or not value.strip():
        raise ValidationError({field: message})
    return value.strip()


@dataclass(frozen=True)
class NewTicket:
    """One ticket for `tickets_create_bulk`: what `ticket_create` takes, as a value."""

    requester: User
    subject: str
    description: str
    severity: int
    channel: Channel = Channel.WEB
    created_by: User | None = None
    cc: Sequence[User] = ()
    files: Sequence[UploadedFile] = ()
    assignee: User | None = None
    at: datetime.datetime | None = None


def ticket_create(
    *,
    requester: User,
    subject: str,
    description: str,
    severity: int,
    channel: Channel = Channel.WEB,
    created_by: User | None = None,
    cc: Iterable[User] = (),
    files: Sequence[UploadedFile] = (),
    assignee: User | None = None,
    at: datetime.datetime | None = None,
) -> Ticket:
    """Open a ticket for a customer, with files on its description; staff may file it for them
    (e-mail, phone, voicemail), and a channel may hand it to an agent from the start."""
    new = NewTicket(
        requester=requester,
        subject=subject,
        description=description,
        severity=severity,
        channel=channel,
        created_by=created_by,
        cc=list(cc),
        files=files,
        assignee=assignee,
        at=at,
    )
    return tickets_create_bulk(tickets=[new])[0]


@transaction.atomic
def tickets_create_bulk(
    *, tickets: Sequence[NewTicket], now: datetime.datetime | None = None
) -> list[Ticket]:
    """Open many tickets at once (a batch of e-mail), each dated at its own `at` (else `now`):
    every row validated, then one INSERT per table for all of them, whatever their number;
    the first invalid ticket raises and nothing is written."""
    now = now or timezone.now()
    rows: list[Ticket] = []
    for new in tickets:
        requester, assignee = new.requester, new.assignee
        if requester.company_id is None:
            raise ValidationError(
                {"requester": _("Only customers can be the requester of a ticket.")}
            )
        if assignee is not None and not assignee.has_agent_profile:
            raise ValidationError({"assignee": _("%(user)s is not an agent.") % {"user": assignee}})
        if any(user.company_id != requester.company_id for user in new.cc):
            raise ValidationError({"cc": _("Only colleagues from your own company can be copied.")})
        at = new.at or now
        ticket = Ticket(
            company_id=requester.company_id,
            requester=requester,
            subject=new.subject.strip(),
            description=new.description.strip(),
            severity=new.severity,
            channel=new.channel,
            assignee=assignee,
            created_at=at,
            updated_at=at,
        )
        # The company and requester are the saved rows just read: no query to prove they exist.
        ticket.full_clean(exclude=["company", "requester", "assignee"])
        ticket.description_html = render_markdown(ticket.description)  # once, after validation
        rows.append(ticket)
    if not rows:
        return rows
    Ticket.objects.bulk_create(rows)
    copied = [
        Ticket.cc.through(ticket_id=ticket.pk, user_id=user.pk)
        for ticket, new in zip(rows, tickets, strict=True)
        for user in {user.pk: user for user in new.cc}.values()
    ]
    if copied:
        Ticket.cc.through.objects.bulk_create(copied)
    for ticket, new in zip(rows, tickets, strict=True):
        attachments_add(ticket=ticket, files=new.files)
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            kind=EventKind.CREATED,
            actor=new.created_by or new.requester,
            data={"severity": ticket.severity, "channel": ticket.channel},
            created_at=ticket.created_at,
        )
        for ticket, new in zip(rows, tickets, strict=True)
    )
    _assignments_record(
        [
            _Assignment(ticket, None, new.assignee, new.created_by, ticket.created_at)
            for ticket, new in zip(rows, tickets, strict=True)
            if new.assignee is not None
        ]
    )
    announce_created(tickets=rows)
    return rows


def _message_write(
    *,
    ticket: Ticket,
    author: User | None,
    body: str,
    visibility: Visibility,
    files: Sequence[UploadedFile],
    at: datetime.datetime,
    is_automatic: bool = False,
) -> TicketMessage:
    """Validate and store a message with its files, its HTML rendered once."""
    message = TicketMessage(
        ticket=ticket,
        author=author,
        body=body,
        visibility=visibility,
        is_automatic=is_automatic,
        created_at=at,
    )
    # The ticket and author are saved rows the caller read: no query to prove they exist.
    message.full_clean(exclude=["ticket", "author"])
    message.body_html = render_markdown(message.body)  # once, after validation
    message.save()
    attachments_add(message=message, files=files)
    return message


def _change_status(
    *, ticket: Ticket, status: Status, actor: User | None, at: datetime.datetime
) -> str | None:
    """Save a new status with its event and return the previous one (None when unchanged)."""
    previous = ticket.status
    if previous == status:
        return None
    ticket.status = status
    ticket.updated_at = at
    ticket.save(update_fields=["status", "updated_at"])
    _event(ticket=ticket, kind=EventKind.STATUS, actor=actor, at=at, old=previous, new=status)
    return previous


@logs_ticket
@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    new_status: Status | None = None,
    files: Sequence[UploadedFile] = (),
    at: datetime.datetime | None = None,
) -> TicketMessage:
    """Add a public reply with its files; a staff reply answers the customer, a customer reply
    reopens."""
    body = _require_text(body, "body", _("Write a reply before sending it."))
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    _require_member(author, ticket)
    if ticket.is_closed:
        raise ValidationError(
            _("This ticket is closed, so it cannot take replies. Open a new ticket instead.")
        )
    if new_status == Status.NEW and ticket.status != Status.NEW:
        raise ValidationError(_("A ticket cannot go back to New."))
    message = _message_write(
        ticket=ticket, author=author, body=body, visibility=Visibility.PUBLIC, files=files, at=at
    )
    _event(ticket=ticket, kind=EventKind.REPLIED, actor=author, at=at, message=message.pk)
    if is_staff_member(author):
        if ticket.assignee_id is None and author.has_agent_profile:
            # The agent who answers an unowned ticket owns it from then on.
            previous_assignee = ticket.assignee_id
            ticket.assignee = author
            ticket.updated_at = at
            ticket.save(update_fields=["assignee", "updated_at"])
            _event(
                ticket=ticket,
                kind=EventKind.ASSIGNED,
                actor=author,
                at=at,
                old=previous_assignee,
                new=author.pk,
                assignee_name=str(author),
            )
            announce(TicketChange(ChangeKind.ASSIGNED, ticket, at))
        target = new_status or (Status.OPEN if ticket.status == Status.NEW else None)
        previous = (
            _change_status(ticket=ticket, status=target, actor=author, at=at) if target else None
        )
        # The reply is announced first so it answers what was due before any pause starts.
        announce(TicketChange(ChangeKind.STAFF_PUBLIC_REPLY, ticket, at, message=message))
        if previous is not None:
            announce(TicketChange(ChangeKind.STATUS_CHANGED, ticket, at, previous_status=previous))
    else:
        announce(TicketChange(ChangeKind.CUSTOMER_REPLY, ticket, at, message=message))
        if ticket.status in (Status.WAITING, Status.SOLVED):
            previous = _change_status(ticket=ticket, status=Status.OPEN, actor=author, at=at)
            announce(TicketChange(ChangeKind.STATUS_CHANGED, ticket, at, previous_status=previous))
    return message


@logs_ticket
@transaction.atomic
def ticket_add_note(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    files: Sequence[UploadedFile] = (),
    at: datetime.datetime | None = None,
) -> TicketMessage:
    """Add an internal note with its files; customers never see it and it never counts as a
    response."""
    if not is_staff_member(author):
        raise ValidationError(_("Only staff can add internal notes."))
    body = _require_text(body, "body", _("Write the note before saving it."))
    at = at or timezone.now()
    message = _message_write(
        ticket=ticket, author=author, body=body, visibility=Visibility.INTERNAL, files=files, at=at
    )
    _event(ticket=ticket, kind=EventKind.NOTE, actor=author, at=at, message=message.pk)
    return message


@logs_ticket
@transaction.atomic
def ticket_record_automatic(
    *, ticket: Ticket, body: str, at: datetime.datetime, files: Sequence[UploadedFile] = ()
) -> TicketMessage:
    """Keep a message a program sent about the ticket (an out-of-office reply, a bounce) where
    staff see it; it reopens nothing, answers nothing and tells nobody."""
    message = _message_write(
        ticket=ticket,
        author=None,
        body=body.strip() or "—",
        visibility=Visibility.INTERNAL,
        files=files,
        at=at,
        is_automatic=True,
    )
    _event(ticket=ticket, kind=EventKind.NOTE, actor=None, at=at, message=message.pk)
    return message


@logs_ticket
def ticket_record_chat(
    *, ticket: Ticket, transcript: str, actor: User | None, at: datetime.datetime
) -> TicketMessage:
    """Keep (part of) a live chat's transcript on the ticket, where the customer and staff read
    it; the chat was the conversation itself, so it answers, reopens and tells nothing."""
    message = _message_write(
        ticket=ticket,
        author=None,
        body=transcript.strip() or "—",
        visibility=Visibility.PUBLIC,
        files=(),
        at=at,
        is_automatic=True,
    )
    _event(ticket=ticket, kind=EventKind.CHAT, actor=actor, at=at, message=message.pk)
    return message


@logs_ticket
@transaction.atomic
def ticket_called_back(
    *,
    ticket: Ticket,
    actor: User,
    reached: bool,
    note: str = "",
    at: datetime.datetime | None = None,
) -> Ticket:
    """Record a call back to the customer: reached, it meets the callback (and answers the
    ticket, as a reply would); not reached, it is an attempt on the timeline and the callback
    keeps running."""
    if not is_staff_member(actor):
        raise ValidationError(_("Only staff call customers back."))
    note = note.strip()
    if not reached and not note:
        raise ValidationError({"note": _("Say what happened: no answer, busy, wrong number…")})
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.is_closed:
        raise ValidationError(_("This ticket is closed."))
    kind = EventKind.CALLED_BACK if reached else EventKind.CALLBACK_FAILED
    _event(ticket=ticket, kind=kind, actor=actor, at=at, note=note)
    ticket.updated_at = at
    ticket.save(update_fields=["updated_at"])
    if reached:
        previous = (
            _change_status(ticket=ticket, status=Status.OPEN, actor=actor, at=at)
            if ticket.status == Status.NEW
            else None
        )
        announce(TicketChange(ChangeKind.CALLED_BACK, ticket, at))
        if previous is not None:
            announce(TicketChange(ChangeKind.STATUS_CHANGED, ticket, at, previous_status=previous))
    return ticket


@logs_ticket
@transaction.atomic
def ticket_set_status(
    *, ticket: Ticket, status: Status, actor: User | None, at: datetime.datetime | None = None
) -> Ticket:
    if status not in Status.values:
        raise ValidationError({"status": _("Choose a valid status.")})
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    _require_member(actor, ticket)
    if ticket.is_closed and status != Status.CLOSED:
        raise ValidationError(_("A closed ticket cannot be reopened. Open a new ticket instead."))
    if status == Status.NEW and ticket.status != Status.NEW:
        raise ValidationError(_("A ticket cannot go back to New."))
    if (
        actor is not None
        and not is_staff_member(actor)
        and status not in (Status.SOLVED, Status.OPEN)
    ):
        raise ValidationError(_("Customers can only mark a ticket solved or reopen it."))
    previous = _change_status(ticket=ticket, status=status, actor=actor, at=at)
    if previous is not None:
        announce(TicketChange(ChangeKind.STATUS_CHANGED, ticket, at, previous_status=previous))
    return ticket


@logs_ticket
@transaction.atomic
def ticket_change_severity(
    *,
    ticket: Ticket,
    severity: int,
    reason: str,
    actor: User | None,
    at: datetime.datetime | None = None,
) -> Ticket:
    reason = _require_text(reason, "reason", _("Say why the severity changes."))
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose a severity from 1 to 5.")})
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    previous = ticket.severity
    if previous == severity:
        return ticket
    ticket.severity = severity
    ticket.updated_at = at
    ticket.save(update_fields=["severity", "updated_at"])
    _event(
        ticket=ticket,
        kind=EventKind.SEVERITY,
        actor=actor,
        at=at,
        old=previous,
        new=severity,
        reason=reason,
    )
    announce(TicketChange(ChangeKind.SEVERITY_CHANGED, ticket, at, previous_severity=previous))
    return ticket


@logs_ticket
@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    assignee: User | None,
    actor: User | None,
    at: datetime.datetime | None = None,
) -> Ticket:
    if assignee is not None and not assignee.has_agent_profile:
        raise ValidationError({"assignee": _("%(user)s is not an agent.") % {"user": assignee}})
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    previous = ticket.assignee_id
    ticket.assignee = assignee
    ticket.updated_at = at
    ticket.save(update_fields=["assignee", "updated_at"])
    _assignment_record(ticket=ticket, previous=previous, assignee=assignee, actor=actor, at=at)
    announce(TicketChange(ChangeKind.ASSIGNED, ticket, at))
    return ticket


class _Assignment(NamedTuple):
    ticket: Ticket
    previous: int | None
    assignee: User | None
    actor: User | None
    at: datetime.datetime


def _assignment_record(
    *,
    ticket: Ticket,
    previous: int | None,
    assignee: User | None,
    actor: User | None,
    at: datetime.datetime,
) -> None:
    """The ASSIGNED event, and the new assignee's notice unless they assigned themselves."""
    _assignments_record([_Assignment(ticket, previous, assignee, actor, at)])


def _assignments_record(assignments: list[_Assignment]) -> None:
    """The ASSIGNED events of many tickets and their assignees' notices: two INSERTs."""
    if not assignments:
        return
    events = TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=row.ticket,
            kind=EventKind.ASSIGNED,
            actor=row.actor,
            data={
                "old": row.previous,
                "new": row.assignee.pk if row.assignee else None,
                "assignee_name": str(row.assignee) if row.assignee else "",
            },
            created_at=row.at,
        )
        for row in assignments
    )
    notifications_bulk_create(
        notifications=[
            Notification(
                recipient_id=row.assignee.pk,
                kind=NotificationKind.ASSIGNMENT,
                ticket_id=row.ticket.pk,
                subject_key=f"event:{event.pk}",
                created_at=row.at,
            )
            for row, event in zip(assignments, events, strict=True)
            if row.assignee is not None and row.assignee != row.actor
        ]
    )


@logs_ticket
@transaction.atomic
def ticket_escalate(
    *,
    ticket: Ticket,
    reason: str,
    source: EscalationSource,
    requested_by: User | None = None,
    at: datetime.datetime | None = None,
) -> Escalation:
    """Move a ticket to the tier-2 seniors and tell them; a ticket already there stays put."""
    reason = _require_text(reason, "reason", _("Say why the ticket needs a senior engineer."))
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status in (Status.SOLVED, Status.CLOSED):
        raise ValidationError(_("Only open tickets can be escalated."))
    if source == EscalationSource.CUSTOMER and company_active_addon(company=ticket.company) is None:
        raise ValidationError(
            _("Priority access to senior engineers comes with the dedicated-agent add-on.")
        )
    existing = ticket.escalations.order_by("-created_at").first()
    if ticket.tier == Tier.SENIOR and existing is not None:
        return existing
    escalation = Escalation(
        ticket=ticket, source=source, requested_by=requested_by, reason=reason, created_at=at
    )
    escalation.full_clean()
    _escalate([escalation], now=at)
    return escalation


@transaction.atomic
def tickets_escalate_bulk(
    *,
    moments: dict[int, datetime.datetime],
    source: EscalationSource,
    now: datetime.datetime,
) -> int:
    """Escalate many tickets at once (the SLA scan), each dated at its own moment, in a few
    queries; the tickets are stamped updated `now`. The reason is the source's own (see
    `escalation_reason`).

    Tickets already on tier 2, solved or closed are left as they are.
    """
    eligible = (
        Ticket.objects.select_for_update()
        .filter(pk__in=moments, tier=Tier.AGENT, status__in=OPEN_STATUSES)
        .values_list("pk", flat=True)
    )
    escalations = [
        Escalation(ticket_id=pk, source=source, created_at=moments[pk]) for pk in eligible
    ]
    _escalate(escalations, now=now)
    return len(escalations)


def _escalate(escalations: list[Escalation], *, now: datetime.datetime) -> None:
    """Move the tickets to tier 2, record why, and tell every senior; one query per step."""
    if not escalations:
        return
    Ticket.objects.filter(pk__in=[row.ticket_id for row in escalations]).update(
        tier=Tier.SENIOR, updated_at=now
    )
    Escalation.objects.bulk_create(escalations)
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=row.ticket_id,
            kind=EventKind.ESCALATED,
            actor_id=row.requested_by_id,
            data={"source": row.source, "reason": row.reason},
            created_at=row.created_at,
        )
        for row in escalations
    )
    seniors = list(
        User.objects.filter(agent_profile__tier=Tier.SENIOR, is_active=True).values_list(
            "pk", flat=True
        )
    )
    notifications_bulk_create(
        notifications=[
            Notification(
                recipient_id=senior,
                kind=NotificationKind.ESCALATION,
                ticket_id=row.ticket_id,
                subject_key=f"escalation:{row.pk}",
                created_at=row.created_at,
            )
            for row in escalations
            for senior in seniors
        ]
    )
    announce_escalations(escalations=escalations, at=now)


def ticket_events_bulk_record(*, events: Iterable[TicketEvent]) -> None:
    """Append many system events at once, for scans that touch many tickets."""
    TicketEvent.objects.bulk_create(list(events))


def tickets_set_sla_deadlines(*, tickets: Sequence[Ticket]) -> None:
    """Store the SLA engine's clock start and next deadline set on new tickets: one UPDATE."""
    rows_update(objects=tickets, fields=["sla_clock_started_at", "sla_due_at", "sla_warn_at"])


def ticket_set_sla_deadline(
    *, ticket: Ticket, due_at: datetime.datetime | None, warn_at: datetime.datetime | None
) -> None:
    """Store the SLA engine's next deadline on the ticket, for the queue's single index."""
    if (ticket.sla_due_at, ticket.sla_warn_at) == (due_at, warn_at):
        return
    ticket.sla_due_at, ticket.sla_warn_at = due_at, warn_at
    ticket.save(update_fields=["sla_due_at", "sla_warn_at"])


def notifications_create(
    *,
    recipient_ids: Iterable[int],
    kind: NotificationKind,
    ticket_id: int,
    subject_key: str,
    at: datetime.datetime,
) -> None:
    """In-app notices, once per recipient and subject; their e-mails go out after commit."""
    rows = [
        Notification(
            recipient_id=recipient_id,
            kind=kind,
            ticket_id=ticket_id,
            subject_key=subject_key,
            created_at=at,
        )
        for recipient_id in set(recipient_ids)
    ]
    notifications_bulk_create(notifications=rows)


def notifications_bulk_create(*, notifications: list[Notification]) -> None:
    if not notifications:
        return
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    from tickets.tasks import queue_notification_emails

    # One run per transaction is enough: it writes the e-mails of every notice still without.
    enqueue = queue_notification_emails.delay
    if not any(entry[1] == enqueue for entry in connection.run_on_commit):
        transaction.on_commit(enqueue, robust=True)


# Attempts the outbox makes at each notification e-mail before it gives up.
EMAIL_ATTEMPTS_LIMIT = 5


def notifications_queue_emails(
    *, now: datetime.datetime | None = None, batch_size: int = 200
) -> int:
    """Write the e-mail of every notice that has none yet to the outbox, in its recipient's
    language; each notice is claimed, so none is e-mailed twice. Returns how many.

    The notices' own transaction (the scan's, say) only stores them: rendering thousands of
    e-mails there would hold the scan's locks; the task that runs after its commit does it.
    """
    from tickets.emails import notification_message

    now = now or timezone.now()
    queued = 0
    while True:
        with transaction.atomic():
            sqlite_write_lock()
            batch = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(emailed_at__isnull=True)
                .select_related("recipient", "ticket__company")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return queued
            for notification in batch:
                email_queue(
                    message=notification_message(notification),
                    now=now,
                    topic=f"notification:{notification.pk}",
                    max_attempts=EMAIL_ATTEMPTS_LIMIT,
                )
            Notification.objects.filter(pk__in=[row.pk for row in batch]).update(emailed_at=now)
            queued += len(batch)


def notification_mark_read(
    *, user: User, notification_id: int, now: datetime.datetime | None = None
) -> None:
    """Mark one of the user's own notifications read; again is a no-op, another's does not exist."""
    now = now or timezone.now()
    # Conditional on read_at so a second click, or a race, keeps the first time it was read.
    updated = Notification.objects.filter(
        pk=notification_id, recipient=user, read_at__isnull=True
    ).update(read_at=now)
    if not updated and not Notification.objects.filter(pk=notification_id, recipient=user).exists():
        raise Notification.DoesNotExist(notification_id)


def notifications_mark_all_read(*, user: User, now: datetime.datetime | None = None) -> int:
    """Mark every unread notification of the user read, in one UPDATE; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
