"""The phone channel: every call the support line took, and the voicemails left on it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Company
from tickets.models import Ticket


class CallOutcome(models.TextChoices):
    RINGING = "ringing", _("Ringing the agent")
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Not answered")
    VOICEMAIL = "voicemail", _("Voicemail")


class Call(models.Model):
    """One call to the support line, by the provider's CallSid; the company's call log."""

    call_sid = models.CharField(_("call id"), max_length=64, unique=True)
    from_number = models.CharField(_("from"), max_length=32)
    to_number = models.CharField(_("to"), max_length=32, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caller"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("put through to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=CallOutcome.choices, default=CallOutcome.VOICEMAIL
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [models.Index(fields=["company", "-started_at"], name="call_company_time")]

    def __str__(self) -> str:
        return f"{self.from_number} {self.started_at:%Y-%m-%d %H:%M} ({self.get_outcome_display()})"


def recording_path(instance: Voicemail, filename: str) -> str:
    """A random name: the stored file never takes its name from the provider."""
    return f"voicemail/{instance.received_at:%Y/%m}/{uuid.uuid4().hex}"


class VoicemailState(models.TextChoices):
    TICKET = "ticket", _("Opened a ticket")
    UNVERIFIED = "unverified", _("Unknown caller, waiting for an agent")


class Voicemail(models.Model):
    """A message left on the support line, by the provider's RecordingSid (a repeated callback
    finds it again); the audio is fetched into our storage after it is recorded."""

    recording_sid = models.CharField(_("recording id"), max_length=64, unique=True)
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="voicemails"
    )
    state = models.CharField(_("state"), max_length=12, choices=VoicemailState.choices)
    ticket = models.OneToOneField(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="voicemail",
    )
    duration = models.PositiveIntegerField(_("length in seconds"), default=0)
    transcript = models.TextField(_("transcript"), blank=True)
    # Where the provider keeps the recording (fetched from there only, see `voice.recordings`).
    recording_url = models.URLField(_("provider's recording address"), max_length=500)
    audio = models.FileField(_("recording"), upload_to=recording_path, blank=True, max_length=255)
    audio_type = models.CharField(_("recording type"), max_length=50, blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(_("fetch attempts"), default=0)
    fetch_error = models.TextField(_("last fetch error"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("voicemail")
        verbose_name_plural = _("voicemails")
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=models.Q(state="unverified"),
                name="voicemail_unverified",
            )
        ]

    def __str__(self) -> str:
        return f"{self.call.from_number}: {self.duration} s ({self.get_state_display()})"
