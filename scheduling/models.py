"""Agents' availability (weekly hours, date overrides, time off, busy feeds), call types, bookings.

No double booking: on PostgreSQL the exclusion constraint `BOOKING_NO_OVERLAP` (added by migration
0002, PostgreSQL only, so the SQLite default still migrates) forbids two confirmed bookings of one
agent whose `blocked_from`/`blocked_until` ranges (the call widened by its buffers) overlap; on
SQLite `scheduling.services.bookings` re-checks inside a write-locked transaction.
"""

from __future__ import annotations

import datetime
import uuid
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from desk.defaults import DESK_ZONE
from desk.models import WeeklyInterval, validate_time_zone
from scheduling.locations import CallLocation, call_location

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager

# The PostgreSQL exclusion constraint's name; the booking services recognise its violation by it.
BOOKING_NO_OVERLAP = "booking_agent_no_overlap"
DEFAULT_MAX_CALLS_PER_DAY = 4


def _overlapping(intervals: list[tuple[datetime.time, datetime.time]]) -> bool:
    return any(later[0] < earlier[1] for earlier, later in pairwise(sorted(intervals)))


class AgentSchedule(models.Model):
    """An agent's calendar for calls: the zone their hours are in and the daily limit."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="call_schedule",
        limit_choices_to={"agent_profile__isnull": False},
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=DESK_ZONE,  # agent_schedule_get_or_create gives a new schedule the live desk zone
        validators=[validate_time_zone],
        help_text=_("The zone the weekly hours and date overrides are in."),
    )
    max_calls_per_day = models.PositiveSmallIntegerField(
        _("calls per day at most"), default=DEFAULT_MAX_CALLS_PER_DAY
    )

    if TYPE_CHECKING:
        weekly_hours: RelatedManager[WeeklyHours]
        date_overrides: RelatedManager[DateOverride]
        time_off: RelatedManager[TimeOff]
        busy_feeds: RelatedManager[BusyFeed]

    class Meta:
        ordering = ["agent__email"]
        verbose_name = _("agent schedule")
        verbose_name_plural = _("agent schedules")

    def __str__(self) -> str:
        return str(self.agent)

    def clean(self) -> None:
        super().clean()
        if self.agent_id is not None and not self.agent.has_agent_profile:
            raise ValidationError({"agent": _("Only agents have a schedule for calls.")})


class WeeklyHours(WeeklyInterval):
    """One working interval on a weekday, in the schedule's zone; a day may have several."""

    schedule = models.ForeignKey(
        AgentSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="weekly_hours",
    )

    class Meta:
        ordering = ["schedule", "weekday", "opens"]
        verbose_name = _("weekly hours")
        verbose_name_plural = _("weekly hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")),
                name="weekly_hours_close_after_open",
                violation_error_message=_("Working hours must end after they start."),
            ),
            models.UniqueConstraint(
                fields=["schedule", "weekday", "opens"], name="weekly_hours_unique_start"
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.schedule_id is None or self.opens is None or self.closes is None:
            return
        siblings = list(
            WeeklyHours.objects.filter(schedule_id=self.schedule_id, weekday=self.weekday)
            .exclude(pk=self.pk)
            .values_list("opens", "closes")
        )
        if _overlapping([*siblings, (self.opens, self.closes)]):
            raise ValidationError(_("These hours overlap other hours on the same weekday."))


class DateOverride(models.Model):
    """Hours that replace the weekly hours on one date: several rows for several intervals,
    or one row without times for a day off."""

    schedule = models.ForeignKey(
        AgentSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="date_overrides",
    )
    date = models.DateField(_("date"))
    opens = models.TimeField(
        _("opens"), null=True, blank=True, help_text=_("Leave both times empty for a day off.")
    )
    closes = models.TimeField(_("closes"), null=True, blank=True)

    class Meta:
        ordering = ["schedule", "date", "opens"]
        verbose_name = _("date override")
        verbose_name_plural = _("date overrides")
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__isnull=True, closes__isnull=True)
                | Q(opens__isnull=False, closes__gt=models.F("opens")),
                name="date_override_day_off_or_interval",
                violation_error_message=_(
                    "Give both times, ending after the start, or neither for a day off."
                ),
            ),
            models.UniqueConstraint(
                fields=["schedule", "date"],
                condition=Q(opens__isnull=True),
                name="date_override_one_day_off",
            ),
            models.UniqueConstraint(
                fields=["schedule", "date", "opens"], name="date_override_unique_start"
            ),
        ]
        indexes = [models.Index(fields=["schedule", "date"], name="date_override_lookup")]

    def __str__(self) -> str:
        if self.is_day_off:
            return f"{self.date} —"
        return f"{self.date} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.schedule_id is None or self.date is None:
            return
        siblings = DateOverride.objects.filter(
            schedule_id=self.schedule_id, date=self.date
        ).exclude(pk=self.pk)
        if self.is_day_off:
            if siblings.filter(opens__isnull=False).exists():
                raise ValidationError(
                    _("This date already has hours; remove them to make it a day off.")
                )
            return
        if siblings.filter(opens__isnull=True).exists():
            raise ValidationError(
                _("This date is marked as a day off; remove that to give it hours.")
            )
        if self.opens is not None and self.closes is not None:
            intervals = [
                (opens, closes)
                for opens, closes in siblings.values_list("opens", "closes")
                if opens is not None and closes is not None
            ]
            if _overlapping([*intervals, (self.opens, self.closes)]):
                raise ValidationError(_("These hours overlap other hours on the same date."))

    @property
    def is_day_off(self) -> bool:
        return self.opens is None and self.closes is None


