"""Endpoints that companies (or the desk's admins) register to receive signed event POSTs."""

from __future__ import annotations

import contextlib
import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from vipsupport.fetch import address_allowed

URL_MAX_LENGTH = 2000
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


class EventType(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_REPLIED = "ticket.replied", _("Ticket replied (public replies only)")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("Ticket status changed")
    TICKET_SLA_WARNING = "ticket.sla_warning", _("SLA deadline near (warning)")
    TICKET_SLA_BREACHED = "ticket.sla_breached", _("SLA deadline missed (breach)")
    TICKET_ESCALATED = "ticket.escalated", _("Ticket escalated to tier 2")
    BOOKING_CREATED = "booking.created", _("Call booked")
    BOOKING_MOVED = "booking.moved", _("Call moved")
    BOOKING_CANCELLED = "booking.cancelled", _("Call cancelled")


def validate_webhook_url(value: str) -> None:
    """An http(s) address; https, and not a private or loopback IP address, unless
    `WEBHOOKS_ALLOW_PRIVATE_HOSTS` (development and tests). Names are checked again when sent."""
    URLValidator(schemes=["http", "https"])(value)
    parts = urlsplit(value)
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS
    if parts.scheme.lower() != "https" and not allow_private:
        raise ValidationError(_("Use an https:// address."), code="https")
    host = (parts.hostname or "").lower()
    if allow_private:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise ValidationError(_("This address points into a private network."), code="private")
    with contextlib.suppress(ValueError):  # a name: its addresses are checked when sending
        ipaddress.ip_address(host)
        if not address_allowed(host):
            raise ValidationError(_("This address points into a private network."), code="private")


class WebhookEndpoint(models.Model):
    """A URL that receives a company's events (or, with no company, every company's), signed
    with its own secret."""

    company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text=_("Empty: a desk-wide endpoint that receives every company's events."),
    )
    url = models.CharField(_("URL"), max_length=URL_MAX_LENGTH, validators=[validate_webhook_url])
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # Kept as it is: every delivery is signed with it. Shown once, when made or rotated.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [
            # Every change asks which active endpoints listen; the table is small, this keeps it so.
            models.Index(
                fields=["company"],
                condition=models.Q(is_active=True),
                name="webhook_endpoint_active",
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        events = self.events if isinstance(self.events, list) else None
        if not events or any(event not in EventType.values for event in events):
            raise ValidationError({"events": _("Choose at least one event.")})
        self.events = sorted(set(events))

    @property
    def topic(self) -> str:
        """The outbox topic of this endpoint's deliveries."""
        return endpoint_topic(self.pk)


def endpoint_topic(endpoint_id: int) -> str:
    return f"webhook-endpoint:{endpoint_id}"
