"""Every e-mail and webhook the portal sends, as a row written in the transaction deciding it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Attempts before an e-mail is given up (a message may set fewer).
MAX_ATTEMPTS = 6
# Attempts before a webhook delivery is given up: with the back-off, about two hours of tries.
WEBHOOK_MAX_ATTEMPTS = 8


class EmailState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DROPPED = "dropped", _("No longer needed")
    FAILED = "failed", _("Failed")


class Email(models.Model):
    """One e-mail to one address, stored whole (headers, body, parts) when it is decided, so the
    sender needs no app: it sends the row, retries it alone, or drops it once it is untrue."""

    topic = models.CharField(
        _("about"),
        max_length=100,
        blank=True,
        help_text=_("What the e-mail is about; a newer decision drops pending e-mails of it."),
    )
    to = models.EmailField(_("to"), max_length=254)
    from_email = models.CharField(_("from"), max_length=254)
    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # [{"content": "...", "mimetype": "text/calendar; method=REQUEST"}]
    alternatives = models.JSONField(_("alternative parts"), default=list, blank=True)
    # [{"filename": "invite.ics", "content": "...", "mimetype": "application/ics"}]
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=EmailState.choices, default=EmailState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=MAX_ATTEMPTS)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    expires_at = models.DateTimeField(
        _("true until"),
        null=True,
        blank=True,
        help_text=_("Not sent from this moment on (a reminder once the call is too close)."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("written at"))
    done_at = models.DateTimeField(_("sent or dropped at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="pending"), name="outbox_email_due"
            ),
            # The health page counts the e-mails given up lately; few rows, so a tiny index.
            models.Index(
                fields=["done_at"], condition=Q(state="failed"), name="outbox_email_failed"
            ),
            # Drops look up pending e-mails of one topic; pages list a topic's history.
            models.Index(fields=["topic", "created_at"], name="outbox_email_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to} ({self.get_state_display()})"


class WebhookDelivery(models.Model):
    """One event POSTed to one URL, stored as the exact JSON text sent and the secret it is
    signed with, so the sender needs no app; retried alone, with the same event id each time."""

    topic = models.CharField(
        _("about"),
        max_length=100,
        help_text=_("Whose delivery it is, e.g. webhook-endpoint:12; pages list a topic's."),
    )
    url = models.URLField(_("URL"), max_length=2000)
    event_id = models.UUIDField(
        _("event id"), help_text=_("The same on every attempt, so receivers can de-duplicate.")
    )
    event_type = models.CharField(_("event type"), max_length=64)
    body = models.TextField(_("body"))
    # The endpoint's signing secret when the event was decided: the outbox signs on its own.
    secret = models.CharField(_("signing secret"), max_length=200)
    state = models.CharField(
        _("state"), max_length=8, choices=EmailState.choices, default=EmailState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts allowed"), default=WEBHOOK_MAX_ATTEMPTS
    )
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    # Every attempt: [{"at": ISO instant, "status": HTTP status or null, "error": "", "ms": 12}]
    attempt_log = models.JSONField(_("attempts"), default=list, blank=True)
    created_at = models.DateTimeField(_("written at"))
    done_at = models.DateTimeField(_("sent or given up at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="pending"), name="outbox_webhook_due"
            ),
            # The health page counts the deliveries given up lately.
            models.Index(
                fields=["done_at"], condition=Q(state="failed"), name="outbox_webhook_failed"
            ),
            # An endpoint's page lists its latest deliveries; deleting it drops its pending ones.
            models.Index(fields=["topic", "created_at"], name="outbox_webhook_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.url} ({self.get_state_display()})"
