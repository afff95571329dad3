"""SLA policies (each on a support calendar of `desk`), and one stored, indexed row per SLA
target instance."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from desk.business_time import BusinessCalendar
from desk.models import SupportCalendar
from desk.selectors import calendar_clock
from tickets.models import Severity, Ticket

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


class Clock(models.TextChoices):
    CALENDAR = "calendar", _("Calendar hours (24/7)")
    BUSINESS = "business", _("Business hours")


class SlaPolicy(models.Model):
    """A set of targets per severity, counted on a support calendar."""

    VIP = "vip"
    STANDARD = "standard"

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    calendar = models.ForeignKey(
        SupportCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="+"
    )

    if TYPE_CHECKING:
        targets: RelatedManager[SlaPolicyTarget]

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaPolicyTarget(models.Model):
    """The promised first response and follow-up for one severity under one policy."""

    policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="targets"
    )
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    first_response = models.DurationField(_("first response within"))
    first_response_clock = models.CharField(
        _("first response clock"), max_length=16, choices=Clock.choices
    )
    follow_up = models.DurationField(
        _("follow-up within"),
        null=True,
        blank=True,
        help_text=_("Empty when the severity has no numeric follow-up target."),
    )
    follow_up_clock = models.CharField(
        _("follow-up clock"), max_length=16, choices=Clock.choices, default=Clock.BUSINESS
    )

    class Meta:
        ordering = ["policy", "severity"]
        verbose_name = _("SLA policy target")
        verbose_name_plural = _("SLA policy targets")
        constraints = [
            models.UniqueConstraint(fields=["policy", "severity"], name="one_target_per_severity")
        ]

    def __str__(self) -> str:
        return f"{self.policy} · {self.get_severity_display()}"

    def clean(self) -> None:
        super().clean()
        if self.first_response is not None and self.first_response <= datetime.timedelta(0):
            raise ValidationError({"first_response": _("A target must be longer than zero.")})
        if self.follow_up is not None and self.follow_up <= datetime.timedelta(0):
            raise ValidationError({"follow_up": _("A target must be longer than zero.")})


class TargetKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    FOLLOW_UP = "follow_up", _("Follow-up")
    # A voicemail is owed a phone call back, besides the written first response.
    CALLBACK = "callback", _("Callback")


class TargetState(models.TextChoices):
    ACTIVE = "active", _("Running")
    FULFILLED = "fulfilled", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Stopped")


class SlaTarget(models.Model):
    """One promise on one ticket, with its deadlines stored so scans and reports stay in SQL."""

    # The (ticket, kind) index serves lookups by ticket; a second one would only slow writes.
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="sla_targets",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TargetKind.choices)
    # Copied from the policy when the target opens, so editing a policy never rewrites history.
    policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    target = models.DurationField(_("target"))
    clock = models.CharField(_("clock"), max_length=16, choices=Clock.choices)
    calendar = models.ForeignKey(
        SupportCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="+"
    )
    # Who was answerable for the promise: the ticket's assignee while the target ran, kept as
    # it was when the target was met or breached, so reports name who was responsible then.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    received_at = models.DateTimeField(
        _("received at"), help_text=_("What set the clock going: the ticket, a reply, a reopening.")
    )
    started_at = models.DateTimeField(_("clock started at"))
    # Set when a severity change came after the deadline counted from the start had passed: the
    # new target then runs from the change, so nothing is ever due before it was promised.
    rebased_at = models.DateTimeField(_("counted again from"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"))
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(
        _("state"), max_length=16, choices=TargetState.choices, default=TargetState.ACTIVE
    )
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    time_taken = models.DurationField(
        _("time taken"),
        null=True,
        blank=True,
        help_text=_("From the clock start to the answer, counted in the target's own clock."),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["ticket", "started_at", "pk"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(state="active"),
                name="one_running_target_per_kind",
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(state="active"), name="sla_target_running_due"
            ),
            models.Index(
                fields=["warn_at"],
                condition=Q(state="active", warned_at__isnull=True),
                name="sla_target_pending_warning",
            ),
            models.Index(fields=["ticket", "kind"], name="sla_target_ticket_kind"),
            # Reports read a month of targets by due date: covered, so the table is not touched.
            models.Index(
                fields=["due_at"],
                include=[
                    "id",
                    "state",
                    "kind",
                    "severity",
                    "ticket",
                    "time_taken",
                    "policy",
                    "assignee",
                ],
                name="sla_target_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()} ({self.get_state_display()})"

    def business_calendar(self) -> BusinessCalendar:
        if self.clock == Clock.CALENDAR:
            return BusinessCalendar.twenty_four_seven()
        return calendar_clock(calendar_id=self.calendar_id)


class ScanHeartbeat(models.Model):
    """When the breach scan last finished: one row, rewritten by every scan, so the health page
    can tell that Celery Beat and a worker are running it (a row, unlike the cache, is shared by
    `make run`'s processes and survives a Redis restart)."""

    SINGLETON = 1

    finished_at = models.DateTimeField(_("finished at"))

    class Meta:
        verbose_name = _("breach scan heartbeat")
        verbose_name_plural = _("breach scan heartbeats")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sla_scan_heartbeat_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M:%S %Z}"
