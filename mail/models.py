"""The e-mail channel: every message received, stored raw first, and the ids that thread replies."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Company
from tickets.models import Ticket, TicketMessage


class Transport(models.TextChoices):
    SMTP = "smtp", _("SMTP receiver")
    IMAP = "imap", _("IMAP mailbox")
    PIPE = "pipe", _("MTA pipe")
    STAFF = "staff", _("Accepted by staff")


class InboundState(models.TextChoices):
    RECEIVED = "received", _("Received, not yet read")
    TICKET = "ticket", _("Opened a ticket")
    REPLY = "reply", _("Added to a ticket")
    AUTOMATED = "automated", _("Automatic mail, kept")
    UNVERIFIED = "unverified", _("Unknown sender, waiting for an agent")
    REJECTED = "rejected", _("Rejected by an agent")
    REFUSED = "refused", _("Too large, refused")
    UNREADABLE = "unreadable", _("Could not be read, waiting for an agent")


# States an agent still has to decide on.
NEEDS_AGENT_STATES = (InboundState.UNVERIFIED, InboundState.UNREADABLE)


def raw_path(instance: InboundMail, filename: str) -> str:
    """A random name: the stored file never takes its name from the message."""
    return f"mail/{instance.received_at:%Y/%m}/{uuid.uuid4().hex}.eml"


class InboundMail(models.Model):
    """One message as it arrived, kept whole; what became of it is recorded on the row."""

    # The sender's Message-ID, or one made of the message's digest when it has none, so a
    # delivery repeated by any transport is recognised.
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    raw = models.FileField(_("message as received"), upload_to=raw_path, max_length=255)
    size = models.PositiveIntegerField(_("size in bytes"))
    transport = models.CharField(_("arrived by"), max_length=8, choices=Transport.choices)
    received_at = models.DateTimeField(_("received at"))
    envelope_sender = models.CharField(_("return path"), max_length=254, blank=True)
    recipient = models.CharField(
        _("to address"),
        max_length=254,
        blank=True,
        help_text=_("Which of our addresses it was sent to."),
    )
    sender = models.CharField(_("from"), max_length=254, blank=True)
    sender_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_mail",
    )
    ticket_message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_mail",
        help_text=_("Empty when the e-mail opened the ticket (it is the description)."),
    )
    # The text as read from the message, before quoted history and signatures were trimmed.
    full_text = models.TextField(_("full text"), blank=True)
    # The message's HTML part, sanitised, for agents who need to see how it looked.
    html = models.TextField(_("HTML, sanitised"), blank=True)
    problem = models.TextField(_("what went wrong"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(state__in=["received", "unverified", "unreadable"]),
                name="inbound_mail_open",
            ),
            models.Index(fields=["ticket", "received_at"], name="inbound_mail_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject} ({self.get_state_display()})"


class ThreadId(models.Model):
    """A Message-ID that belongs to a ticket's thread: ours (replies we sent) or the customers'
    (mail we received), so an answer to either lands on the ticket."""

    value = models.CharField(_("Message-ID"), max_length=255, unique=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+"
    )
    is_ours = models.BooleanField(_("sent by us"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("thread id")
        verbose_name_plural = _("thread ids")
        indexes = [models.Index(fields=["ticket", "created_at"], name="thread_id_ticket")]

    def __str__(self) -> str:
        return self.value


class Acknowledgement(models.Model):
    """The one automatic reply a sender gets per ticket per desk day (RFC 3834's "at most once")."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+"
    )
    address = models.EmailField(_("sent to"), max_length=254)
    day = models.DateField(_("desk day"))
    created_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "address", "day"], name="one_acknowledgement_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} → {self.address} ({self.day})"


class ImapCursor(models.Model):
    """How far the IMAP poller has read one mailbox: its UIDVALIDITY and the last UID stored."""

    mailbox = models.CharField(_("mailbox"), max_length=255, unique=True)
    uid_validity = models.PositiveBigIntegerField(_("UIDVALIDITY"))
    last_uid = models.PositiveBigIntegerField(_("last UID stored"), default=0)
    polled_at = models.DateTimeField(_("last polled at"))

    class Meta:
        verbose_name = _("IMAP mailbox")
        verbose_name_plural = _("IMAP mailboxes")

    def __str__(self) -> str:
        return f"{self.mailbox} (UID {self.last_uid})"
