"""Support calendars: weekly opening hours in an IANA zone, and holidays. One of them is the
support desk's own, which the agent card, call slots and the channels' hours follow."""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from desk.business_time import BusinessCalendar

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


def validate_time_zone(value: str) -> None:
    """Reject names that are not IANA time zones."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("%(zone)s is not a known time zone (use a name such as Europe/Berlin)."),
            code="unknown_time_zone",
            params={"zone": value},
        ) from error


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


Intervals = tuple[tuple[int, datetime.time, datetime.time], ...]


@lru_cache(maxsize=64)
def business_calendar_of(
    zone: str, intervals: Intervals, holidays: tuple[datetime.date, ...]
) -> BusinessCalendar:
    """One BusinessCalendar per distinct definition, so its day table is built once per process."""
    hours: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, opens, closes in intervals:
        hours.setdefault(weekday, []).append((opens, closes))
    return BusinessCalendar(zone, hours, holidays)


class SupportCalendar(models.Model):
    """Weekly opening intervals in an IANA zone, and holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    is_desk = models.BooleanField(
        _("the support desk's calendar"),
        default=False,
        help_text=_(
            "The agent card, call times and the channels' hours follow this calendar; "
            "SLA policies name their own."
        ),
    )

    if TYPE_CHECKING:
        intervals: RelatedManager[OpeningHours]
        holidays: RelatedManager[Holiday]

    class Meta:
        ordering = ["name"]
        verbose_name = _("support calendar")
        verbose_name_plural = _("support calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_desk"],
                condition=Q(is_desk=True),
                name="one_support_desk_calendar",
                violation_error_message=_("Another calendar is already the support desk's."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def business_calendar(self) -> BusinessCalendar:
        """The pure clock for this calendar as stored now (two queries)."""
        return business_calendar_of(*self.definition())

    def definition(self) -> tuple[str, Intervals, tuple[datetime.date, ...]]:
        """Zone, weekly intervals and holidays as plain values (two queries)."""
        intervals = tuple(
            self.intervals.order_by("weekday", "opens").values_list("weekday", "opens", "closes")
        )
        holidays = tuple(self.holidays.order_by("date").values_list("date", flat=True))
        return self.time_zone, intervals, holidays


class WeeklyInterval(models.Model):
    """An interval of a weekday in local wall-clock time (a day may have several): the desk's
    opening hours here, an agent's working hours in `scheduling`."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class OpeningHours(WeeklyInterval):
    calendar = models.ForeignKey(
        SupportCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="intervals",
    )

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        verbose_name = _("opening interval")
        verbose_name_plural = _("opening intervals")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")),
                name="interval_closes_after_it_opens",
                violation_error_message=_("An interval must close after it opens."),
            )
        ]


class Holiday(models.Model):
    calendar = models.ForeignKey(
        SupportCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="holidays",
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["calendar", "date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
