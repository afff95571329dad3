"""Tickets, their conversation, their append-only audit trail, escalations and notifications."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, Tier

# Descriptions and replies: a long log or a pasted e-mail fits, a denial of service does not.
MAX_TEXT_LENGTH = 50_000


def text_length_validator(value: str) -> None:
    """Refuse ticket text longer than `MAX_TEXT_LENGTH`, saying by how much."""
    if len(value) > MAX_TEXT_LENGTH:
        raise ValidationError(
            _(
                "This text is %(length)s characters long; the limit is %(limit)s. Shorten it, "
                "or attach long logs as a file."
            ),
            code="too_long",
            params={
                "length": formats.number_format(len(value), force_grouping=True),
                "limit": formats.number_format(MAX_TEXT_LENGTH, force_grouping=True),
            },
        )


class Severity(models.IntegerChoices):
    """The seed's five severities; the number is what customers and the SLA table use."""

    CRITICAL = 1, _("1 – critical")
    HIGH = 2, _("2 – high")
    STANDARD = 3, _("3 – standard")
    BUG = 4, _("4 – bug fixing")
    REQUEST = 5, _("5 – request")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting on customer")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# Statuses in which the customer is owed an answer; the others pause or end the SLA.
ACTIVE_STATUSES = (Status.NEW, Status.OPEN)
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)


class Channel(models.TextChoices):
    WEB = "web", _("Web portal")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")
    VOICEMAIL = "voicemail", _("Voicemail")
    PHONE = "phone", _("Phone")


# Channels whose tickets, received while the desk is closed, wait out of the queue's sight until
# their SLA clock starts (the seed: "no action is taken before the next business day").
HELD_CHANNELS = (Channel.EMAIL,)


class Ticket(models.Model):
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), validators=[text_length_validator])
    # The description as sanitised HTML, rendered once when it is written (`tickets.markdown`).
    description_html = models.TextField(_("description as HTML"), blank=True, editable=False)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.STANDARD
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        limit_choices_to={"agent_profile__isnull": False},
    )
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.AGENT)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))
    sla_clock_started_at = models.DateTimeField(
        _("SLA clock started at"),
        null=True,
        blank=True,
        help_text=_(
            "Later than the creation time when a business-hours channel received it closed."
        ),
    )
    # The SLA engine keeps these equal to its earliest target still waiting for staff, so the
    # queue orders and pages tickets with one index on this table.
    sla_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(_("SLA warning from"), null=True, blank=True)
    cc = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("CC"),
        blank=True,
        related_name="cc_tickets",
        help_text=_("Colleagues of the requester who follow the ticket."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["company", "status", "-created_at"], name="ticket_company_status"),
            models.Index(
                fields=["assignee", "status"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_open_by_assignee",
            ),
            models.Index(
                fields=["sla_due_at", "severity", "created_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_queue_order",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def description_as_html(self) -> SafeString:
        """The description as it was rendered and sanitised when written."""
        return mark_safe(self.description_html)  # noqa: S308 (sanitised by tickets.markdown)

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    INTERNAL = "internal", _("Internal note")


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for messages the system sent by itself."),
    )
    body = models.TextField(_("body"), validators=[text_length_validator])
    # The body as sanitised HTML, rendered once when it is written (`tickets.markdown`).
    body_html = models.TextField(_("body as HTML"), blank=True, editable=False)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    is_automatic = models.BooleanField(
        _("automatic"),
        default=False,
        help_text=_("Acknowledgements and other messages nobody wrote; they never meet an SLA."),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_visibility_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def body_as_html(self) -> SafeString:
        """The body as it was rendered and sanitised when written."""
        return mark_safe(self.body_html)  # noqa: S308 (sanitised by tickets.markdown)


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random name under the ticket; the uploaded name is kept on the row, never used on disk."""

    return f"attachments/{instance.ticket_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on a public message or a note; downloaded only through a view that checks access."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        help_text=_("Empty for files sent with the ticket's description."),
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    SEVERITY = "severity", _("Severity changed")
    ASSIGNED = "assigned", _("Assigned")
    ESCALATED = "escalated", _("Escalated to tier 2")
    REPLIED = "replied", _("Public reply")
    NOTE = "note", _("Internal note")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    CALLED_BACK = "called_back", _("Called back")
    CALLBACK_FAILED = "callback_failed", _("Callback attempt failed")
    CHAT = "chat", _("Chat transcript")


class TicketEventQuerySet(models.QuerySet["TicketEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Ticket events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Ticket events are append-only.")


class TicketEvent(models.Model):
    """One change to a ticket, as it happened; rows are never updated or deleted."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system made the change."),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"))

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Ticket events are append-only.")
        # An insert, always: a row built with an existing primary key must not overwrite it.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Ticket events are append-only.")

    @property
    def detail(self) -> str:
        """What changed, in the active language: "Open → Waiting on customer", the reason…"""
        data = self.data
        if self.kind == EventKind.STATUS:
            return f"{Status(data['old']).label} → {Status(data['new']).label}"
        if self.kind == EventKind.SEVERITY:
            return f"{data['old']} → {data['new']}: {data.get('reason', '')}"
        if self.kind == EventKind.ASSIGNED:
            return f"→ {data.get('assignee_name') or '—'}"
        if self.kind in (EventKind.CALLED_BACK, EventKind.CALLBACK_FAILED):
            return str(data.get("note", ""))
        if self.kind == EventKind.ESCALATED:
            reason = escalation_reason(data["source"], data.get("reason", ""))
            return f"{EscalationSource(data['source']).label}: {reason}"
        return ""


class EscalationSource(models.TextChoices):
    CUSTOMER = "customer", _("The customer")
    AGENT = "agent", _("An agent")
    SLA = "sla", _("The SLA engine")


def escalation_reason(source: str, reason: str) -> str:
    """Why a ticket went to tier 2, in the active language: people's own words, or for the SLA
    engine (whose older rows stored "SLA breach" in English) the translated kind."""
    if source == EscalationSource.SLA:
        return str(_("SLA breach"))
    return reason


class Escalation(models.Model):
    """A move of a ticket to the tier-2 seniors: who asked, and why."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="escalations"
    )
    source = models.CharField(_("asked by"), max_length=16, choices=EscalationSource.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Empty for the SLA engine's own escalations: `reason_text` names the breach in the reader's
    # language, which stored English words could not.
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_source_display()}"

    @property
    def reason_text(self) -> str:
        return escalation_reason(self.source, self.reason)


class NotificationKind(models.TextChoices):
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breach")
    ESCALATION = "escalation", _("Escalation")
    ASSIGNMENT = "assignment", _("Assignment")


class Notification(models.Model):
    """An in-app notice to one user; the e-mail copy is sent once, after commit."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="notifications"
    )
    # What the notice is about (an SLA target, an escalation…), so a repeat is recognised.
    subject_key = models.CharField(_("about"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # When its e-mail was written to the outbox (which sends and retries it).
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_key"], name="one_notification_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["id"], condition=Q(emailed_at__isnull=True), name="notification_unsent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.get_kind_display()} #{self.ticket_id}"
