"""Live chat: conversations between a customer and the desk, their messages and files, and
whether each agent is at their desk for chat."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Company
from tickets.models import Ticket

# An agent's open staff page says "still here" this often; a silence of twice that means gone.
PRESENCE_HEARTBEAT = datetime.timedelta(seconds=25)
PRESENCE_TIMEOUT = datetime.timedelta(seconds=70)


class Door(models.TextChoices):
    """How the customer came in: the VIP's own button, or the chat every page has."""

    DEDICATED = "dedicated", _("Dedicated agent")
    SITE = "site", _("Site chat (24/7)")


class ConversationStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    CLOSED = "closed", _("Closed")


OPEN_CONVERSATION_STATUSES = (ConversationStatus.WAITING, ConversationStatus.ACTIVE)


class Side(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class Conversation(models.Model):
    """One chat of a customer with the desk, from the first message until it is closed."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="chat_conversations",
    )
    door = models.CharField(_("door"), max_length=12, choices=Door.choices)
    # The company held the dedicated-agent add-on when the chat began: it goes first in the inbox.
    is_vip = models.BooleanField(_("VIP"), default=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ConversationStatus.choices,
        default=ConversationStatus.WAITING,
    )
    # Who was told first (the dedicated agent, or the backup standing in), and who is told when
    # nobody has taken the chat by `backup_alert_at`.
    requested_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    backup_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("backup"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    backup_alert_at = models.DateTimeField(_("backup told from"), null=True, blank=True)
    backup_alerted_at = models.DateTimeField(_("backup told at"), null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chat_conversations_taken",
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("started at"))
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message at"))
    # Read receipts: the newest message id each side has seen.
    customer_read_up_to = models.BigIntegerField(_("customer read up to"), default=0)
    staff_read_up_to = models.BigIntegerField(_("staff read up to"), default=0)
    # The newest message id already copied to the linked ticket's timeline.
    transcribed_up_to = models.BigIntegerField(_("copied to the ticket up to"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        constraints = [
            # Starting a chat again while one is open resumes it.
            models.UniqueConstraint(
                fields=["customer", "door"],
                condition=Q(status__in=OPEN_CONVERSATION_STATUSES),
                name="one_open_chat_per_customer_and_door",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "-is_vip", "created_at"],
                condition=Q(status__in=OPEN_CONVERSATION_STATUSES),
                name="chat_inbox",
            ),
            models.Index(
                fields=["backup_alert_at"],
                condition=Q(status=ConversationStatus.WAITING, backup_alerted_at__isnull=True),
                name="chat_backup_due",
            ),
            models.Index(fields=["company", "-created_at"], name="chat_company_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CONVERSATION_STATUSES


class ChatMessage(models.Model):
    """A line of the conversation, stored before anyone is told of it."""

    conversation = models.ForeignKey(
        Conversation,
        verbose_name=_("chat"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    side = models.CharField(_("side"), max_length=12, choices=Side.choices)
    body = models.TextField(_("message"), blank=True)
    body_html = models.TextField(_("message as HTML"), blank=True, editable=False)
    # The sender's own id for the message: a resend after a dropped connection is recognised.
    client_id = models.UUIDField(_("sender's id"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=Q(client_id__isnull=False),
                name="one_chat_message_per_client_id",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"], name="chat_message_resume")]

    def __str__(self) -> str:
        return self.body[:60]


def chat_file_path(instance: ChatFile, filename: str) -> str:
    # A random name: the original one is kept in the row and given back on download.
    return f"chat/{instance.conversation_id}/{uuid.uuid4().hex}"


class ChatFile(models.Model):
    """A file sent in a chat, checked like every other upload of the portal."""

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("chat"), on_delete=models.CASCADE, related_name="files"
    )
    message = models.ForeignKey(
        ChatMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="files"
    )
    file = models.FileField(_("file"), upload_to=chat_file_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    created_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("chat file")
        verbose_name_plural = _("chat files")

    def __str__(self) -> str:
        return self.original_name


class PresenceStatus(models.TextChoices):
    AVAILABLE = "available", _("Available for chat")
    BUSY = "busy", _("Busy")


class AgentPresence(models.Model):
    """When an agent last had a staff page open, and whether they take chats now."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chat_presence",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=PresenceStatus.choices,
        default=PresenceStatus.AVAILABLE,
    )
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("chat presence")
        verbose_name_plural = _("chat presence")

    def __str__(self) -> str:
        return f"{self.agent}: {self.get_status_display()}"

    def is_present(self, at: datetime.datetime) -> bool:
        return self.seen_at > at - PRESENCE_TIMEOUT