class TimeOff(models.Model):
    """A period in which the agent takes no calls (holiday, sick leave, an appointment)."""

    schedule = models.ForeignKey(
        AgentSchedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["schedule", "starts_at"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="time_off_ends_after_start",
                violation_error_message=_("Time off must end after it starts."),
            )
        ]
        indexes = [models.Index(fields=["schedule", "starts_at"], name="time_off_lookup")]

    # PostgreSQL would store years psycopg cannot read back (before 1 or after 9999 in UTC),
    # and no real time off is anywhere near them.
    EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        out_of_range: dict[str, Any] = {}
        for name in ("starts_at", "ends_at"):
            moment = getattr(self, name)
            # Comparing aware instants never overflows, unlike converting them to UTC.
            if moment is None or timezone.is_naive(moment):
                continue
            if not self.EARLIEST <= moment < self.LATEST:
                out_of_range[name] = ValidationError(
                    _("Time off must lie between the years %(first)d and %(last)d."),
                    code="out_of_range",
                    params={"first": self.EARLIEST.year, "last": self.LATEST.year - 1},
                )
        if out_of_range:
            raise ValidationError(out_of_range)


class BusyFeed(models.Model):
    """External busy time: an iCalendar feed URL (fetched later into `last_good_ics`) or an
    uploaded .ics file."""

    schedule = models.ForeignKey(
        AgentSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="busy_feeds",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    url = models.CharField(
        _("feed URL"),
        max_length=2000,
        blank=True,
        validators=[URLValidator(schemes=["http", "https", "webcal"])],
        help_text=_("An iCalendar (.ics) address; leave empty for an uploaded file."),
    )
    uploaded_ics = models.TextField(_("uploaded .ics"), blank=True)
    last_good_ics = models.TextField(
        _("last good copy"),
        blank=True,
        help_text=_("The last copy of the feed that could be read; busy times come from it."),
    )
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["schedule", "created_at"]
        verbose_name = _("busy-time feed")
        verbose_name_plural = _("busy-time feeds")
        constraints = [
            models.CheckConstraint(
                condition=(Q(url="") & ~Q(uploaded_ics="")) | (~Q(url="") & Q(uploaded_ics="")),
                name="busy_feed_url_or_upload",
                violation_error_message=_("Give either a feed URL or an uploaded .ics file."),
            )
        ]

    def __str__(self) -> str:
        return self.name or self.url or str(_("uploaded .ics"))

    @property
    def busy_ics(self) -> str:
        """The iCalendar text busy times are read from: the last good fetch, or the upload."""
        return self.last_good_ics if self.url else self.uploaded_ics


def validate_video_url(value: str) -> None:
    """A video-meeting link must be https: it is mailed out and opened from calendars (the
    field's own validator checks that it is a URL at all)."""
    if not value.lower().startswith("https://"):
        raise ValidationError(
            _("The video-meeting link must be an https:// address."), code="https_only"
        )


class CallType(models.Model):
    """A kind of call customers can book, with its length and booking rules (seeded, editable)."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    duration = models.DurationField(_("duration"), default=datetime.timedelta(minutes=30))
    buffer_before = models.DurationField(
        _("buffer before"),
        default=datetime.timedelta(minutes=10),
        help_text=_("Free time the agent keeps before the call."),
    )
    buffer_after = models.DurationField(
        _("buffer after"),
        default=datetime.timedelta(minutes=10),
        help_text=_("Free time the agent keeps after the call."),
    )
    minimum_notice = models.DurationField(
        _("minimum notice"),
        default=datetime.timedelta(hours=4),
        help_text=_(
            "Working time of the agent between now and the call; also the latest a customer "
            "may reschedule or cancel."
        ),
    )
    horizon = models.DurationField(
        _("booking horizon"),
        default=datetime.timedelta(days=30),
        help_text=_("How far ahead calls can be booked."),
    )
    step = models.DurationField(
        _("slot step"),
        default=datetime.timedelta(minutes=30),
        help_text=_("Offered start times are this far apart."),
    )
    video_url = models.URLField(
        _("video-meeting link"),
        max_length=2000,
        blank=True,
        validators=[validate_video_url],
        help_text=_(
            "A video-meeting link for calls of this type; without one, the agent phones the "
            "customer."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("call type")
        verbose_name_plural = _("call types")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration__gt=datetime.timedelta(0))
                & Q(step__gt=datetime.timedelta(0))
                & Q(horizon__gt=datetime.timedelta(0))
                & Q(buffer_before__gte=datetime.timedelta(0))
                & Q(buffer_after__gte=datetime.timedelta(0))
                & Q(minimum_notice__gte=datetime.timedelta(0)),
                name="call_type_positive_durations",
                violation_error_message=_(
                    "Duration, step and horizon must be positive; buffers and notice must not "
                    "be negative."
                ),
            )
        ]

    def __str__(self) -> str:
        # The seeded types' names are in the translation catalogue; names admins type are not.
        return gettext(self.name)


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")


class Booking(models.Model):
    """A call a customer booked with their agent; the agent's time from `blocked_from` to
    `blocked_until` (the call and its buffers) is theirs while the booking is confirmed."""

    uid = models.UUIDField(
        _("UID"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Stable identifier of the calendar event."),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        related_name="agent_bookings",
        limit_choices_to={"agent_profile__isnull": False},
        db_index=False,  # booking_agent_blocked leads with agent
    )
    company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="call_bookings",
        db_index=False,  # booking_company_start leads with company
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="customer_bookings",
    )
    call_type = models.ForeignKey(
        CallType, verbose_name=_("call type"), on_delete=models.PROTECT, related_name="bookings"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_bookings",
    )
    topic = models.CharField(_("topic"), max_length=200)
    # How the call happens: the agent phones this number; empty when the call type's video link
    # is the meeting place (see `scheduling.locations`).
    phone_number = PhoneNumberField(
        _("number to call"), blank=True, help_text=_("The number the agent calls.")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    buffer_before = models.DurationField(_("buffer before"))
    buffer_after = models.DurationField(_("buffer after"))
    # The call widened by its buffers, stored so the exclusion constraint and the availability
    # queries use plain indexed columns.
    blocked_from = models.DateTimeField(_("blocked from"))
    blocked_until = models.DateTimeField(_("blocked until"))
    status = models.CharField(
        _("status"), max_length=16, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_message = models.TextField(_("cancellation message"), blank=True)
    agent_notes = models.TextField(_("agent's notes"), blank=True)
    sequence = models.PositiveIntegerField(
        _("sequence"), default=0, help_text=_("iCalendar SEQUENCE; goes up on every change.")
    )
    # When the current time was chosen (booked or moved): a call placed less than a day ahead
    # gets no 24-hour reminder, its invitation has just said when it is.
    placed_at = models.DateTimeField(_("time chosen at"))
    # Claimed by the reminder scan (one row at a time, SKIP LOCKED); reset when the call moves.
    day_reminder_sent_at = models.DateTimeField(
        _("24-hour reminder sent at"), null=True, blank=True
    )
    hour_reminder_sent_at = models.DateTimeField(
        _("1-hour reminder sent at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), editable=False)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
                violation_error_message=_("A call must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=models.F("starts_at"))
                & Q(blocked_until__gte=models.F("ends_at")),
                name="booking_blocked_covers_call",
            ),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.CANCELLED) | Q(cancelled_at__isnull=False),
                name="booking_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "blocked_from"], name="booking_agent_blocked"),
            models.Index(fields=["company", "starts_at"], name="booking_company_start"),
            models.Index(
                fields=["starts_at"],
                condition=Q(status="confirmed", day_reminder_sent_at__isnull=True),
                name="booking_day_reminder_due",
            ),
            models.Index(
                fields=["starts_at"],
                condition=Q(status="confirmed", hour_reminder_sent_at__isnull=True),
                name="booking_hour_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_type} · {self.company} · {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if (
            self.customer_id is not None
            and self.company_id is not None
            and self.customer.company_id != self.company_id
        ):
            errors["customer"] = _("The customer must belong to the booking's company.")
        if self.agent_id is not None and not self.agent.has_agent_profile:
            errors["agent"] = _("Calls can be booked only with agents.")
        times = (self.starts_at, self.ends_at, self.buffer_before, self.buffer_after)
        if None not in times and (
            self.blocked_from != self.starts_at - self.buffer_before
            or self.blocked_until != self.ends_at + self.buffer_after
        ):
            errors["blocked_from"] = _("The blocked time must be the call widened by its buffers.")
        if errors:
            raise ValidationError(errors)

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at

    @property
    def location(self) -> CallLocation | None:
        """How the call happens: the number the agent phones, or the type's video link."""
        return call_location(self)

    def place(
        self,
        starts_at: datetime.datetime,
        duration: datetime.timedelta,
        *,
        now: datetime.datetime,
    ) -> None:
        """Set the call's start and end, the blocked range its buffers widen it to, and when
        this time was chosen."""
        self.placed_at = now
        self.starts_at = starts_at
        self.ends_at = starts_at + duration
        self.blocked_from = starts_at - self.buffer_before
        self.blocked_until = self.ends_at + self.buffer_after


class CalendarFeed(models.Model):
    """A user's secret calendar subscription address; only a hash of its token is stored."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), editable=False)

    class Meta:
        verbose_name = _("calendar subscription")
        verbose_name_plural = _("calendar subscriptions")

    def __str__(self) -> str:
        return str(self.user)
